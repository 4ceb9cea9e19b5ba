"""A server that adds tools at run time (`grow`) and says so: subscriptions/listen or list_changed."""

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer(name="dyn")


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` that answers with its own name."""

    def made() -> str:
        return f"I am {name}"

    server.add_tool(made, name=name, description=f"A tool added at run time: {name}.")
    await ctx.notify_tools_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run("stdio")
