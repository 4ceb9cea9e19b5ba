"""asyncio inside the sandbox: an event loop without sockets whose I/O is the host's tool calls.

Gathered calls run concurrently on the host (bounded per server), each through the bridge's checks;
top-level await works as in IPython; an interrupt cancels every call in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from realservers import our_server

from mcp_kernel.errors import Interrupted
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session(timeout=30) as s:
        s.add_server(our_server("slow"))
        s.generate("slow")
        s.execute(
            "import asyncio\nfrom _mcp_runtime import call_tool_async, ToolCallError",
            s.policy(["slow", "demo"]),
        )
        yield s


def run(session: Session, code: str, **limits):
    result = session.execute(code, session.policy(["slow", "demo"], cache=False, **limits))
    assert result.error is None, result.error
    return result


def test_asyncio_run_and_async_functions(session: Session) -> None:
    result = run(
        session,
        "async def one(tag):\n"
        "    return (await call_tool_async('slow', 'sleep', {'seconds': 0.01, 'tag': tag}))['tag']\n"
        "asyncio.run(one('a'))",
    )
    assert result.value == "a"


def test_top_level_await(session: Session) -> None:
    result = run(
        session,
        "await asyncio.sleep(0.01)\n"
        "x = await call_tool_async('slow', 'sleep', {'seconds': 0.01, 'tag': 'top'})\n"
        "x['tag']",
    )
    assert result.value == "top"
    assert (
        run(session, "await call_tool_async('slow', 'sleep', {'seconds': 0, 'tag': 'last'})").value["tag"]
        == "last"
    )


def test_gather_returns_results_in_order_and_runs_calls_together(session: Session) -> None:
    result = run(
        session,
        "res = await asyncio.gather(*[call_tool_async('slow', 'sleep', "
        "{'seconds': 0.2, 'tag': str(i)}) for i in range(10)])\n[r['tag'] for r in res]",
    )
    assert result.value == [str(i) for i in range(10)]
    assert len(result.calls) == 10 and all(c.error is None for c in result.calls)
    overlapping = sum(c.duration_ms for c in result.calls) / result.duration_ms
    assert overlapping > 2, "the calls were in flight at the same time, not one after another"


def test_a_gather_over_more_calls_than_may_fly_at_once_runs_them_all(session: Session) -> None:
    from mcp_kernel.sandbox.session import MAX_CALLS_IN_FLIGHT

    n = MAX_CALLS_IN_FLIGHT + 44  # the guest queues what the host would refuse, and starts it as calls end
    unlimited = session.policy(["slow"], cache=False).model_copy(update={"rate_limit": None})
    result = session.execute(
        f"res = await asyncio.gather(*[call_tool_async('slow', 'sleep', "
        f"{{'seconds': 0.001, 'tag': str(i)}}) for i in range({n})])\n[r['tag'] for r in res]",
        unlimited,
    )
    assert result.error is None, result.error
    assert result.value == [str(i) for i in range(n)]
    assert len(result.calls) == n and all(c.error is None for c in result.calls)


def test_an_error_in_one_gathered_call_is_that_calls_error(session: Session) -> None:
    result = run(
        session,
        "out = await asyncio.gather(call_tool_async('slow', 'sleep', {'seconds': 0.01}),\n"
        "    call_tool_async('slow', 'no_such_tool', {}),\n"
        "    call_tool_async('files', 'read', {}), return_exceptions=True)\n"
        "[type(o).__name__ if isinstance(o, BaseException) else 'ok' for o in out], str(out[2])",
    )
    kinds, refused = result.value
    assert kinds == ["ok", "ToolCallError", "ToolCallError"]
    assert "not allowed in this cell" in refused, "the allowlist applies to each concurrent call"


def _interrupt_gathered_calls(session: Session, tags: set[str]) -> None:
    def interrupt_once_all_started() -> None:  # not at a fixed time: on a loaded machine they start later
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not tags <= set(
            session.call("slow", "calls_started").value["result"]
        ):
            time.sleep(0.05)
        session.interrupt()

    threading.Thread(target=interrupt_once_all_started, daemon=True).start()
    code = ", ".join(
        f"call_tool_async('slow', 'sleep', {{'seconds': 30, 'tag': '{t}'}})" for t in sorted(tags)
    )
    with pytest.raises(Interrupted):
        session.execute(f"await asyncio.gather({code})", session.policy(["slow"]))


def test_interrupting_gathered_calls_ends_the_cell_and_the_session_goes_on(session: Session) -> None:
    _interrupt_gathered_calls(session, {f"ended-{i}" for i in range(4)})
    assert run(session, "1 + 1").value == 2


def test_interrupting_gathered_calls_cancels_them_all_on_the_server(session: Session) -> None:
    tags = {f"gather-{i}" for i in range(4)}
    _interrupt_gathered_calls(session, tags)
    cancelled: set[str] = set()
    deadline = time.monotonic() + 30  # the cancellations reach the server on their own: wait for them
    while not tags <= cancelled and time.monotonic() < deadline:
        cancelled = {c["tag"] for c in session.call("slow", "cancellations").value["result"]}
        time.sleep(0.05)
    assert tags <= cancelled


def test_sleep_is_interruptible_and_bounded_by_the_time_limit(session: Session) -> None:
    from mcp_kernel.errors import SandboxTimeout

    def interrupt_once_asleep(stream: str, text: str) -> None:
        if "sleeping" in text:
            threading.Thread(target=session.interrupt).start()

    with pytest.raises(Interrupted, match="Variables are kept"):
        session.execute(
            "import time\nprint('sleeping', flush=True)\ntime.sleep(60)",
            session.policy(),
            on_output=interrupt_once_asleep,
        )
    with pytest.raises(SandboxTimeout):
        session.execute("await asyncio.sleep(60)", session.policy(timeout=1))
    assert run(session, "'awake'").value == "awake"


def test_bindings_have_an_awaitable_form(session: Session) -> None:
    result = run(
        session,
        "from servers.slow import sleep, aio\n"
        "out = await asyncio.gather(*(aio(sleep)(seconds=0.05, tag=str(i)) for i in range(5)))\n"
        "[o['tag'] for o in out], sleep(seconds=0, tag='sync')['tag']",
    )
    assert result.value == [["0", "1", "2", "3", "4"], "sync"]


def test_a_call_an_ended_cell_left_in_flight_is_not_counted_in_a_later_cell(session: Session) -> None:
    from mcp_kernel.sandbox.bridge import Bridge

    run(session, "None")
    bridge = session.sandbox().host
    assert isinstance(bridge, Bridge)
    left = threading.Thread(
        target=bridge.call_tool, args=("slow", "sleep", '{"seconds": 1.5, "tag": "left"}')
    )
    left.start()  # a call of the cell that just ran, still in flight
    deadline = time.monotonic() + 60
    while "left" not in session.call("slow", "calls_started").value["result"]:
        assert time.monotonic() < deadline, "the call never reached the server"
        time.sleep(0.05)
    bridge.take_records()  # the next cell begins
    left.join()
    assert bridge.take_records() == [], "the earlier cell's call is not this cell's"
    result = run(session, "await call_tool_async('slow', 'sleep', {'seconds': 0.01, 'tag': 'mine'})")
    assert [c.tool for c in result.calls] == ["sleep"]
