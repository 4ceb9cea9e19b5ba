"""The legacy HTTP+SSE transport (`"type": "sse"` in mcp.json) against a real SSE server started here.

The server is ``tests/servers/asker.py`` run with the SDK's ``MCPServer.run("sse", ...)``; the SDK
negotiates 2026-07-28 over it too, so its ``sign_in`` (a server-initiated URL request) cannot be reached here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import SERVERS, free_port, running

from mcp_kernel.client import ConnectionPool
from mcp_kernel.config import load_config
from mcp_kernel.elicitation import Asker, attached
from mcp_kernel.models import ServerSpec


@pytest.fixture(scope="module")
def sse_url() -> Iterator[str]:
    port = free_port()
    with running([sys.executable, str(SERVERS / "asker.py"), "sse", str(port)], port):
        yield f"http://127.0.0.1:{port}/sse"


def test_mcp_json_type_sse_gives_an_sse_spec(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"old": {"type": "sse", "url": "http://127.0.0.1:9/sse"}}}))
    spec = load_config(path).servers["old"]
    assert spec.sse and spec.transport == "http"


@pytest.mark.slow
def test_tools_are_listed_and_called_over_sse(sse_url: str) -> None:
    with ConnectionPool(timeout=20, connect_timeout=20) as pool:
        pool.add(ServerSpec(name="old", url=sse_url, sse=True))
        assert {"sign_in", "paint"} <= {t.name for t in pool.list_tools("old")}
        answers = iter(["", "red", "0.2"])
        with attached(Asker(lambda p: next(answers), lambda t: None)):
            assert pool.call_tool("old", "paint").value == {"action": "accept", "colour": "red", "shade": 0.2}
