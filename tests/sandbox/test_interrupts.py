"""Stopping cells at any moment: interrupts, time limits covering tool calls, output caps enforced by the host.

Every case runs against a real wasmtime sandbox and, where a tool call is in flight, a real MCP server that
records the cancellations it receives. After each stop the session (or a rebuilt one) runs the next cell.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from realservers import our_server

from mcp_kernel.errors import Interrupted, SandboxTimeout
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session(timeout=30) as s:
        s.add_server(our_server("slow"))
        s.generate("slow")
        s.execute("from servers.slow import sleep", s.policy(["slow"]))
        yield s


def cancelled_tags(session: Session) -> list[str]:
    return [c["tag"] for c in session.call("slow", "cancellations").value["result"]]


class Fired(threading.Thread):
    """A thread that runs an action once a call started; ``when`` says when it did (None: not yet), for the
    failure message of a test whose cell ended anyway."""

    when: float | None = None
    started = 0.0

    def __str__(self) -> str:
        fired = "never" if self.when is None else f"{self.when - self.started:.2f} s after the cell was sent"
        return f"the interrupt fired {fired}"


def once_started(session: Session, tag: str, action: Callable[[], object]) -> Fired:
    """Run ``action`` (an interrupt) once the slow server has started the call tagged ``tag``: at the point
    the test means, however late a loaded machine gets there."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 60  # only against a hang: the cell then fails on its own
        while tag not in session.call("slow", "calls_started").value["result"]:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        thread.when = time.monotonic()
        action()

    thread = Fired(target=wait_then_act, daemon=True)
    thread.started = time.monotonic()
    thread.start()
    return thread


def on_output(marker: str, action: Callable[[], object]) -> Callable[[str, str], None]:
    """An output callback that runs ``action`` (in its own thread) the first time ``marker`` is printed."""
    fired = threading.Event()

    def seen(stream: str, text: str) -> None:
        if marker in text and not fired.is_set():
            fired.set()
            threading.Thread(target=action, daemon=True).start()

    return seen


def test_interrupting_a_tool_call_cancels_it_on_the_server_and_keeps_variables(session: Session) -> None:
    session.execute("kept = 'yes'")
    once_started(session, "interrupt-1", session.interrupt)
    with pytest.raises(Interrupted, match="tool calls in flight were cancelled") as caught:
        session.execute("sleep(seconds=10, tag='interrupt-1')", session.policy(["slow"]))
    assert "Variables are kept" in str(caught.value)
    assert "interrupt-1" in cancelled_tags(session), "the server saw notifications/cancelled"
    assert session.execute("kept").value == "yes"
    assert (
        session.execute("sleep(seconds=0.01, tag='after')", session.policy(["slow"])).value["slept"] == 0.01
    )


def test_keyboard_interrupt_in_the_waiting_thread_becomes_one_readable_error(session: Session) -> None:
    # What a kernel interrupt does: SIGINT lands as KeyboardInterrupt in the main thread while it waits.
    fired = once_started(session, "sigint", _thread.interrupt_main)
    with pytest.raises(Interrupted) as caught:
        ended = session.execute("sleep(seconds=10, tag='sigint')", session.policy(["slow"]))
        # Seen once in ~1,700 tests beside two CPU hogs, never alone: say what happened if it comes back.
        pytest.fail(
            f"the cell ended ({ended.value_repr}); {fired}, handler {signal.getsignal(signal.SIGINT)}"
        )
    assert len(str(caught.value).splitlines()) == 1
    assert "sigint" in cancelled_tags(session), "the call was cancelled, not waited for"
    assert session.execute("1 + 1").value == 2


def test_a_cell_that_swallows_the_interrupt_is_trapped_anyway(session: Session) -> None:
    code = (
        "while True:\n"
        "    try:\n"
        "        sleep(seconds=10, tag='swallow')\n"
        "    except BaseException:\n"
        "        pass\n"
    )
    once_started(session, "swallow", session.interrupt)
    with pytest.raises(Interrupted, match="restarted; the next cell gets back the variables"):
        session.execute(code, session.policy(["slow"]))  # trapped: not its 30 s time limit
    after = session.execute("'fresh', kept", session.policy(["slow"]))
    assert after.value == ["fresh", "yes"] and after.session_reset, "the last good cell's variables came back"
    assert "kept" in after.note and "sleep" in after.note


def test_interrupting_a_busy_loop_keeps_the_last_good_cells_variables(session: Session) -> None:
    session.execute("x = 42")
    with pytest.raises(Interrupted) as caught:
        session.execute(
            "x = 'changed by the stopped cell'\nprint('looping', flush=True)\nwhile True: pass",
            session.policy(timeout=60),
            on_output=on_output("looping", session.interrupt),
        )
    assert caught.value.result.stopped == "interrupt"  # not its 60 s time limit
    after = session.execute("x", session.policy(["slow"]))
    assert after.value == 42 and after.session_reset and "x" in after.note
    assert session.execute("sleep(seconds=0.01, tag='back')", session.policy(["slow"])).value["slept"] == 0.01


def test_interrupting_a_printing_loop_raises_keyboard_interrupt_inside_the_cell(session: Session) -> None:
    # Each output write reaches the host, which answers with the stop: Python's KeyboardInterrupt, not a trap.
    with pytest.raises(Interrupted, match="Variables are kept") as caught:
        session.execute(
            "seen = []\ntry:\n    while True:\n        print('.')\n"
            "except Exception:\n    seen.append('swallowed')\n"
            "except KeyboardInterrupt:\n    seen.append('KeyboardInterrupt')\n    raise",
            session.policy(timeout=60),
            on_output=on_output(".", session.interrupt),
        )
    assert caught.value.result.error.type == "KeyboardInterrupt"
    after = session.execute("seen")
    assert after.value == ["KeyboardInterrupt"] and not after.session_reset


def test_the_time_limit_covers_tool_calls(session: Session) -> None:
    session.execute("before = 1")
    with pytest.raises(SandboxTimeout, match="1 s time limit"):
        session.execute("sleep(seconds=15, tag='deadline')", session.policy(["slow"], timeout=1))
    assert "deadline" in cancelled_tags(session), "the limit cancelled the call, not waited for it"
    assert session.execute("before").value == 1, "a call cut by the deadline unwinds; variables stay"


def test_a_busy_loop_past_its_time_limit_keeps_the_last_good_cells_variables(session: Session) -> None:
    session.execute("before = 'kept'")
    with pytest.raises(SandboxTimeout, match=r"next cell gets back the variables.*before") as caught:
        session.execute("while True: pass", session.policy(timeout=1))
    assert caught.value.result.stopped == "timeout" and caught.value.result.duration_ms >= 1000
    after = session.execute("before", session.policy(["slow"]))
    assert after.value == "kept" and after.session_reset


def test_the_session_settings_reach_the_sandbox() -> None:
    from mcp_kernel.settings import MCPKernel

    with Session(settings=MCPKernel(cell_timeout=1.5)) as s:
        assert s.policy().timeout_s == 1.5
        with pytest.raises(SandboxTimeout, match=r"1\.5 s"):
            s.execute("while True: pass")
