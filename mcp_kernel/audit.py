"""The audit trail: one JSON line per call to a tool that is not read-only, in the user data directory.

A guard of every bridge (sandbox/guards.py) that only watches: told how each call that passed the bridge's
checks ended, it appends, for a tool that is not annotated read-only (a tool with no annotations counts as
not read-only), the time, who ran the code (serve's caller, "serve" without auth, "notebook", "cli"),
server, tool, a blake3 hash and the size of the canonical arguments as sent, the outcome (``ok``,
``error: <kind>``, ``refused: <guard>``) and the rules that allowed it. Never the arguments' values, nor an
error's text (which may quote them). Cache hits never reached a server and are not recorded.

The file is ``audit/audit.jsonl`` under :func:`~mcp_kernel.paths.data_dir` (0o600, in a 0o700 directory),
rotated by size (10 MiB, five old files kept: ``audit.jsonl.1`` is the newest). Each line is one ``write`` on
an ``O_APPEND`` descriptor, under a ``filelock`` lock that also covers rotation, so processes appending at
once neither interleave nor lose lines.

>>> import tempfile
>>> trail = AuditTrail(Path(tempfile.mkdtemp()))
>>> trail.append({"time": "2026-05-01T09:00:00+00:00", "server": "demo", "tool": "send_report", "outcome": "ok"})
>>> [e.tool for e in read_audit(trail.directory).entries]
['send_report']
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3
from filelock import FileLock

from .errors import UsageError
from .models import AuditEntry, AuditReport
from .paths import data_dir

if TYPE_CHECKING:
    from .sandbox.guards import GuardedCall

__all__ = ["AUDIT_FILE", "AuditTrail", "audit_dir", "guards_for", "read_audit", "since_time"]

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
MAX_BYTES = 10 << 20
KEEP = 5


def audit_dir() -> Path:
    """Where the audit trail lives: ``audit/`` in the user data directory (``$MCP_KERNEL_DATA_DIR``)."""
    return data_dir() / "audit"


class AuditTrail:
    """The guard that appends a line for each side-effecting call (see the module)."""

    name = "audit"

    def __init__(self, directory: Path | None = None, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        self._directory = directory  # None: audit_dir(), looked up at each write
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()  # filelock's lock is per thread: threads of one process queue here
        self._locks: dict[Path, FileLock] = {}

    @property
    def directory(self) -> Path:
        return self._directory or audit_dir()

    def check(self, call: GuardedCall) -> str | None:
        return None  # it only watches

    def done(self, call: GuardedCall, outcome: str) -> None:
        if call.info.annotations.read_only:
            return
        canonical = json.dumps(call.params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        data = canonical.encode("utf-8", "replace")
        entry = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "caller": call.caller,
            "server": call.server,
            "tool": call.tool,
            "args_hash": "blake3:" + blake3.blake3(data).hexdigest(),
            "args_bytes": len(data),
            "outcome": outcome,
            "rule": ", ".join(["servers allowlist", *call.allowed_by]),
        }
        try:
            self.append(entry)
        except OSError as exc:  # the call has happened: say the record is missing, do not fail the cell
            log.warning("could not write the audit trail in %s: %s", self.directory, exc)

    def append(self, entry: dict[str, Any]) -> None:
        """Append one line (one ``write``, under the lock that also covers rotation)."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        directory = self.directory
        path = directory / AUDIT_FILE
        with self._lock, self._file_lock(directory):
            try:
                if path.stat().st_size + len(line) > self.max_bytes:
                    self._rotate(path)
            except FileNotFoundError:
                pass
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _file_lock(self, directory: Path) -> FileLock:
        """The directory's lock, made (with the directory) once per directory."""
        lock = self._locks.get(directory)
        if lock is None:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = self._locks[directory] = FileLock(directory / "audit.lock")
        return lock

    def _rotate(self, path: Path) -> None:
        """audit.jsonl -> .1 -> .2 ... -> .keep (the oldest is dropped)."""
        for n in range(self.keep - 1, 0, -1):
            older = path.with_name(f"{AUDIT_FILE}.{n}")
            if older.exists():
                older.replace(path.with_name(f"{AUDIT_FILE}.{n + 1}"))
        path.replace(path.with_name(f"{AUDIT_FILE}.1"))


_TRAIL = AuditTrail()  # the process's one writer of the user's trail (its directory is looked up per write)


def guards_for(settings: Any) -> tuple[AuditTrail, ...]:
    """The guards a bridge gets after its budget: the audit trail, unless ``settings.audit`` is off."""
    return (_TRAIL,) if settings.audit else ()


def since_time(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``--since``: a span back from now (``30m``, ``2h``, ``7d``) or an ISO date or time (UTC unless it says).

    >>> now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    >>> since_time("2h", now).hour, since_time("2026-04-30", now).day
    (10, 30)
    """
    now = now or dt.datetime.now(dt.UTC)
    span = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if span:
        seconds = float(span[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[span[2]]
        return now - dt.timedelta(seconds=seconds)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since takes a span back from now (30m, 2h, 7d) or an ISO date or time (2026-05-01T09:00); "
            f"got {text!r}."
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def read_audit(
    directory: Path | None = None,
    *,
    server: str | None = None,
    tool: str | None = None,
    caller: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> AuditReport:
    """The recorded calls, oldest first, that match every filter given (``outcome`` by its start: "error"
    matches every error kind); the last ``limit`` of them."""
    directory = directory or audit_dir()
    files = [directory / f"{AUDIT_FILE}.{n}" for n in range(KEEP * 4, 0, -1)] + [directory / AUDIT_FILE]
    entries: list[AuditEntry] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            try:
                entry = AuditEntry.model_validate_json(line)
            except ValueError:
                continue  # a line another tool damaged: the rest still reads
            if (
                (server is None or entry.server == server)
                and (tool is None or entry.tool == tool)
                and (caller is None or entry.caller == caller)
                and (outcome is None or entry.outcome.startswith(outcome))
                and (since is None or entry.time >= since)
            ):
                entries.append(entry)
    total = len(entries)
    if limit is not None and total > limit:
        entries = entries[-limit:]
    return AuditReport(entries=entries, matched=total, directory=str(directory))
