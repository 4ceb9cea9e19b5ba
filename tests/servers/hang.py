"""A server whose `hang` tool never answers."""

import anyio
from mcp.server.mcpserver import MCPServer

server = MCPServer(name="hang")


@server.tool()
async def hang() -> str:
    """Never return."""
    await anyio.sleep(3600)
    return "unreachable"


@server.tool()
def ok() -> str:
    """Answer normally."""
    return "fine"


if __name__ == "__main__":
    server.run("stdio")
