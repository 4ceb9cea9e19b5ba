"""A server with resources, prompts, a tool that asks the user (elicitation), progress and log messages.

Speaks 2026-07-28 (stateless, `input_required`) to clients that ask for it and 2025-11-25 (the initialize
handshake, server-initiated requests) to the others: both eras from one file.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, ListRoots, Resolve
from mcp.types import ListRootsResult
from pydantic import BaseModel, Field

server = MCPServer(
    name="library", instructions="A small library: notes as resources, prompts, a booking tool."
)

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# ---- who is asking ----------------------------------------------------------------------------------
@server.tool()
def whoami(ctx: Context) -> dict:
    """What the server knows of its client: name, version, declared capabilities, protocol version."""
    params = ctx.session.client_params
    caps = ctx.client_capabilities
    return {
        "client": params.client_info.name if params else None,
        "version": params.client_info.version if params else None,
        "capabilities": sorted(caps.model_dump(exclude_none=True)) if caps else [],
        "protocol": ctx.protocol_version,
    }


# ---- resources -----------------------------------------------------------------------------------------
@server.resource("note://welcome", name="welcome", description="A plain-text note.", mime_type="text/plain")
def welcome() -> str:
    return "Welcome to the library.\nOpen 9-17."


@server.resource(
    "note://catalog", name="catalog", description="The catalog as JSON.", mime_type="application/json"
)
def catalog() -> str:
    return json.dumps({"books": [{"title": "Dune", "copies": 2}, {"title": "Emma", "copies": 1}]})


@server.resource("image://pixel", name="pixel", description="A 1x1 PNG.", mime_type="image/png")
def pixel() -> bytes:
    return PIXEL


@server.resource(
    "note://shelf/{name}", name="shelf", description="The books on one shelf.", mime_type="text/plain"
)
def shelf(name: str) -> str:
    return f"Shelf {name}: 12 books"


# ---- prompts --------------------------------------------------------------------------------------------
@server.prompt(description="Ask for a summary of one book.")
def summarize(title: str, style: str = "short") -> str:
    return f"Summarize {title!r} in a {style} paragraph."


@server.prompt(description="A two-turn conversation about a topic.")
def discuss(topic: str) -> list[dict]:
    return [
        {"role": "user", "content": {"type": "text", "text": f"What do you think about {topic}?"}},
        {"role": "assistant", "content": {"type": "text", "text": f"{topic} is worth a conversation."}},
    ]


# ---- asking the user --------------------------------------------------------------------------------------
class Booking(BaseModel):
    name: str = Field(description="Your name")
    nights: int = Field(description="How many nights", ge=1)
    breakfast: bool = Field(default=False, description="Breakfast included?")


def ask_booking() -> Elicit[Booking]:
    return Elicit("Who is booking, and for how long?", Booking)


@server.tool()
def book(answer: Annotated[ElicitationResult[Booking], Resolve(ask_booking)]) -> dict:
    """Book a room: asks the user for a name and a number of nights."""
    if answer.action == "accept":
        return {"action": "accept", "booking": answer.data.model_dump()}
    return {"action": answer.action}


def roots() -> ListRoots:
    return ListRoots()


@server.tool()
def show_roots(listed: Annotated[ListRootsResult, Resolve(roots)]) -> list[str]:
    """The roots the client offers."""
    return [str(root.uri) for root in listed.roots]


# ---- progress and logs ---------------------------------------------------------------------------------
@server.tool()
async def count(to: int, ctx: Context) -> int:
    """Count to `to`, reporting progress and logging each step."""
    for step in range(1, to + 1):
        await ctx.report_progress(step, to, f"step {step}")
        await ctx.info(f"counted {step}")
    return to


if __name__ == "__main__":
    server.run("stdio")
