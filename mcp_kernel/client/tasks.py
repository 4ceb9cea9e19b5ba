"""The Tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663, 2026-07-28): its wire shapes, and a tool
call that a server answers with a task, awaited as if the call had answered.

A server that decides a call will take long answers ``tools/call`` with a task (``resultType: "task"``) instead
of the result; the client polls ``tasks/get`` (as often as the task's ``pollIntervalMs`` says) until it is
``completed`` (its ``result`` inlined), ``failed`` or ``cancelled``; a task that is ``input_required`` gets its
questions answered with ``tasks/update``; ``tasks/cancel`` stops it. :class:`AwaitTasks` is the SDK's client
extension that does this inside ``Client.call_tool``: each poll's status message is the call's progress
(:func:`reporting`), and a call cancelled while it waits (an interrupt, a cell stopped, its timeout) cancels
the task on the server.

>>> GetTask(params=TaskRef(task_id="t1")).model_dump(by_alias=True, exclude_none=True)
{'method': 'tasks/get', 'params': {'taskId': 't1'}}
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any, Literal

import anyio
from mcp.client.context import ClientRequestContext
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    CallToolResult,
    EmptyResult,
    ErrorData,
    InputRequest,
    InputResponses,
    Request,
    RequestParams,
    Result,
    TaskStatus,
)

__all__ = [
    "TASKS",
    "TERMINAL",
    "AwaitTasks",
    "CancelTask",
    "CreatedTask",
    "DetailedTask",
    "GetTask",
    "TaskAnswers",
    "TaskRef",
    "TaskState",
    "UpdateTask",
    "reporting",
]

TASKS = "io.modelcontextprotocol/tasks"
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
POLL_S = (0.05, 1.0, 30.0)  # the shortest, default and longest wait between polls (hints clamped)
CANCEL_WAIT_S = 2.0  # how long a cancelled wait still tries to tell the server (tasks/cancel)

ProgressReport = Callable[[float, float | None, str | None], None]


class TaskRef(RequestParams):
    """The params of ``tasks/get`` and ``tasks/cancel``."""

    task_id: str


class TaskAnswers(RequestParams):
    """The params of ``tasks/update``: answers to the task's ``inputRequests``, by their keys."""

    task_id: str
    input_responses: InputResponses


class GetTask(Request[TaskRef, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskRef
    name_param = "taskId"  # SEP-2663: tasks/* name their task in the Mcp-Name header


class UpdateTask(Request[TaskAnswers, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    params: TaskAnswers
    name_param = "taskId"


class CancelTask(Request[TaskRef, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskRef
    name_param = "taskId"


class TaskState(Result):
    """What every task result says: the task, its status and the server's hints (milliseconds)."""

    task_id: str
    status: TaskStatus
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class CreatedTask(TaskState):
    """A ``tools/call`` answered with a task (flat: the task's fields beside ``resultType``)."""

    result_type: Literal["task"] = "task"


class DetailedTask(TaskState):
    """``tasks/get``'s answer: the result once ``completed``, the error once ``failed``, the questions while
    ``input_required``."""

    result_type: Literal["complete"] = "complete"
    result: dict[str, Any] | None = None
    error: ErrorData | None = None
    input_requests: dict[str, InputRequest] | None = None


_report: contextvars.ContextVar[ProgressReport | None] = contextvars.ContextVar("task_report", default=None)


@contextlib.contextmanager
def reporting(progress: ProgressReport | None) -> Iterator[None]:
    """Within the block, a task this task's call waits for reports each poll to ``progress``."""
    token = _report.set(progress)
    try:
        yield
    finally:
        _report.reset(token)


class AwaitTasks(ClientExtension):
    """The SDK client extension that declares the Tasks extension and awaits the tasks calls answer with."""

    identifier = TASKS

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=await_task)]


async def await_task(created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
    """Poll the task to its end; answer its questions; cancel it on the server if this wait is cancelled."""
    session, report, polls = ctx.session, _report.get(), 0
    task: TaskState = created
    said: str | None = None
    try:
        while True:
            await anyio.sleep(_interval(task.poll_interval_ms))
            got = await session.send_request(
                GetTask(params=TaskRef(task_id=created.task_id)),
                DetailedTask,
                request_read_timeout_seconds=ctx.read_timeout_seconds,
            )
            task, polls = got, polls + 1
            if report is not None and (got.status_message or got.status) != said:  # each news once
                said = got.status_message or got.status
                report(polls, None, said)
            if got.status in TERMINAL:
                return _outcome(got, ctx.tool_name)
            if got.status == "input_required" and got.input_requests:
                answers = await _answer(ctx, got.input_requests)
                await session.send_request(
                    UpdateTask(params=TaskAnswers(task_id=created.task_id, input_responses=answers)),
                    EmptyResult,
                    request_read_timeout_seconds=ctx.read_timeout_seconds,
                )
    except asyncio.CancelledError:
        # Told at once, and waited for a little: the server stops the work nobody waits for any more.
        telling = asyncio.ensure_future(
            session.send_request(CancelTask(params=TaskRef(task_id=created.task_id)), EmptyResult)
        )
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(telling), CANCEL_WAIT_S)
        raise


def _interval(hint_ms: int | None) -> float:
    shortest, default, longest = POLL_S
    return default if hint_ms is None else min(max(hint_ms / 1000, shortest), longest)


async def _answer(ctx: ClaimContext, requests: dict[str, InputRequest]) -> InputResponses:
    """The task's questions, asked through the client's own callbacks (as for ``input_required``)."""
    answers: InputResponses = {}
    for key, request in requests.items():
        context = ClientRequestContext(session=ctx.session, request_id=key, meta=None)
        answer = await ctx.session.dispatch_input_request(context, request)
        if isinstance(answer, ErrorData):
            raise MCPError.from_error_data(answer)
        answers[key] = answer
    return answers


def _outcome(task: DetailedTask, tool: str) -> CallToolResult:
    if task.status == "completed" and task.result is not None:
        return CallToolResult.model_validate(task.result)
    if task.status == "failed" and task.error is not None:
        raise MCPError.from_error_data(task.error)
    raise MCPError(
        INTERNAL_ERROR,
        f"the server's task for {tool!r} ended {task.status}"
        + (f": {task.status_message}" if task.status_message else " without a result"),
    )
