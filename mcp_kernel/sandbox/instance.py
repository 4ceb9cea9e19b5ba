"""One wasmtime store with the guest component instantiated in it, used only by the thread that made it.

Isolation is WASI's, deny by default: no network, no environment, no arguments, no host files except the
generated tree at ``/mcp-tools`` (read-only), the session's ``/workspace`` (read-write) and the host's
time-zone database at ``/zoneinfo`` (read-only, when present).

Wall time is enforced per store, not per engine: the store's epoch deadline is one tick away and each
time it passes wasmtime calls :meth:`HostImports.on_epoch` on the running thread, which either lets the
guest go on for another tick or stops it with a trap. So stopping one session never shortens another's
time (bumping the engine's epoch would), and the decision is made on the owner thread itself.

>>> instance = GuestInstance(engine, imports, workspace=path)        # doctest: +SKIP
>>> instance.run('{"code": "1 + 1"}', memory_bytes=256 << 20, fuel=10**9)  # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any, Protocol

from .engine import Engine
from .owner import OwnershipError
from .policy import ZONEINFO_DIR

__all__ = ["GuestInstance", "HostImports", "live_stores", "STOPPED_BY_HOST"]

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
    def log(self, level: str, message: str) -> None: ...
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value_json: str) -> str | None: ...
    def on_epoch(self) -> bool: ...


def _linker(engine: Engine, imports: HostImports) -> Any:
    from wasmtime.component import Linker

    linker = Linker(engine.engine)
    linker.add_wasip2()
    with linker.root() as root, root.add_instance("mcp:sandbox/host") as host:
        host.add_func("call-tool", lambda store, server, tool, params: imports.call_tool(server, tool, params))
        host.add_func("start-call", lambda store, server, tool, params: imports.start_call(server, tool, params))
        host.add_func("wait-calls", lambda store, ids, timeout_ms: imports.wait_calls(list(ids), timeout_ms))
        host.add_func("read-resource", lambda store, server, uri: imports.read_resource(server, uri))
        host.add_func("log", lambda store, level, message: imports.log(level, message))
        host.add_func("get-state", lambda store, key: imports.get_state(key))
        host.add_func("set-state", lambda store, key, value: imports.set_state(key, value))
    return linker


class GuestInstance:
    """A store plus the instantiated guest; every method checks it runs on the creating thread."""

    def __init__(
        self,
        engine: Engine,
        imports: HostImports,
        *,
        workspace: Path,
        tools_dir: Path | None = None,
        memory_bytes: int = 256 << 20,
        linker: Any = None,
    ) -> None:
        import wasmtime
        from wasmtime import _ffi as ffi

        global _live
        self._thread = threading.get_ident()
        self.linker = linker or _linker(engine, imports)
        component = engine.component()
        wasi = wasmtime.WasiConfig()  # no env, no args, no network, no inherited stdio
        if tools_dir is not None and tools_dir.is_dir():
            wasi.preopen_dir(str(tools_dir), "/mcp-tools", fs_mutable=False)
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
            except BaseException:  # noqa: BLE001 - a callback must not raise through wasmtime
                go_on = False
            if not go_on:
                return ctypes.cast(ffi.wasmtime_error_new(STOPPED_BY_HOST.encode()), ctypes.c_void_p).value or 0
            delta[0] = 1
            kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
            return 0

        callback_type = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ffi.wasmtime_context_t), ctypes.c_void_p,
                                         ctypes.POINTER(ctypes.c_uint64),
                                         ctypes.POINTER(ffi.wasmtime_update_deadline_kind_t))
        # Kept on self: wasmtime holds only a raw pointer to it for as long as the store lives.
        self._callback = callback_type(on_deadline)
        ffi.wasmtime_store_epoch_deadline_callback(store.ptr(), self._callback, None,
                                                   ctypes.CFUNCTYPE(None, ctypes.c_void_p)())
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
            raise OwnershipError(f"wasmtime store used from {threading.current_thread().name!r}, "
                                 "not from the thread that owns it")

    def run(self, request_json: str, *, memory_bytes: int, fuel: int) -> str:
        """Run one cell request in the guest (the owner thread only); raises ``WasmtimeError`` on a trap."""
        self._check()
        if self._store is None:
            raise RuntimeError("guest instance is closed")
        self._store.set_limits(memory_size=memory_bytes)
        self._store.set_fuel(fuel)
        self._store.set_epoch_deadline(1)
        return self._run(self._store, request_json)  # type: ignore[no-any-return]

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
