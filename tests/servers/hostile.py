"""A hand-written stdio server (2025-11-25, ``initialize`` only) that sends what a hostile server could.

Its tool description, resource names and questions carry terminal escape sequences, and its ``ask`` tool
sends an ``elicitation/create`` request built from the call's own arguments (``message``, ``schema`` or
``url``), so a test can send any malformed schema, then answers with the client's reply as JSON.
"""

import json
import sys

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\x9b1m\r"  # set the window title, clear the screen, red, C1 CSI


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def reply(rid: object, result: dict) -> None:
    send({"jsonrpc": "2.0", "id": rid, "result": result})


def ask(arguments: dict) -> dict:
    """Send the question and wait for the client's answer (other requests meanwhile are refused)."""
    params = {"message": arguments.get("message", "?")}
    if "url" in arguments:
        params.update(mode="url", url=arguments["url"], elicitationId="e-1")
    else:
        params.update(mode="form", requestedSchema=arguments.get("schema", {}))
    send({"jsonrpc": "2.0", "id": "q-1", "method": "elicitation/create", "params": params})
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("id") == "q-1" and "method" not in message:
            return message.get("result") or {"error": message.get("error")}
        if message.get("id") is not None and "method" in message:
            send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "busy"}})
    raise SystemExit(0)


for line in sys.stdin:
    request = json.loads(line)
    method, rid = request.get("method"), request.get("id")
    if rid is None:
        continue
    if method == "initialize":
        reply(
            rid,
            {
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}, "resources": {}},
                "serverInfo": {"name": "hostile" + ESCAPES, "version": "1.0"},
            },
        )
    elif method == "tools/list":
        reply(
            rid,
            {
                "tools": [
                    {
                        "name": "ask",
                        "description": "Asks things " + ESCAPES,
                        "inputSchema": {"type": "object"},
                    }
                ]
            },
        )
    elif method == "resources/list":
        reply(rid, {"resources": [{"uri": "file:///x", "name": "x" + ESCAPES, "description": "d" + ESCAPES}]})
    elif method == "resources/templates/list":
        reply(rid, {"resourceTemplates": []})
    elif method == "tools/call":
        answer = ask(request["params"].get("arguments") or {})
        reply(rid, {"content": [{"type": "text", "text": json.dumps(answer)}]})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"no {method}"}})
