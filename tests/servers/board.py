"""A notice board: one resource, `board://notices`, and a tool, `post`, that changes it and says so
(`notifications/resources/updated`, delivered to `subscriptions/listen` streams at 2026-07-28).

With ``BOARD_TICK=S`` in the environment the board also pins "tick N" by itself every S seconds, so a
client that only watches (``mcp-kernel watch``) has updates to hear, and adds a prompt ``tick_N`` each time
(its prompt list changes, and it says so).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.subscriptions import PromptsListChanged, ResourceUpdated

URI = "board://notices"
bus = InMemorySubscriptionBus()
notices: list[str] = []


@asynccontextmanager
async def ticking(server: MCPServer) -> AsyncIterator[None]:
    tick = float(os.environ.get("BOARD_TICK", "0"))
    async with anyio.create_task_group() as tasks:
        if tick:

            async def pin() -> None:
                for n in range(1, 10_000):
                    await anyio.sleep(tick)
                    notices.append(f"tick {n}")
                    await bus.publish(ResourceUpdated(uri=URI))
                    server.add_prompt(Prompt.from_function(lambda: "tick", name=f"tick_{n}"))
                    await bus.publish(PromptsListChanged())

            tasks.start_soon(pin)
        yield
        tasks.cancel_scope.cancel()


server = MCPServer(name="board", subscriptions=bus, lifespan=ticking)


@server.resource(URI, name="notices", description="Every notice, one per line.", mime_type="text/plain")
def read_notices() -> str:
    return "\n".join(notices) or "(empty)"


@server.tool()
async def post(text: str, ctx: Context) -> int:
    """Pin a notice to the board; returns how many there are."""
    notices.append(text)
    await ctx.notify_resource_updated(URI)
    return len(notices)


if __name__ == "__main__":
    server.run("stdio")
