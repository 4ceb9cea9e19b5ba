"""Limits an agent can act on, and per-caller fairness, through a real `mcp-kernel serve` (stdio) subprocess,
the real CLI, and %%mcp_execute in a real IPython shell: each limit error names what that surface can change."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

# ~2.6e10 fuel, ~2.6 s of CPU here: past the budget a 1 s time limit buys (2e10), well within 20 s's.
CPU_BOUND = "n = 0\nfor i in range(9_000_000):\n    n += i\nn"
CPU_RESULT = str(sum(range(9_000_000)))
BIG = "block = bytearray(300 << 20)\nlen(block)"  # past the default 256 MiB


@pytest.fixture()
def place(tmp_path: Path) -> Iterator[dict[str, Any]]:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {}}))
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "config.toml").write_text("[MCPKernel]\nmax_executes_per_caller = 1\n")
    yield {"config": str(config), "env": {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(settings)}}


@asynccontextmanager
async def serve(place: dict[str, Any], *extra: str) -> Any:
    from mcp import Client, StdioServerParameters

    argv = [
        sys.executable,
        "-m",
        "mcp_kernel.cli",
        "serve",
        "--config",
        place["config"],
        "--servers",
        "demo",
        *extra,
    ]
    async with Client(StdioServerParameters(command=argv[0], args=argv[1:], env=place["env"])) as client:
        yield client


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def test_limit_errors_name_executes_arguments_and_following_them_works(place: dict[str, Any]) -> None:
    async def main() -> None:
        async with serve(place, "--max-timeout", "60", "--max-memory", "512") as client:
            short = await client.call_tool("execute", {"code": CPU_BOUND, "timeout": 1})
            assert short.is_error and "Pass a larger `timeout` to execute" in text(short), text(short)
            assert "at most 60" in text(short) and "--" not in text(short)
            longer = await client.call_tool("execute", {"code": CPU_BOUND, "timeout": 20})
            assert not longer.is_error and text(longer) == CPU_RESULT, text(longer)

            big = await client.call_tool("execute", {"code": BIG})
            assert big.is_error and "Pass a larger `memory_mb` to execute (at most 512" in text(big), text(
                big
            )
            handle = big.structured_content["session"]
            bigger = await client.call_tool("execute", {"code": BIG, "session": handle, "memory_mb": 512})
            assert not bigger.is_error and text(bigger) == str(300 << 20), text(bigger)

            for args, maximum in (
                ({"timeout": 61}, "maximum of 60 s"),
                ({"memory_mb": 1024}, "maximum of 512 MiB"),
            ):
                refused = await client.call_tool("execute", {"code": "1", **args})
                assert refused.is_error and maximum in text(refused), text(refused)

    asyncio.run(main())


def test_an_agent_closes_its_session_and_runs_one_execute_at_a_time(place: dict[str, Any]) -> None:
    async def main() -> None:
        async with serve(place) as client:
            done = await client.call_tool("execute", {"code": "x = 1", "close": True})
            assert done.structured_content["closed"] is True
            gone = await client.call_tool(
                "execute", {"code": "x", "session": done.structured_content["session"]}
            )
            assert gone.is_error and "SessionNotFound" in text(gone)

            first = asyncio.ensure_future(
                client.call_tool("execute", {"code": "while True: pass", "timeout": 4})
            )
            # Sent first and given a second to start (asyncio may send a task's request after the next one's):
            # it holds the caller's one slot for its 4 s.
            await asyncio.sleep(1.0)
            assert not first.done(), text(first.result())
            refused = await client.call_tool("execute", {"code": "1"})
            assert refused.is_error and "ExecuteLimit" in text(refused), text(refused)
            assert "Wait for one of your executes to finish" in text(refused)
            assert "SandboxTimeout" in text(await first)
            assert text(await client.call_tool("execute", {"code": "6 * 7"})) == "42"  # its slot came back

    asyncio.run(main())


def test_the_command_line_names_its_flags(place: dict[str, Any]) -> None:
    def run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_kernel.cli", "execute", "-", "--config", place["config"], *flags],
            input=code,
            capture_output=True,
            text=True,
            env=place["env"],
            timeout=300,
        )

    short = run(CPU_BOUND, "--timeout", "1")
    assert short.returncode == 1 and "Raise it with --timeout S" in short.stderr, short.stderr
    big = run(BIG)
    assert big.returncode == 1 and "Raise it with --memory MB" in big.stderr, big.stderr
    assert run(BIG, "--memory", "512").returncode == 0


def test_a_notebook_names_mcp_executes_options(place: dict[str, Any]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from mcp_kernel.errors import SandboxOutOfMemory, SandboxTimeout

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mcp_kernel")
    try:
        with pytest.raises(SandboxTimeout) as stopped:
            shell.run_cell_magic("mcp_execute", "--timeout 1", CPU_BOUND)
        assert "Raise it with `%%mcp_execute --timeout S`" in str(stopped.value)
        with pytest.raises(SandboxOutOfMemory) as full:
            shell.run_cell_magic("mcp_execute", "", BIG)
        assert "`%%mcp_execute --memory MB`" in "".join(full.value._render_traceback_())
        shell.run_cell_magic("mcp_execute", "--memory 512", BIG)
    finally:
        shell.run_line_magic("unload_ext", "mcp_kernel")
