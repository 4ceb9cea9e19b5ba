"""``mcp-kernel serve`` beyond one process: many sessions held with parking on, and two replicas behind nginx.

Run: ``python benchmarks/bench_serve_scale.py [--sessions 1000] [--live 20] [--revisit 50]
[--callers-at-once 20] [--rounds 5] [--quick]`` (``--quick``: 200 sessions, 20 revisited, 5 agents, 2 rounds). Debian's
nginx (``/usr/sbin/nginx``) runs the last part; without it that part is skipped and said so.

Every serve is a real ``mcp-kernel serve --http --callers --approve never`` process fronting the bundled demo
server, with its own temporary data, config and park directories; the agents are the SDK's ``mcp.Client``
over streamable HTTP, each with its own bearer token. Printed, after the machine:

1. **Sessions held by one replica with parking on** (goal: 1,000 sessions within 2 GiB resident). One serve
   keeps at most ``--live`` sessions in memory (``max_sessions``), so each new session parks the caller's
   longest-idle one. One agent opens ``--sessions`` sessions, each with one execute that builds a list of
   1,000 dicts and writes a file in /workspace. Every 100 sessions: serve's resident memory (its own process;
   the demo server, its child, apart), live and parked sessions (``*.park`` files) and the disk they take.
   Then ``--revisit`` old handles, picked at random, each checked for its variables and its file (the goal:
   no failure). The baseline is the same serve before any session and with ``--live`` sessions open.
2. **Park and restore times**: p50/p99 of an execute on a live session and of one that restores a parked
   session (claim, unpack, a fresh guest taking the variables back, and parking the idle session that makes
   room for it), and their ratio. Parking is not a request of its own: it happens inside the execute that
   opens a session at the cap, so it is shown as the difference between opening a session below the cap
   and at it (and how that grows as the park directory fills).
3. **Two replicas behind nginx vs one**: ``--callers-at-once`` agents run ``--rounds`` rounds of the
   ``compute`` and ``one call`` executes of bench_serve_load.py straight to one replica (the baseline), and as
   many other agents run them through nginx (``mcp_kernel.serve.replica.nginx_conf``) to two, r1 and r2,
   sharing a park directory; the two take turns a round at a time. Printed: executes per second, p50/p99 per
   kind with the ratio to one replica, errors (the goal: none) and how the new sessions spread over r1 and
   r2 (from the handles' first part).

The exit status is 1 when any execute failed or a revisited session came back wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx2
import psutil
from bench_serve_load import Caller, gathered, percentile, row  # the tenancy benchmark's agents and figures
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from realservers import free_port  # tests/ is on sys.path: bench_serve_load puts it there

from mcp_kernel.demo.tour import listening_process
from mcp_kernel.serve.replica import nginx_conf

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
LOAD = ("compute", "one call")  # bench_serve_load.KINDS without the 20 gathered calls

# Each session's one execute: variables worth keeping and a file; CHECK reads them all back.
FILL = (
    "rows = [{{'i': i, 'name': 'row %d' % i, 'score': i * 0.5}} for i in range(1000)]\n"
    "tag = 'S{n:05d}'\n"
    "open('note.txt', 'w').write(tag * 100)\n"
    "len(rows)"
)
CHECK = "print('ok', tag, len(rows), sum(r['i'] for r in rows), open('note.txt').read() == tag * 100)"


def expected(n: int) -> str:
    return f"ok S{n:05d} 1000 499500 True"


def machine() -> str:
    model = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; load average {load}"
    )


def mib(*pids: int) -> float:
    """Resident MiB of these processes together."""
    total = 0
    for pid in pids:
        with suppress(psutil.NoSuchProcess):  # a child that just ended
            total += psutil.Process(pid).memory_info().rss
    return total / 2**20


def cpu_s(*pids: int) -> float:
    """CPU seconds (user and system) these processes and their children have used so far."""
    total = 0.0
    for pid in pids:
        with suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            for proc in [process, *process.children(recursive=True)]:
                with suppress(psutil.NoSuchProcess):
                    total += sum(proc.cpu_times()[:2])
    return total


def parked(lot: Path) -> tuple[int, int]:
    """How many sessions are parked in ``lot`` and their bytes."""
    sizes = [p.stat().st_size for p in lot.glob("*/*.park")]  # one directory per caller
    return len(sizes), sum(sizes)


def ms(values: list[float], q: float) -> float:
    return percentile(values, q) if values else float("nan")


# ---- serve and nginx --------------------------------------------------------------------------------------
@contextmanager
def serving(
    place: Path, name: str, tokens: dict[str, str], settings: dict[str, int], *extra: str
) -> Iterator[tuple[int, int]]:
    """One ``mcp-kernel serve --http`` replica called ``name`` with its own data and config directories under
    ``place`` (its stderr in ``place/name.log``): (pid, port)."""
    config = place / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}})
    )
    (place / "callers.json").write_text(json.dumps(tokens))
    home = place / name
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        "[MCPKernel]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())
    )
    port = free_port()
    argv = [
        *(sys.executable, "-m", "mcp_kernel.cli", "serve", "--config", str(config)),
        *("--http", f"127.0.0.1:{port}", "--callers", str(place / "callers.json")),
        *("--replica", name, "--approve", "never", *extra),
    ]
    env = {
        **os.environ,
        "MCP_KERNEL_CONFIG_DIR": str(home / "config"),
        "MCP_KERNEL_DATA_DIR": str(home / "data"),
    }
    # stderr to a file: a pipe nobody reads would fill during a long run and stop serve
    with (
        open(place / f"{name}.log", "wb") as log,
        listening_process(argv, port, env=env, startup_timeout=120, name=name, stderr=log) as process,
    ):
        yield process.pid, port


@contextmanager
def nginx(place: Path, replicas: dict[str, int]) -> Iterator[tuple[int, int]]:
    """Debian's nginx in the foreground, one process, on ``nginx_conf`` for ``replicas``: (pid, port)."""
    assert NGINX is not None
    port = free_port()
    conf = place / "nginx.conf"
    conf.write_text(
        nginx_conf(port, {name: f"127.0.0.1:{p}" for name, p in replicas.items()})
        .replace("http {", f"error_log {place}/error.log;\npid {place}/nginx.pid;\nhttp {{", 1)
        .replace(
            "    server {",
            f"    access_log off;\n    client_body_temp_path {place}/body;\n"
            f"    proxy_temp_path {place}/proxy;\n    server {{",
            1,
        )
    )
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx refused {conf}: {check.stderr}")
    argv = [NGINX, "-c", str(conf), "-g", "daemon off; master_process off;"]
    with listening_process(argv, port, startup_timeout=30, name="nginx") as process:
        yield process.pid, port


# ---- agents -----------------------------------------------------------------------------------------------
@asynccontextmanager
async def connection(stack: AsyncExitStack, url: str, token: str) -> AsyncIterator[Any]:
    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=300)
    )
    client = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http)))
    # The listing tells the client that execute's session argument is mirrored as Mcp-Param-Session, the
    # header nginx routes on; without it every call would be spread like a new session.
    await client.list_tools()
    yield client


async def run(client: Any, code: str, handle: str | None = None) -> tuple[float, str, str | None, bool]:
    """One execute: (seconds, text, the session's handle, failed)."""
    arguments: dict[str, Any] = {"code": code, "timeout": 120, **({"session": handle} if handle else {})}
    started = time.perf_counter()
    try:
        result = await client.call_tool("execute", arguments)
    except Exception as exc:
        return time.perf_counter() - started, f"{type(exc).__name__}: {exc}", handle, True
    elapsed = time.perf_counter() - started
    text = " ".join(getattr(block, "text", "") for block in result.content)
    return elapsed, text, (result.structured_content or {}).get("session"), bool(result.is_error)


class Agent(Caller):
    """bench_serve_load's caller, running only the ``compute`` and ``one call`` kinds."""

    async def rounds(self, n: int) -> None:
        for _ in range(n):
            for kind in LOAD:
                await self.execute(kind)


async def connect(stack: AsyncExitStack, url: str, agents: list[Agent]) -> None:
    """Connect each agent to ``url`` and open its session with one untimed execute, all at once."""
    for agent in agents:
        agent.client = await stack.enter_async_context(connection(stack, url, agent.token))
    await asyncio.gather(*(agent.execute("compute") for agent in agents))
    for agent in agents:
        agent.times.clear()


# ---- 1 and 2: many sessions, parked -----------------------------------------------------------------------
async def hold(url: str, token: str, pid: int, lot: Path, args: argparse.Namespace) -> int:
    """Open ``args.sessions`` sessions with parking on, revisit some: print the figures; the failures."""
    peak = {"serve": 0.0, "demo": 0.0}
    demo = [child.pid for child in psutil.Process(pid).children()]  # the demo server, started with serve
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            peak["serve"] = max(peak["serve"], mib(pid))
            peak["demo"] = max(peak["demo"], mib(*demo))
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    handles: dict[int, str] = {}
    opens: dict[int, float] = {}
    errors: list[str] = []
    started_rss = at_first = at_live = mib(pid)
    print(f"\n1. One replica, at most {args.live} sessions live, parking on: {args.sessions} sessions")
    print(f"   serve before any session: {started_rss:.0f} MiB resident (demo server {mib(*demo):.0f} MiB)")
    print(
        f"   {'sessions':>8} {'serve MiB':>9} {'demo MiB':>8} {'live':>5} {'parked':>6} "
        f"{'parked KiB':>10} {'open p50 ms':>11}"
    )
    blocks: list[tuple[int, float]] = []
    wall = time.perf_counter()
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(connection(stack, url, token))
        for n in range(args.sessions):
            elapsed, text, handle, failed = await run(client, FILL.format(n=n))
            if failed or handle is None:
                errors.append(f"open {n}: {text}"[:300])
            else:
                handles[n], opens[n] = handle, elapsed
            if n == 0:
                at_first = mib(pid)  # the sandbox loaded, one session
            if n + 1 == args.live:
                at_live = mib(pid)
            if (n + 1) % 100 == 0 or n + 1 == args.sessions:
                count, size = parked(lot)
                rss = mib(pid)
                blocks.append((n + 1, rss))
                block = [opens[i] for i in range(max(1, n - 99), n + 1) if i in opens]
                print(
                    f"   {n + 1:>8} {rss:>9.0f} {mib(*demo):>8.0f} {len(handles) - count:>5} {count:>6} "
                    f"{size / 1024:>10.0f} {ms(block, 0.5):>11.1f}"
                )
        wall = time.perf_counter() - wall
        opened = len(handles)
        count, size = parked(lot)
        # 2. An execute on a live session (the last ones opened) against one that restores a parked session.
        live_times: list[float] = []
        for n in list(handles)[-args.live :] * 2:
            elapsed, text, _, failed = await run(client, CHECK, handles[n])
            if failed or expected(n) not in text:
                errors.append(f"live {n}: {text}"[:300])
            else:
                live_times.append(elapsed)
        old = [n for n in handles if n < args.sessions - args.live]
        restore_times: list[float] = []
        lost: list[str] = []
        for n in random.Random(31).sample(old, min(args.revisit, len(old))):
            elapsed, text, handle, failed = await run(client, CHECK, handles[n])
            if failed or expected(n) not in text or handle != handles[n] or "was parked" not in text:
                lost.append(f"revisit {n} ({handles[n]}): {text}"[:300])
            else:
                restore_times.append(elapsed)
    done.set()
    await watcher
    end_rss = mib(pid)
    growth = (blocks[-1][1] - blocks[0][1]) / max(1, (blocks[-1][0] - blocks[0][0]) / 100) if blocks else 0.0
    print(
        f"   {opened} sessions opened in {wall:.0f} s ({opened / wall:.1f}/s), {len(errors)} errors; "
        f"{opened - count} live, {count} parked"
    )
    print(
        f"   serve resident: before {started_rss:.0f} MiB, with one session {at_first:.0f} MiB, with {args.live} "
        f"live {at_live:.0f} MiB ({(at_live - at_first) / max(1, args.live - 1):.1f} MiB each after the first)"
    )
    print(
        f"   peak {peak['serve']:.0f} MiB, after the revisits {end_rss:.0f} MiB; {growth:+.1f} MiB per 100 "
        f"sessions from the 100th on; the demo server, serve's child: peak {peak['demo']:.0f} MiB"
    )
    print(
        f"   parked on disk: {size / 2**20:.1f} MiB for {count} sessions, {size / max(1, count) / 1024:.1f} KiB "
        "a session"
    )
    within = "met" if peak["serve"] < 2048 and opened >= 1000 else "not shown" if opened < 1000 else "missed"
    print(f"   goal 1,000 sessions within 2 GiB: {within} ({opened} sessions, peak {peak['serve']:.0f} MiB)")
    print(
        f"   revisited {len(restore_times) + len(lost)} parked sessions at random: {len(lost)} came back wrong "
        "(goal: none)"
    )

    times(opens, live_times, restore_times, args)
    for error in (errors + lost)[:5]:
        print("   error:", error)
    return len(errors) + len(lost)


def times(
    opens: dict[int, float], live_times: list[float], restore_times: list[float], args: argparse.Namespace
) -> None:
    """Print part 2: executes on live and on parked sessions, and opening a session below the cap and at it."""
    below = [opens[n] for n in range(1, min(args.live, args.sessions)) if n in opens]
    at_cap = [opens[n] for n in opens if n >= args.live]
    first_block = [opens[n] for n in opens if args.live <= n < args.live + 100]
    last_block = [opens[n] for n in opens if n >= max(args.live, args.sessions - 100)]
    live50, live99 = ms(live_times, 0.5), ms(live_times, 0.99)
    back50, back99 = ms(restore_times, 0.5), ms(restore_times, 0.99)
    print("\n2. Park and restore, as seen by the agent")
    print(
        f"   execute on a live session      n={len(live_times):>4}  p50 {live50:8.1f} ms  p99 {live99:8.1f} ms"
    )
    print(
        f"   execute restoring a parked one n={len(restore_times):>4}  p50 {back50:8.1f} ms ({back50 / live50:.1f}x)"
        f"  p99 {back99:8.1f} ms ({back99 / live99:.1f}x)"
    )
    print(
        f"   a new session below the cap    n={len(below):>4}  p50 {ms(below, 0.5):8.1f} ms  "
        f"p99 {ms(below, 0.99):8.1f} ms (the first one, serve loading the sandbox: {opens.get(0, 0) * 1000:.0f} ms)"
    )
    print(
        f"   a new session at the cap       n={len(at_cap):>4}  p50 {ms(at_cap, 0.5):8.1f} ms  "
        f"p99 {ms(at_cap, 0.99):8.1f} ms (it parks the longest-idle session first)"
    )
    print(
        f"   park, estimated (p50 at the cap - p50 below it): {ms(at_cap, 0.5) - ms(below, 0.5):.1f} ms; "
        f"p50 at the cap over the first 100 {ms(first_block, 0.5):.1f} ms, the last 100 {ms(last_block, 0.5):.1f} ms"
    )
    print(
        "   (a restore at the cap parks another session too; parking has no request of its own, so its time is "
        "only seen inside the execute that triggers it)"
    )


# ---- 3: two replicas behind nginx -------------------------------------------------------------------------
async def spread(place: Path, args: argparse.Namespace) -> int:
    """The same load straight to one replica and through nginx to two; print the figures; the failures."""
    one = [Agent(f"solo-{i:03d}", secrets.token_urlsafe(32)) for i in range(args.callers_at_once)]
    two = [Agent(f"pair-{i:03d}", secrets.token_urlsafe(32)) for i in range(args.callers_at_once)]
    tokens = {a.name: a.token for a in one + two}
    settings = {"max_sessions": 2 * args.callers_at_once + 10}
    lot = str(place / "parked")
    print(
        f"\n3. {args.callers_at_once} agents at once, {args.rounds} round(s) of {' and '.join(LOAD)} each: "
        "straight to one replica, and through nginx to two, a round each in turn"
    )
    if NGINX is None:
        print("   skipped: nginx is not installed (Debian: apt-get install nginx)")
        return 0
    with (
        serving(place, "r1", tokens, settings, "--park-dir", lot) as (pid1, port1),
        serving(place, "r2", tokens, settings, "--park-dir", lot) as (pid2, port2),
        nginx(place, {"r1": port1, "r2": port2}) as (front_pid, front),
    ):
        # Wall time and the CPU time of the processes serving each turn (serve with its demo server, nginx):
        # on a machine shared with other work, CPU per execute is the steadier figure.
        walls = {"one": 0.0, "two": 0.0}
        cpus = {"one": 0.0, "two": 0.0, "nginx": 0.0}
        serving_pids = {"one": (pid1,), "two": (pid1, pid2, front_pid)}
        async with AsyncExitStack() as stack:
            await connect(stack, f"http://127.0.0.1:{port1}/mcp", one)
            await connect(stack, f"http://127.0.0.1:{front}/mcp", two)
            # The two take turns a round at a time, so load from elsewhere on the machine hits them alike.
            for _ in range(args.rounds):
                for key, agents in (("one", one), ("two", two)):
                    started, cpu, proxy = time.perf_counter(), cpu_s(*serving_pids[key]), cpu_s(front_pid)
                    await asyncio.gather(*(agent.rounds(1) for agent in agents))
                    walls[key] += time.perf_counter() - started
                    cpus[key] += cpu_s(*serving_pids[key]) - cpu
                    if key == "two":
                        cpus["nginx"] += cpu_s(front_pid) - proxy
        load = os.getloadavg()[0]
        base, base_errors, base_rate = gathered(one, walls["one"])
        times, errors, rate = gathered(two, walls["two"])
        where = Counter((a.handle or "none.").partition(".")[0] for a in two)
        print(f"   one replica:        {base_rate:6.1f} executes/s, {len(base_errors)} errors")
        print(
            f"   two behind nginx:   {rate:6.1f} executes/s ({rate / base_rate:.2f}x), {len(errors)} errors, "
            f"r1 {mib(pid1):.0f} MiB and r2 {mib(pid2):.0f} MiB after both (load average {load:.1f})"
        )
        runs = {"one": sum(len(v) for v in base.values()), "two": sum(len(v) for v in times.values())}
        one_ms, two_ms = (1000 * cpus[k] / max(1, runs[k]) for k in ("one", "two"))
        print(
            f"   CPU per execute: one replica {one_ms:.1f} ms, two and nginx {two_ms:.1f} ms ({two_ms / one_ms:.2f}x; "
            f"nginx {1000 * cpus['nginx'] / max(1, runs['two']):.2f} ms of it)"
        )
        print(f"   new sessions through nginx: {', '.join(f'{k} {v}' for k, v in sorted(where.items()))}")
        print("   latency through nginx to two (ratio to one replica):")
        for kind in LOAD:
            print("  " + row(kind, times, base))
        for error in (base_errors + errors)[:5]:
            print("   error:", error)
    return len(errors) + len(base_errors)


async def main(args: argparse.Namespace) -> int:
    if args.quick:
        args.sessions, args.callers_at_once, args.rounds, args.revisit = 200, 5, 2, 20
    print(f"bench_serve_scale: {machine()}")
    tenant = secrets.token_urlsafe(32)
    settings = {
        "max_sessions": args.live,
        "max_sessions_per_caller": args.live,
        "memory_budget_per_caller_mb": 0,  # the session count is the cap here, not the 2 GiB per caller
    }
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        place = Path(tmp)
        lot = place / "parked"
        with serving(
            place, "r1", {"tenant": tenant}, settings, "--park-dir", str(lot), "--park-after", "3600"
        ) as (pid, port):
            failures += await hold(f"http://127.0.0.1:{port}/mcp", tenant, pid, lot, args)
        shutil.rmtree(lot)
        failures += await spread(place, args)
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions one agent opens in part 1")
    parser.add_argument("--live", type=int, default=20, help="sessions serve keeps in memory (max_sessions)")
    parser.add_argument("--revisit", type=int, default=50, help="parked sessions revisited at random")
    parser.add_argument("--callers-at-once", type=int, default=20, help="concurrent agents in part 3")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of compute and one call per agent")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 200 sessions, 20 revisited, 5 agents, 2 rounds"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
