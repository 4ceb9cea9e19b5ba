"""``serve``: the servers of mcp.json, as one code-mode MCP server for any agent (search, read, execute)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from ..limits import CELL_TIMEOUT_MAX_S, MEMORY_MB
from .command import Command, seconds
from .execute import add_approval_options, approval_rules


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers", help="comma-separated servers to offer (default: every configured one)")
    parser.add_argument(
        "--http", metavar="HOST:PORT", help="serve streamable HTTP on HOST:PORT instead of stdio"
    )
    parser.add_argument(
        "--callers",
        metavar="FILE",
        help="with --http: a JSON object of caller name -> bearer token (${VAR} allowed); every "
        "request needs one, and sandbox handles work only for the caller that opened them",
    )
    parser.add_argument(
        "--expose-tools",
        default="none",
        metavar="WHICH",
        help="upstream tools to list beside code mode's three, as their servers define them (with _meta, "
        "so hosts render MCP Apps): none (default), read-only, all, or <server>.<tool>,...",
    )
    parser.add_argument(
        "--tokenize-pii",
        action="store_true",
        help="replace e-mails, phones, cards, IBANs and IPs in what execute returns with "
        "placeholders; tools get the real values back",
    )
    parser.add_argument(
        "--max-timeout",
        type=seconds,
        metavar="S",
        help="largest timeout an agent may give execute (default: the serve_max_timeout setting, 600)",
    )
    parser.add_argument(
        "--max-memory",
        type=int,
        metavar="MB",
        help="largest memory_mb an agent may give execute (default: the serve_max_memory_mb setting, 1024)",
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        metavar="N",
        help="most tool calls one execute may make to servers (default: the serve_max_calls setting, 50; "
        "0: no cap)",
    )
    parser.add_argument(
        "--park-dir",
        metavar="DIR",
        help="park idle sandbox sessions here (0o600; any replica sharing it restores them, so does a "
        "restarted serve); 'none': never park (default: the serve_park_dir setting, <data dir>/parked)",
    )
    parser.add_argument(
        "--park-after",
        type=seconds,
        metavar="S",
        help="seconds a session is idle before it is parked (default: the serve_park_after setting, 600)",
    )
    parser.add_argument(
        "--replica",
        metavar="NAME",
        help="this replica's name, the first part of its session handles (default: the host's name)",
    )
    parser.add_argument(
        "--skills",
        choices=("caller", "shared", "off"),
        help="whose saved skills a caller finds and saves to: its own ('caller'), the kernel's and CLI's "
        "('shared', one store for every caller), or none (default: the serve_skills setting, caller)",
    )
    add_approval_options(parser, "the serve_approve setting: destructive; asked of the agent's user")


def run(session: Any, args: argparse.Namespace) -> Any:
    from ..serve import serve  # the server side (the SDK, starlette, uvicorn): only for `serve`

    servers = [s.strip() for s in args.servers.split(",") if s.strip()] if args.servers else None
    unknown = [s for s in servers or [] if s not in session.server_names()]
    if unknown:
        raise UsageError(
            f"--servers names unknown server(s) {unknown}; known: {', '.join(session.server_names())}"
        )
    from ..serve.callers import read_callers  # the server side: only for `serve`

    callers = read_callers(args.callers) if args.callers else None
    if args.max_timeout is not None and args.max_timeout > CELL_TIMEOUT_MAX_S:
        raise UsageError(
            f"--max-timeout takes at most {CELL_TIMEOUT_MAX_S} seconds, got {args.max_timeout:g}"
        )
    if args.max_memory is not None and not MEMORY_MB[0] <= args.max_memory <= MEMORY_MB[1]:
        raise UsageError(f"--max-memory takes {MEMORY_MB[0]} to {MEMORY_MB[1]} MiB, got {args.max_memory}")
    if args.park_after is not None:
        session.settings.serve_park_after = args.park_after
    if args.skills is not None:
        session.settings.serve_skills = args.skills
    serve(
        session,
        servers=servers,
        http=args.http,
        tokenize_pii=args.tokenize_pii,
        callers=callers,
        max_timeout=args.max_timeout,
        max_memory_mb=args.max_memory,
        max_calls=args.max_calls,
        approve=args.approve,
        approve_tools=approval_rules(args.approve_tools),
        expose=args.expose_tools,
        park_dir=args.park_dir,
        replica=args.replica,
    )
    return ""


COMMAND = Command(
    "serve",
    "Offer the configured servers to any agent as one MCP server: search_tools, read, "
    "execute (Python in the sandbox).",
    configure,
    run,
    contexts=("cli",),
    json_output=False,
)
