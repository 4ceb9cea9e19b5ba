"""One wasmtime store with the guest component instantiated in it, used only by the thread that made it.

Isolation is WASI's, deny by default: no network, no environment, no arguments, no host files except the
generated tree at ``/mcp-tools`` (read-only), the session's ``/workspace`` (read-write) and the host's
time-zone database at ``/zoneinfo`` (read-only, when present).

Wall time is enforced per store, not per engine: the store's epoch deadline is one tick away and each
time it passes wasmtime calls :meth:`HostImports.on_epoch` on the running thread, which either lets the
guest go on for another tick or stops it with a trap. So stopping one session never shortens another's
time (bumping the engine's epoch would), and the decision is made on the owner thread itself.

For example::

    instance = GuestInstance(engine, imports, workspace=path)
    instance.run('{"code": "1 + 1"}', memory_bytes=256 << 20, fuel=10**9)
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .engine import Engine
from .owner import OwnershipError
from .policy import ZONEINFO_DIR

if TYPE_CHECKING:
    import wasmtime

__all__ = ["STOPPED_BY_HOST", "GuestInstance", "HostImports", "live_stores"]

# The message of the trap the epoch callback raises; the host knows why it stopped the guest.
STOPPED_BY_HOST = "stopped by the mcp-kernel host"

_live_lock = threading.Lock()
_live = 0


def live_stores() -> int:
    """How many guest stores are open in this process (a leak check for tests and ``stats``)."""
    return _live


class HostImports(Protocol):
    """What the guest's imports and the epoch callback reach, on the owner thread."""

    def call_tool(self, server: str, tool: str, params_json: str) -> Any: ...
    def start_call(self, server: str, tool: str, params_json: str) -> Any: ...
    def wait_calls(self, ids: list[int], timeout_ms: int) -> str: ...
    def read_resource(self, server: str, uri: str) -> Any: ...
    def show_view(self, server: str, tool: str, params_json: str) -> str | None: ...
    def log(self, level: str, message: str) -> str: ...
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value_json: str) -> str | None: ...
    def keep_snapshot(self, update_json: str) -> str: ...
    def on_epoch(self) -> bool: ...


# Host functions whose parameters are strings and whose result is a string or nothing, by the ``data``
# wasmtime hands back to the callback.
_STRING_FUNCS: dict[int, Callable[..., str | None]] = {}
_string_ids = itertools.count(1)


def _string_func_callbacks() -> tuple[Any, Any]:
    """The C callbacks of every string-only host function (made once: wasmtime keeps raw pointers to them).

    wasmtime-py's generic ``add_func`` rebuilds the function's type and converts each value through it
    on every call (~70 us for ``call-tool``, most of a round trip); these read the strings straight from
    the C values and write the result the same way.
    """
    from wasmtime import _ffi as ffi  # wasmtime: only when a sandbox is built or run

    delete, new_vec, error_new = (
        ffi.wasm_byte_vec_delete,
        ffi.wasm_byte_vec_new_uninitialized,
        ffi.wasmtime_error_new,
    )
    string_kind = ffi.WASMTIME_COMPONENT_STRING.value
    string_at, memmove, byref = ctypes.string_at, ctypes.memmove, ctypes.byref

    @ffi.wasmtime_component_func_callback_t
    def call(data: int, context: Any, ty: Any, args: Any, nargs: int, results: Any, nresults: int) -> int:
        try:
            texts = []
            for i in range(nargs):
                vec = args[i].of.string
                texts.append(string_at(vec.data, vec.size).decode() if vec.size else "")
                delete(byref(vec))
            value = _STRING_FUNCS[data](*texts)
            if not nresults:
                return 0
            # A lone surrogate (from a server's text, say) becomes its escape, never a trap.
            out = value.encode("utf-8", "backslashreplace")  # type: ignore[union-attr]
            result = results[0]
            result.kind = string_kind
            new_vec(byref(result.of.string), len(out))
            if out:
                memmove(result.of.string.data, out, len(out))
            return 0
        except BaseException as exc:
            return (
                ctypes.cast(
                    error_new(f"host function failed: {type(exc).__name__}: {exc}".encode()), ctypes.c_void_p
                ).value
                or 0
            )

    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    def finalize(data: int | None) -> None:
        _STRING_FUNCS.pop(data or 0, None)

    return call, finalize


_STRING_CALLBACKS: tuple[Any, Any] | None = None


def _add_string_func(instance: Any, name: str, func: Callable[..., str | None]) -> None:
    """Define ``name`` (string parameters; a string result, or none) on a component linker instance."""
    global _STRING_CALLBACKS
    from wasmtime import WasmtimeError  # wasmtime: only when a sandbox is built or run
    from wasmtime import _ffi as ffi

    if _STRING_CALLBACKS is None:
        _STRING_CALLBACKS = _string_func_callbacks()
    call, finalize = _STRING_CALLBACKS
    key = next(_string_ids)
    _STRING_FUNCS[key] = func
    encoded = name.encode()
    error = ffi.wasmtime_component_linker_instance_add_func(
        instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), call, key, finalize
    )
    if error:
        _STRING_FUNCS.pop(key, None)
        raise WasmtimeError._from_ptr(error)


def _linker(engine: Engine, imports: HostImports) -> Any:
    from wasmtime.component import Linker  # wasmtime: only when a sandbox is built or run

    linker = Linker(engine.engine)
    linker.add_wasip2()
    with linker.root() as root, root.add_instance("mcp:sandbox/host") as host:
        _add_string_func(host, "call-tool", imports.call_tool)
        host.add_func(
            "start-call", lambda store, server, tool, params: imports.start_call(server, tool, params)
        )
        host.add_func("wait-calls", lambda store, ids, timeout_ms: imports.wait_calls(list(ids), timeout_ms))
        host.add_func("read-resource", lambda store, server, uri: imports.read_resource(server, uri))
        host.add_func(
            "show-view", lambda store, server, tool, params: imports.show_view(server, tool, params)
        )
        _add_string_func(host, "log", imports.log)
        host.add_func("get-state", lambda store, key: imports.get_state(key))
        host.add_func("set-state", lambda store, key, value: imports.set_state(key, value))
        _add_string_func(host, "keep-snapshot", imports.keep_snapshot)
    return linker


class GuestInstance:
    """A store plus the instantiated guest; every method checks it runs on the creating thread."""

    _store: wasmtime.Store | None  # None once closed

    def __init__(
        self,
        engine: Engine,
        imports: HostImports,
        *,
        workspace: Path,
        tools_dir: Path | None = None,
        skills_dir: Path | None = None,
        memory_bytes: int = 256 << 20,
        linker: Any = None,
    ) -> None:
        import wasmtime  # wasmtime: only when a sandbox is built or run
        from wasmtime import _ffi as ffi

        global _live
        self._thread = threading.get_ident()
        self.linker = linker or _linker(engine, imports)
        component = engine.component()
        wasi = wasmtime.WasiConfig()  # no env, no args, no network, no inherited stdio
        if tools_dir is not None and tools_dir.is_dir():
            wasi.preopen_dir(str(tools_dir), "/mcp-tools", fs_mutable=False)
            if skills_dir is not None and skills_dir.is_dir():  # the guest's libc takes the longest prefix
                wasi.preopen_dir(str(skills_dir), "/mcp-tools/skills", fs_mutable=False)
        wasi.preopen_dir(str(workspace), "/workspace", fs_mutable=True)
        if ZONEINFO_DIR.is_dir():
            wasi.preopen_dir(str(ZONEINFO_DIR), "/zoneinfo", fs_mutable=False)
        store = wasmtime.Store(engine.engine)
        store.set_wasi(wasi)
        store.set_limits(memory_size=memory_bytes)
        store.set_fuel(1 << 62)

        def on_deadline(context: Any, data: Any, delta: Any, kind: Any) -> int:
            try:
                go_on = imports.on_epoch()
            except BaseException:
                go_on = False
            if not go_on:
                return (
                    ctypes.cast(ffi.wasmtime_error_new(STOPPED_BY_HOST.encode()), ctypes.c_void_p).value or 0
                )
            delta[0] = 1
            kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
            return 0

        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_size_t,
            ctypes.POINTER(ffi.wasmtime_context_t),
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint64),
            ctypes.POINTER(ffi.wasmtime_update_deadline_kind_t),
        )
        # Kept on self: wasmtime holds only a raw pointer to it for as long as the store lives.
        self._callback = callback_type(on_deadline)
        ffi.wasmtime_store_epoch_deadline_callback(
            store.ptr(), self._callback, None, ctypes.CFUNCTYPE(None, ctypes.c_void_p)()
        )
        store.set_epoch_deadline(1)
        try:
            instance = self.linker.instantiate(store, component)
        except BaseException:
            store.close()
            raise
        self._store, self._run = store, instance.get_func(store, "run-cell")
        with _live_lock:
            _live += 1

    def _check(self) -> None:
        if threading.get_ident() != self._thread:
            raise OwnershipError(
                f"wasmtime store used from {threading.current_thread().name!r}, "
                "not from the thread that owns it"
            )

    def run(self, request_json: str, *, memory_bytes: int, fuel: int) -> str:
        """Run one cell request in the guest (the owner thread only); raises ``WasmtimeError`` on a trap."""
        self._check()
        if self._store is None:
            raise RuntimeError("guest instance is closed")
        self._store.set_limits(memory_size=memory_bytes)
        self._store.set_fuel(fuel)
        self._store.set_epoch_deadline(1)
        return self._run(self._store, request_json)

    def fuel_left(self) -> int:
        self._check()
        return self._store.get_fuel() if self._store is not None else 0

    def close(self) -> None:
        """Close the store (an open store at interpreter exit panics wasmtime's runtime)."""
        global _live
        self._check()
        store, self._store, self._run = self._store, None, None
        if store is not None:
            store.close()
            with _live_lock:
                _live -= 1
