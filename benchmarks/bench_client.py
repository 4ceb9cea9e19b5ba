"""list_tools and call_tool latency through mcp-kernel's client vs the raw mcp SDK, in one process.

Run: ``python benchmarks/bench_client.py [--n 300] [--fresh 5]``. Both sides talk to the bundled demo server
over stdio and over streamable HTTP; the baseline drives the SDK's ClientSession directly with asyncio, ours
goes through ConnectionPool's synchronous facade (a hop onto the background loop thread and back).
Goal: ratio <= 1.1. Then connect + introspect of the demo server in fresh processes, ours (``Session.introspect``)
against the SDK's connect + initialize + ``list_tools``, taking turns; goal: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from measure import fresh_runs

from mcp_kernel.client import ConnectionPool
from mcp_kernel.config import demo_spec
from mcp_kernel.demo.tour import demo_http_server
from mcp_kernel.models import ServerSpec

CALL = ("list_regions", {})


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def sdk_bench(transport: str, url: str | None, n: int) -> dict[str, float]:
    async with AsyncExitStack() as stack:
        if transport == "stdio":
            errlog = stack.enter_context(tempfile.TemporaryFile("w+"))  # noqa: SIM115 - the exit stack closes it
            params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"])
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
        else:
            read, write = await stack.enter_async_context(streamable_http_client(url or ""))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()

        async def timed(op: Callable[[], Awaitable[Any]]) -> float:
            samples = []
            for _ in range(10):
                await op()
            for _ in range(n):
                started = time.perf_counter()
                await op()
                samples.append(time.perf_counter() - started)
            return median_ms(samples)

        return {
            "list_tools": await timed(lambda: session.list_tools()),
            "call_tool": await timed(lambda: session.call_tool(*CALL)),
        }


def ours_bench(spec: ServerSpec, n: int) -> dict[str, float]:
    with ConnectionPool([spec]) as pool:
        conn = pool.get(spec.name)
        conn.connect()

        def timed(op: Callable[[], Any]) -> float:
            samples = []
            for _ in range(10):
                op()
            for _ in range(n):
                started = time.perf_counter()
                op()
                samples.append(time.perf_counter() - started)
            return median_ms(samples)

        return {
            "list_tools": timed(lambda: conn.list_tools(refresh=True)),
            "call_tool": timed(lambda: conn.call_tool(*CALL)),
        }


# Fresh processes: each prints its imports' ms, then its connect + tool list's ms (the SDK's modules imported
# first on both sides: our connection imports them on first use, and they cost the same to both).
SDK_CONNECT = """
import time
t0 = time.perf_counter()
import asyncio, sys, tempfile
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
t1 = time.perf_counter()
async def main():
    with tempfile.TemporaryFile("w+") as errlog:
        params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"])
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            print(f"{(t1 - t0) * 1000:.1f} {(time.perf_counter() - t1) * 1000:.1f}")
asyncio.run(main())
"""
OURS_CONNECT = """
import time
t0 = time.perf_counter()
import mcp, mcp.client.stdio
from mcp_kernel.session import Session
t1 = time.perf_counter()
with Session() as session:
    session.introspect("demo")
    print(f"{(t1 - t0) * 1000:.1f} {(time.perf_counter() - t1) * 1000:.1f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="timed runs per operation")
    parser.add_argument(
        "--fresh", type=int, default=5, help="fresh processes per side for connect + introspect"
    )
    args = parser.parse_args()
    print(f"{'transport':10} {'operation':11} {'sdk ms':>8} {'ours ms':>8} {'ratio':>6}")
    with demo_http_server() as url:
        for transport in ("stdio", "http"):
            sdk = asyncio.run(sdk_bench(transport, url, args.n))
            spec = demo_spec() if transport == "stdio" else ServerSpec(name="demo-http", url=url)
            ours = ours_bench(spec, args.n)
            for op in ("list_tools", "call_tool"):
                print(f"{transport:10} {op:11} {sdk[op]:8.3f} {ours[op]:8.3f} {ours[op] / sdk[op]:6.2f}")
    fresh = fresh_runs({"sdk": SDK_CONNECT, "ours": OURS_CONNECT}, args.fresh)
    sdk_ms, ours_ms = fresh["sdk"][1], fresh["ours"][1]
    print(
        f"connect + introspect, fresh process: ours {ours_ms:.0f} ms vs SDK {sdk_ms:.0f} ms, ratio "
        f"{ours_ms / sdk_ms:.2f} (goal <= 1.2; median of {args.fresh}, taking turns; imports before it: ours "
        f"{fresh['ours'][0]:.0f} ms, SDK {fresh['sdk'][0]:.0f} ms)"
    )


if __name__ == "__main__":
    main()
