"""A server's log file: its stderr (stdio servers) and mcp-kernel's notes about it, bounded in size.

One file per server under the log directory, named by :func:`safe_filename`. A stdio server writes its
stderr straight into it; :meth:`ServerLog.tail` quotes the end of what it wrote since it was last started
(in a :class:`~mcp_kernel.errors.ServerCrashed`, or ``%mcp logs``), never the whole file.

>>> safe_filename("team_a"), safe_filename("team/a")
('team_a', 'team_a-65f838a2')
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, TextIO

from ..paths import safe_filename

__all__ = ["TAIL_LINES", "ServerLog", "json_line", "safe_filename"]

TAIL_LINES = 20
_TAIL_BYTES = 16 * 1024  # what is read of a server's stderr to quote it: its end, never the whole file
_LINE_CHARS = 300
_MAX_BYTES = 8 * 1024 * 1024  # a server's log is cut back to its last MiB past this size
_KEEP_BYTES = 1024 * 1024


class ServerLog:
    """The log file of one server, kept open while the connection lives.

    >>> log = ServerLog(Path("/nonexistent") / "demo.log")
    >>> log.tail()
    ''
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None  # a stdio server's stderr is this file
        self._offset = 0  # where the server's current run began, so a tail quotes only this run

    def _open(self) -> TextIO:
        if self.file is None or self.file.closed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open
        return self.file

    def start(self, what: str) -> TextIO:
        """Mark a (re)start of the server in the log; what the server writes from here is its tail."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self._open()
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        self.bound()
        file.write(f"--- {stamp} starting: {what}\n")
        file.flush()
        self._offset = file.tell()
        return file

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines the server wrote since it was last started, each shortened ('' without a file)."""
        try:
            with open(self.path, "rb") as fh:
                end = fh.seek(0, os.SEEK_END)
                start = max(min(self._offset, end), end - _TAIL_BYTES)
                fh.seek(start)
                data = fh.read(end - start)
        except OSError:
            return ""
        tail = data.decode("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(
            line
            if len(line) <= _LINE_CHARS
            else f"{line[:_LINE_CHARS]} [... {len(line) - _LINE_CHARS:,} more characters]"
            for line in tail
        ).rstrip()

    def bound(self) -> None:
        """Cut the log back to its last MiB once it passes 8 MiB (the server appends, so it writes on)."""
        try:
            size = self.path.stat().st_size
            if size <= _MAX_BYTES:
                return
            with open(self.path, "r+b") as fh:
                fh.seek(size - _KEEP_BYTES)
                kept = fh.read()
                fh.seek(0)
                fh.truncate()
                fh.write(f"--- [log cut to its last {_KEEP_BYTES // 1024} KiB]\n".encode() + kept)
            self._offset = 0
        except OSError:
            pass

    def note(self, line: str) -> None:
        """Append one line of mcp-kernel's own (opening the file for HTTP servers, which have no stderr)."""
        try:
            file = self._open()
            file.write(f"mcp-kernel: {line[:2000]}\n")
            file.flush()
        except (OSError, ValueError):
            pass

    @property
    def closed(self) -> bool:
        return self.file is None or self.file.closed

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()


def json_line(data: Any) -> str:
    """``data`` (a server's structured log message) on one line."""
    try:
        return json.dumps(data, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(data)
