"""A server that adds tools at run time (`grow`) and says so: subscriptions/listen or list_changed.

``python dyn.py --quiet TTL_MS`` grows without saying so and marks its tool lists fresh for TTL_MS
milliseconds (``ttlMs``): a client learns of new tools only by listing again once that time has passed.
"""

import sys

from mcp.server.caching import CacheHint
from mcp.server.mcpserver import Context, MCPServer

QUIET = sys.argv[1:2] == ["--quiet"]
hints = {"tools/list": CacheHint(ttl_ms=int(sys.argv[2]))} if QUIET else None
server = MCPServer(name="dyn", cache_hints=hints)


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` that answers with its own name."""

    def made() -> str:
        return f"I am {name}"

    server.add_tool(made, name=name, description=f"A tool added at run time: {name}.")
    if not QUIET:
        await ctx.notify_tools_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run("stdio")
