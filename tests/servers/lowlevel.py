"""A tiny stdio MCP server on the SDK's low-level Server, for exact control over schemas and paging.

>>> serve("name", [{"name": "t", "inputSchema": {"type": "object"}}], page_size=50)   # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server


def serve(name: str, tools: list[dict[str, Any]], *, page_size: int | None = None) -> None:
    """Serve ``tools`` (wire-format dicts) over stdio; every call echoes its arguments back."""
    models = [types.Tool.model_validate(t) for t in tools]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        if page_size is None:
            return types.ListToolsResult(tools=models)
        start = int(params.cursor) if params and params.cursor else 0
        page = models[start : start + page_size]
        more = start + page_size < len(models)
        return types.ListToolsResult(tools=page, next_cursor=str(start + page_size) if more else None)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        tool = next((t for t in models if t.name == params.name), None)
        if tool is None:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=f"unknown tool {params.name}")], is_error=True
            )
        echoed = {"tool": params.name, "arguments": arguments}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(echoed))],
            structured_content=echoed if tool.output_schema else None,
        )

    server: Server[Any] = Server(name, version="1.0", on_list_tools=list_tools, on_call_tool=call_tool)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)
