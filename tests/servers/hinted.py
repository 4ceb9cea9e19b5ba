"""A server that counts what reaches it and marks its lists and reads fresh for TTL_MS milliseconds.

``python hinted.py TTL_MS`` answers ``tools/list``, ``resources/list`` and ``resources/read`` with
``ttlMs=TTL_MS`` and ``cacheScope="private"`` (2026-07-28; a 2025 client sees no hints). The tool
``counts`` says how many lists, reads and ``lookup`` calls have reached it, so a test can tell what a
client served from its cache.
"""

import sys
from typing import Any

from mcp.server.caching import CacheHint
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

TTL_MS = int(sys.argv[1]) if len(sys.argv) > 1 else 0
HINT = CacheHint(ttl_ms=TTL_MS, scope="private")
seen = {"tools/list": 0, "resources/read": 0, "lookup": 0}


class CountingServer(MCPServer):
    async def list_tools(self) -> Any:
        seen["tools/list"] += 1
        return await super().list_tools()


server = CountingServer(
    name="hinted",
    cache_hints={"tools/list": HINT, "resources/list": HINT, "resources/read": HINT},
)


@server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
def lookup(key: str) -> dict[str, Any]:
    """A read-only answer the bridge may cache by its annotations, whatever the hints say."""
    seen["lookup"] += 1
    return {"key": key, "value": len(key)}


@server.tool()
def counts() -> dict[str, int]:
    """How many lists, reads and lookups have reached this server."""
    return dict(seen)


@server.resource("hint://clock", mime_type="text/plain")
def clock() -> str:
    """A resource whose text changes on every read."""
    seen["resources/read"] += 1
    return f"read {seen['resources/read']}"


if __name__ == "__main__":
    server.run("stdio")
