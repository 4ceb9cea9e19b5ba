"""The issue's figure: an execute of three minutes, over a client whose requests time out after 60 s, completes
as a task (`mcp-kernel serve --http` with its default settings, the SDK's client declaring the Tasks
extension). Apart from test_serve_tasks.py so its three minutes do not hold up the quick ones."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from realservers import SERVERS, free_port, running
from test_serve import serve_argv

from mcp_kernel.client.tasks import AwaitTasks, reporting

pytestmark = pytest.mark.slow

MINUTES = 3
REQUEST_TIMEOUT_S = 60


def test_an_execute_of_three_minutes_completes_as_a_task_over_a_60_s_request_timeout(tmp_path: Path) -> None:
    from mcp import Client

    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"slow": {"command": sys.executable, "args": [str(SERVERS / "slow.py")]}}})
    )
    port = free_port()
    argv = serve_argv({"config": str(config)}, "--http", f"127.0.0.1:{port}")
    polled: list[str | None] = []
    code = f"import time\nprint('started')\ntime.sleep({MINUTES * 60})\nprint('after {MINUTES} minutes')"

    async def main() -> Any:
        url = f"http://127.0.0.1:{port}/mcp"
        async with Client(url, extensions=[AwaitTasks()], read_timeout_seconds=REQUEST_TIMEOUT_S) as client:
            with reporting(lambda value, total, message: polled.append(message)):
                return await client.call_tool("execute", {"code": code, "timeout": MINUTES * 60 + 60})

    with running(argv, port, env=dict(os.environ), timeout=120):
        result = anyio.run(main)
    assert not result.is_error, result
    assert "after 3 minutes" in result.content[0].text
    assert result.structured_content["duration_ms"] >= MINUTES * 60_000
    assert polled and polled[0] in ("working", "started\n"), "awaited by polling the task, not on the request"
