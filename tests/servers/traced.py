"""A server whose tool answers with the W3C trace context it received in its request's ``_meta`` (so a test sees
that a caller's trace reached it), and a tool that always fails."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer(name="traced")


@server.tool()
def trace_context(ctx: Context) -> dict:
    """The ``traceparent`` and ``tracestate`` of this request's ``_meta`` (null when absent)."""
    meta = ctx.request_context.meta or {}
    return {"traceparent": meta.get("traceparent"), "tracestate": meta.get("tracestate")}


@server.tool()
def refuse() -> dict:
    """Always fails (a tool error)."""
    raise ToolError("refused, as always")


if __name__ == "__main__":
    server.run()
