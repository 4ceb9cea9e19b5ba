"""Long executes as tasks (the Tasks extension, 2026-07-28) on a real `mcp-kernel serve --http`, driven by the
SDK's client declaring the extension: a task tells the output so far (masked), its questions are answered with
tasks/update, tasks/cancel stops the cell and its upstream call, and a task belongs to its caller only."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.types import EmptyResult
from realservers import SERVERS, free_port, running
from test_serve import serve_argv

from mcp_kernel.client.tasks import (
    TERMINAL,
    AwaitTasks,
    CancelTask,
    CreatedTask,
    DetailedTask,
    GetTask,
    TaskRef,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

ALICE, BOB = "alice-" + "a1" * 20, "bob-" + "b2" * 20
AFTER_S = 0.5  # serve_task_after here: an execute longer than this becomes a task


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """serve --http --tokenize-pii for alice and bob over the slow server (which notes each call as it starts)
    and the asker (which asks for a colour)."""
    place = tmp_path_factory.mktemp("tasks")
    started = place / "started"
    started.mkdir()
    servers = {
        "slow": {"command": sys.executable, "args": [str(SERVERS / "slow.py"), str(started)]},
        "asker": {"command": sys.executable, "args": [str(SERVERS / "asker.py")]},
    }
    (place / "mcp.json").write_text(json.dumps({"mcpServers": servers}))
    (place / "callers.json").write_text(json.dumps({"alice": ALICE, "bob": BOB}))
    (place / "settings").mkdir()
    (place / "settings" / "config.toml").write_text(f"[MCPKernel]\nserve_task_after = {AFTER_S}\n")
    env = {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(place / "settings")}
    port = free_port()
    where = {"config": str(place / "mcp.json"), "env": env}
    argv = serve_argv(where, "--http", f"127.0.0.1:{port}", "--callers", str(place / "callers.json"))
    with running([*argv, "--tokenize-pii"], port, env=env, timeout=120):
        yield {"url": f"http://127.0.0.1:{port}/mcp", "started": started}


@asynccontextmanager
async def agent(url: str, token: str, *, tasks: bool = True, **options: Any) -> AsyncIterator[Any]:
    """The SDK's client for one caller, declaring the Tasks extension (or not), 60 s per request."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    @asynccontextmanager
    async def transport() -> AsyncIterator[Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http,
            streamable_http_client(url, http_client=http) as streams,
        ):
            yield streams[0], streams[1]

    extensions = [AwaitTasks()] if tasks else None
    async with Client(transport(), extensions=extensions, read_timeout_seconds=60, **options) as client:
        assert client.protocol_version == "2026-07-28"
        yield client


async def start(client: Any, code: str) -> CreatedTask:
    """An execute answered with a task (it runs past serve_task_after)."""
    created = await client.session.call_tool("execute", {"code": code}, allow_claimed=True)
    assert isinstance(created, CreatedTask), created
    return created


async def get(client: Any, task_id: str) -> DetailedTask:
    return await client.session.send_request(GetTask(params=TaskRef(task_id=task_id)), DetailedTask)


async def until(client: Any, task_id: str, done: Any, within: float = 60) -> DetailedTask:
    """Poll tasks/get until ``done(task)``."""
    with anyio.fail_after(within):
        while not done(task := await get(client, task_id)):
            await anyio.sleep(0.1)
    return task


def text(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


async def test_a_long_execute_is_a_task_whose_status_shows_the_output_so_far_masked(
    endpoint: dict[str, Any],
) -> None:
    """Past the threshold the agent holds a task, not a request; tasks/get shows what the cell printed so far
    (its e-mail address as the same placeholder the result uses) while it runs, then the result."""
    async with agent(endpoint["url"], ALICE) as client:
        created = await start(
            client,
            "import time\nprint('first, for ada@example.org')\ntime.sleep(2)\nprint('second')\n'done'",
        )
        assert created.ttl_ms and created.ttl_ms > 0 and created.poll_interval_ms
        running_ = await until(client, created.task_id, lambda t: "first" in (t.status_message or ""))
        assert running_.status == "working" and running_.result is None, running_
        assert "ada@example.org" not in running_.status_message and "second" not in running_.status_message
        placeholder = running_.status_message.split("for ")[1].strip()
        finished = await until(client, created.task_id, lambda t: t.status == "completed")
        assert finished.result is not None
        said = text(finished.result)
        assert "second" in said and "'done'" in said and placeholder in said, said
        assert "ada@example.org" not in json.dumps(finished.model_dump(by_alias=True)), "masked everywhere"
        assert finished.result["structuredContent"]["session"]


async def test_a_short_execute_and_a_client_without_the_extension_get_the_result(
    endpoint: dict[str, Any],
) -> None:
    """Under the threshold the call answers as always; a client that did not declare the extension gets the
    result of a long execute on the request, and tasks/* refused as needing the extension (-32021)."""
    from mcp.shared.exceptions import MCPError

    async with agent(endpoint["url"], ALICE) as client:
        quick = await client.session.call_tool("execute", {"code": "6 * 7"}, allow_claimed=True)
        assert not isinstance(quick, CreatedTask) and "42" in quick.content[0].text
    async with agent(endpoint["url"], ALICE, tasks=False) as plain:
        slow = await plain.call_tool("execute", {"code": f"import time\ntime.sleep({AFTER_S * 3})\n'held'"})
        assert "'held'" in slow.content[0].text
        with pytest.raises(MCPError) as refused:
            await get(plain, "anything")
        assert refused.value.error.code == -32021


async def test_another_caller_can_neither_see_nor_cancel_a_task(endpoint: dict[str, Any]) -> None:
    """Bob, holding alice's real task id, hears what an unknown id gets; alice's task goes on to its end."""
    from mcp.shared.exceptions import MCPError

    async with agent(endpoint["url"], ALICE) as alice, agent(endpoint["url"], BOB) as bob:
        created = await start(alice, "import time\nprint('alice-secret')\ntime.sleep(1.5)\n'alice-done'")
        await until(alice, created.task_id, lambda t: "alice-secret" in (t.status_message or ""))
        answers = []
        for ask in (
            get(bob, created.task_id),
            bob.session.send_request(CancelTask(params=TaskRef(task_id=created.task_id)), EmptyResult),
            get(bob, "never-given"),
        ):
            with pytest.raises(MCPError) as refused:
                await ask
            answers.append(refused.value.error)
        assert all(a.code == -32602 and "alice" not in a.message for a in answers), answers
        assert (
            answers[0].message
            == answers[1].message
            == answers[2].message.replace("never-given", created.task_id)
        )
        finished = await until(alice, created.task_id, lambda t: t.status != "working")
        assert finished.status == "completed" and "alice-done" in text(finished.result or {})


async def test_cancelling_a_task_stops_the_cell_and_its_upstream_call(endpoint: dict[str, Any]) -> None:
    """tasks/cancel while the code waits on the slow server: the task is cancelled once the cell has stopped,
    within 2 s of the cancel (serve's own timestamp of the end), and the slow server heard its call cancelled."""
    started: Path = endpoint["started"]
    async with agent(endpoint["url"], ALICE) as client:
        created = await start(client, "from servers.slow import sleep\nsleep(seconds=60, tag='cancel-me')")
        with anyio.fail_after(30):
            while not (started / "cancel-me").exists():  # the upstream call is in flight
                await anyio.sleep(0.05)
        asked = datetime.now().astimezone()
        await client.session.send_request(CancelTask(params=TaskRef(task_id=created.task_id)), EmptyResult)
        ended = await until(client, created.task_id, lambda t: t.status != "working", within=10)
        assert ended.status == "cancelled", ended
        stopped = datetime.fromisoformat(ended.last_updated_at.replace("Z", "+00:00"))
        assert (stopped - asked).total_seconds() < 2, (asked, stopped)
        heard = await client.call_tool(
            "execute", {"code": "from servers.slow import cancellations\nprint(cancellations())"}
        )
        assert "cancel-me" in heard.content[0].text, heard


async def test_an_answer_given_with_tasks_update_reaches_the_question_of_a_tool_call(
    endpoint: dict[str, Any],
) -> None:
    """The code's server asks (after the execute became a task): the task is input_required with the
    question, the SDK's client answers it through its elicitation callback and tasks/update, and the tool
    call gets the answer."""
    from mcp.types import ElicitResult

    questions: list[str] = []

    async def elicit(ctx: Any, params: Any) -> ElicitResult:
        questions.append(params.message)
        return ElicitResult(action="accept", content={"colour": "green", "shade": 0.25})

    async with agent(endpoint["url"], ALICE, elicitation_callback=elicit) as client:
        created = await start(
            client, "import time\ntime.sleep(1)\nfrom servers.asker import paint\nprint(paint())"
        )
        asking = await until(client, created.task_id, lambda t: t.status == "input_required")
        assert asking.input_requests and len(asking.input_requests) == 1, asking
        # The SDK's client (with mcp-kernel's extension) answers and awaits the rest, as Client.call_tool does.
        from mcp.client.extension import ClaimContext

        from mcp_kernel.client.tasks import await_task

        result = await asyncio.wait_for(
            await_task(
                created, ClaimContext(session=client.session, tool_name="execute", read_timeout_seconds=60)
            ),
            60,
        )
    assert questions == ["Which colour?"]
    assert "green" in result.content[0].text and "0.25" in result.content[0].text, result
    assert not result.is_error


async def test_cancelling_a_task_that_waits_for_an_answer_stops_its_cell(endpoint: dict[str, Any]) -> None:
    """A task input_required has no request following its run: tasks/cancel stops the cell itself, the task
    ends cancelled (never completed with the question declined), and the session runs the next execute."""

    async def never(ctx: Any, params: Any) -> Any:  # declares elicitation; the test cancels instead
        raise AssertionError("the question is answered by no one here")

    async with agent(endpoint["url"], ALICE, elicitation_callback=never) as client:
        created = await start(
            client,
            "import time\ntime.sleep(1)\nfrom servers.asker import paint\nprint(paint())\nprint('went on')",
        )
        await until(client, created.task_id, lambda t: t.status == "input_required")
        await client.session.send_request(CancelTask(params=TaskRef(task_id=created.task_id)), EmptyResult)
        ended = await until(client, created.task_id, lambda t: t.status in TERMINAL, within=10)
        assert ended.status == "cancelled" and ended.result is None and ended.input_requests is None, ended
        assert "went on" not in (ended.status_message or "")
        again = await client.call_tool("execute", {"code": "'next'"})
        assert "'next'" in again.content[0].text
