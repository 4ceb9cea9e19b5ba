"""Sandbox overheads, each against a baseline measured in the same process.

Run: ``python benchmarks/bench_sandbox.py [--cold]``. Goals (from the issue): empty cell <= 1 ms (the Rust
original reports ~3 ms); guest->host->guest round trip with a cached result <= 50 us; one real call to the
demo server from a cell vs the same call with the SDK directly, ratio <= 1.2; 1,000 calls from one cell
vs a direct SDK loop, ratio <= 1.15; first cell in a fresh process with a warm cache <= 150 ms.
20 gathered calls of 100 ms each <= 300 ms; 50 idle sessions <= 1.5 GiB resident.
``--cold`` also times a cold build (componentize-py + wasmtime compile) into a temporary cache.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import DEMO, FIRST_CELL, demo_sdk, fresh_runs, interleaved, median_ms

from mcp_kernel.sandbox import Engine, Sandbox, SandboxPolicy
from mcp_kernel.session import Session


async def _timed(call: Any, n: int) -> float:
    """Seconds for n sequential get_customer calls through ``call``."""
    started = time.perf_counter()
    for _ in range(n):
        await call("get_customer", {"customer_id": "C0001"})
    return time.perf_counter() - started


async def real_calls(session: Session, policy: SandboxPolicy) -> tuple[dict[str, float], dict[str, float]]:
    """One call and 1,000 calls: a cell, the SDK's ClientSession and its mcp.Client (what our client
    runs), taking turns; with one call also an empty cell (``None``), the fixed cost of any cell. Median ms
    of each."""
    from mcp import Client

    def cell(code: str) -> Any:
        async def run() -> float:  # blocks this loop for the cell; the SDK's connections idle meanwhile
            started = time.perf_counter()
            session.execute(code, policy)
            return time.perf_counter() - started

        return run

    async with demo_sdk() as sdk, Client(DEMO) as client:

        def parties(n: int) -> dict[str, Any]:
            code = (
                "get_customer(customer_id='C0001')"
                if n == 1
                else f"for _ in range({n}):\n    get_customer(customer_id='C0001')"
            )
            return {
                "cell": cell(code),
                "sdk": lambda: _timed(sdk.call_tool, n),
                "client": lambda: _timed(client.call_tool, n),
                **({"empty": cell("None")} if n == 1 else {}),
            }

        await interleaved(parties(5), 2)  # warm: connections, validators, imports
        return await interleaved(parties(1), 50), await interleaved(parties(1000), 5)


SLOW_SERVER = Path(__file__).resolve().parent.parent / "tests" / "servers" / "slow.py"


def gathered_and_sessions() -> None:
    """20 gathered calls to a tool that sleeps 100 ms; the resident memory of 50 idle sessions and of cells."""
    import psutil

    from mcp_kernel.models import ServerSpec

    with Session() as session:
        session.add_server(ServerSpec(name="slow", command=sys.executable, args=[str(SLOW_SERVER)]))
        session.generate("slow")
        policy = SandboxPolicy(servers=("slow",), cache=False, rate_limit=None)
        session.execute("import asyncio\nfrom _mcp_runtime import call_tool_async", policy)
        gather = (
            "await asyncio.gather(*[call_tool_async('slow', 'sleep', {'seconds': 0.1}) for _ in range(20)])"
        )
        took = median_ms(lambda: session.execute(gather, policy), 7, warmup=1)
        sequential = 20 * 100
        print(
            f"20 gathered calls of 100 ms each:       {took:8.1f} ms   (goal <= 300 ms; one after another: "
            f">= {sequential} ms)"
        )

        process = psutil.Process()
        before = process.memory_info().rss
        handles = [session.sandboxes.open() for _ in range(50)]
        for handle in handles:
            session.execute("x = list(range(1000))", SandboxPolicy(), sandbox=handle)
        after = process.memory_info().rss
        per = (after - before) / 50 / 2**20
        print(
            f"50 idle sessions (one cell each):       {(after - before) / 2**30:8.2f} GiB  ({per:.1f} MiB each; "
            "goal <= 1.5 GiB in all)"
        )
        # A guest's linear memory only grows, and wasmtime-py shows no component's memory size, so a cell's
        # peak is read as what the process gained resident over the cell, in a session of its own.
        for label, code in (
            ("an empty cell", "None"),
            ("a cell that builds 10^6 ints", "len(list(range(10**6)))"),
            ("a cell that builds 64 MiB of bytes", "len(bytes(64 << 20))"),
        ):
            handle = session.sandboxes.open()
            session.execute("1", SandboxPolicy(), sandbox=handle)
            before = process.memory_info().rss
            session.execute(code, SandboxPolicy(), sandbox=handle)
            grown = (process.memory_info().rss - before) / 2**20
            print(f"  peak guest memory, {label + ':':<36}{grown:6.1f} MiB more resident")
            session.close_sandbox(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also time a cold build into a temporary cache")
    args = parser.parse_args()

    with Engine() as engine:
        engine.component()

        class Cached:
            def call_tool(self, server: str, tool: str, params_json: str, scope: object = None) -> str:
                return '{"ok": true}'

        with Sandbox(engine, host=Cached()) as sb:
            sb.execute("import _mcp_runtime as rt")
            empty = median_ms(lambda: sb.execute(""), 300)
            n = 2000
            loop = median_ms(lambda: sb.execute(f"for _ in range({n}): pass"), 20)
            calls = median_ms(lambda: sb.execute(f"for _ in range({n}): rt.call_tool('s', 't', {{}})"), 20)
            round_trip_us = (calls - loop) / n * 1000
        print(
            f"empty cell, warm session:               {empty:8.3f} ms   (goal <= 1 ms; Rust original ~3 ms)"
        )
        print(f"guest->host->guest round trip:          {round_trip_us:8.1f} us   (goal <= 50 us)")

    with Session() as session:
        session.generate("demo")
        policy = SandboxPolicy(servers=("demo",), cache=False, rate_limit=None, timeout_s=600)
        session.execute("from servers.demo import get_customer", policy)
        one, many = asyncio.run(real_calls(session, policy))
        cached = SandboxPolicy(servers=("demo",), cache=True, rate_limit=None)
        session.execute("get_customer(customer_id='C0001')", cached)
        hit = median_ms(
            lambda: session.execute("for _ in range(1000):\n    get_customer(customer_id='C0001')", cached),
            10,
        )
    print(
        f"one real call from a cell vs SDK:       {one['cell']:8.3f} ms vs {one['sdk']:.3f} ms   "
        f"ratio {one['cell'] / one['sdk']:.2f} (goal <= 1.2; interleaved, median of 50)"
    )
    print(
        f"1,000 real calls from a cell vs SDK:    {many['cell']:8.1f} ms vs {many['sdk']:.1f} ms   "
        f"ratio {many['cell'] / many['sdk']:.2f} (goal <= 1.15; interleaved, median of 5)"
    )
    print(
        "  the SDK's ClientSession speaks 2025-11-25; mcp.Client and our client speak 2026-07-28 with the demo "
        "server, where the SDK's own call costs more"
    )
    print(
        f"  the same against mcp.Client (what our client runs): one {one['cell'] / one['client']:.2f}x "
        f"({one['client']:.3f} ms), 1,000 {many['cell'] / many['client']:.2f}x ({many['client']:.1f} ms)"
    )
    print(
        f"  an empty cell in the same turns: {one['empty']:.3f} ms; the per-call part of a cell: "
        f"{many['cell'] - many['client']:.0f} us more than mcp.Client's call"
    )  # ms per 1,000 = us per call
    print(
        f"1,000 cached calls from a cell:         {hit:8.1f} ms   ({hit:.1f} us per call incl. binding + bridge "
        "checks)"
    )

    imports, first, imports_cpu, first_cpu = fresh_runs({"ours": FIRST_CELL})["ours"]
    print(
        f"first cell, fresh process, warm cache:  {first:8.1f} ms   (goal <= 150 ms; CPU {first_cpu:.0f} ms)"
    )
    print(
        f"imports of the sandbox path:            {imports:8.1f} ms   (goal <= 150 ms; CPU {imports_cpu:.0f} ms)"
    )

    gathered_and_sessions()

    if args.cold:
        with tempfile.TemporaryDirectory() as tmp:
            with Engine(tmp) as cold:
                started = time.perf_counter()
                cold.component()
                total = time.perf_counter() - started
            print(
                f"cold build:                             {total:8.1f} s    ({', '.join(f'{k} {v:.1f} s' for k, v in cold.timings.items())})"
            )


if __name__ == "__main__":
    main()
