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

>>> with Sandbox(host=bridge, tools_dir=tree) as sandbox:          # doctest: +SKIP
...     sandbox.execute("x = 21")
...     sandbox.execute("x * 2").value_repr
'42'
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
from typing import Any, Protocol

from ..deadline import Deadline
from ..errors import (
    FuelExhausted,
    Interrupted,
    MCPKernelError,
    OutputTooLarge,
    PolicyViolation,
    SandboxError,
    SandboxOutOfMemory,
    SandboxTimeout,
    WorkspaceFull,
)
from ..models import ExecutionResult, GuestError
from ..runtime import Scope
from .engine import Engine
from .hosterrors import MAX_TEXT, encode, stopped
from .instance import GuestInstance
from .owner import Owner
from .policy import SandboxPolicy
from .snapshot import Snapshot, SnapshotInfo, SnapshotUpdate

__all__ = ["HostHandler", "OutputCallback", "Sandbox", "StateStore"]

log = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], None]
_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()
# How long a stopped guest may take to unwind (it gets KeyboardInterrupt from a waiting tool call)
# before the epoch callback traps it; and how long a caller waits for the owner after an interrupt.
UNWIND_GRACE_S = 0.25
RETURN_GRACE_S = 1.5
_MAX_LOG_LINE = 10_000
# Concurrent tool calls (asyncio.gather in a cell): at most this many in flight per cell (the guest queues
# more), and per server at once.
MAX_CALLS_IN_FLIGHT = 256
PER_SERVER_CONCURRENCY = 32
_FOREVER_MS = 0xFFFFFFFF
# How often (in epoch ticks of 10 ms) a running cell's workspace is measured against its disk limit.
_DISK_CHECK_TICKS = 10


class HostHandler(Protocol):
    """What the guest's ``call-tool`` reaches: the bridge, or anything with this method.

    ``scope`` bounds the call: stopping the cell stops it (see :class:`~mcp_kernel.runtime.Scope`).
    """

    def call_tool(self, server: str, tool: str, params_json: str, scope: Scope | None = None) -> str: ...


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
            raise SandboxError(
                f"State is limited to {self.limit_bytes:,} bytes per session; this value would "
                f"make it {size:,}."
            )
        self._values[key] = value_json

    def clear(self) -> None:
        self._values.clear()


class _NoTools:
    def call_tool(self, server: str, tool: str, params_json: str, scope: Scope | None = None) -> str:
        raise SandboxError("This sandbox has no tool bridge: no server was granted to it.")


class _Job:
    """One cell on its way through the owner: its limits, its output so far, and why it was stopped."""

    def __init__(
        self,
        code: str,
        policy: SandboxPolicy,
        on_output: OutputCallback | None,
        reload: list[str] | None = None,
        person: Deadline | None = None,
    ) -> None:
        self.code, self.policy, self.on_output = code, policy, on_output
        self.reload = reload or []
        self.name: str | None = None
        self.created = time.monotonic()
        self.started = 0.0
        # The cell's limit follows the clock of the person who answers its servers' questions (``person``).
        self.scope = Scope(Deadline(follows=person))
        self.stopped_event = threading.Event()
        self.stop_reason: str | None = None
        self.stopped_at = 0.0
        self.out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.out_bytes = 0
        self.logs: list[tuple[str, str]] = []
        self.ticks = 0
        self.calls: dict[int, concurrent.futures.Future[str]] = {}
        self.snapshot: SnapshotUpdate | None = None  # applied only if the cell's instance survives it

    def begin(self) -> None:
        self.started = time.monotonic()
        self.scope.deadline.start(self.policy.timeout_s)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stopped_at = reason, time.monotonic()
        self.scope.stop(self.stop_reason)
        self.stopped_event.set()

    def elapsed(self) -> float:
        return time.monotonic() - (self.started or self.created)


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
        name: str = "sandbox",
        remove_workspace: bool = False,
    ) -> None:
        self._own_engine = engine is None
        self.engine = engine or Engine()
        self.host: HostHandler = host or _NoTools()
        self.name = name
        self.tools_dir = Path(tools_dir) if tools_dir is not None else None
        self._tmp_workspace = workspace is None or remove_workspace
        self.workspace = (
            Path(workspace) if workspace is not None else Path(tempfile.mkdtemp(prefix="mcp-ws-"))
        )
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.policy = policy or SandboxPolicy.default()
        self.state = StateStore(self.policy.state_limit_bytes)
        self.snapshot = Snapshot(self.policy.snapshot_limit_bytes)
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
        self._job: _Job | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots: dict[str, threading.Semaphore] = {}
        self._slots_lock = threading.Lock()
        self._call_ids = 0
        self._lost_state = False
        self._cells = 0
        self._closed = False
        _LIVE.add(self)

    # ---- the host imports (called by the guest, on the owner thread) -----------------------------------
    def call_tool(self, server: str, tool: str, params_json: str) -> str:
        """The ``call-tool`` import: ``"+"`` and the result's JSON, or ``"-"`` and why it failed (:func:`encode`)."""
        job = self._job
        if job is None or job.stop_reason is not None:
            return "-" + encode(_stopped(job))
        try:
            return "+" + self.host.call_tool(server, tool, params_json, job.scope)
        except BaseException as exc:
            if job.stop_reason is not None:
                return "-" + encode(_stopped(job))
            if not isinstance(exc, MCPKernelError):
                log.exception("host error in call-tool %s.%s", server, tool)
            return "-" + encode(exc)

    def read_resource(self, server: str, uri: str) -> Any:
        """The guest's ``read-resource``: through the host's bridge when it can read resources."""
        from wasmtime.component import Variant

        job = self._job
        if job is None or job.stop_reason is not None:
            return Variant("err", encode(_stopped(job)))
        reader = getattr(self.host, "read_resource", None)
        if reader is None:
            return Variant("err", encode(SandboxError("this sandbox's host cannot read resources.")))
        try:
            return Variant("ok", reader(server, uri, job.scope))
        except BaseException as exc:
            if job.stop_reason is not None:
                return Variant("err", encode(_stopped(job)))
            if not isinstance(exc, MCPKernelError):
                log.exception("host error in read-resource %s %s", server, uri)
            return Variant("err", encode(exc))

    def start_call(self, server: str, tool: str, params_json: str) -> int | str:
        """Start a tool call that runs while the guest goes on (its event loop awaits it); its id.

        ``result<u64, string>`` has cases of different types, so wasmtime-py takes them untagged: an int
        is ``ok`` (the id), a string is ``err``.
        """
        job = self._job
        if job is None or job.stop_reason is not None:
            return encode(_stopped(job))
        if len(job.calls) >= MAX_CALLS_IN_FLIGHT:
            return encode(
                PolicyViolation(
                    f"at most {MAX_CALLS_IN_FLIGHT} tool calls may be in flight at once in "
                    "a cell; await some before starting more."
                )
            )
        self._call_ids += 1
        job.calls[self._call_ids] = self._executor().submit(
            self._concurrent_call, job, server, tool, params_json
        )
        return self._call_ids

    def _concurrent_call(self, job: _Job, server: str, tool: str, params_json: str) -> str:
        with self._slots_for(server):
            if job.stop_reason is not None:
                raise _stopped(job)
            return self.host.call_tool(server, tool, params_json, job.scope)

    def _slots_for(self, server: str) -> threading.Semaphore:
        with self._slots_lock:
            return self._slots.setdefault(server, threading.Semaphore(PER_SERVER_CONCURRENCY))

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=32, thread_name_prefix=f"mcp-kernel-calls:{self.name}"
            )
        return self._pool

    def wait_calls(self, ids: list[int], timeout_ms: int) -> str:
        """Block (the owner thread, not wasm) until one of ``ids`` finishes, ``timeout_ms`` pass or the cell
        is stopped; answer ``{"done": [[id, ok, text], ...], "stopped": reason or null}``."""
        job = self._job
        if job is None:
            return json.dumps({"done": [], "stopped": "close"})
        end = None if timeout_ms == _FOREVER_MS else time.monotonic() + timeout_ms / 1000
        futures = {i: job.calls[i] for i in ids if i in job.calls}
        while True:
            if job.stop_reason is None and job.scope.deadline.expired():
                job.stop("timeout")
            done = [(i, f) for i, f in futures.items() if f.done()]
            if done or job.stop_reason is not None:
                answers = []
                for call_id, future in done:
                    job.calls.pop(call_id, None)
                    answers.append([call_id, *_outcome(future)])
                return json.dumps({"done": answers, "stopped": job.stop_reason}, ensure_ascii=True)
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return json.dumps({"done": [], "stopped": None})
            slice_ = 0.05 if left is None else min(0.05, left)
            if futures:
                concurrent.futures.wait(
                    list(futures.values()), timeout=slice_, return_when=concurrent.futures.FIRST_COMPLETED
                )
            else:
                job.stopped_event.wait(slice_)

    def log(self, level: str, message: str) -> str:
        """The ``log`` import: ``""``, or why the cell was stopped (the guest raises KeyboardInterrupt there)."""
        job = self._job
        if job is None:
            return ""
        if job.stop_reason is None and job.scope.deadline.expired():
            job.stop(
                "timeout"
            )  # a printing loop meets its time limit here, inside Python, keeping its variables
        if job.stop_reason is not None:
            return job.stop_reason if job.stop_reason in ("interrupt", "timeout") else ""
        if level not in ("stdout", "stderr"):
            message = message[:_MAX_LOG_LINE]  # a log line is kept short: only what is kept counts
        size = len(message.encode("utf-8", "replace"))
        if job.out_bytes + size > job.policy.output_limit_bytes:
            # The cap is the host's: a cell that rewrote its own budget in the guest still ends here.
            job.stop("output")
            return ""
        job.out_bytes += size
        if level in ("stdout", "stderr"):
            job.out[level].append(message)
            if job.on_output is not None:
                try:
                    job.on_output(level, message)
                except Exception:
                    log.debug("output callback failed", exc_info=True)
            return ""
        job.logs.append((level[:20], message))
        return ""

    def get_state(self, key: str) -> str | None:
        return self.state.get(key)

    def set_state(self, key: str, value_json: str) -> str | None:
        # result<_, string> has cases that differ in type, so wasmtime-py takes them untagged:
        # None is `ok`, a string is `err`.
        try:
            self.state.set(key, value_json)
        except (SandboxError, ValueError) as exc:
            return str(exc)
        return None

    def keep_snapshot(self, update_json: str) -> str:
        """The ``keep-snapshot`` import: stage the cell's changed variables; ``""``, or why they were not taken."""
        job = self._job
        if job is None or job.stop_reason is not None:
            return "the cell was stopped"
        try:
            job.snapshot = self.snapshot.parse(update_json)
        except SandboxError as exc:
            return str(exc) or "refused"
        return ""

    def on_epoch(self) -> bool:
        """Called by wasmtime every tick while the guest runs: go on (True) or trap now (False)."""
        job = self._job
        if job is None:
            return True
        now = time.monotonic()
        if job.stop_reason is None and job.scope.deadline.expired():
            job.stop("timeout")
        job.ticks += 1
        if job.stop_reason is None and job.ticks % _DISK_CHECK_TICKS == 0 and self._over_disk(job.policy):
            job.stop("disk")
        if job.stop_reason is None:
            return True
        return job.stop_reason not in ("output", "close", "disk") and now - job.stopped_at < UNWIND_GRACE_S

    def _over_disk(self, policy: SandboxPolicy) -> bool:
        return workspace_bytes(self.workspace, stop_above=policy.disk_mb << 20) > policy.disk_mb << 20

    # ---- the instance (owner thread) -------------------------------------------------------------------
    def _ensure_instance(self) -> GuestInstance:
        self._owner.check()
        if self._instance is None:
            if self._linker is None:
                from .instance import _linker

                self._linker = _linker(self.engine, self)
            self.workspace.mkdir(parents=True, exist_ok=True)  # recreated if someone removed it
            self._instance = GuestInstance(
                self.engine,
                self,
                workspace=self.workspace,
                tools_dir=self.tools_dir,
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

        def job() -> None:
            self._drop_instance()
            self.state.clear()
            self.snapshot.clear()
            self._lost_state = False

        _wait(self._owner.submit(job))

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
        job = _Job(
            code, policy or self.policy, on_output, reload, person=None if asker is None else asker.clock
        )
        job.name = cell_name  # tracebacks say `<cell [9]>` as the notebook numbers it
        self.last_used = time.monotonic()
        future = self._owner.submit(lambda: self._run_job(job))
        serve = None if asker is None else asker.serve_pending
        try:
            return _wait(future, serve=serve)
        except KeyboardInterrupt:
            self.stop(job, "interrupt")
            try:
                return _wait(future, RETURN_GRACE_S)
            except (KeyboardInterrupt, concurrent.futures.TimeoutError):
                raise Interrupted(
                    f"the cell was stopped after {job.elapsed():.1f} s; it is still unwinding in "
                    "the background and the next cell waits for it."
                ) from None
        finally:
            self.last_used = time.monotonic()

    def stop(self, job: _Job | None = None, reason: str = "interrupt") -> None:
        """Stop ``job`` (default: the running cell) from any thread; its tool calls are cancelled."""
        job = job or self._job
        if job is not None:
            job.stop(reason)

    def interrupt(self) -> None:
        """Stop the running cell, as a kernel interrupt does."""
        self.stop(None, "interrupt")

    def _run_job(self, job: _Job) -> ExecutionResult:
        if job.stop_reason is not None or self._closed:
            raise _stopped_error(self.name, job, None)
        if self.warm_error is not None:
            error, self.warm_error = self.warm_error, None
            self._emit(
                job,
                "stderr",
                f"[sandbox warm-up had failed: {type(error).__name__}: {error}; starting it now]\n",
            )
        restarted = self._instance is None and self._lost_state
        if self._over_disk(job.policy):
            raise WorkspaceFull(
                f"/workspace of sandbox session {self.name!r} holds more than its "
                f"{job.policy.disk_mb} MiB limit.",
                limit="disk",
            )
        instance = self._ensure_instance()
        self._lost_state = False
        if job.stop_reason is not None:
            raise _stopped_error(self.name, job, None)
        job.begin()  # the time limit counts the cell's own run, not building or starting the sandbox
        self.memory_limit_mb = max(self.memory_limit_mb, job.policy.memory_mb)
        self.engine.ensure_ticker()
        policy = job.policy
        fields: dict[str, Any] = {
            "code": job.code,
            "output_limit": policy.output_limit_bytes,
            "reload": job.reload,
            "max_calls": MAX_CALLS_IN_FLIGHT,
            "snapshot_limit": policy.snapshot_limit_bytes,
            "name": job.name,
        }
        self.snapshot.limit_bytes = policy.snapshot_limit_bytes
        if restarted and self.snapshot:
            fields["restore"] = self.snapshot.restore_request()
        request = json.dumps(fields, ensure_ascii=True)
        self._job = job
        try:
            text = instance.run(request, memory_bytes=policy.memory_mb << 20, fuel=policy.fuel)
        except Exception as exc:
            fuel_left = _safe(instance.fuel_left, 1)
            self._job = None
            self._drop_instance()
            self._lost_state = True
            self._cells += 1
            error = _trap_error(self.name, job, exc, fuel_left, self.snapshot.info())
            error.result = _partial(job, policy.fuel - fuel_left, _stop_kind(error, job))  # type: ignore[attr-defined]
            raise error from None
        finally:
            self._job = None
            if job.calls:  # started but never awaited: cancel them with the cell
                job.scope.stop(job.stop_reason or "the cell ended")
        self._cells += 1
        fuel_used = policy.fuel - _safe(instance.fuel_left, 0)
        data = _answer(text)
        if data is None:  # the cell broke the runtime inside the guest: the next cell starts afresh
            self._drop_instance()
            self._lost_state = True
            raise SandboxError(
                f"Sandbox session {self.name!r}: the cell broke the sandbox's own code (its answer "
                "was not what the runtime sends; did the cell replace a module the runtime uses?). "
                f"The sandbox was restarted; {_coming_back(self.snapshot.info())}"
            )
        note = None
        if restarted:
            info = self.snapshot.restored(data["restored"], data["not_restored"])
            note = f"The previous cell hit a limit and the sandbox was restarted: {info.describe()}."
        if job.snapshot is not None and job.stop_reason is None:
            self.snapshot.apply(job.snapshot)
        error = data["error"]
        # Built without validation: every field is the host's own or was checked by _answer, and the first
        # cell of a process does not pay ~70 ms for building the model's validator. Every field is given:
        # model_construct inspects a default factory's signature each time (~0.2 ms for calls' list).
        result = ExecutionResult.model_construct(
            stdout="".join(job.out["stdout"]),
            stderr="".join(job.out["stderr"]),
            value_repr=data["value_repr"],
            value_json=data["value_json"],
            error=GuestError.model_construct(**error) if error else None,
            duration_ms=job.elapsed() * 1000,
            fuel_used=fuel_used,
            memory_limit_mb=policy.memory_mb,
            session_reset=note is not None,
            note=note,
            calls=[],
            tokens=None,
            pii_replaced=None,
            stopped=job.stop_reason,
        )
        self.logs.extend(job.logs)
        del self.logs[:-1000]
        if job.stop_reason is not None:
            raise _stopped_error(self.name, job, result)
        if data["truncated"]:
            raise OutputTooLarge(
                f"The cell printed more than {policy.output_limit_bytes:,} bytes and was stopped. "
                "Print a summary instead of raw data.",
                result=result,
            )
        if error and error["type"] == "MemoryError":
            raise SandboxOutOfMemory(
                f"The cell ran out of its {policy.memory_mb} MiB memory limit (MemoryError).",
                result=result,
                limit="memory",
            )
        return result

    def _emit(self, job: _Job, stream: str, text: str) -> None:
        job.out[stream].append(text)
        if job.on_output is not None:
            try:
                job.on_output(stream, text)
            except Exception:
                log.debug("output callback failed", exc_info=True)

    @property
    def cells(self) -> int:
        """How many cells ran in this sandbox."""
        return self._cells

    @property
    def busy(self) -> bool:
        """Whether a cell is running now."""
        return self._job is not None

    # ---- closing -----------------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Stop any running cell, close the store on its owner thread, remove temp files."""
        if self._closed:
            return
        self._closed = True
        self.stop(None, "close")

        def last() -> None:
            self._drop_instance()
            # The linker's host functions hold this sandbox (through wasmtime's registry of them): dropping
            # the linker releases them, so a closed sandbox is freed.
            self._linker = None

        ended = self._owner.close(last, timeout)
        if not ended:
            log.warning(
                "sandbox %r: owner still busy after %.0f s; it closes the store when it ends",
                self.name,
                timeout,
            )
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._own_engine:
            self.engine.close()
        if self._tmp_workspace:
            shutil.rmtree(self.workspace, ignore_errors=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _answer(text: str) -> dict[str, Any] | None:
    """The guest's answer to a cell with each field of the type the host expects (None: it is no answer).

    >>> _answer('{"value_repr": "2", "value_json": "2", "error": null, "truncated": false}')["value_repr"]
    '2'
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    texts = {key: data.get(key) for key in ("value_repr", "value_json")}
    if any(value is not None and not isinstance(value, str) for value in texts.values()):
        return None
    error = data.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("type"), str):
            return None
        error = {key: str(error.get(key, ""))[: MAX_TEXT * 5] for key in ("type", "message", "traceback")}
    restored, failed = data.get("restored") or [], data.get("not_restored") or {}
    if not isinstance(restored, list) or not isinstance(failed, dict):
        return None
    return {
        **texts,
        "error": error,
        "truncated": data.get("truncated") is True,
        "restored": [str(name) for name in restored],
        "not_restored": {str(k): str(v) for k, v in failed.items()},
    }


def _stopped_error(name: str, job: _Job, result: ExecutionResult | None) -> MCPKernelError:
    """The error for a cell the host stopped (the guest unwound, or never started)."""
    kept = "" if result is None else " Variables are kept."
    policy = job.policy
    if job.stop_reason == "timeout":
        return SandboxTimeout(
            f"The cell ran past its {policy.timeout_s:g} s time limit and was stopped; its "
            f"tool calls in flight were cancelled.{kept}",
            result=result,
            limit="timeout",
        )
    if job.stop_reason == "output":
        return OutputTooLarge(
            f"The cell sent more than {policy.output_limit_bytes:,} bytes of output and was "
            "stopped. Print a summary instead of raw data.",
            result=result,
        )
    if job.stop_reason == "disk":
        return WorkspaceFull(
            f"The cell wrote more than {policy.disk_mb} MiB to /workspace and was stopped; the "
            "files are kept.",
            result=result,
            limit="disk",
        )
    if job.stop_reason == "close":
        return SandboxError(f"Sandbox session {name!r} was closed while the cell ran.", result=result)
    return Interrupted(
        f"the cell was stopped after {job.elapsed():.1f} s; tool calls in flight were cancelled.{kept}",
        result=result,
    )


def _coming_back(info: SnapshotInfo) -> str:
    if not info.kept and not info.not_kept:
        return "no variables had been kept."
    text = f"the next cell gets back the variables of the last cell that ended well ({', '.join(info.kept) or 'none'})"
    if info.not_kept:
        text += "; could not be kept: " + ", ".join(sorted(info.not_kept))
    return text + "."


def _stop_kind(error: MCPKernelError, job: _Job) -> str:
    if job.stop_reason is not None:
        return job.stop_reason
    kinds: dict[type[MCPKernelError], str] = {FuelExhausted: "fuel", SandboxOutOfMemory: "memory"}
    return kinds.get(type(error), "trap")


def _partial(job: _Job, fuel_used: int, stopped: str) -> ExecutionResult:
    """What a trapped cell had done when it stopped: its output, time and fuel (the session adds its calls)."""
    return ExecutionResult.model_construct(
        stdout="".join(job.out["stdout"]),
        stderr="".join(job.out["stderr"]),
        value_repr=None,
        value_json=None,
        error=None,
        duration_ms=job.elapsed() * 1000,
        fuel_used=max(fuel_used, 0),
        memory_limit_mb=job.policy.memory_mb,
        session_reset=True,
        note=None,
        calls=[],
        tokens=None,
        pii_replaced=None,
        stopped=stopped,
    )


def _trap_error(
    name: str, job: _Job, exc: BaseException, fuel_left: int, kept: SnapshotInfo
) -> MCPKernelError:
    # wasmtime-py exposes trap codes only for core-module traps (Trap.trap_code), not for errors from
    # component calls; so the host classifies by what it knows itself: why it stopped the guest,
    # and how much fuel is left.
    policy = job.policy
    restarted = f" The sandbox was restarted; {_coming_back(kept)}"
    if job.stop_reason is not None:
        error = _stopped_error(name, job, None)
        if isinstance(error, SandboxError):
            return type(error)(f"{error.reason.rstrip('.')}.{restarted}", limit=error.limit)
        return type(error)(f"{str(error).rstrip('.')}.{restarted}")
    if fuel_left == 0:
        return FuelExhausted(
            f"The cell used its whole instruction budget ({policy.fuel:,} fuel) and was stopped.{restarted}",
            limit="fuel",
        )
    cause = _trap_cause(exc)
    if "stack" in cause:
        return SandboxError(
            f"The cell overflowed the sandbox's call stack (too deep recursion in native "
            f"code) and was stopped.{restarted}"
        )
    if "memory" in cause or "allocation" in cause:
        return SandboxOutOfMemory(
            f"The cell ran past its {policy.memory_mb} MiB memory limit and was stopped.{restarted}",
            limit="memory",
        )
    return SandboxError(f"The sandbox stopped the cell: {cause or type(exc).__name__}.{restarted}")


def workspace_bytes(path: Path, stop_above: int | None = None) -> int:
    """Bytes held by the files under ``path`` (symlinks not followed); stops counting past ``stop_above``."""
    total = 0
    pending = [path]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
        if stop_above is not None and total > stop_above:
            break
    return total


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


def _trap_cause(exc: BaseException) -> str:
    """The ``Caused by`` part of a wasmtime error (after the wasm backtrace), lower-cased."""
    text = str(exc)
    return (
        text.rsplit("Caused by:", 1)[-1].strip().lower()
        if "Caused by:" in text
        else text.splitlines()[0].lower()
    )


def _outcome(future: concurrent.futures.Future[str]) -> tuple[bool, str]:
    """(ok, text) of a finished concurrent call: its JSON, or its error as call-tool would give it."""
    try:
        return True, future.result()
    except BaseException as exc:
        if not isinstance(exc, MCPKernelError):
            log.exception("host error in a concurrent tool call")
        return False, encode(exc)


def _stopped(job: _Job | None) -> MCPKernelError:
    """What a host import meets once ``job`` was stopped (or when no cell runs)."""
    return stopped(job.stop_reason if job is not None else None)


@atexit.register
def _close_all() -> None:
    for sandbox in list(_LIVE):
        sandbox.close(timeout=2)
