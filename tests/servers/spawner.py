"""A server that starts a child process of its own (as wrappers like npx do) and reports its pid."""

import subprocess
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="spawner")
CHILD = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


@server.tool()
def child_pid() -> int:
    """The pid of the child this server started."""
    return CHILD.pid


if __name__ == "__main__":
    server.run("stdio")
