"""``call SERVER TOOL [JSON]``: call one tool directly, outside the sandbox."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import UsageError
from . import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("tool", help="tool name")
    parser.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object")


def run(session: Any, args: argparse.Namespace) -> Any:
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        raise UsageError(f"arguments are not valid JSON ({exc.msg} at column {exc.colno}): {args.arguments}") from None
    if not isinstance(arguments, dict):
        raise UsageError(f"arguments must be a JSON object, like '{{\"region\": \"EU\"}}', not {args.arguments}")
    from ..elicitation import attached, current, terminal_asker

    asker = current() or terminal_asker()  # the magic attaches the kernel's; the CLI asks on its terminal
    with attached(asker):
        return session.call(args.server, args.tool, arguments)


COMMAND = Command("call", "Call one tool directly with JSON arguments and show its result.", configure, run)
