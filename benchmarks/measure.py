"""What the benchmarks here share: timing (median of repeated runs, in ms; parties taking turns) and the
SDK baseline, a ``ClientSession`` to the bundled demo server."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DEMO = StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"])

# Run with `python -c` in a fresh process: prints the import time and the first cell's time, in ms.
FIRST_CELL = """
import time
t0 = time.perf_counter()
from mcp_kernel.sandbox import Sandbox
t1 = time.perf_counter()
with Sandbox() as sb:
    sb.execute("1 + 1")
    t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f}")
"""


def median_ms(fn: Callable[[], Any], runs: int, warmup: int = 0) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls, after ``warmup`` untimed ones.

    >>> median_ms(lambda: None, 5) >= 0
    True
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def interleaved(parties: Mapping[str, Callable[[], Awaitable[float]]], rounds: int) -> dict[str, float]:
    """Median ms of each party's ``rounds`` runs (each run returns its own seconds), the parties taking
    turns, so load from elsewhere on the machine hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in parties}
    for _ in range(rounds):
        for name, run in parties.items():
            times[name].append(await run())
    return {name: statistics.median(v) * 1000 for name, v in times.items()}


@asynccontextmanager
async def demo_sdk() -> AsyncIterator[ClientSession]:
    """The baseline: the SDK's ``ClientSession`` to the demo server over stdio, after the handshake."""
    with tempfile.TemporaryFile("w+") as errlog:
        async with stdio_client(DEMO, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
