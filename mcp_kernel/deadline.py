"""A time limit whose clock stops while a person answers: one rule, "time a person spends answering a
question does not count against time limits", kept in one place.

A deadline is paused while a person answers (:meth:`Deadline.paused`, counting: two questions open at once
pause it once), and every second it was paused is added to it. A deadline may ``follow`` another: it is
paused whenever that one is, so one clock for a person (an asker's, a connection's) stops every limit
waiting on them. Safe from any thread.

>>> now = [0.0]
>>> person = Deadline(clock=lambda: now[0])          # no limit: only a clock that stops
>>> call = Deadline(10, follows=person)
>>> now[0] = 4.0
>>> with person.paused():                            # the person takes 30 s to answer
...     now[0] = 34.0
>>> call.remaining(), call.expired()
(6.0, False)
>>> now[0] = 40.0
>>> call.expired()
True
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["PAUSED_POLL", "Deadline"]

PAUSED_POLL = 1.0  # seconds between two looks at a paused deadline: it cannot pass while paused


class Deadline:
    """``seconds`` from :meth:`start` (None: no limit), not counting the time it was paused."""

    def __init__(
        self,
        seconds: float | None = None,
        *,
        follows: Deadline | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._follows = follows
        self._clock: Callable[[], float] = clock or (
            follows._clock if follows is not None else time.monotonic
        )
        self._lock = threading.Lock()
        self._pauses = 0  # pauses open now (questions out to a person at the same time)
        self._paused_at = 0.0
        self._ends: float | None = None
        self._closed = 0.0  # seconds of pauses that ended since the start
        self._base = 0.0  # what the followed deadline had held at the start
        self.start(seconds)

    def start(self, seconds: float | None) -> None:
        """Count ``seconds`` from now (None: no limit); earlier pauses no longer count."""
        now = self._clock()
        base = self._follows._held(now) if self._follows is not None else 0.0
        with self._lock:
            self._ends = None if seconds is None else now + seconds
            self._closed = 0.0
            self._base = base
            if self._pauses:
                self._paused_at = now

    def pause(self) -> None:
        """Stop the clock until the matching :meth:`resume` (prefer :meth:`paused`)."""
        now = self._clock()
        with self._lock:
            if self._pauses == 0:
                self._paused_at = now
            self._pauses += 1

    def resume(self) -> None:
        """End one :meth:`pause`; the clock runs again once every pause has ended."""
        now = self._clock()
        with self._lock:
            self._pauses -= 1
            if self._pauses == 0:
                self._closed += now - self._paused_at

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The block's time is a person's: it does not count against this deadline or those following it."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    @property
    def is_paused(self) -> bool:
        """Paused now, here or in the deadline this one follows."""
        return self._pauses > 0 or (self._follows is not None and self._follows.is_paused)

    def held(self) -> float:
        """Seconds paused since the start (here or in the followed deadline): added to the limit."""
        return self._held(self._clock())

    def _held(self, now: float) -> float:
        followed = self._follows._held(now) if self._follows is not None else 0.0
        with self._lock:
            own = self._closed + (now - self._paused_at if self._pauses else 0.0)
            base = self._base
        # Pauses here and in the followed deadline are not meant to overlap: each clock belongs to one
        # person (a connection's and an asker's are separate chains).
        return own + followed - base

    def remaining(self) -> float | None:
        """Seconds left (None: no limit); it stands still while paused."""
        if self._ends is None:
            return None
        now = self._clock()
        return self._ends + self._held(now) - now

    def expired(self) -> bool:
        """The limit has passed (never while paused: ``remaining`` stands still then)."""
        left = self.remaining()
        return left is not None and left <= 0

    def next_check(self, poll: float = PAUSED_POLL) -> float | None:
        """Seconds worth waiting before asking :meth:`expired` again: what remains, or at least ``poll``
        while paused (None: no limit)."""
        left = self.remaining()
        if left is None:
            return None
        return max(left, poll) if self.is_paused else max(0.0, left)

    def __repr__(self) -> str:
        left = self.remaining()
        state = "no limit" if left is None else f"{left:.3g} s left"
        return f"<Deadline {state}{', paused' if self.is_paused else ''}>"
