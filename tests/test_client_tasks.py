"""A server that answers a tool call with a task (the Tasks extension, 2026-07-28; tests/servers/tasker.py):
mcp-kernel awaits it as the call's result — polling as often as the server says, each status as progress,
its question answered, the task cancelled on the server when the wait stops — from a direct call, a sandbox
cell, the CLI and ``%mcp call``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import SERVERS, our_server

from mcp_kernel.errors import Interrupted, SandboxTimeout
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session(timeout=30) as s:
        s.add_server(our_server("tasker"))
        s.generate("tasker")
        yield s


def cancelled(session: Session) -> list[str]:
    return session.call("tasker", "tasks_cancelled").value["result"]


def test_a_task_is_awaited_at_the_servers_pace_with_each_status_as_progress(session: Session) -> None:
    news: list[str | None] = []
    polls = session.call("tasker", "polls").value["result"]
    result = session.call(
        "tasker", "crunch", {"seconds": 1.2, "steps": 3}, progress=lambda v, t, m: news.append(m)
    )
    assert session.connection("tasker").info.protocol_version == "2026-07-28"
    assert result.text == "crunched in 3 steps" and not result.is_error, (
        "the task's result, not the request's"
    )
    assert [m for m in news if m and m.startswith("step")] == ["step 1/3", "step 2/3", "step 3/3"]
    assert len(news) == len(set(news)), "each status once, however often it was polled"
    # pollIntervalMs 100 over 1.2 s: several polls, where the default of one a second would make one or two.
    assert session.call("tasker", "polls").value["result"] - polls >= 5


def test_a_tasks_question_is_answered_and_the_task_goes_on(session: Session) -> None:
    """The task is input_required; with nobody attached to answer, the question is declined (tasks/update)
    and the task ends with what it heard."""
    assert session.call("tasker", "confirm").text == "answer: decline {}"


def test_a_cell_that_stops_while_it_awaits_a_task_cancels_the_task_on_the_server(session: Session) -> None:
    before = len(cancelled(session))
    with pytest.raises(SandboxTimeout):
        session.execute(
            "from servers.tasker import crunch\ncrunch(seconds=60, steps=60)",
            session.policy(["tasker"], timeout=3),
        )
    deadline = time.monotonic() + 10  # tasks/cancel is sent as the wait stops; its answer may trail the cell
    while len(cancelled(session)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cancelled(session)) == before + 1
    assert (
        "crunched" in session.execute("from servers.tasker import crunch\nprint(crunch(seconds=0.3))").stdout
    )


def test_interrupting_a_cell_that_awaits_a_task_cancels_the_task_on_the_server(session: Session) -> None:
    before, polls = len(cancelled(session)), session.call("tasker", "polls").value["result"]

    def interrupt_once_polling() -> None:
        deadline = time.monotonic() + 60  # only against a hang: the cell then fails on its own
        while session.call("tasker", "polls").value["result"] == polls and time.monotonic() < deadline:
            time.sleep(0.05)
        session.interrupt()

    threading.Thread(target=interrupt_once_polling, daemon=True).start()
    with pytest.raises(Interrupted):
        session.execute(
            "from servers.tasker import crunch\ncrunch(seconds=60, steps=60)", session.policy(["tasker"])
        )
    deadline = time.monotonic() + 10
    while len(cancelled(session)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cancelled(session)) == before + 1


def test_the_cli_awaits_a_task(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {"mcpServers": {"tasker": {"command": sys.executable, "args": [str(SERVERS / "tasker.py")]}}}
        )
    )
    arguments = '{"seconds": 0.5, "steps": 2}'
    done = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "call", "tasker", "crunch", arguments, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "crunched in 2 steps" in done.stdout and "in one request" not in done.stdout


def test_mcp_call_in_a_notebook_awaits_a_task() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mcp_kernel")
    try:
        shell.run_line_magic("mcp", f"add tasker_nb -- {sys.executable} {SERVERS / 'tasker.py'}")
        result = shell.run_line_magic("mcp", """call tasker_nb crunch '{"seconds": 0.5, "steps": 2}'""")
        assert not result.is_error and result.text == "crunched in 2 steps"
        shell.run_line_magic("mcp", "remove tasker_nb")
    finally:
        shell.run_line_magic("unload_ext", "mcp_kernel")
