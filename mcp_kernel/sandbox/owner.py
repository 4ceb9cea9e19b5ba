"""One thread that owns a resource for its whole life; every use of the resource is a job on its queue.

A wasmtime store must only ever be touched by one thread: closing it from another thread while the owner
is inside a host call panics wasmtime and kills the process. So each sandbox session's store is created,
used and closed by its :class:`Owner` thread, exactly as each MCP connection is owned by one task on the
loop thread. Callers submit jobs and wait on the returned futures; they never touch the store.

>>> owner = Owner("example")
>>> owner.submit(lambda: 6 * 7).result(5)
42
>>> owner.close()  # the thread ended in time
True
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Owner", "OwnershipError"]

T = TypeVar("T")
_STOP = object()


class OwnershipError(RuntimeError):
    """A resource that belongs to one thread was used from another (a bug in mcp-kernel, never expected)."""


class Owner:
    """A daemon thread fed through a queue; jobs run one at a time, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=f"mcp-kernel-owner:{name}", daemon=True)
        self._closed = False
        self._lock = threading.Lock()
        self._thread.start()

    @property
    def ident(self) -> int | None:
        """The owner thread's identifier."""
        return self._thread.ident

    def on_owner_thread(self) -> bool:
        return threading.get_ident() == self._thread.ident

    def check(self) -> None:
        """Raise ``OwnershipError`` unless called from the owner thread."""
        if not self.on_owner_thread():
            raise OwnershipError(
                f"{self.name}: used from thread {threading.current_thread().name!r}, "
                f"but it belongs to {self._thread.name!r}"
            )

    def submit(self, job: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Queue ``job`` for the owner thread; its result or exception arrives in the future."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: closed")
            self._queue.put((job, future))
        return future

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, last: Callable[[], Any] | None = None, timeout: float | None = 10.0) -> bool:
        """Run ``last`` (the resource's own close) as the final job, stop the thread, wait up to ``timeout``.

        Returns whether the thread ended in time (a job still running keeps it alive; it ends after).
        """
        with self._lock:
            if self._closed:
                return not self._thread.is_alive()
            self._closed = True
            if last is not None:
                self._queue.put((last, concurrent.futures.Future()))
            self._queue.put(_STOP)
        if self.on_owner_thread():
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()
