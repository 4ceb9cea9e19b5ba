"""A server whose tools put one person's e-mail and IBAN (the canary) on every path back to a client: a
result, its own error, progress, a log record and a question; and write what they received to
``$CANARY_RECEIVED`` (JSON lines), so a test sees that placeholders reached them as the real values.
"""

from __future__ import annotations

import json
import os
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel, Field

EMAIL = "bob.hidden@example.org"
IBAN = "DE89 3704 0044 0532 0130 00"

server = MCPServer(name="canary")


def _received(tool: str, value: object) -> None:
    if os.environ.get("CANARY_RECEIVED"):
        with open(os.environ["CANARY_RECEIVED"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"tool": tool, "got": value}) + "\n")


@server.tool()
def lookup(customer_id: int) -> dict:
    """One customer's contact and bank details."""
    _received("lookup", customer_id)
    return {"id": customer_id, "email": EMAIL, "iban": IBAN}


@server.tool()
def unlock(email: str) -> dict:
    """Unlock a customer's account (it always is locked: the error quotes the customer)."""
    _received("unlock", email)
    raise ToolError(f"customer {email} is locked; refunds go to {IBAN}")


@server.tool()
def notify(email: Annotated[str, Field(pattern=r"^[^@<>\s]+@[^@<>\s]+$")]) -> dict:
    """Notify one address (its schema's pattern fits a real address, not a placeholder)."""
    _received("notify", email)
    return {"notified": email}


class Statement(BaseModel):
    to: str = Field(
        default=EMAIL, title=f"Recipient ({EMAIL})", description=f"where the statement for {IBAN} goes"
    )


def ask_recipient() -> Elicit[Statement]:
    return Elicit(f"Send the statement of {IBAN} to {EMAIL}?", Statement)


@server.tool()
async def send_statement(
    answer: Annotated[ElicitationResult[Statement], Resolve(ask_recipient)], ctx: Context
) -> dict:
    """Ask where to send a statement, report progress and log while sending it."""
    to = answer.data.to if answer.action == "accept" else None
    _received("send_statement", to)
    await ctx.report_progress(1, 2, f"writing the statement of {IBAN}")
    await ctx.info(f"statement of {IBAN} for {EMAIL}")
    await ctx.report_progress(2, 2, f"sent to {to}")
    return {"action": answer.action, "sent_to": to}


if __name__ == "__main__":
    server.run("stdio")
