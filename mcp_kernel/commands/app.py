"""``app SERVER TOOL [JSON]``: call a tool that has an MCP Apps view and show the view, live, in the notebook.

Magic-only: a terminal cannot show a view (``mcp-kernel call`` prints the result).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..apps.resource import view_uri
from ..errors import AppError
from . import call
from .command import Command


def run(session: Any, args: argparse.Namespace) -> Any:
    arguments = call.arguments_of(args.arguments)
    info = session.servers.tool_info(args.server, args.tool)
    if view_uri(info) is None:  # before the call: a tool without a view is not called for nothing
        raise AppError(
            f"{args.server}.{args.tool} has no view (its _meta names no ui:// resource). "
            f"`%mcp call {args.server} {args.tool}` shows its result."
        )
    result = call.call_tool(session, args.server, args.tool, arguments)
    from ..apps.view import open_view  # anywidget and ipywidgets: only when a view is shown

    return open_view(session, result, arguments)


COMMAND = Command(
    "app",
    "Call a tool that has an MCP Apps view and show the view in the notebook, live: its requests "
    "(tool calls, reads, links) go through the kernel's session to the tool's own server.",
    call.configure,
    run,
    contexts=("magic",),
    json_output=False,
)
