"""A cell's stdout and stderr: sent to the host in pieces as they are printed, within the cell's budget.

The host keeps and caps what it gets; past the budget the cell is stopped with ``_OutputLimit``.
"""

import io
import sys
import time as _time

from guest_host import _check_stop, _text, host


class _OutputLimit(BaseException):
    """Raised inside the cell when it prints past the limit; not catchable by `except Exception`."""


_FLUSH_AFTER_S = 0.05  # a burst of prints reaches the host in a few large pieces, a lone line at once
_FLUSH_BYTES = 8192


class _Capture(io.TextIOBase):
    """stdout/stderr of a cell, sent to the host in pieces; the host keeps and caps it.

    A line goes at once when nothing went for ``_FLUSH_AFTER_S``; lines printed faster wait for that time or
    ``_FLUSH_BYTES``, so a loop of 100,000 prints makes ~150 host calls, not 100,000 (each one a message to
    the notebook). What waits is sent before the cell blocks on the host (a tool call, a sleep) and at its end.
    """

    def __init__(self, budget, stream, last):
        self.budget = budget
        self.stream = stream
        self.last = last  # [monotonic time of the last piece sent], shared by stdout and stderr
        self.other = None  # the other stream: what it holds goes first, so the two keep their order
        self.pending = []
        self.pending_size = 0

    def writable(self):
        return True

    def write(self, text):
        text = _text(text)
        size = len(text.encode("utf-8"))
        if self.other is not None and self.other.pending:
            self.other.flush()
        if size > self.budget[0]:
            self.pending.append(text.encode("utf-8")[: max(self.budget[0], 0)].decode("utf-8", "ignore"))
            self.budget[0] = 0
            self.flush()
            raise _OutputLimit()
        self.budget[0] -= size
        if text:
            self.pending.append(text)
            self.pending_size += size
            if self.pending_size > _FLUSH_BYTES or (
                "\n" in text and _time.monotonic() - self.last[0] >= _FLUSH_AFTER_S
            ):
                self.flush()
        return len(text)

    def flush(self):
        if self.pending:
            answer = host.log(self.stream, "".join(self.pending))
            self.pending = []
            self.pending_size = 0
            self.last[0] = _time.monotonic()
            _check_stop(answer)  # a stop lands here as KeyboardInterrupt: a printing loop keeps its variables


def _flush_output():
    """Send the output a cell printed before it blocks on the host, so it shows while the cell waits."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Capture) and stream.pending:
            stream.flush()
