"""A server that prints non-JSON lines to stdout before speaking MCP."""

import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="garbage")


@server.tool()
def ok() -> str:
    """Answer normally."""
    return "fine"


if __name__ == "__main__":
    print("Welcome to garbage server v0.0!", flush=True)
    print("{not json at all", flush=True)
    sys.stdout.write("\x00\x01 binary-ish noise\n")
    sys.stdout.flush()
    server.run("stdio")
