"""A server that asks the person for things: a link to open (URL-mode elicitation) and a form with an enum.

Used by the elicitation tests next to ``library.py``'s ``book`` (a form in both protocol eras).
"""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel, Field

server = MCPServer(name="asker")


@server.tool()
async def sign_in(ctx: Context) -> dict:
    """Send the person to a sign-in page (URL-mode elicitation, a server-initiated request: 2025-era
    transports only, such as SSE) and report what they said."""
    result = await ctx.elicit_url(
        "Sign in to the archive", "https://example.org/sign-in?session=42", "sign-in-42"
    )
    return {"action": result.action}


class Colour(BaseModel):
    colour: Literal["red", "green", "blue"] = Field(description="Pick a colour")
    shade: float = Field(default=0.5, description="How dark", ge=0, le=1)


def ask_colour() -> Elicit[Colour]:
    return Elicit("Which colour?", Colour)


@server.tool()
def paint(answer: Annotated[ElicitationResult[Colour], Resolve(ask_colour)]) -> dict:
    """Ask for a colour from a list and a shade with a default (both protocol eras)."""
    return {"action": answer.action, **(answer.data.model_dump() if answer.action == "accept" else {})}


if __name__ == "__main__":
    if sys.argv[1:2] == ["sse"]:  # python asker.py sse PORT: the legacy HTTP+SSE transport
        server.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
