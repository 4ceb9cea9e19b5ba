"""A server that sends (records) e-mails and SMS, so tests can see the real recipient a tool received."""

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="mailer")
OUTBOX: list[dict] = []


@server.tool()
def send_email(to: str, subject: str, body: str = "") -> dict:
    """Send an e-mail to `to`."""
    OUTBOX.append({"kind": "email", "to": to, "subject": subject, "body": body})
    return {"sent": True, "to": to}


@server.tool()
def send_sms(phone: str, text: str) -> dict:
    """Send a text message to `phone`."""
    OUTBOX.append({"kind": "sms", "to": phone, "body": text})
    return {"sent": True}


@server.tool()
def outbox() -> list[dict]:
    """Everything sent so far."""
    return list(OUTBOX)


if __name__ == "__main__":
    server.run("stdio")
