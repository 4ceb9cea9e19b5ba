"""A server whose `crash` tool kills the process mid-call, after a last word on stderr."""

import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="crashy")


@server.tool()
def crash() -> str:
    """Exit the server process in the middle of the call."""
    print("crashy: fatal: simulated crash", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def shout_and_crash(megabytes: int = 20) -> str:
    """Write one line of `megabytes` MB to stderr, then exit mid-call."""
    sys.stderr.write("x" * (megabytes << 20) + "\n")
    sys.stderr.flush()
    os._exit(4)


@server.tool()
def ok() -> str:
    """Answer normally."""
    return "fine"


if __name__ == "__main__":
    server.run("stdio")
