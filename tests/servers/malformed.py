"""A hand-written stdio server that speaks the handshake correctly, then answers tools/call with a
result that is not a CallToolResult (content is a string), or a line that is not JSON at all."""

import json
import sys


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    try:
        request = json.loads(line)
    except ValueError:
        continue
    method, rid = request.get("method"), request.get("id")
    if rid is None:
        continue
    if method == "initialize":
        send(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "result": {
                    "protocolVersion": request["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "malformed", "version": "1.0"},
                },
            }
        )
    elif method == "tools/list":
        send(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "result": {
                    "tools": [
                        {"name": "bad_shape", "inputSchema": {"type": "object"}},
                        {"name": "not_json", "inputSchema": {"type": "object"}},
                    ]
                },
            }
        )
    elif method == "tools/call" and request["params"]["name"] == "bad_shape":
        send({"jsonrpc": "2.0", "id": rid, "result": {"content": "this should be a list", "isError": 7}})
    elif method == "tools/call":
        sys.stdout.write(f'{{"jsonrpc": "2.0", "id": {json.dumps(rid)}, "result": {{oops\n')
        sys.stdout.flush()
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"no {method}"}})
