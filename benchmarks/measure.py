"""What the benchmarks here share: timing (median of repeated runs, in ms; parties taking turns) and the
SDK baseline, a ``ClientSession`` to the bundled demo server."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DEMO = StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"])

# Run with `python -c` in a fresh process: prints the import time and the first cell's time, in ms, then
# the same two as CPU time of the process (steadier than wall time on a shared machine).
FIRST_CELL = """
import time
t0, c0 = time.perf_counter(), time.process_time()
from mcp_kernel.sandbox import Sandbox
t1, c1 = time.perf_counter(), time.process_time()
with Sandbox() as sb:
    sb.execute("1 + 1")
    t2, c2 = time.perf_counter(), time.process_time()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {(c1 - c0) * 1000:.1f} {(c2 - c1) * 1000:.1f}")
"""


def fresh_runs(scripts: Mapping[str, str], runs: int = 5) -> dict[str, list[float]]:
    """For each named script, the median of each number it prints, over ``runs`` fresh processes per script,
    the scripts taking turns (after one untimed round).

    Bytecode is written and used (``PYTHONDONTWRITEBYTECODE`` dropped), as in any installed package: without
    it every process compiles mcp_kernel's sources again, ~50 ms that no user pays.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples: dict[str, list[list[float]]] = {name: [] for name in scripts}
    for i in range(runs + 1):
        for name, script in scripts.items():
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
            if out.returncode != 0:
                raise RuntimeError(f"{name} script failed ({out.returncode}): {out.stderr[-2000:]}")
            if i:
                samples[name].append([float(x) for x in out.stdout.split()])
    return {
        name: [statistics.median(column) for column in zip(*rows, strict=False)]
        for name, rows in samples.items()
    }


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
