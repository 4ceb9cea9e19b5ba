"""The bridge's records of the calls it handled: one record per call, kept per cell, and counters over all.

A record is built from how the call ended (its value, or the error it raised); :meth:`CallLog.take` hands
one cell's records over and starts the next cell, so a call an ended cell left in flight is not counted in
the cell that happens to run when it finishes.

>>> log = CallLog()
>>> log.ended(0, "demo", "t", started=time.perf_counter(), bytes_in=2, arguments="{}", value="[]")
>>> [r.tool for r in log.take()], log.stats().calls
(['t'], 1)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import MCPKernelError
from ..models import BridgeStats, CallRecord

__all__ = ["CallLog"]


class CallLog:
    """Records per cell, counters and latencies over every call; thread-safe."""

    def __init__(self) -> None:
        self.records: list[tuple[int, CallRecord]] = []  # (the cell a call started in, its record)
        self.cell = 0  # advanced by each take(): a call started before it belongs to an ended cell
        # Told of each call as it ends (a live "N calls" display), outside the lock.
        self.on_call: Callable[[CallRecord], None] | None = None
        self._latencies: deque[float] = deque(maxlen=10_000)
        self._counters = {"calls": 0, "errors": 0, "cache_hits": 0, "bytes_in": 0, "bytes_out": 0}
        self._lock = threading.Lock()

    def ended(
        self,
        cell: int,
        server: str,
        tool: str,
        *,
        started: float,
        bytes_in: int,
        arguments: str,
        value: str | None = None,
        error: MCPKernelError | None = None,
        cached: bool = False,
    ) -> None:
        """Record a call that began at ``started`` (``perf_counter``) and ended with ``value`` or ``error``.

        The arguments are kept whole: a preview cut here could split a personal value the mask then misses.
        """
        duration_ms = (time.perf_counter() - started) * 1000
        ended: dict[str, Any] = (
            {"error": f"{type(error).__name__}: {error}"}
            if error is not None
            else {
                "bytes_out": len((value or "").encode("utf-8", "replace")),
                "cached": cached,
                "result_text": value,
            }
        )
        record = CallRecord(
            server=server, tool=tool, duration_ms=duration_ms, bytes_in=bytes_in, arguments=arguments, **ended
        )
        with self._lock:
            self.records.append((cell, record))
            c = self._counters
            c["calls"] += 1
            c["errors"] += record.error is not None
            c["cache_hits"] += record.cached
            c["bytes_in"] += record.bytes_in
            c["bytes_out"] += record.bytes_out
            self._latencies.append(record.duration_ms)
        sink = self.on_call
        if sink is not None:
            sink(record)

    def take(self) -> list[CallRecord]:
        """The records of the calls started since the last take (one cell's calls)."""
        with self._lock:
            cell, self.cell = self.cell, self.cell + 1
            records, self.records = [r for c, r in self.records if c == cell], []
        return records

    def stats(self, cache_entries: int = 0, cache_bytes: int = 0) -> BridgeStats:
        with self._lock:
            latencies = sorted(self._latencies)
            counters = dict(self._counters)
        import statistics  # here: it is not needed on a call's path

        p50 = statistics.median(latencies) if latencies else 0.0
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0
        return BridgeStats(
            **counters,
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            cache_entries=cache_entries,
            cache_bytes=cache_bytes,
        )
