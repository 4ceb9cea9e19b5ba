"""``server list|info|validate [SERVER]``: the configured servers, one server's spec, or a health check."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["list", "info", "validate"],
        help="list: every server; info: one server's spec; validate: start, handshake, list tools",
    )
    parser.add_argument("server", nargs="?", help="server name (validate: all when left out)")


def run(session: Any, args: argparse.Namespace) -> Any:
    if args.action == "list":
        return session.servers.listing()
    if args.action == "info":
        if not args.server:
            raise UsageError("server info needs a server name: server info NAME")
        return session.servers.spec(args.server)
    return session.servers.validate([args.server] if args.server else None)


COMMAND = Command(
    "server", "List configured servers, show one, or validate that they start and answer.", configure, run
)
