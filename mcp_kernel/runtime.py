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
import threading
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported where a loop is first needed: a sandbox without tool calls never loads asyncio
    import asyncio

__all__ = ["loop", "run", "submit", "shutdown", "Scope", "ScopeStopped"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use."""
    import asyncio

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
    import asyncio

    return asyncio.run_coroutine_threadsafe(coro, loop())


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the loop thread and wait for its result.

    On timeout or interrupt (Ctrl-C, a kernel interrupt) only this coroutine is cancelled: connections
    owned by other tasks on the loop live on. Raises ``TimeoutError`` after ``timeout`` seconds.
    """
    if _thread is not None and threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("runtime.run() called from the loop thread itself; await the coroutine instead")
    future = submit(coro)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"no answer within {timeout:g} s") from None
    except BaseException:
        # KeyboardInterrupt and friends: cancel the coroutine, keep the loop and its connections.
        future.cancel()
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

    >>> scope = Scope(deadline=time.monotonic() + 5)
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

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.reason: str | None = None
        self.asking = 0  # questions out to a person right now: their time is not held against the calls
        self.held = 0.0  # seconds people spent answering, added to the deadline and to each call's timeout
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()

    def stop(self, reason: str) -> None:
        """Cancel every coroutine in flight and refuse new ones; the first reason given wins."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    def hold(self, seconds: float) -> None:
        """Move the deadline (and the timeouts of calls in flight) by the ``seconds`` a person spent answering."""
        with self._lock:
            self.held += seconds
            if self.deadline is not None:
                self.deadline += seconds

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Like :func:`run`, bounded by the deadline too; raises ``ScopeStopped`` when stopped or expired.

        A plain ``timeout`` that ends first raises ``TimeoutError`` as :func:`run` does.
        """
        left = self.remaining()
        expires = left is not None and left <= timeout
        wait = max(0.0, left) if expires and left is not None else timeout
        with self._lock:
            if self.reason is None and expires and wait <= 0:
                self.reason = "timeout"
            if self.reason is not None:
                coro.close()
                raise ScopeStopped(self.reason)
            future = submit(coro)
            self._futures.add(future)
        held = self.held
        try:
            while True:
                try:
                    return future.result(wait)
                except concurrent.futures.TimeoutError:
                    if not (self.asking or self.held > held):
                        raise
                    # A person is (or was) answering the call's question: their time does not count.
                    wait, held = max(self.held - held, 1.0), self.held
        except concurrent.futures.CancelledError:
            raise ScopeStopped(self.reason or "cancelled") from None
        except concurrent.futures.TimeoutError:
            future.cancel()
            if expires:
                self.stop("timeout")
                raise ScopeStopped(self.reason or "timeout") from None
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        except BaseException:
            future.cancel()
            raise
        finally:
            with self._lock:
                self._futures.discard(future)


def shutdown(timeout: float = 5.0) -> None:
    """Cancel what is still running on the loop and stop its thread (called at interpreter exit)."""
    global _loop, _thread
    with _lock:
        current, thread = _loop, _thread
        _loop, _thread = None, None
    if current is None or current.is_closed():
        return
    import asyncio

    async def cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run_coroutine_threadsafe(cancel_all(), current).result(timeout)
    except (concurrent.futures.TimeoutError, RuntimeError):
        pass
    current.call_soon_threadsafe(current.stop)
    if thread is not None:
        thread.join(timeout)


atexit.register(shutdown)
