"""The loop thread's hand-off: results, errors, timeouts and cancellation reach the waiting thread, and a
stopped Scope cancels calls whether they already run or still wait for the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mcp_kernel import runtime
from mcp_kernel.runtime import Scope, ScopeStopped


def test_run_returns_the_value_and_raises_the_coroutines_error() -> None:
    async def answer() -> int:
        return 42

    async def broken() -> None:
        raise ValueError("no such customer")

    assert runtime.run(answer(), timeout=5) == 42
    with pytest.raises(ValueError, match="no such customer"):
        runtime.run(broken(), timeout=5)


def test_a_timeout_cancels_the_coroutine_and_the_loop_goes_on() -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"no answer within 0\.2 s"):
        runtime.run(slow(), timeout=0.2)
    assert cancelled.wait(5)

    async def answer() -> str:
        return "still serving"

    assert runtime.run(answer(), timeout=5) == "still serving"


def test_stopping_a_scope_cancels_a_running_call() -> None:
    scope = Scope()
    started, cancelled = threading.Event(), threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    threading.Thread(target=lambda: started.wait(5) and scope.stop("interrupt")).start()
    with pytest.raises(ScopeStopped, match="interrupt"):
        scope.run(slow(), timeout=30)
    assert cancelled.wait(5)


def test_stopping_a_scope_before_the_loop_starts_the_call_means_it_never_runs() -> None:
    scope = Scope()
    hold, holding = threading.Event(), threading.Event()
    ran = threading.Event()

    def busy() -> None:  # keeps the loop from starting the call until the scope is stopped
        holding.set()
        hold.wait(5)

    async def call() -> None:
        ran.set()

    runtime.loop().call_soon_threadsafe(busy)
    assert holding.wait(5)

    def stop_then_free_the_loop() -> None:
        scope.stop("interrupt")
        hold.set()

    timer = threading.Timer(0.2, stop_then_free_the_loop)
    timer.start()
    with pytest.raises(ScopeStopped, match="interrupt"):
        scope.run(call(), timeout=30)
    timer.join()
    runtime.run(asyncio.sleep(0), timeout=5)  # one more turn of the loop: the call would have run by now
    assert not ran.is_set()


def test_a_scope_stopped_twice_lets_each_call_finish_its_goodbye() -> None:
    """The SDK answers a cancelled request by telling the server, in a shielded write; a second Task.cancel()
    would abort that write (the server then never hears of the cancellation). A cell stopped by an interrupt
    is stopped again as it ends: the calls it already cancelled are not cancelled twice."""
    import anyio

    scope = Scope()
    started, saying_goodbye, goodbye_said = threading.Event(), threading.Event(), threading.Event()
    may_finish = threading.Event()

    async def call() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            with anyio.move_on_after(5, shield=True):  # as the SDK sends notifications/cancelled
                saying_goodbye.set()
                while not may_finish.is_set():
                    await asyncio.sleep(0.01)
                goodbye_said.set()
            raise

    def stop_twice() -> None:
        assert started.wait(5)
        scope.stop("interrupt")
        assert saying_goodbye.wait(5)
        scope.stop("the cell ended")
        runtime.run(asyncio.sleep(0), timeout=5)  # a second cancel, if any, has reached the task by now
        may_finish.set()

    stopper = threading.Thread(target=stop_twice)
    stopper.start()
    with pytest.raises(ScopeStopped, match="interrupt"):
        scope.run(call(), timeout=30)
    stopper.join()
    assert goodbye_said.is_set(), "the call's goodbye was cut short by a second cancel"
