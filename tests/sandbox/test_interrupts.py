"""Stopping cells at any moment: interrupts, time limits covering tool calls, output caps enforced by the host.

Every case runs against a real wasmtime sandbox and, where a tool call is in flight, a real MCP server that
records the cancellations it receives. After each stop the session (or a rebuilt one) runs the next cell.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterator

import pytest
from realservers import our_server

from mcp_kernel.errors import Interrupted, SandboxTimeout
from mcp_kernel.session import Session


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session(timeout=30) as s:
        s.add_server(our_server("slow"))
        s.generate("slow")
        s.execute("from servers.slow import sleep", s.policy(["slow"]))
        yield s


def cancelled_tags(session: Session) -> list[str]:
    return [c["tag"] for c in session.call("slow", "cancellations").value["result"]]


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_interrupting_a_tool_call_cancels_it_on_the_server_and_keeps_variables(session: Session) -> None:
    session.execute("kept = 'yes'")
    later(0.5, session.interrupt)
    started = time.monotonic()
    with pytest.raises(Interrupted, match="tool calls in flight were cancelled") as caught:
        session.execute("sleep(seconds=10, tag='interrupt-1')", session.policy(["slow"]))
    assert time.monotonic() - started < 2.5
    assert "Variables are kept" in str(caught.value)
    assert "interrupt-1" in cancelled_tags(session), "the server saw notifications/cancelled"
    assert session.execute("kept").value == "yes"
    assert session.execute("sleep(seconds=0.01, tag='after')", session.policy(["slow"])).value["slept"] == 0.01


def test_keyboard_interrupt_in_the_waiting_thread_becomes_one_readable_error(session: Session) -> None:
    # What a kernel interrupt does: SIGINT lands as KeyboardInterrupt in the main thread while it waits.
    later(0.5, _thread.interrupt_main)
    started = time.monotonic()
    with pytest.raises(Interrupted) as caught:
        session.execute("sleep(seconds=10, tag='sigint')", session.policy(["slow"]))
    assert time.monotonic() - started < 2.5
    assert len(str(caught.value).splitlines()) == 1
    assert "sigint" in cancelled_tags(session)
    assert session.execute("1 + 1").value == 2


def test_a_cell_that_swallows_the_interrupt_is_trapped_anyway(session: Session) -> None:
    code = ("while True:\n"
            "    try:\n"
            "        sleep(seconds=10, tag='swallow')\n"
            "    except BaseException:\n"
            "        pass\n")
    later(0.5, session.interrupt)
    started = time.monotonic()
    with pytest.raises(Interrupted, match="variables were lost"):
        session.execute(code, session.policy(["slow"]))
    assert time.monotonic() - started < 2.5
    after = session.execute("'fresh'")
    assert after.value == "fresh" and after.session_reset
    session.execute("from servers.slow import sleep", session.policy(["slow"]))


def test_interrupting_a_busy_loop(session: Session) -> None:
    later(0.5, session.interrupt)
    started = time.monotonic()
    with pytest.raises(Interrupted):
        session.execute("while True: pass", session.policy(timeout=60))
    assert time.monotonic() - started < 2.5
    assert session.execute("'alive'").value == "alive"
    session.execute("from servers.slow import sleep", session.policy(["slow"]))


def test_the_time_limit_covers_tool_calls(session: Session) -> None:
    session.execute("before = 1")
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match="1 s time limit"):
        session.execute("sleep(seconds=15, tag='deadline')", session.policy(["slow"], timeout=1))
    assert time.monotonic() - started < 3
    assert "deadline" in cancelled_tags(session)
    assert session.execute("before").value == 1, "a call cut by the deadline unwinds; variables stay"


def test_the_session_settings_reach_the_sandbox() -> None:
    from mcp_kernel.config import MCPKernel

    with Session(settings=MCPKernel(cell_timeout=1.5)) as s:
        assert s.policy().timeout_s == 1.5
        with pytest.raises(SandboxTimeout, match="1.5 s"):
            s.execute("while True: pass")
