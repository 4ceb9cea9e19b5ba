"""A server whose long tools answer with a task (the Tasks extension, SEP-2663) when the client declares it.

``crunch`` works in ``steps`` (its status message says which), ``confirm`` asks a question first (the task is
``input_required`` until ``tasks/update`` answers). A client without the extension gets the plain result.
``tasks_cancelled`` lists the tasks a client cancelled, ``polls`` counts the ``tasks/get`` requests. The
results are spelled out as the extension's wire shapes here, independently of mcp-kernel's models.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, RequestParams

TASKS = "io.modelcontextprotocol/tasks"
POLL_MS = 100
TASKS_BY_ID: dict[str, dict[str, Any]] = {}
CANCELLED: list[str] = []
POLLS: list[str] = []
JOBS: set[asyncio.Task[Any]] = set()


class Ref(RequestParams):
    task_id: str


class Answers(RequestParams):
    task_id: str
    input_responses: dict[str, Any]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": False}


async def crunch_job(task: dict[str, Any], seconds: float, steps: int) -> None:
    for step in range(1, steps + 1):
        await asyncio.sleep(seconds / steps)
        task.update(statusMessage=f"step {step}/{steps}", lastUpdatedAt=now())
    task.update(status="completed", result=text_result(f"crunched in {steps} steps"), lastUpdatedAt=now())


async def confirm_job(task: dict[str, Any]) -> None:
    task["answered"] = asyncio.get_running_loop().create_future()
    task.update(
        status="input_required",
        inputRequests={
            "sure": {
                "method": "elicitation/create",
                "params": {
                    "mode": "form",
                    "message": "Really crunch?",
                    "requestedSchema": {"type": "object", "properties": {"sure": {"type": "boolean"}}},
                },
            }
        },
    )
    answer = await task["answered"]
    task.pop("inputRequests", None)
    said = answer.get("content") or {}
    task.update(status="completed", result=text_result(f"answer: {answer.get('action')} {said}"))


class Tasks(Extension):
    identifier = TASKS

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", Ref, self.get),
            MethodBinding("tasks/update", Answers, self.update),
            MethodBinding("tasks/cancel", Ref, self.cancel),
        ]

    async def intercept_tool_call(self, params: Any, ctx: Any, call_next: Any) -> Any:
        caps = ctx.session.client_capabilities
        if params.name not in ("crunch", "confirm") or caps is None or TASKS not in (caps.extensions or {}):
            return await call_next(ctx)
        task: dict[str, Any] = {
            "taskId": secrets.token_urlsafe(16),
            "status": "working",
            "createdAt": now(),
            "lastUpdatedAt": now(),
            "ttlMs": 600_000,
            "pollIntervalMs": POLL_MS,
        }
        TASKS_BY_ID[task["taskId"]] = task
        args = params.arguments or {}
        work = (
            crunch_job(task, float(args.get("seconds", 1)), int(args.get("steps", 1)))
            if params.name == "crunch"
            else confirm_job(task)
        )
        job = asyncio.ensure_future(work)
        JOBS.add(job)
        task["job"] = job
        return {"resultType": "task", **shown(task)}

    async def get(self, ctx: Any, params: Ref) -> dict[str, Any]:
        POLLS.append(params.task_id)
        return {"resultType": "complete", **shown(find(params.task_id))}

    async def update(self, ctx: Any, params: Answers) -> dict[str, Any]:
        task = find(params.task_id)
        if "sure" in params.input_responses and not task["answered"].done():
            task["answered"].set_result(params.input_responses["sure"])
        return {"resultType": "complete"}

    async def cancel(self, ctx: Any, params: Ref) -> dict[str, Any]:
        task = find(params.task_id)
        if task["status"] not in ("completed", "failed", "cancelled"):
            task["job"].cancel()
            task.update(status="cancelled", lastUpdatedAt=now())
            CANCELLED.append(params.task_id)
        return {"resultType": "complete"}


def find(task_id: str) -> dict[str, Any]:
    if task_id not in TASKS_BY_ID:
        raise MCPError(INVALID_PARAMS, f"no task {task_id!r}")
    return TASKS_BY_ID[task_id]


def shown(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k not in ("job", "answered")}


server = MCPServer(name="tasker", extensions=[Tasks()])


@server.tool(structured_output=False)
async def crunch(seconds: float = 1.0, steps: int = 1) -> str:
    """Work for `seconds` in `steps` (as a task when the client can await one)."""
    await asyncio.sleep(seconds)
    return f"crunched in {steps} steps, in one request"


@server.tool(structured_output=False)
def confirm() -> str:
    """Ask whether to go on (as a task), then say the answer."""
    return "no task, no question"


@server.tool()
def tasks_cancelled() -> list[str]:
    """The ids of the tasks a client cancelled, oldest first."""
    return list(CANCELLED)


@server.tool()
def polls() -> int:
    """How many tasks/get requests came."""
    return len(POLLS)


if __name__ == "__main__":
    server.run("stdio")
