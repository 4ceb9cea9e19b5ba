"""Budgets and the audit trail through a real `mcp-kernel serve` and the SDK's client: an execute reports
its budget in its structured result and stops at the operator's --max-calls; exposed calls are counted per
caller against the per-tool budgets, and the audit names each caller."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from realservers import free_port, running
from test_serve import serve_argv
from test_serve_exposed import ALICE, BOB, http_caller, stdio, text
from test_serve_exposed import place as place  # the fixture, under its own name

from mcp_kernel.audit import read_audit

pytestmark = pytest.mark.slow


def test_an_execute_stops_at_the_operators_max_calls_and_reports_its_budget(
    place: dict[str, Any], tmp_path: Path
) -> None:
    place["env"]["MCP_KERNEL_DATA_DIR"] = str(tmp_path / "data")
    code = (
        "from servers.gallery import untagged\n"
        "from _mcp_runtime import ToolCallError\n"
        "n = 0\n"
        "try:\n"
        "    for i in range(5):\n"
        "        untagged(text=str(i))\n"
        "        n += 1\n"
        "except ToolCallError as exc:\n"
        "    print(exc)\n"
        "n"
    )

    async def main() -> Any:
        async with stdio(place, "auto", "--servers", "gallery", "--max-calls", "3") as client:
            return await client.call_tool("execute", {"code": code})

    result = asyncio.run(main())
    assert "max_calls" in text(result), text(result)
    assert result.structured_content["budget"] == {"max_calls": 3, "used": 3, "refused": 1, "per_tool": {}}
    outcomes = [(e.caller, e.outcome) for e in read_audit(tmp_path / "data" / "audit").entries]
    assert outcomes == [("serve", "ok")] * 3 + [("serve", "refused: budget")]


def test_exposed_calls_are_counted_per_caller(place: dict[str, Any], tmp_path: Path) -> None:
    place["env"]["MCP_KERNEL_DATA_DIR"] = str(tmp_path / "data")
    Path(place["settings"]).write_text('[MCPKernel]\nmax_calls_per_tool = {"gallery.untagged" = 1}\n')
    port = free_port()
    argv = serve_argv(
        place, "--servers", "gallery", "--expose-tools", "all",
        "--http", f"127.0.0.1:{port}", "--callers", place["callers"],
    )  # fmt: skip

    async def main(url: str) -> None:
        async with http_caller(url, ALICE) as alice, http_caller(url, BOB) as bob:
            assert not (await alice.call_tool("untagged", {"text": "one"})).is_error
            again = await alice.call_tool("untagged", {"text": "two"})
            assert again.is_error and "max_calls_per_tool" in text(again), text(again)
            assert not (await bob.call_tool("untagged", {"text": "three"})).is_error

    with running(argv, port, env=place["env"], timeout=90):
        asyncio.run(main(f"http://127.0.0.1:{port}/mcp"))
    outcomes = [(e.caller, e.tool, e.outcome) for e in read_audit(tmp_path / "data" / "audit").entries]
    assert outcomes == [
        ("alice", "untagged", "ok"),
        ("alice", "untagged", "refused: budget"),
        ("bob", "untagged", "ok"),
    ], json.dumps(outcomes)
