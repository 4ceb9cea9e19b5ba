"""``audit``: the audit trail of side-effecting tool calls (mcp_kernel/audit.py), as a table with filters.

For example: ``mcp-kernel audit --tool send_report --since 1d`` or ``%mcp audit --outcome refused``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="only calls to this server")
    parser.add_argument("--tool", help="only calls of this tool")
    parser.add_argument("--caller", help='only calls by this caller (serve\'s caller, "notebook", "cli")')
    parser.add_argument(
        "--outcome", help="only calls that ended so: ok, error, refused (or e.g. refused: budget)"
    )
    parser.add_argument(
        "--since", metavar="WHEN", help="only calls since: a span back (30m, 2h, 7d) or an ISO time"
    )
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="the last N matching calls (default 50)"
    )


def run(session: Any, args: argparse.Namespace) -> Any:
    del session
    from ..audit import read_audit, since_time  # the trail's reader: only for this command

    return read_audit(
        server=args.server,
        tool=args.tool,
        caller=args.caller,
        outcome=args.outcome,
        since=since_time(args.since) if args.since else None,
        limit=max(args.limit, 0),
    )


COMMAND = Command(
    "audit",
    "The audit trail: every call to a tool that is not read-only (hashes of the arguments, never values).",
    configure,
    run,
)
