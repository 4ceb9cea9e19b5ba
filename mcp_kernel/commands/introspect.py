"""``introspect SERVER``: the server's handshake info and every tool with its schemas and hints."""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name (from mcp.json, added in the session, or 'demo')")
    parser.add_argument(
        "--refresh", action="store_true", help="ask the server again instead of using the cache"
    )


def run(session: Any, args: argparse.Namespace) -> Any:
    return session.introspect(args.server, refresh=args.refresh)


COMMAND = Command(
    "introspect", "List a server's tools with their input/output schemas and annotations.", configure, run
)
