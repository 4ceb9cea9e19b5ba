"""Long executes as tasks: the Tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663) on serve.

A 2026-07-28 client that declares the extension gets an ``execute`` that runs longer than
``serve_task_after`` seconds as a task instead of a request held open: ``tasks/get`` tells its status, the end
of what the code printed so far (masked like everything serve sends) and, once done, its result;
``tasks/update`` carries the answers to the questions the code's servers ask (the task is
``input_required`` meanwhile); ``tasks/cancel`` stops the cell and its tool calls in flight. A task id is
random and bound to its caller: another caller's ``tasks/get`` or ``tasks/cancel`` hears "no such task".
Finished tasks are kept ``serve_task_keep`` seconds, at most :data:`MOST_KEPT` per caller.

For example::

    tasks = ExecuteTasks(mode, after=5)
    server = MCPServer("mcp-kernel", extensions=[tasks])  # execute's run goes through tasks.follow
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    EmptyResult,
    ErrorData,
    InputRequiredResult,
    TaskStatus,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..client.tasks import TASKS, TERMINAL, CreatedTask, DetailedTask, TaskAnswers, TaskRef
from ..errors import MCPKernelError
from .callers import current_caller
from .codemode import CodeMode
from .eras import stateless
from .runs import Run

__all__ = ["MOST_KEPT", "POLL_MS", "ExecuteTasks"]

MOST_KEPT = 100  # finished tasks kept per caller (the oldest goes first)
POLL_MS = 1000  # how often serve suggests a client asks tasks/get
STATUS_CHARS = 2000  # how much of the latest output a task's status message carries

Follow = Callable[[Run], Awaitable[Any]]


@dataclass(eq=False)
class Task:
    """One ``execute`` running as a task, for its caller only."""

    caller: str | None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: str = field(default_factory=lambda: _now())
    updated: str = field(default_factory=lambda: _now())
    status: TaskStatus = "working"
    job: asyncio.Future[Any] | None = None  # following the run now (None while it waits for answers)
    run: Run | None = None
    follow: Follow | None = None  # how execute follows its run (again, once the questions are answered)
    result: dict[str, Any] | None = None
    error: ErrorData | None = None
    asked: dict[str, Any] = field(default_factory=dict)  # the questions not answered yet, by key
    answers: dict[str, Any] = field(default_factory=dict)
    state: str | None = None  # the parked run's request state, while input_required
    ended: float | None = None  # monotonic time it finished, for how long it is kept
    cancelling: bool = False  # tasks/cancel came: it ends cancelled once the run has ended

    def move(self, status: TaskStatus) -> None:
        self.status, self.updated = status, _now()
        if status in TERMINAL:
            self.ended = time.monotonic()


_forming: contextvars.ContextVar[Task | None] = contextvars.ContextVar("forming_task", default=None)


class ExecuteTasks(Extension):
    """The Tasks extension for serve's ``execute``: the SDK's extension interface (SEP-2133), its three
    methods and the ``tools/call`` interceptor that turns a long execute into a task."""

    identifier = TASKS

    def __init__(self, mode: CodeMode, *, after: float, keep: float = 3600.0) -> None:
        self.mode, self.after, self.keep = mode, after, keep
        self._tasks: dict[str, Task] = {}
        self._held: set[asyncio.Future[Any]] = set()  # waits for cancelled runs to end

    def methods(self) -> list[MethodBinding]:
        modern = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [
            MethodBinding("tasks/get", TaskRef, self._get, protocol_versions=modern),
            MethodBinding("tasks/update", TaskAnswers, self._update, protocol_versions=modern),
            MethodBinding("tasks/cancel", TaskRef, self._cancel, protocol_versions=modern),
        ]

    async def intercept_tool_call(self, params: CallToolRequestParams, ctx: Any, call_next: Any) -> Any:
        """An ``execute`` of a client that declared the extension runs apart from its request; past
        ``after`` seconds the request is answered with a task that goes on."""
        if params.name != "execute" or not _declared(ctx):
            return await call_next(ctx)
        task = Task(current_caller())
        token = _forming.set(task)  # execute's follow finds it (the job runs in a copy of this context)
        try:
            job = asyncio.ensure_future(call_next(ctx))
        finally:
            _forming.reset(token)
        try:
            await asyncio.wait({job}, timeout=self.after)
        except asyncio.CancelledError:  # the client went away first: the run stops with it
            job.cancel()
            raise
        if job.done():
            return job.result()
        self._prune()
        self._tasks[task.id] = task
        self._watch(task, job)
        return CreatedTask(
            task_id=task.id,
            status=task.status,
            created_at=task.created,
            last_updated_at=task.updated,
            ttl_ms=int(self.keep * 1000),
            poll_interval_ms=POLL_MS,
        )

    async def follow(self, run: Run, follow: Follow) -> Any:
        """Follow ``run`` as ``execute`` does; a run that may become a task is known to it first."""
        task = _forming.get()
        if task is not None:
            task.run, task.follow = run, follow
        return await follow(run)

    # ---- the task's life ----------------------------------------------------------------------------
    def _watch(self, task: Task, job: asyncio.Future[Any]) -> None:
        task.job = job
        job.add_done_callback(lambda done: self._settle(task, done))

    def _settle(self, task: Task, job: asyncio.Future[Any]) -> None:
        """What the job following the run came to: the result, the questions, or the error."""
        task.job = None
        if job.cancelled() or task.cancelling:
            return  # tasks/cancel: the task ends once the run has (see _cancel)
        error = job.exception()
        if isinstance(error, MCPError):
            task.error = error.error
            task.move("failed")
        elif error is not None:
            text = self._mask(task)(f"{type(error).__name__}: {error}")
            task.error = ErrorData(code=INTERNAL_ERROR, message=text)
            task.move("failed")
        elif isinstance(outcome := job.result(), InputRequiredResult):
            task.asked = {
                key: request.model_dump(by_alias=True, mode="json", exclude_none=True)
                for key, request in (outcome.input_requests or {}).items()
            }
            task.answers, task.state = {}, outcome.request_state
            task.move("input_required")
        else:
            result = (
                outcome if isinstance(outcome, CallToolResult) else CallToolResult.model_validate(outcome)
            )
            task.result = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            task.move("completed")

    def _resume(self, task: Task, run: Run) -> None:
        assert task.follow is not None
        task.asked, task.answers, task.state = {}, {}, None
        task.move("working")
        self._watch(task, asyncio.ensure_future(task.follow(run)))

    # ---- the methods --------------------------------------------------------------------------------
    async def _get(self, ctx: Any, params: TaskRef) -> DetailedTask:
        task = self._find(ctx, params.task_id)
        run = task.run
        printed = self._mask(task)(_tail(run.output)) if run is not None and run.output else None
        return DetailedTask(
            task_id=task.id,
            status=task.status,
            status_message=printed,
            created_at=task.created,
            last_updated_at=task.updated,
            ttl_ms=int(self.keep * 1000),
            poll_interval_ms=POLL_MS,
            result=task.result if task.status == "completed" else None,
            error=task.error if task.status == "failed" else None,
            input_requests={key: task.asked[key] for key in task.asked if key not in task.answers}
            if task.status == "input_required"
            else None,
        )

    async def _update(self, ctx: Any, params: TaskAnswers) -> EmptyResult:
        """Keep the answers to the task's questions; once all are answered, the run goes on with them."""
        task = self._find(ctx, params.task_id)
        if task.status != "input_required" or task.state is None:
            return EmptyResult(result_type="complete")
        task.answers.update({k: v for k, v in params.input_responses.items() if k in task.asked})
        if len(task.answers) < len(task.asked):
            return EmptyResult(result_type="complete")  # the rest stay asked
        try:
            run = self.mode.resume(task.state, task.answers, task.caller)
        except MCPKernelError as exc:  # it waited too long: the code went on without the answers
            task.error = ErrorData(code=INVALID_PARAMS, message=f"{type(exc).__name__}: {exc}")
            task.move("failed")
            return EmptyResult(result_type="complete")
        self._resume(task, run)
        return EmptyResult(result_type="complete")

    async def _cancel(self, ctx: Any, params: TaskRef) -> EmptyResult:
        """Stop the cell and its tool calls in flight; the task is ``cancelled`` once the run has ended."""
        task = self._find(ctx, params.task_id)
        if task.status in TERMINAL or task.cancelling:
            return EmptyResult(result_type="complete")
        run = task.run
        if task.job is not None:
            task.job.cancel()  # execute's follow stops the cell as for a client that went away
        elif task.state is not None:  # waiting for answers: nobody follows the run, so stop it here
            parked = self.mode.parked.take(task.state, task.caller)
            if parked is not None:
                if parked.stop is not None:
                    parked.stop()
                parked.answer({})
            task.asked, task.state = {}, None
            task.move("working")  # its questions are withdrawn; it is cancelled once the cell has stopped
        task.cancelling = True  # no outcome is taken any more; tasks/get says working until the run ended
        waiting = asyncio.ensure_future(self._end(task, run))
        self._held.add(waiting)
        waiting.add_done_callback(self._held.discard)
        return EmptyResult(result_type="complete")

    async def _end(self, task: Task, run: Run | None) -> None:
        if run is not None:
            await run.over.wait()
        task.move("cancelled")

    # ---- whose and how long -------------------------------------------------------------------------
    def _find(self, ctx: Any, task_id: str) -> Task:
        require_client_extension(ctx, TASKS)
        self._prune()
        task = self._tasks.get(task_id)
        if task is None or task.caller != current_caller():
            raise MCPError(
                INVALID_PARAMS,
                f"no such task {task_id!r}: it is not one of yours, or it finished more than "
                f"{self.keep:g} s ago and was let go. Run the code again.",
            )
        return task

    def _prune(self) -> None:
        for task in list(self._tasks.values()):
            if task.status == "input_required" and task.run and not task.run.pending and not task.cancelling:
                # Nobody answered in time: the questions were cancelled and the code went on without them.
                self._resume(task, task.run)
        now = time.monotonic()
        for key in [k for k, t in self._tasks.items() if t.ended is not None and now - t.ended > self.keep]:
            del self._tasks[key]
        by_caller: dict[str | None, list[Task]] = {}
        for task in self._tasks.values():
            if task.ended is not None:
                by_caller.setdefault(task.caller, []).append(task)
        for finished in by_caller.values():
            finished.sort(key=lambda t: t.ended or 0.0)
            for task in finished[: max(0, len(finished) - MOST_KEPT)]:
                del self._tasks[task.id]

    def _mask(self, task: Task) -> Any:
        return self.mode.mask(task.run.handle if task.run is not None else None)


def _declared(ctx: Any) -> bool:
    """A 2026-07-28 request whose client declared the Tasks extension (on the request or its session)."""
    if not stateless(ctx.protocol_version):
        return False
    caps = ctx.session.client_capabilities
    return caps is not None and TASKS in (caps.extensions or {})


def _tail(output: str) -> str:
    """The end of the output from a line's start: a value cut in two could slip past the mask.

    >>> _tail("ada@example.org " * 200 + chr(10) + "last line"), _tail("short")
    ('last line', 'short')
    """
    if len(output) <= STATUS_CHARS:
        return output
    _, newline, rest = output[-STATUS_CHARS:].partition("\n")
    return rest if newline else output[-STATUS_CHARS:].partition(" ")[2]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
