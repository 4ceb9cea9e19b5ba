"""A server with a slow tool that records every cancellation it receives (`notifications/cancelled`).

Given a directory as its argument, it also creates a file named after each call's tag there as the call
starts, so a test outside the process (a kernel runs the server) can wait for a call to be in flight.
"""

import sys
import time
from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer

server = MCPServer(name="slow")
STARTED: list[str] = []
CANCELLED: list[dict] = []
FINISHED: list[float] = []
STARTED_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else None


@server.tool()
async def sleep(seconds: float, tag: str = "") -> dict:
    """Sleep for `seconds`, then answer; a cancelled call is recorded with its tag."""
    started = time.monotonic()
    STARTED.append(tag)
    if STARTED_DIR is not None:
        (STARTED_DIR / tag).touch()
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        CANCELLED.append({"tag": tag, "after_s": round(time.monotonic() - started, 2)})
        raise
    FINISHED.append(seconds)
    return {"slept": seconds, "tag": tag}


@server.tool()
def cancellations() -> list[dict]:
    """The calls that were cancelled so far, oldest first."""
    return list(CANCELLED)


@server.tool()
def calls_started() -> list[str]:
    """The tags of every call of `sleep` that started so far, oldest first."""
    return list(STARTED)


if __name__ == "__main__":
    server.run("stdio")
