"""One sandbox session: a long-lived guest that runs cells like a notebook, owned by one thread.

Variables, imports and functions defined in one cell are there in the next. Every use of the session's
wasmtime store happens on its :class:`~mcp_kernel.sandbox.owner.Owner` thread; callers on any thread
(the kernel's main thread, ``serve``'s handlers, a warm-up thread) submit work and wait.

Stopping a cell — an interrupt, its time limit, its output cap — is a request to the owner, never a
touch of the store from outside: the cell's tool calls in flight are cancelled (the server is told), new
ones are refused, the guest gets ``KeyboardInterrupt`` where it reaches the host (a tool call, a sleep,
its output), and if it does not unwind within a moment the epoch callback traps it. A trapped instance
is closed and rebuilt by the owner with the variables of the last cell that ended well (its
:class:`~mcp_kernel.sandbox.snapshot.Snapshot`); the next cell is told which came back and which not.

For example::

    with Sandbox(host=bridge, tools_dir=tree) as sandbox:
        sandbox.execute("x = 21")
        sandbox.execute("x * 2").value_repr
    # '42'
"""

from __future__ import annotations

import atexit
import concurrent.futures
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import Interrupted, SandboxError, WorkspaceFull
from ..models import ExecutionResult
from .cell import Cell, OutputCallback, coming_back, limit_error, read_answer, stopped_error, trap_error
from .engine import Engine
from .imports import MAX_CALLS_IN_FLIGHT, GuestImports, HostHandler, StateStore
from .instance import GuestInstance, _linker
from .owner import Owner
from .policy import SandboxPolicy
from .snapshot import Snapshot

__all__ = ["MAX_CALLS_IN_FLIGHT", "HostHandler", "OutputCallback", "Sandbox", "StateStore"]

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()
# How long a caller waits for the owner after an interrupt.
RETURN_GRACE_S = 1.5


class Sandbox:
    """Runs cells in one guest instance (rebuilt after a trap), with tools reached through ``host``.

    What the guest's imports reach while a cell runs is :class:`~mcp_kernel.sandbox.imports.GuestImports`;
    a cell and how its end reads, :class:`~mcp_kernel.sandbox.cell.Cell`.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        host: HostHandler | None = None,
        tools_dir: str | os.PathLike[str] | None = None,
        workspace: str | os.PathLike[str] | None = None,
        policy: SandboxPolicy | None = None,
        name: str = "sandbox",
        remove_workspace: bool = False,
        skills_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._own_engine = engine is None
        self.engine = engine or Engine()
        self.name = name
        self.tools_dir = Path(tools_dir) if tools_dir is not None else None
        # The session's saved skills, seen at /mcp-tools/skills (read-only; the runner keeps it current).
        self.skills_dir = Path(skills_dir) if skills_dir is not None else None
        self.skills_seen: tuple[object, dict[str, str]] = (None, {})  # what the runner last wrote there
        self._tmp_workspace = workspace is None or remove_workspace
        self.workspace = (
            Path(workspace) if workspace is not None else Path(tempfile.mkdtemp(prefix="mcp-ws-"))
        )
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.policy = policy or SandboxPolicy.default()
        self.state = StateStore(self.policy.state_limit_bytes)
        self.snapshot = Snapshot(self.policy.snapshot_limit_bytes)
        self.imports = GuestImports(
            name, workspace=self.workspace, host=host, state=self.state, snapshot=self.snapshot
        )
        self.logs: list[tuple[str, str]] = []
        self.last_used = time.monotonic()
        # The largest memory limit a cell of this session was given: wasm memory never shrinks, so this is
        # what the session may hold from now on (SandboxSessions accounts for it).
        self.memory_limit_mb = self.policy.memory_mb
        self.binding_generations: dict[str, int] = {}  # kept by the session: what the guest has imported
        self.warm_error: BaseException | None = None
        self._owner = Owner(name)
        self._instance: GuestInstance | None = None  # owner thread only
        self._linker: Any = None  # owner thread only
        self._lost_state = False
        self._resumed: str | None = None  # why the next cell takes variables back, when not after a trap
        self._cells = 0
        self._pending = 0  # execute() calls not returned yet
        self._pending_lock = threading.Lock()
        self._closed = False
        _LIVE.add(self)

    # ---- the instance (owner thread) -------------------------------------------------------------------
    def _ensure_instance(self) -> GuestInstance:
        self._owner.check()
        if self._instance is None:
            if self._linker is None:
                self._linker = _linker(self.engine, self.imports)
            self.workspace.mkdir(parents=True, exist_ok=True)  # recreated if someone removed it
            self._instance = GuestInstance(
                self.engine,
                self.imports,
                workspace=self.workspace,
                tools_dir=self.tools_dir,
                skills_dir=self.skills_dir,
                memory_bytes=self.policy.memory_mb << 20,
                linker=self._linker,
            )
        return self._instance

    def _drop_instance(self) -> None:
        self._owner.check()
        instance, self._instance = self._instance, None
        if instance is not None:
            instance.close()

    def _warm(self) -> None:
        if not self._closed:
            self._ensure_instance()

    def warm_up(self) -> concurrent.futures.Future[None]:
        """Create the guest instance now, on the owner thread, instead of at the first cell.

        A failure is kept in ``warm_error`` and reported by the next cell, never swallowed.
        """
        future = self._owner.submit(self._warm)

        def keep(done: concurrent.futures.Future[None]) -> None:
            if not done.cancelled() and done.exception() is not None:
                self.warm_error = done.exception()
                log.warning("sandbox warm-up failed: %s", self.warm_error)

        future.add_done_callback(keep)
        return future

    def reset(self) -> None:
        """Start clean: a fresh instance, no variables, empty state (the workspace files stay)."""

        def clear() -> None:
            self._drop_instance()
            self.state.clear()
            self.snapshot.clear()
            self._lost_state = False

        _wait(self._owner.submit(clear))

    def resume(self, snapshot: dict[str, Any], why: str) -> None:
        """Start from a kept session's variables (a parked session restored): the next cell takes them back
        and its result says ``why`` and what came back."""
        self.snapshot.load(snapshot)
        self._lost_state = True
        self._resumed = why

    # ---- running -----------------------------------------------------------------------------------
    def execute(
        self,
        code: str,
        policy: SandboxPolicy | None = None,
        *,
        on_output: OutputCallback | None = None,
        reload: list[str] | None = None,
        asker: Any = None,
        cell_name: str | None = None,
    ) -> ExecutionResult:
        """Run ``code`` as the next cell; raise a ``SandboxError`` subclass if it breaks a limit.

        Safe from any thread; cells of one session run one at a time, in order. ``KeyboardInterrupt``
        while waiting stops the cell and raises :class:`~mcp_kernel.errors.Interrupted` within seconds.
        ``asker`` (an :class:`~mcp_kernel.elicitation.Asker`) answers, on this thread, the questions servers
        ask during the cell's tool calls; the time a person takes is not held against the cell's limit.
        """
        if self._closed:
            raise SandboxError(f"Sandbox session {self.name!r} is closed; open a new one.")
        cell = Cell(
            code, policy or self.policy, on_output, reload, person=None if asker is None else asker.clock
        )
        cell.name = cell_name  # tracebacks say `<cell [9]>` as the notebook numbers it
        self.last_used = time.monotonic()
        with self._pending_lock:  # busy from now: a session about to run a cell is never parked under it
            self._pending += 1
        future = self._owner.submit(lambda: self._run(cell))
        serve = None if asker is None else asker.serve_pending
        try:
            return _wait(future, serve=serve)
        except KeyboardInterrupt:
            self.stop(cell, "interrupt")
            try:
                return _wait(future, RETURN_GRACE_S)
            except (KeyboardInterrupt, concurrent.futures.TimeoutError):
                raise Interrupted(
                    f"the cell was stopped after {cell.elapsed():.1f} s; it is still unwinding in "
                    "the background and the next cell waits for it."
                ) from None
        finally:
            with self._pending_lock:
                self._pending -= 1
            self.last_used = time.monotonic()

    def stop(self, cell: Cell | None = None, reason: str = "interrupt") -> None:
        """Stop ``cell`` (default: the running one) from any thread; its tool calls are cancelled."""
        cell = cell or self.imports.cell
        if cell is not None:
            cell.stop(reason)

    def interrupt(self) -> None:
        """Stop the running cell, as a kernel interrupt does."""
        self.stop(None, "interrupt")

    def _run(self, cell: Cell) -> ExecutionResult:
        """Run ``cell`` in the instance (the owner thread): start it, rebuilt if it trapped, and read its end."""
        if cell.stop_reason is not None or self._closed:
            raise stopped_error(cell, self.name, None)
        if self.warm_error is not None:
            error, self.warm_error = self.warm_error, None
            cell.emit(
                "stderr", f"[sandbox warm-up had failed: {type(error).__name__}: {error}; starting it now]\n"
            )
        # after a trap (no instance), or a parked session restored (a warmed-up instance is still fresh)
        restarted = self._lost_state and (self._instance is None or self._resumed is not None)
        if self.imports.over_disk(cell.policy):
            raise WorkspaceFull(
                f"/workspace of sandbox session {self.name!r} holds more than its "
                f"{cell.policy.disk_mb} MiB limit.",
                limit="disk",
            )
        instance = self._ensure_instance()
        self._lost_state = False
        if cell.stop_reason is not None:
            raise stopped_error(cell, self.name, None)
        cell.begin()  # the time limit counts the cell's own run, not building or starting the sandbox
        self.memory_limit_mb = max(self.memory_limit_mb, cell.policy.memory_mb)
        self.engine.ensure_ticker()
        policy = cell.policy
        request = _request(cell, self.snapshot, restarted)
        self.imports.cell = cell
        try:
            text = instance.run(request, memory_bytes=policy.memory_mb << 20, fuel=policy.fuel)
        except Exception as exc:
            fuel_left = _safe(instance.fuel_left, 1)
            self.imports.cell = None
            self._drop_instance()
            self._lost_state = True
            self._cells += 1
            raise trap_error(cell, self.name, exc, fuel_left, self.snapshot.info()) from None
        finally:
            self.imports.cell = None
            if cell.calls:  # started but never awaited: cancel them with the cell
                cell.scope.stop(cell.stop_reason or "the cell ended")
        self._cells += 1
        fuel_used = policy.fuel - _safe(instance.fuel_left, 0)
        answer = read_answer(text)
        if answer is None:  # the cell broke the runtime inside the guest: the next cell starts afresh
            self._drop_instance()
            self._lost_state = True
            raise SandboxError(
                f"Sandbox session {self.name!r}: the cell broke the sandbox's own code (its answer "
                "was not what the runtime sends; did the cell replace a module the runtime uses?). "
                f"The sandbox was restarted; {coming_back(self.snapshot.info())}"
            )
        note = None
        if restarted:
            info = self.snapshot.restored(answer["restored"], answer["not_restored"])
            why = self._resumed or "The previous cell hit a limit and the sandbox was restarted"
            note = f"{why}: {info.describe()}."
            self._resumed = None
        if cell.snapshot is not None and cell.stop_reason is None:
            self.snapshot.apply(cell.snapshot)
        result = cell.result(fuel_used, answer, note=note)
        self.logs.extend(cell.logs)
        del self.logs[:-1000]
        broken = limit_error(cell, self.name, result, answer)
        if broken is not None:
            raise broken
        return result

    @property
    def host(self) -> HostHandler:
        """What the guest's tool calls reach (the bridge)."""
        return self.imports.host

    @property
    def cells(self) -> int:
        """How many cells ran in this sandbox."""
        return self._cells

    @property
    def busy(self) -> bool:
        """Whether a cell is running now, or waits to."""
        return self.imports.cell is not None or self._pending > 0

    # ---- closing -----------------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Stop any running cell, close the store on its owner thread, remove temp files."""
        if self._closed:
            return
        self._closed = True
        self.stop(None, "close")

        def last() -> None:
            self._drop_instance()
            # The linker's host functions hold this sandbox's imports (through wasmtime's registry of them):
            # dropping the linker releases them, so a closed sandbox is freed.
            self._linker = None

        ended = self._owner.close(last, timeout)
        if not ended:
            log.warning(
                "sandbox %r: owner still busy after %.0f s; it closes the store when it ends",
                self.name,
                timeout,
            )
        self.imports.close()
        if self._own_engine:
            self.engine.close()
        if self._tmp_workspace:
            shutil.rmtree(self.workspace, ignore_errors=True)
            if self.skills_dir is not None:
                shutil.rmtree(self.skills_dir, ignore_errors=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _request(cell: Cell, snapshot: Snapshot, restarted: bool) -> str:
    """The guest's request for ``cell``: its code and limits, and the kept variables after a restart."""
    policy = cell.policy
    fields: dict[str, Any] = {
        "code": cell.code,
        "output_limit": policy.output_limit_bytes,
        "reload": cell.reload,
        "max_calls": MAX_CALLS_IN_FLIGHT,
        "snapshot_limit": policy.snapshot_limit_bytes,
        "name": cell.name,
    }
    snapshot.limit_bytes = policy.snapshot_limit_bytes
    if restarted and snapshot:
        fields["restore"] = snapshot.restore_request()
    return json.dumps(fields, ensure_ascii=True)


def _wait(
    future: concurrent.futures.Future[Any],
    timeout: float | None = None,
    *,
    serve: Callable[[], None] | None = None,
) -> Any:
    """Wait for ``future`` in short slices, so a KeyboardInterrupt lands promptly in the waiting thread;
    ``serve`` runs between slices (questions for the person at this thread)."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        slice_ = 0.05 if end is None else max(0.0, min(0.05, end - time.monotonic()))
        try:
            return future.result(slice_)
        except concurrent.futures.TimeoutError:
            if end is not None and time.monotonic() >= end:
                raise
            if serve is not None:
                serve()


def _safe(fn: Callable[[], int], default: int) -> int:
    try:
        return fn()
    except Exception:
        return default


@atexit.register
def _close_all() -> None:
    for sandbox in list(_LIVE):
        sandbox.close(timeout=2)
