"""``tokens [SERVER...] [--tools a,b] [--last]``: what progressive loading and the sandbox save."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "servers", nargs="*", help="servers to analyse (default: introspected ones, else all)"
    )
    parser.add_argument("--tools", help="comma-separated tools a task reads (tool or server.tool)")
    parser.add_argument(
        "--last",
        action="store_true",
        help="the previous %%%%mcp_execute cell: raw tool results "
        "that stayed in the sandbox versus what it printed",
    )


def run(session: Any, args: argparse.Namespace) -> Any:
    if args.last:
        last = session.last_execution
        if last is None or last.tokens is None:
            raise UsageError("no sandboxed cell has run in this session yet; run a %%mcp_execute cell first")
        return last.tokens
    tools = [t.strip() for t in args.tools.split(",") if t.strip()] if args.tools else None
    return session.tokens(args.servers or None, tools=tools)


COMMAND = Command(
    "tokens",
    "Token savings: every tool definition up front versus the progressive file tree.",
    configure,
    run,
)
