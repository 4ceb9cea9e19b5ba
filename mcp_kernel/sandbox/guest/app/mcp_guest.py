"""The program inside the sandbox: CPython (built into a component by componentize-py) running cells.

``run-cell`` takes a JSON request ``{"code": ..., "output_limit": bytes, "name": "[9]"}`` and answers with JSON
``{"value_repr", "value_json", "error", "truncated"}``; what the cell prints goes to the host as it is
printed (the ``log`` import with level ``stdout``/``stderr``), where it is kept and capped. Cells share one globals dict,
so state persists across cells like a notebook. Tools are reached only through the host import
``call-tool``, wrapped as the ``_mcp_runtime`` module that generated bindings import.

This module is the component's entry point; the rest of the guest, one concern a module beside it:

- ``guest_stdlib``: the standard library, imported broadly at build time (only what is imported then exists)
- ``guest_host``: the host imports, guarded against values that would trap; the host's errors as exceptions
- ``guest_output``: a cell's stdout and stderr, sent to the host in pieces
- ``guest_loop``: the asyncio event loop whose I/O is the host's tool calls
- ``guest_views``: ``show(result)``, the view of the call that returned a result, named to the host
- ``guest_runtime``: ``_mcp_runtime``, what bindings and cells call
- ``guest_cells``: running one cell, its value and its error
- ``guest_snapshots``: the variables of the last good cell, kept by the host across a trap
"""

import guest_stdlib  # noqa: F401  # first: the standard library as it is, before the modules below patch it

# isort: split
import sys
import types
from contextlib import suppress

import wit_world  # type: ignore[import-not-found]  # generated from world.wit by componentize-py at build time
from guest_cells import _forget_modules, _run, _setup_paths
from guest_host import _STOPPED, _dumps, _guard_host, _loads
from guest_loop import _MAX_CALLS
from guest_runtime import _runtime
from guest_snapshots import _restore, _snapshot


class WitWorld(wit_world.WitWorld):
    def run_cell(self, code: str) -> str:
        request = _loads(code)
        sys.modules["_mcp_runtime"] = (
            _runtime  # bindings import it: a cell that removed it does not break them
        )
        _guard_host()
        reloaded = request.get("reload") or []
        _MAX_CALLS[0] = int(request.get("max_calls", _MAX_CALLS[0]))
        _setup_paths(reloaded)
        _forget_modules(reloaded)
        restored = failed = None
        if request.get("restore"):
            restored, failed = _restore(request.pop("restore"))
        _STOPPED[0] = False
        codes: list[types.CodeType] = []
        try:
            response = _run(
                request["code"], int(request.get("output_limit", 1 << 20)), codes, request.get("name")
            )
        except MemoryError:
            response = {
                "value_repr": None,
                "value_json": None,
                "truncated": False,
                "error": {"type": "MemoryError", "message": "out of memory", "traceback": ""},
            }
        limit = int(request.get("snapshot_limit", 0))
        if limit > 0 and not _STOPPED[0]:
            with suppress(
                MemoryError
            ):  # the last snapshot stays; the names are tried again after the next cell
                _snapshot(limit, codes)
        codes.clear()
        if restored is not None:
            response["restored"], response["not_restored"] = restored, failed
        return _dumps(response)
