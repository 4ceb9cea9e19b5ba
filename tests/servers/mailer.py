"""A server that sends (records) e-mails and SMS, so tests can see the real recipient a tool received."""

import json
import os

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="mailer")
OUTBOX: list[dict] = []


def _record(item: dict) -> None:
    OUTBOX.append(item)
    if os.environ.get("MAILER_OUTBOX"):  # so a test can see what reached the server from outside it
        with open(os.environ["MAILER_OUTBOX"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item) + "\n")


@server.tool()
def send_email(to: str, subject: str, body: str = "") -> dict:
    """Send an e-mail to `to`."""
    _record({"kind": "email", "to": to, "subject": subject, "body": body})
    return {"sent": True, "to": to}


@server.tool()
def send_sms(phone: str, text: str) -> dict:
    """Send a text message to `phone`."""
    _record({"kind": "sms", "to": phone, "body": text})
    return {"sent": True}


@server.tool()
def outbox() -> list[dict]:
    """Everything sent so far."""
    return list(OUTBOX)


if __name__ == "__main__":
    server.run("stdio")
