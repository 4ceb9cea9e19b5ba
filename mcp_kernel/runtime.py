"""One background asyncio event loop, shared by everything that talks to MCP servers.

The mcp SDK is anyio-based and its connections must live in one task for their whole life. Jupyter's
kernel already runs its own loop on the main thread, and nest-asyncio breaks under ``anyio.run``; so
every connection lives on this loop thread instead, and synchronous callers (magics, the CLI, the
sandbox bridge) submit coroutines with :func:`run`.

>>> async def answer():
...     return 42
>>> run(answer(), timeout=5)
42
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import threading
import time
from _thread import allocate_lock
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .deadline import Deadline

if TYPE_CHECKING:  # imported where a loop is first needed: a sandbox without tool calls never loads asyncio
    import asyncio

__all__ = ["INTERRUPT_SLICE", "Scope", "ScopeStopped", "loop", "run", "shutdown", "submit"]

T = TypeVar("T")
# Before Python 3.14 a lock wait cannot be interrupted on Windows (Ctrl-C, and a kernel interrupt, which
# ipykernel delivers there as _thread.interrupt_main() from an event, not a signal): a thread that may be
# interrupted waits in slices this long, so KeyboardInterrupt lands between them. POSIX would not need it.
INTERRUPT_SLICE = 0.05

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use."""
    import asyncio  # asyncio: with the first connection, not at start-up

    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            new_loop = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new_loop)
                new_loop.call_soon(ready.set)
                new_loop.run_forever()

            _thread = threading.Thread(target=serve, name="mcp-kernel-loop", daemon=True)
            _thread.start()
            ready.wait()
            _loop = new_loop
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the loop thread and return a thread-safe future."""
    import asyncio  # asyncio: loaded by loop()

    return asyncio.run_coroutine_threadsafe(coro, loop())


class _Call:
    """One coroutine run as a task on the loop for a thread that waits for it: started by one
    ``call_soon_threadsafe``, its end signalled by releasing a bare lock.

    Every tool call from the sandbox goes through here, so it is kept to the two thread wake-ups a hand-off
    needs (the loop's self-pipe, the waiter's lock); ``run_coroutine_threadsafe`` adds a
    ``concurrent.futures.Future`` with its Condition and a chained callback on top.
    """

    __slots__ = ("_cancelled", "_done", "_loop", "_task")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._loop = loop()
        self._done = allocate_lock()
        self._done.acquire()
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False
        self._loop.call_soon_threadsafe(self._start, coro)

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:  # on the loop thread
        if self._cancelled:
            coro.close()
            self._done.release()
            return
        self._task = self._loop.create_task(coro)
        self._task.add_done_callback(self._finished)

    def _finished(self, _task: Any) -> None:
        self._done.release()

    def _cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def cancel(self) -> None:
        """Cancel the task (from any thread), once; its waiter gets ``CancelledError``.

        Once: a cancelled MCP request tells its server in a shielded write, which a second ``Task.cancel()``
        would abort (an interrupted cell's scope is stopped again as the cell ends).
        """
        if self._cancelled:
            return
        self._cancelled = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing runs any more
            self._loop.call_soon_threadsafe(self._cancel_task)

    def result(self, timeout: float | None) -> Any:
        """The coroutine's value (or its exception) once it ended; ``TimeoutError`` if that takes longer than
        ``timeout`` seconds; ``concurrent.futures.CancelledError`` if it was cancelled."""
        import asyncio  # asyncio: loaded by loop()

        end = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while not self._done.acquire(
            timeout=INTERRUPT_SLICE if end is None else max(0.0, min(INTERRUPT_SLICE, end - time.monotonic()))
        ):
            if end is not None and time.monotonic() >= end:
                raise TimeoutError
        self._done.release()  # ended for good: later waits return at once
        if self._task is None:
            raise concurrent.futures.CancelledError
        try:
            return self._task.result()
        except asyncio.CancelledError:
            raise concurrent.futures.CancelledError from None


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the loop thread and wait for its result.

    On timeout or interrupt (Ctrl-C, a kernel interrupt) only this coroutine is cancelled: connections
    owned by other tasks on the loop live on. Raises ``TimeoutError`` after ``timeout`` seconds.
    """
    if _thread is not None and threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("runtime.run() called from the loop thread itself; await the coroutine instead")
    call = _Call(coro)
    try:
        return call.result(timeout)
    except TimeoutError:
        call.cancel()
        raise TimeoutError(f"no answer within {timeout:g} s") from None
    except BaseException:
        # KeyboardInterrupt and friends: cancel the coroutine, keep the loop and its connections.
        call.cancel()
        raise


class ScopeStopped(Exception):
    """Raised by :meth:`Scope.run` when the scope was stopped (``reason``) or its deadline passed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Scope:
    """Coroutines run from synchronous code that another thread can cancel together, under one deadline.

    A sandboxed cell's tool calls run in its scope: an interrupt or the cell's time limit cancels every
    call in flight (the task is cancelled on the loop, and the SDK tells the server) and refuses new ones.
    Each call's own timeout follows the scope's :class:`~mcp_kernel.deadline.Deadline`: time a person spends
    answering is held off both.

    >>> scope = Scope(Deadline(5))
    >>> async def answer():
    ...     return 42
    >>> scope.run(answer(), timeout=1)
    42
    >>> scope.stop("interrupt")
    >>> scope.run(answer(), timeout=1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    mcp_kernel.runtime.ScopeStopped: interrupt
    """

    def __init__(self, deadline: Deadline | None = None) -> None:
        self.deadline = deadline if deadline is not None else Deadline()  # no limit unless given
        self.reason: str | None = None
        self._calls: set[_Call] = set()
        self._lock = threading.Lock()

    def stop(self, reason: str) -> None:
        """Cancel every coroutine in flight and refuse new ones; the first reason given wins."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
            calls = list(self._calls)
        for call in calls:
            call.cancel()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Like :func:`run`, bounded by the deadline too; raises ``ScopeStopped`` when stopped or expired.

        A plain ``timeout`` that ends first raises ``TimeoutError`` as :func:`run` does.
        """
        limit = Deadline(timeout, follows=self.deadline)
        with self._lock:
            if self.reason is None and self.deadline.expired():
                self.reason = "timeout"
            if self.reason is not None:
                coro.close()
                raise ScopeStopped(self.reason)
            call = _Call(coro)
            self._calls.add(call)
        try:
            while True:
                waits = [
                    wait for wait in (self.deadline.next_check(), limit.next_check()) if wait is not None
                ]
                try:
                    return call.result(min(waits))
                except TimeoutError:
                    # The scope's deadline first: a cell out of time stops, whichever limit ran out.
                    if self.deadline.expired():
                        call.cancel()
                        self.stop("timeout")
                        raise ScopeStopped(self.reason or "timeout") from None
                    if limit.expired():
                        call.cancel()
                        raise TimeoutError(f"no answer within {timeout:g} s") from None
                    # Not yet: a person is (or was) answering the call's question, and their time does not count.
        except concurrent.futures.CancelledError:
            raise ScopeStopped(self.reason or "cancelled") from None
        except (ScopeStopped, TimeoutError):
            raise
        except BaseException:
            call.cancel()
            raise
        finally:
            with self._lock:
                self._calls.discard(call)


def shutdown(timeout: float = 5.0) -> None:
    """Cancel what is still running on the loop and stop its thread (called at interpreter exit)."""
    global _loop, _thread
    with _lock:
        current, thread = _loop, _thread
        _loop, _thread = None, None
    if current is None or current.is_closed():
        return
    import asyncio  # asyncio: loaded by loop()

    async def cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
        asyncio.run_coroutine_threadsafe(cancel_all(), current).result(timeout)
    current.call_soon_threadsafe(current.stop)
    if thread is not None:
        thread.join(timeout)


atexit.register(shutdown)
