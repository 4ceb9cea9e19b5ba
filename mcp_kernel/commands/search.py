"""``search QUERY [--detail name|summary|signature|full] [--server S]``: find tools without loading every schema."""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="words to find in tool names, titles and descriptions")
    parser.add_argument(
        "--detail",
        choices=["name", "summary", "signature", "full"],
        default="summary",
        help="name: names only; summary: plus one line; signature: the typed signature and first "
        "sentence, as the server's index has it; full: plus schemas (default summary)",
    )
    parser.add_argument(
        "--server",
        action="append",
        dest="servers",
        metavar="NAME",
        help="search this server (repeatable; default: every introspected server, or every "
        "configured one when none is)",
    )


def run(session: Any, args: argparse.Namespace) -> Any:
    servers = args.servers
    if not servers and not session.registry.servers():
        servers = session.server_names()
    return session.search(args.query, detail=args.detail, servers=servers)


COMMAND = Command(
    "search", "Find tools by name, title or description at a chosen level of detail.", configure, run
)
