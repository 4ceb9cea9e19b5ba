"""Peers: the direct SDK call, a cell of ours and FastMCP CodeMode (pydantic-monty), in one process, interleaved.

Run: ``python benchmarks/bench_peers.py [--samples 30] [--rounds 3]``. FastMCP is not a dependency of
mcp-kernel: on first run the script makes its own environment, ``benchmarks/.peers-venv`` (``pip install
'fastmcp[code-mode]'`` and this repository, editable), and runs itself again there.

All three reach the same bundled demo server over stdio: the SDK's ``ClientSession`` directly; our
``Session.execute`` running a cell whose binding calls the tool through the bridge; CodeMode's ``execute``
tool (an in-process FastMCP proxy of the demo server with the ``CodeMode`` transform) whose code calls
``await call_tool(...)``. Measured: one call, 1,000 calls in one cell / execute, a first run in a fresh
process, and the tokens a model reads to find the tool, learn its parameters and call it once. Each
figure is printed beside the direct call measured in the same run, with the machine stated.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".peers-venv"
PEERS = ["fastmcp[code-mode]"]  # CodeMode with its sandbox, pydantic-monty


def _ensure_peers_env() -> None:
    """Run in ``.peers-venv`` (made on first use) unless fastmcp and pydantic-monty import here."""
    try:
        import fastmcp  # noqa: F401
        import pydantic_monty  # noqa: F401

        return
    except ImportError:
        pass
    python = PEERS_VENV / "bin" / "python"
    if Path(sys.executable) == python:
        raise SystemExit(f"fastmcp or pydantic-monty is missing from {PEERS_VENV}; delete it and run again.")
    if not python.exists():
        print(
            f"making {PEERS_VENV} (fastmcp, pydantic-monty, mcp-kernel editable)...",
            file=sys.stderr,
            flush=True,
        )
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEERS, "-e", str(HERE.parent)], check=True
        )
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


if __name__ == "__main__":
    _ensure_peers_env()

from mcp import ClientSession  # noqa: E402
from measure import FIRST_CELL, demo_sdk, fresh_runs, interleaved  # noqa: E402

from mcp_kernel.sandbox import SandboxPolicy  # noqa: E402
from mcp_kernel.session import Session  # noqa: E402
from mcp_kernel.tokens import tokenizer  # noqa: E402

ARGS = {"customer_id": "C0001"}
OURS_ONE = "get_customer(customer_id='C0001')"
PEER_ONE = "return await call_tool('get_customer', {'customer_id': 'C0001'})"


def ours_many(n: int) -> str:
    return f"for _ in range({n}):\n    get_customer(customer_id='C0001')"


def peer_many(n: int) -> str:
    return (
        f"for _ in range({n}):\n    await call_tool('get_customer', {{'customer_id': 'C0001'}})\nreturn {n}"
    )


def machine() -> str:
    import psutil

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; load average {load}"
    )


def count(value: Any) -> int:
    return tokenizer().count(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def dump(result: Any) -> Any:
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


class Parties:
    """The three ways to call get_customer, live, each timed the same way."""

    def __init__(self, sdk: ClientSession, session: Session, front: Any) -> None:
        self.sdk, self.session, self.front = sdk, session, front
        self.policy = SandboxPolicy(servers=("demo",), cache=False, rate_limit=None, timeout_s=600)

    async def direct(self, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await self.sdk.call_tool("get_customer", ARGS)
        return time.perf_counter() - started

    async def ours(self, n: int) -> float:
        # Blocks this loop for the cell: the SDK's and FastMCP's connections are idle meanwhile.
        started = time.perf_counter()
        self.session.execute(OURS_ONE if n == 1 else ours_many(n), self.policy)
        return time.perf_counter() - started

    async def peer(self, n: int) -> float:
        started = time.perf_counter()
        result = await self.front.call_tool("execute", {"code": PEER_ONE if n == 1 else peer_many(n)})
        took = time.perf_counter() - started
        if result.is_error:
            raise RuntimeError(f"CodeMode execute failed: {result.content}")
        return took

    async def interleaved(self, n: int, rounds: int) -> dict[str, float]:
        """Median ms of ``rounds`` runs of n calls each, the three taking turns."""
        return await interleaved(
            {name: functools.partial(getattr(self, name), n) for name in ("direct", "ours", "peer")}, rounds
        )


PEER_FIRST = """
import asyncio, os, sys, time
t0 = time.perf_counter()
import pydantic_monty
t1 = time.perf_counter()
async def first():
    async with pydantic_monty.AsyncMonty() as pool, pool.checkout() as session:
        return await session.feed_run("1 + 1")
assert asyncio.run(first()) == 2
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f}")
sys.stdout.flush()
os._exit(0)  # pydantic-monty 1.4.0 often aborts in interpreter teardown (SIGABRT, no message)
"""


async def tokens_ours(session: Session) -> dict[str, int]:
    from mcp import Client

    from mcp_kernel.serve import build_server

    async with Client(build_server(session, servers=["demo"])) as client:
        listed = [dump(t) for t in (await client.list_tools()).tools]
        found = await client.call_tool("search_tools", {"query": "customer"})
        binding = await client.call_tool("read", {"path": "/mcp-tools/servers/demo/get_customer.py"})
        code = "from servers.demo import get_customer\nget_customer(customer_id='C0001')"
        result = await client.call_tool("execute", {"code": code})
    return {
        "tools/list": count(listed),
        "find": count(dump(found)),
        "learn": count(dump(binding)),
        "call": count({"code": code}) + count(dump(result)),
    }


async def tokens_peer(front: Any) -> dict[str, int]:
    listed = [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in await front.list_tools()]
    found = await front.call_tool("search", {"query": "customer"})
    schema = await front.call_tool("get_schema", {"tools": ["get_customer"]})
    result = await front.call_tool("execute", {"code": PEER_ONE})
    return {
        "tools/list": count(listed),
        "find": count(_content(found)),
        "learn": count(_content(schema)),
        "call": count({"code": PEER_ONE}) + count(_content(result)),
    }


def _content(result: Any) -> Any:
    """What a model reads of a FastMCP CallToolResult: its content blocks and structured content."""
    blocks = [b.model_dump(by_alias=True, exclude_none=True, mode="json") for b in result.content]
    return {"content": blocks, "structuredContent": result.structured_content}


async def tokens_direct(sdk: ClientSession) -> dict[str, int]:
    listed = [dump(t) for t in (await sdk.list_tools()).tools]
    result = await sdk.call_tool("get_customer", ARGS)
    return {"tools/list": count(listed), "find": 0, "learn": 0, "call": count(ARGS) + count(dump(result))}


async def run(args: argparse.Namespace) -> None:
    import fastmcp
    from fastmcp.client.transports import StdioTransport
    from fastmcp.experimental.transforms.code_mode import CodeMode
    from fastmcp.server import create_proxy

    print(f"machine: {machine()}")
    print(
        f"peer: fastmcp {fastmcp.__version__} CodeMode on pydantic-monty {_version('pydantic-monty')}; "
        f"mcp {_version('mcp')}; mcp-kernel {_version('mcp-kernel')}\n"
    )
    first = fresh_runs({"ours": FIRST_CELL, "peer": PEER_FIRST})
    ours_first, peer_first = first["ours"][:2], first["peer"]
    backend = fastmcp.Client(StdioTransport(command=sys.executable, args=["-m", "mcp_kernel.demo"]))
    with Session() as session:
        session.generate("demo")
        async with demo_sdk() as sdk, backend:
            # A connected client is reused by the proxy (one demo server, as for the others); FastMCP warns
            # that this mixes request contexts, which one benchmark client does not mind.
            logging.getLogger("fastmcp").setLevel(logging.ERROR)
            proxy = create_proxy(backend, name="demo-code-mode")
            proxy.add_transform(CodeMode(max_tool_calls=None))
            async with fastmcp.Client(proxy) as front:
                parties = Parties(sdk, session, front)
                session.execute("from servers.demo import get_customer", parties.policy)
                await parties.interleaved(1, 3)  # warm: connections, imports, validators
                one = await parties.interleaved(1, args.samples)
                many = await parties.interleaved(args.calls, args.rounds)
                tokens = {
                    "direct": await tokens_direct(sdk),
                    "ours": await tokens_ours(session),
                    "peer": await tokens_peer(front),
                }

    report(one, many, ours_first, peer_first, tokens, args)


def report(
    one: dict[str, float],
    many: dict[str, float],
    ours_first: list[float],
    peer_first: list[float],
    tokens: dict[str, dict[str, int]],
    args: argparse.Namespace,
) -> None:
    def row(label: str, m: dict[str, float], unit: str = "ms") -> None:
        print(
            f"{label:<34}{m['direct']:>10.2f} {unit}{m['ours']:>10.2f} {unit} ({m['ours'] / m['direct']:.2f}x)"
            f"{m['peer']:>10.2f} {unit} ({m['peer'] / m['direct']:.2f}x)   ours/peer {m['ours'] / m['peer']:.2f}"
        )

    print(f"{'':<34}{'direct SDK':>13}{'mcp-kernel cell':>22}{'FastMCP CodeMode':>22}")
    row(f"one call (median of {args.samples})", one)
    row(f"{args.calls:,} calls (median of {args.rounds})", many)
    print(
        f"{'first run, fresh process':<34}{'':>13}{ours_first[1]:>10.1f} ms{'':>10}{peer_first[1]:>10.1f} ms"
        f"   (imports: ours {ours_first[0]:.0f} ms, pydantic_monty {peer_first[0]:.0f} ms)"
    )
    print("\ntokens a model reads (tokenizer: " + tokenizer().label + ")")
    print(f"{'':<34}{'direct SDK':>13}{'mcp-kernel serve':>22}{'FastMCP CodeMode':>22}")
    for part in ("tools/list", "find", "learn", "call"):
        print(
            f"{part:<34}{tokens['direct'][part]:>13,}{tokens['ours'][part]:>22,}{tokens['peer'][part]:>22,}"
        )
    totals = {k: sum(v.values()) for k, v in tokens.items()}
    print(f"{'total':<34}{totals['direct']:>13,}{totals['ours']:>22,}{totals['peer']:>22,}")

    print("\nwhere the peer wins:")
    wins = []
    if peer_first[1] < ours_first[1]:
        wins.append(f"first run in a fresh process: {peer_first[1]:.0f} ms vs our {ours_first[1]:.0f} ms")
    if peer_first[0] < ours_first[0]:
        wins.append(f"import of the sandbox: {peer_first[0]:.0f} ms vs our {ours_first[0]:.0f} ms")
    for label, m in (("one call", one), (f"{args.calls:,} calls", many)):
        if m["peer"] < m["ours"]:
            wins.append(f"{label}: {m['peer']:.1f} ms vs our {m['ours']:.1f} ms")
    if totals["peer"] < totals["ours"]:
        wins.append(f"tokens: {totals['peer']:,} vs our {totals['ours']:,}")
    print("\n".join(f"  - {w}" for w in wins) if wins else "  - nowhere in this run")
    print(
        "  (by design, not measured: CodeMode needs no component build; Monty is not CPython, so most of the "
        "standard library and third-party packages are not there)"
    )


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="one-call runs per party")
    parser.add_argument("--rounds", type=int, default=3, help="many-call runs per party")
    parser.add_argument("--calls", type=int, default=1000, help="calls in one many-call run")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
