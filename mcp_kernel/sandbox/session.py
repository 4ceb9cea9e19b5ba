"""One sandbox session: a long-lived guest instance that runs cells like a notebook.

Variables, imports and functions defined in one cell are there in the next. A cell that hits a limit
raises a typed error (:class:`~mcp_kernel.errors.SandboxTimeout`, ``SandboxOutOfMemory``,
``FuelExhausted``, ``OutputTooLarge``) and the host carries on; when the limit trapped the instance, the
next cell gets a fresh one and its result says the session's variables were lost.

Isolation is WASI's, deny by default: no network, no environment, no arguments, no host files except the
generated tree at ``/mcp-tools`` (read-only), the session's ``/workspace`` (read-write) and the host's
time-zone database at ``/zoneinfo`` (read-only, when present).

>>> with Sandbox(host=bridge, tools_dir=tree) as sandbox:          # doctest: +SKIP
...     sandbox.execute("x = 21")
...     sandbox.execute("x * 2").value_repr
'42'
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import (
    FuelExhausted,
    MCPKernelError,
    OutputTooLarge,
    SandboxError,
    SandboxOutOfMemory,
    SandboxTimeout,
)
from ..models import ExecutionResult, GuestError
from .engine import TICK_SECONDS, Engine
from .policy import ZONEINFO_DIR, SandboxPolicy

__all__ = ["Sandbox", "HostHandler", "StateStore"]

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()


class HostHandler(Protocol):
    """What the guest's ``call-tool`` reaches: the bridge, or anything with this method."""

    def call_tool(self, server: str, tool: str, params_json: str) -> str: ...


class StateStore:
    """The per-session key/value store behind ``get-state``/``set-state``: JSON values, bounded in size."""

    def __init__(self, limit_bytes: int = 1 << 20) -> None:
        self.limit_bytes = limit_bytes
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value_json: str) -> None:
        json.loads(value_json)  # the guest sends JSON; refuse anything else
        size = sum(len(k) + len(v) for k, v in self._values.items() if k != key) + len(key) + len(value_json)
        if size > self.limit_bytes:
            raise SandboxError(f"State is limited to {self.limit_bytes:,} bytes per session; this value would "
                               f"make it {size:,}.")
        self._values[key] = value_json

    def clear(self) -> None:
        self._values.clear()


class _NoTools:
    def call_tool(self, server: str, tool: str, params_json: str) -> str:
        raise SandboxError("This sandbox has no tool bridge: no server was granted to it.")


def _err(exc: BaseException) -> Any:
    from wasmtime.component import Variant

    if isinstance(exc, MCPKernelError):
        return Variant("err", f"{type(exc).__name__}: {exc}")
    return Variant("err", f"internal error in the host: {type(exc).__name__}: {exc}")


class Sandbox:
    """Runs cells in one guest instance (rebuilt after a trap), with tools reached through ``host``."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        host: HostHandler | None = None,
        tools_dir: str | os.PathLike[str] | None = None,
        workspace: str | os.PathLike[str] | None = None,
        policy: SandboxPolicy | None = None,
    ) -> None:
        self._own_engine = engine is None
        self.engine = engine or Engine()
        self.host = host or _NoTools()
        self.tools_dir = Path(tools_dir) if tools_dir is not None else None
        self._tmp_workspace = workspace is None
        self.workspace = Path(workspace) if workspace is not None else Path(tempfile.mkdtemp(prefix="mcp-ws-"))
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.policy = policy or SandboxPolicy()
        self.state = StateStore(self.policy.state_limit_bytes)
        self.logs: list[tuple[str, str]] = []
        self.on_output: Callable[[str, str], None] | None = None
        self._store: Any = None
        self._run: Any = None
        self._lost_state = False
        self._cells = 0
        self._closed = False
        _LIVE.add(self)

    # ---- instance lifecycle ------------------------------------------------------------------------
    def _linker(self) -> Any:
        from wasmtime.component import Linker, Variant

        linker = Linker(self.engine.engine)
        linker.add_wasip2()

        def call_tool(store: Any, server: str, tool: str, params_json: str) -> Any:
            try:
                return Variant("ok", self.host.call_tool(server, tool, params_json))
            except BaseException as exc:  # noqa: BLE001 - a host function must never raise into the guest
                return _err(exc)

        def log(store: Any, level: str, message: str) -> None:
            if level in ("stdout", "stderr") and self.on_output is not None:
                try:
                    self.on_output(level, message)
                except Exception:  # noqa: BLE001 - a failing display must not break the cell
                    pass
                return
            self.logs.append((level[:20], message[:10_000]))
            del self.logs[:-1000]

        def get_state(store: Any, key: str) -> str | None:
            return self.state.get(key)

        def set_state(store: Any, key: str, value_json: str) -> str | None:
            # result<_, string> has cases that differ in type, so wasmtime-py takes them untagged:
            # None is `ok`, a string is `err`.
            try:
                self.state.set(key, value_json)
            except (SandboxError, ValueError) as exc:
                return str(exc)
            return None

        with linker.root() as root, root.add_instance("mcp:sandbox/host") as host:
            host.add_func("call-tool", call_tool)
            host.add_func("log", log)
            host.add_func("get-state", get_state)
            host.add_func("set-state", set_state)
        return linker

    def _instantiate(self) -> None:
        import wasmtime

        component = self.engine.component()
        wasi = wasmtime.WasiConfig()  # no env, no args, no network, no inherited stdio
        if self.tools_dir is not None and self.tools_dir.is_dir():
            wasi.preopen_dir(str(self.tools_dir), "/mcp-tools", fs_mutable=False)
        wasi.preopen_dir(str(self.workspace), "/workspace", fs_mutable=True)
        if ZONEINFO_DIR.is_dir():
            wasi.preopen_dir(str(ZONEINFO_DIR), "/zoneinfo", fs_mutable=False)
        store = wasmtime.Store(self.engine.engine)
        store.set_wasi(wasi)
        store.set_limits(memory_size=self.policy.memory_mb * 1024 * 1024)
        store.set_fuel(self.policy.fuel)
        store.set_epoch_deadline(1 << 40)
        if not hasattr(self, "_linker_obj"):
            self._linker_obj = self._linker()
        instance = self._linker_obj.instantiate(store, component)
        self._store, self._run = store, instance.get_func(store, "run-cell")

    def _drop_instance(self) -> None:
        store, self._store, self._run = self._store, None, None
        if store is not None:
            store.close()

    def warm_up(self) -> None:
        """Create the guest instance now instead of at the first cell."""
        if self._store is None and not self._closed:
            self._instantiate()

    def reset(self) -> None:
        """Start clean: a fresh instance, no variables, empty state (the workspace files stay)."""
        self._drop_instance()
        self.state.clear()
        self._lost_state = False

    # ---- running -----------------------------------------------------------------------------------
    def execute(self, code: str, policy: SandboxPolicy | None = None) -> ExecutionResult:
        """Run ``code`` as the next cell; raise a ``SandboxError`` subclass if it breaks a limit."""
        if self._closed:
            raise SandboxError("This sandbox is closed; create a new one.")
        policy = policy or self.policy
        reset_note = None
        if self._store is None:
            if self._lost_state:
                reset_note = "The previous cell hit a limit and the sandbox was restarted: variables were lost."
            self._instantiate()
            self._lost_state = False
        started = time.perf_counter()
        store, run = self._store, self._run
        store.set_limits(memory_size=policy.memory_mb * 1024 * 1024)
        store.set_fuel(policy.fuel)
        ticks = max(1, int(policy.timeout_s / TICK_SECONDS))
        self.engine.ensure_ticker()
        store.set_epoch_deadline(ticks)
        request = json.dumps({"code": code, "output_limit": policy.output_limit_bytes,
                              "stream": self.on_output is not None})
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["text"] = run(store, request)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                outcome["error"] = exc

        worker = threading.Thread(target=target, name="mcp-kernel-cell", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.05)
        except KeyboardInterrupt:
            self.engine.interrupt(ticks)
            worker.join(5)
            self._after_trap()
            raise
        self._cells += 1
        fuel_used = policy.fuel - store.get_fuel() if "error" not in outcome else policy.fuel
        duration = (time.perf_counter() - started) * 1000
        if "error" in outcome:
            self._after_trap()
            raise self._trap_error(outcome["error"], policy, duration)
        data = json.loads(outcome["text"])
        error = data.get("error")
        result = ExecutionResult(
            stdout=data["stdout"], stderr=data["stderr"], value_repr=data.get("value_repr"),
            value_json=data.get("value_json"), error=GuestError(**error) if error else None,
            duration_ms=duration, fuel_used=fuel_used, memory_limit_mb=policy.memory_mb,
            session_reset=reset_note is not None, note=reset_note,
        )
        if data.get("truncated"):
            raise OutputTooLarge(f"The cell printed more than {policy.output_limit_bytes:,} bytes and was stopped. "
                                 "Print a summary instead of raw data.", result=result)
        if error and error["type"] == "MemoryError":
            raise SandboxOutOfMemory(f"The cell ran out of its {policy.memory_mb} MiB memory limit (MemoryError). "
                                     "Raise it with --memory, or process the data in chunks.", result=result)
        return result

    def _after_trap(self) -> None:
        self._drop_instance()
        self._lost_state = True

    def _trap_error(self, exc: BaseException, policy: SandboxPolicy, duration_ms: float) -> SandboxError:
        message = str(exc)
        lowered = message.lower()
        if "fuel" in lowered:
            return FuelExhausted(f"The cell used its whole instruction budget ({policy.fuel:,} fuel) and was "
                                 "stopped; the session was restarted. Raise it with --fuel.")
        if "interrupt" in lowered or "epoch" in lowered:
            return SandboxTimeout(f"The cell ran past its {policy.timeout_s:g} s time limit (or was interrupted) "
                                  f"and was stopped after {duration_ms / 1000:.1f} s; the session was restarted. "
                                  "Raise the limit with --timeout.")
        if "memory" in lowered or "allocation" in lowered:
            return SandboxOutOfMemory(f"The cell ran past its {policy.memory_mb} MiB memory limit and was stopped; "
                                      "the session was restarted.")
        if "stack" in lowered:
            return SandboxError("The cell overflowed the sandbox's call stack (too deep recursion in native code) "
                                "and was stopped; the session was restarted.")
        return SandboxError(f"The sandbox stopped the cell: {message.splitlines()[0] if message else type(exc).__name__}"
                            "; the session was restarted.")

    @property
    def cells(self) -> int:
        """How many cells ran in this sandbox."""
        return self._cells

    # ---- closing -----------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the store (before interpreter exit: an open store panics the runtime) and temp files."""
        if self._closed:
            return
        self._closed = True
        self._drop_instance()
        if self._own_engine:
            self.engine.close()
        if self._tmp_workspace:
            shutil.rmtree(self.workspace, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for sandbox in list(_LIVE):
        sandbox.close()
