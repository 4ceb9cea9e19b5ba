"""What a sandboxed cell prints, shown in a notebook without flooding it: the head as it comes, then a tail.

The first ``head_lines`` lines (at most ``head_chars`` characters) stream to the cell's stdout and stderr
as in plain Python; ipykernel gathers what is written between its flushes into one message, so nothing here
flushes. Past the head, output is not streamed any more: one display below it shows how much was left out
and the last ``tail_lines`` lines, updated in place at most every ``refresh_s`` seconds, so a loop of
100,000 prints costs the page a few dozen messages instead of 100,000. The whole text stays in the cell's
result (``stdout`` / ``stderr``).

For example::

    view = CellOutput(head_lines=2, tail_lines=1)
    for i in range(5): view("stdout", f"line {i}\\n")
    view.close()
    # line 0
    # line 1
    # [... the output goes on for 21 more characters (3 lines); the last 1 line:]
    # line 4
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Any

from IPython.display import clear_output, display

__all__ = ["CellOutput"]


class CellOutput:
    """The output callback of one ``%%mcp_execute`` cell (``view(stream, text)``); ``close()`` when it ends."""

    def __init__(
        self,
        *,
        head_lines: int = 200,
        head_chars: int = 20_000,
        tail_lines: int = 20,
        tail_line_chars: int = 1_000,
        refresh_s: float = 0.5,
    ) -> None:
        self.head_lines, self.head_chars = head_lines, head_chars
        self.tail_line_chars = tail_line_chars  # one 5 MB line is shown as its end, not whole
        self.refresh_s = refresh_s
        self.lines = 0  # lines streamed in the head
        self.chars = 0
        self.hidden_lines = 0  # past the head: counted, the last ones kept
        self.hidden_chars = 0
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.partial = ""  # the end of a tail line not ended yet (at most tail_line_chars)
        self.partial_len = 0  # its whole length
        self.stop_note: str | None = None
        self.head: list[tuple[str, str]] = []  # what was streamed, (stream, text): at most head_chars
        self._handle: Any = None
        self._shown_at = 0.0
        self._lock = threading.Lock()  # the sandbox's owner thread writes; the cell's thread closes

    @property
    def cut(self) -> bool:
        """Whether output went past the head."""
        return self._handle is not None or self.hidden_chars > 0

    def __call__(self, stream: str, text: str) -> None:
        with self._lock:
            if not self.cut:
                text = self._stream(stream, text)
                if not text:
                    return
            self._hide(text)
            now = time.monotonic()
            if self._handle is None or now - self._shown_at >= self.refresh_s:
                self._show(now)

    def close(self, stop_note: str | None = None) -> None:
        """The cell ended: the tail shown as it finally is; when a limit stopped a cut output (``stop_note``),
        the output is laid out again with the reason on top, so nobody scrolls past pages to learn it."""
        with self._lock:
            self.stop_note = stop_note
            if not self.cut:
                return
            if stop_note is not None:
                self._restate(stop_note)
            self._show(time.monotonic())

    def _restate(self, stop_note: str) -> None:
        """Clear the cell's output and send it again: the reason first, then the head, then (by the caller)
        the tail; a handful of messages, whatever the cell printed."""
        clear_output()
        self._handle = None
        sys.stderr.write(
            f"[{stop_note[:1].upper()}{stop_note[1:]}: below, the first {self.lines:,} lines it "
            f"printed, then its last {len(self.tail) + (1 if self.partial_len else 0)}.]\n"
        )
        sys.stderr.flush()  # each stream sends on its own flush: flushed in turn, they keep their order
        for stream, text in self.head:
            target = sys.stdout if stream == "stdout" else sys.stderr
            target.write(text)
            target.flush()

    def _stream(self, stream: str, text: str) -> str:
        """Write what fits in the head to ``stream``; return the rest."""
        room_chars = self.head_chars - self.chars
        head, rest = text[:room_chars], text[room_chars:]
        lines = head.count("\n")
        if self.lines + lines > self.head_lines:
            keep = self.head_lines - self.lines
            at = 0
            for _ in range(keep):
                at = head.index("\n", at) + 1
            head, rest = head[:at], head[at:] + rest
            lines = keep
        if head:
            (sys.stdout if stream == "stdout" else sys.stderr).write(head)
            if self.head and self.head[-1][0] == stream:  # one piece per run of a stream: few messages later
                self.head[-1] = (stream, self.head[-1][1] + head)
            else:
                self.head.append((stream, head))
            self.lines += lines
            self.chars += len(head)
        return rest

    def _hide(self, text: str) -> None:
        self.hidden_chars += len(text)
        pieces = text.split("\n")
        if len(pieces) > 1:  # the line in progress ends here
            self.tail.append(self._short(self.partial + pieces[0], self.partial_len + len(pieces[0])))
            self.hidden_lines += len(pieces) - 1
            self.tail.extend(self._short(p, len(p)) for p in pieces[1:-1][-(self.tail.maxlen or 0) :])
            self.partial, self.partial_len = "", 0
        self.partial_len += len(pieces[-1])
        self.partial = (self.partial + pieces[-1])[-self.tail_line_chars :]

    def _short(self, end: str, length: int) -> str:
        """A line shown by its last ``tail_line_chars`` characters (``end``) and its whole ``length``."""
        if length <= self.tail_line_chars:
            return end
        return f"[... {length - self.tail_line_chars:,} characters] " + end[-self.tail_line_chars :]

    def text(self) -> str:
        """The display past the head: how much was left out, then the last lines."""
        tail = list(self.tail) + ([self._short(self.partial, self.partial_len)] if self.partial_len else [])
        lines = self.hidden_lines + (1 if self.partial_len else 0)
        head = f"[... the output goes on for {self.hidden_chars:,} more characters"
        if lines > 1:
            head += f" ({lines:,} lines)"
        if self.stop_note:
            head += f"; {self.stop_note}"
        head += f"; the last {len(tail)} line{'' if len(tail) == 1 else 's'}:]" if tail else "]"
        return "\n".join([head, *tail])

    def _show(self, now: float) -> None:
        sys.stdout.flush()  # the head first, then the view below it
        sys.stderr.flush()
        bundle = {"text/plain": self.text()}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._shown_at = now
