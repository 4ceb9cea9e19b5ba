"""A server with MCP Apps views, written to the spec alone (no ext-apps library): what the apps host is tested on.

- ``show_view``: a tool with a view (``ui://viewer/view.html``, whose ``_meta.ui.csp`` declares one good
  and two hostile domains); its result carries an e-mail address, for PII masking.
- ``app_only`` (visibility ["app"]), ``model_only`` (visibility ["model"]), ``plain`` (no ``_meta``: both).
- ``legacy_view``: names its view with the flat key ``ui/resourceUri`` of older servers.
- ``wrong_view``: names a resource that is not HTML of the MCP Apps type.
- ``apps_supported``: whether the client declared the MCP Apps extension (the SDK's ``client_supports_apps``).
- resources ``viewer://note`` (small) and ``viewer://big`` (64 KiB).

``python viewer.py legacy`` speaks only the 2025 era (the SDK's handshake-only loop): a client's
``server/discover`` is refused, and it falls back to the ``initialize`` handshake.

The view's page speaks the protocol by hand: ``ui/initialize``, then ``ui/notifications/initialized``; it
shows the tool result it is sent, and its button calls ``app_only`` through the host.
"""

import sys
from typing import Annotated

import anyio
from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.runner import serve_loop
from mcp.server.stdio import stdio_server
from pydantic import Field

server = MCPServer(name="viewer")
VIEW = "ui://viewer/view.html"
MIME = "text/html;profile=mcp-app"
CSP = {
    "connectDomains": ["https://api.example.com", "https://x.example; script-src *"],
    "resourceDomains": ["'unsafe-eval'"],
}
calls = {"app_only": 0}

PAGE = """<!doctype html>
<html><head><title>viewer</title></head>
<body>
<p id="result">waiting</p><button id="refresh">refresh</button><p id="theme"></p>
<script>
let next = 1; const waiting = new Map();
function request(method, params) {
  const id = next++;
  parent.postMessage({ jsonrpc: "2.0", id, method, params }, "*");
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
window.addEventListener("message", (event) => {
  const msg = event.data;
  if (!msg || msg.jsonrpc !== "2.0") return;
  if (msg.id !== undefined && waiting.has(msg.id)) {
    const w = waiting.get(msg.id); waiting.delete(msg.id);
    msg.error ? w.reject(msg.error) : w.resolve(msg.result);
  } else if (msg.method === "ui/notifications/tool-result") {
    document.getElementById("result").textContent = JSON.stringify(msg.params.structuredContent);
  } else if (msg.method === "ui/notifications/host-context-changed") {
    document.getElementById("theme").textContent = msg.params.theme || "";
  } else if (msg.method === "ui/resource-teardown") {
    parent.postMessage({ jsonrpc: "2.0", id: msg.id, result: {} }, "*");
  }
});
document.getElementById("refresh").onclick = async () => {
  try {
    const result = await request("tools/call", { name: "app_only", arguments: {} });
    document.getElementById("result").textContent = JSON.stringify(result.structuredContent);
  } catch (error) { document.getElementById("result").textContent = "refused: " + error.message; }
};
request("ui/initialize", { protocolVersion: "2026-01-26", appInfo: { name: "viewer", version: "1" }, appCapabilities: {} })
  .then((init) => {
    document.getElementById("theme").textContent = init.hostContext && init.hostContext.theme || "";
    parent.postMessage({ jsonrpc: "2.0", method: "ui/notifications/initialized", params: {} }, "*");
    parent.postMessage({ jsonrpc: "2.0", method: "ui/notifications/size-changed", params: { height: 120 } }, "*");
  });
</script>
</body></html>
"""


@server.tool(meta={"ui": {"resourceUri": VIEW}})
def show_view(topic: Annotated[str, Field(description="what to show")] = "sales") -> dict[str, object]:
    """Show a topic in the view."""
    return {"topic": topic, "owner": "ann@example.org"}


@server.tool(meta={"ui": {"visibility": ["app"]}})
def app_only() -> dict[str, int]:
    """Refresh the view's data (for views only)."""
    calls["app_only"] += 1
    return {"refreshed": calls["app_only"]}


@server.tool(meta={"ui": {"visibility": ["model"]}})
def model_only() -> str:
    """A tool for the model, not for views."""
    return "model only"


@server.tool()
def plain(text: str) -> str:
    """A tool that says nothing about visibility: models and views may call it."""
    return text.upper()


@server.tool(meta={"ui/resourceUri": VIEW})
def legacy_view() -> str:
    """A tool naming its view with the older flat key."""
    return "legacy"


@server.tool(meta={"ui": {"resourceUri": "ui://viewer/plain.txt"}})
def wrong_view() -> str:
    """A tool whose named view is plain text."""
    return "wrong"


@server.tool()
def apps_supported(ctx: Context) -> dict[str, object]:
    """Whether the client declared MCP Apps with its HTML type, and the protocol it speaks."""
    return {"apps": client_supports_apps(ctx), "protocol": ctx.protocol_version}


@server.resource(VIEW, name="view", mime_type=MIME, meta={"ui": {"csp": CSP, "prefersBorder": False}})
def view() -> str:
    return PAGE


@server.resource("ui://viewer/plain.txt", name="plain", mime_type="text/plain")
def plain_text() -> str:
    return "not a view"


@server.resource("viewer://note", name="note", mime_type="text/plain")
def note() -> str:
    return "a note for bob@example.org"


@server.resource("viewer://big", name="big", mime_type="text/plain")
def big() -> str:
    return "x" * 65536


async def _serve_legacy() -> None:
    """Serve stdio in the handshake era only (MCPServer.run serves both; its low-level server is the way in)."""
    low = server._lowlevel_server
    async with stdio_server() as (read, write), low.lifespan(low) as state:
        await serve_loop(
            low, read, write, lifespan_state=state, init_options=low.create_initialization_options()
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["legacy"]:
        anyio.run(_serve_legacy)
    else:
        server.run("stdio")
