"""A server whose tools carry what `serve --expose-tools` must pass on intact: an MCP Apps view
(`_meta.ui.resourceUri`), an output schema, annotations, image and structured content, progress and log
records during a call, a schema that quotes a rejected value, a tool with no annotations, and a tool named
like one of serve's own (`read`).
"""

import base64
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

server = MCPServer(name="gallery")
VIEW = "ui://gallery/view.html"
# A 1x1 PNG; its base64 holds digit runs a PII pattern could take for a phone number if it were masked.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
    )
).decode()
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)


class Picture(BaseModel):
    name: str
    width: int
    height: int


@server.tool(meta={"ui": {"resourceUri": VIEW}, "gallery/kind": "picture"}, annotations=READ_ONLY)
async def show_picture(
    name: Annotated[str, Field(description="which picture")], ctx: Context
) -> Annotated[CallToolResult, Picture]:
    """Show one picture: a caption, the image and its size."""
    await ctx.report_progress(1, 2, f"finding {name}")
    await ctx.info(f"gallery looked up {name}")
    await ctx.report_progress(2, 2, "found")
    return CallToolResult(
        content=[
            TextContent(type="text", text=f"picture {name}"),
            ImageContent(type="image", data=PIXEL, mime_type="image/png"),
        ],
        structured_content={"name": name, "width": 1, "height": 1},
    )


@server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
def register(
    email: Annotated[str, Field(pattern=r"^[a-z]+@corp\.example$", description="a corporate address")],
) -> str:
    """Register a corporate address."""
    return f"registered {email}"


@server.tool()
def untagged(text: str) -> str:
    """A tool whose server says nothing about its effects (no annotations)."""
    return text.upper()


@server.tool(annotations=READ_ONLY)
def measure(text: str) -> str:
    """How many characters ``text`` has, as this server received it."""
    return f"{len(text)} characters"


@server.tool(annotations=READ_ONLY)
def read(path: str) -> str:
    """Named like serve's own `read`: through serve it must be renamed, never shadow serve's."""
    return f"gallery read {path}"


@server.tool(annotations=READ_ONLY)
def fail(why: str) -> CallToolResult:
    """Answer with an error result (isError) that says ``why``."""
    return CallToolResult(content=[TextContent(type="text", text=f"failed: {why}")], is_error=True)


@server.resource(VIEW, name="view", mime_type="text/html;profile=mcp-app")
def view() -> str:
    return "<!doctype html><title>gallery</title><p>a view</p>"


if __name__ == "__main__":
    server.run("stdio")
