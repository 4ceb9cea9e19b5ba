"""Many agents at once: ``mcp-kernel serve --http --callers`` under N concurrent callers.

Run: ``python benchmarks/bench_serve_load.py [--levels 10,50,100] [--rounds 5] [--soak 600]``.

One serve process over streamable HTTP fronts the bundled demo server; every caller has its own bearer
token (a callers file), its own MCP connection and its own sandbox session (the handle its first execute
returns). Each round a caller runs three executes, one of each kind:

- ``compute``: pure Python in the sandbox, no tool call;
- ``one call``: one ``get_customer`` call (a different customer each time: no result cache);
- ``20 gathered``: 20 ``get_customer`` calls gathered with ``asyncio``.

Every caller first opens its session with one untimed execute. For each level the same rounds run first
for a single caller (the baseline, in the same serve process) and then for N callers at once. Printed:
p50/p99 latency per kind and their ratio to the single caller, the errors (exceptions and ``isError``
results; the goal is none), executes per second and serve's resident memory after the level.
``--soak S`` then runs ``--soak-callers`` callers in a loop for S seconds and samples serve's memory every
``--sample`` seconds: the first, last and largest sample and the growth over the second half (flat is the
goal). Levels reuse callers: caller i keeps its session from one level to the next, as an agent would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import psutil
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

KINDS = {
    "compute": "sum(i * i for i in range(100_000)) % 97",
    "one call": "from servers.demo import get_customer\nget_customer(customer_id='C{n:04d}')['orders']",
    "20 gathered": (
        "import asyncio\nfrom servers.demo import aio, get_customer\n"
        "rows = await asyncio.gather(*(aio(get_customer)(customer_id='C%04d' % (1 + ({n} + i) % 240))"
        " for i in range(20)))\n"
        "sum(r['orders'] for r in rows)"
    ),
}


class Caller:
    """One agent: its token, its MCP connection, its sandbox handle, its timings and errors."""

    def __init__(self, name: str, token: str) -> None:
        self.name, self.token = name, token
        self.client: Any = None
        self.handle: str | None = None
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.count = 0

    async def execute(self, kind: str) -> None:
        self.count += 1
        code = KINDS[kind].format(n=1 + self.count % 240)
        args: dict[str, Any] = {"code": code, "timeout": 120}
        if self.handle:
            args["session"] = self.handle
        started = time.perf_counter()
        try:
            result = await self.client.call_tool("execute", args)
        except Exception as exc:
            self.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
            return
        elapsed = time.perf_counter() - started
        if result.is_error:
            texts = " ".join(getattr(b, "text", "") for b in result.content)
            self.errors.append(f"{kind}: {texts}"[:300])
            return
        self.handle = (result.structured_content or {}).get("session", self.handle)
        self.times[kind].append(elapsed)

    async def rounds(self, n: int) -> None:
        for _ in range(n):
            for kind in KINDS:
                await self.execute(kind)


@asynccontextmanager
async def connected(url: str, callers: list[Caller]) -> Any:
    """Every caller connected (its own HTTP client and MCP connection), closed afterwards."""
    async with AsyncExitStack() as stack:
        for caller in callers:
            if caller.client is None:
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {caller.token}"}, timeout=300)
                )
                caller.client = await stack.enter_async_context(
                    Client(streamable_http_client(url, http_client=http))
                )
        try:
            yield
        finally:
            for caller in callers:
                caller.client = None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


async def level(
    url: str, callers: list[Caller], rounds: int
) -> tuple[dict[str, list[float]], list[str], float]:
    """Every caller's rounds at once: the timings by kind, the errors, and executes per second overall."""
    for caller in callers:
        caller.times.clear()
        caller.errors.clear()
    async with connected(url, callers):
        started = time.perf_counter()
        await asyncio.gather(*(c.rounds(rounds) for c in callers))
        wall = time.perf_counter() - started
    return gathered(callers, wall)


def gathered(callers: list[Any], wall: float) -> tuple[dict[str, list[float]], list[str], float]:
    """The callers' timings by kind, their errors, and executes per second over ``wall`` seconds."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    for caller in callers:
        for kind, values in caller.times.items():
            times[kind] += values
        errors += [f"{caller.name}: {e}" for e in caller.errors]
    return times, errors, sum(len(v) for v in times.values()) / wall


def row(kind: str, times: dict[str, list[float]], base: dict[str, list[float]]) -> str:
    values, ref = times.get(kind, []), base.get(kind, [])
    if not values:
        return f"  {kind:<12} no successful run"
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    b50, b99 = (percentile(ref, 0.5), percentile(ref, 0.99)) if ref else (float("nan"),) * 2
    return (
        f"  {kind:<12} n={len(values):>4}  p50 {p50:8.1f} ms ({p50 / b50:5.2f}x)  "
        f"p99 {p99:8.1f} ms ({p99 / b99:5.2f}x)"
    )


async def soak(url: str, callers: list[Caller], seconds: float, sample: float, pid: int) -> None:
    samples: list[tuple[float, float]] = []
    stop = time.monotonic() + seconds
    errors: list[str] = []

    async def loop(caller: Caller) -> None:
        while time.monotonic() < stop:
            await caller.rounds(1)
            errors.extend(caller.errors)
            caller.errors.clear()

    async def watch() -> None:
        started = time.monotonic()
        while time.monotonic() < stop:
            samples.append((time.monotonic() - started, rss_mb(pid)))
            await asyncio.sleep(sample)

    async with connected(url, callers):
        await asyncio.gather(watch(), *(loop(c) for c in callers))
    runs = sum(c.count for c in callers)
    half = [mb for t, mb in samples if t >= seconds / 2]
    growth = (half[-1] - half[0]) if len(half) > 1 else 0.0
    print(
        f"\nsoak: {len(callers)} callers for {seconds:g} s, {runs} executes in all, {len(errors)} errors, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  serve RSS: first {samples[0][1]:.0f} MiB, last {samples[-1][1]:.0f} MiB, "
        f"largest {max(mb for _, mb in samples):.0f} MiB; second half {growth:+.0f} MiB"
    )
    for error in errors[:5]:
        print("  error:", error)


@contextmanager
def serving(place: Path, callers: list[Caller], max_sessions: int) -> Iterator[tuple[int, str]]:
    """serve over HTTP for ``callers`` (its stderr in ``place/serve.log``): (pid, URL)."""
    from realservers import free_port

    config = place / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}})
    )
    (place / "callers.json").write_text(json.dumps({c.name: c.token for c in callers}))
    settings = place / "settings"
    settings.mkdir()
    (settings / "config.toml").write_text(f"[MCPKernel]\nmax_sessions = {max_sessions}\n")
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "mcp_kernel.cli",
        "serve",
        "--config",
        str(config),
        "--http",
        f"127.0.0.1:{port}",
        "--callers",
        str(place / "callers.json"),
    ]
    env = {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(settings)}
    from mcp_kernel.demo.tour import listening_process

    # stderr to a file: a pipe nobody reads would fill during a long run and stop serve
    with (
        open(place / "serve.log", "wb") as log,
        listening_process(argv, port, env=env, startup_timeout=120, name="serve", stderr=log) as process,
    ):
        yield process.pid, f"http://127.0.0.1:{port}/mcp"


async def main(args: argparse.Namespace) -> int:
    levels = [int(n) for n in args.levels.split(",")]
    size = max([*levels, args.soak_callers])
    callers = [Caller(f"agent-{i:03d}", secrets.token_urlsafe(32)) for i in range(size + 1)]
    single, crowd = callers[0], callers[1:]
    print(
        f"bench_serve_load: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"{args.rounds} round(s) of {', '.join(KINDS)} per caller"
    )
    failures = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        serving(Path(tmp), callers, max_sessions=size + 10) as (pid, url),
    ):
        print(f"serve started: RSS {rss_mb(pid):.0f} MiB")
        # Untimed: each caller's first execute opens its session (serve loads the sandbox meanwhile).
        await level(url, [single, *crowd[: max(levels)]], 1)
        print(f"sessions open: RSS {rss_mb(pid):.0f} MiB")
        for n in levels:
            base, base_errors, base_rate = await level(url, [single], args.rounds)
            times, errors, rate = await level(url, crowd[:n], args.rounds)
            failures += len(errors) + len(base_errors)
            print(
                f"\n{n} callers at once ({len(errors)} errors; single caller: {len(base_errors)}), "
                f"{rate:.1f} executes/s (single caller: {base_rate:.1f}), serve RSS {rss_mb(pid):.0f} MiB:"
            )
            for kind in KINDS:
                print(row(kind, times, base))
            for error in (base_errors + errors)[:5]:
                print("  error:", error)
        if args.soak:
            await soak(url, crowd[: args.soak_callers], args.soak, args.sample, pid)
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,50,100", help="comma-separated numbers of concurrent callers")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the three executes per caller")
    parser.add_argument("--soak", type=float, default=0, help="then run the soak for this many seconds")
    parser.add_argument("--soak-callers", type=int, default=10, help="callers in the soak")
    parser.add_argument("--sample", type=float, default=10, help="seconds between memory samples in the soak")
    sys.exit(asyncio.run(main(parser.parse_args())))
