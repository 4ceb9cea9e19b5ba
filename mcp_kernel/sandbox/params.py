"""Tool params judged against each tool's input schema before a call leaves the sandbox's host.

Each schema is compiled once per tool: the Rust validator (jsonschema-rs) checks every call; only params it
rejects go through the Python validator, whose best match names what is wrong.

>>> check = ParamsCheck()
>>> check.checked("demo", ToolInfo(name="t", input_schema={"type": "object"}), {}, None)
{}
"""

from __future__ import annotations

import sys
import threading
from typing import Any, cast

from ..errors import ToolCallError
from ..models import ToolInfo

__all__ = ["ParamsCheck", "warm_jsonschema"]


class ParamsCheck:
    """Tool params judged against each tool's input schema, compiled once per tool.

    >>> check = ParamsCheck()
    >>> tool = ToolInfo(name="t", input_schema={"type": "object", "required": ["q"]})
    >>> check.checked("demo", tool, {"q": 1}, None)
    {'q': 1}
    """

    def __init__(self) -> None:
        self._validators: dict[tuple[str, str], Any] = {}

    def checked(self, server: str, info: ToolInfo, params: dict[str, Any], pii: Any) -> dict[str, Any]:
        """``params`` validated, then with ``pii``'s placeholders restored (see pii.py; None: none to restore).

        The code, and so the agent, knows only placeholders: an error built from the restored params would
        quote the real value. So the placeholder form is judged first and only it is ever quoted; when it
        fails but the real values pass (a schema whose pattern a placeholder cannot match), the call goes on.
        """
        if pii is None:
            self._validate(server, info, params)
            return params
        real = pii.restore(params)
        try:
            self._validate(server, info, params)
        except ToolCallError:
            if real == params or not self._valid(server, info, real):
                raise
        return cast("dict[str, Any]", real)

    def _valid(self, server: str, info: ToolInfo, params: dict[str, Any]) -> bool:
        try:
            self._validate(server, info, params)
        except ToolCallError:
            return False
        return True

    def _validate(self, server: str, info: ToolInfo, params: dict[str, Any]) -> None:
        key = (server, info.name)
        if key not in self._validators:
            self._validators[key] = _compile_schema(info.input_schema or {"type": "object"})
        checks = self._validators[key]
        if checks is None:
            return  # a schema found broken: the server judges the params itself
        fast, full = checks
        try:
            if fast is not None and fast.is_valid(params):
                return
        except Exception:
            pass
        import jsonschema  # ~1-2 s to import (see warm_jsonschema); _compile_schema loaded it already

        try:
            error = jsonschema.exceptions.best_match(full.iter_errors(params))
        except Exception:
            self._validators[key] = None
            return
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise ToolCallError(
                f"Parameters for {server}.{info.name} do not match its schema at {where}: {error.message}",
                server=server,
                tool=info.name,
            )


def _compile_schema(schema: dict[str, Any]) -> tuple[Any, Any] | None:
    """A tool's input schema compiled once: (jsonschema-rs validator or None, jsonschema validator); None if
    the schema itself is broken.

    Every call is checked by the compiled Rust validator (~2 us, never fetching a remote ``$ref``);
    only params it rejects go through the Python validator, whose best match names what is wrong.
    """
    # jsonschema takes ~1-2 s to import (see warm_jsonschema), jsonschema-rs ~30 ms: only once a tool is called
    import jsonschema
    import jsonschema_rs

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError:
        return None
    try:
        fast = jsonschema_rs.validator_for(schema, offline=True)
    except Exception:
        fast = None
    return fast, cls(schema)


def warm_jsonschema() -> None:
    """Import jsonschema in the background: the first tool call would otherwise wait for it (the SDK checks
    a tool's result with it, the bridge refused params). It takes ~2 s where Jupyter's extras install
    rfc3987-syntax, whose grammar jsonschema's format checkers build at import."""
    if "jsonschema" not in sys.modules:
        threading.Thread(
            target=lambda: __import__("jsonschema"), name="mcp-kernel-warm-jsonschema", daemon=True
        ).start()
