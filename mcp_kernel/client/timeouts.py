"""How long a connection waits for a request: a time limit that a person's answering does not count,
cut short at once when the server sends a reply that is not JSON-RPC.

:func:`within` is every request's path (every tool call's), so it costs one timer and no second task: the
awaited coroutine runs in the caller's task, which the timer (or the garbled reply) cancels, as
``asyncio.timeout`` does.

>>> import asyncio
>>> async def answer() -> int:
...     return 42
>>> asyncio.run(within(answer(), 1.0, clock=Deadline(), server="demo"))
42
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..deadline import Deadline
from ..errors import ServerError

__all__ = ["within"]

T = TypeVar("T")


async def within(
    coro: Awaitable[T],
    timeout: float,
    *,
    clock: Deadline,
    server: str,
    what: str | None = None,
    garbled: set[Callable[[str], None]] | None = None,
) -> T:
    """``coro``'s result within ``timeout`` seconds, not counting the time ``clock`` was paused (a person
    answering a question, signing in); raises ``TimeoutError`` past it.

    With ``what`` (a request) and ``garbled`` (the connection's listeners, told the text of a reply that is
    not JSON-RPC), such a reply fails the wait at once with a ``ServerError`` naming ``server``.
    """
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    why: list[str] = []  # who cancelled: "" for the timer, else the garbled reply's text
    deadline = Deadline(timeout, follows=clock)
    timer: asyncio.TimerHandle

    def expire() -> None:
        nonlocal timer
        if why:  # the garbled reply came first
            return
        if not deadline.expired():
            # A person is (or was) answering a server's question: their time does not count.
            timer = loop.call_later(deadline.next_check() or 0.0, expire)
            return
        why.append("")
        task.cancel()

    def tell(text: str) -> None:
        if not why and not task.done():
            why.append(text)
            task.cancel()

    timer = loop.call_later(timeout, expire)
    listeners = garbled if what is not None and garbled is not None else set()
    listeners.add(tell)
    try:
        value = await coro
    except asyncio.CancelledError:
        if not why or task.uncancel() > 0:  # cancelled from outside (an interrupt, a stopped cell)
            raise
        if why[0]:
            raise ServerError(
                f"Server {server!r} sent a reply to {what} that is not valid JSON-RPC, so "
                f"mcp-kernel cannot read it ({why[0]}). The server is broken; see its log or "
                "report it.",
                server=server,
            ) from None
        raise TimeoutError from None
    finally:
        timer.cancel()
        listeners.discard(tell)
    if why:  # the coroutine finished despite the cancel: take the request back
        task.uncancel()
    return value
