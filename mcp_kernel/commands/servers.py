"""Session commands for ``%mcp``: add, load, remove, servers, logs (a notebook's own server set)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..models import LogExcerpt, ServerAdded, ServerSpec
from .command import Command, parse_pairs


def _configure_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a name for the server in this session")
    parser.add_argument("--url", help="streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument(
        "--header", action="append", default=[], metavar="K=V", help="HTTP header (repeatable)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="environment variable for a stdio server (repeatable)",
    )
    parser.add_argument("--cwd", help="working directory for a stdio server")
    parser.epilog = "After --: the command and arguments that start a stdio server."


def _refuse_shared_bindings(session: Any, names: list[str], where: str) -> None:
    """Names that sanitise to one bindings directory would overwrite each other's bindings: refuse them."""
    from ..config import check_server_ids  # mcp.json parsing: only when servers are added

    check_server_ids([*session.server_names(), *names], where)


def _run_add(session: Any, args: argparse.Namespace) -> Any:
    _refuse_shared_bindings(session, [args.name], "add")
    if bool(args.url) == bool(args.rest):
        raise UsageError(
            "give either --url URL or -- COMMAND ARGS..., e.g. `%mcp add demo -- python -m "
            "mcp_kernel.demo` or `%mcp add web --url http://127.0.0.1:8000/mcp`"
        )
    if args.url:
        spec = ServerSpec(name=args.name, url=args.url, headers=parse_pairs(args.header, "--header"))
    else:
        spec = ServerSpec(
            name=args.name,
            command=_anchored(args.rest[0], args.cwd),
            args=args.rest[1:],
            env=parse_pairs(args.env, "--env"),
            cwd=args.cwd,
        )
    session.add_server(spec, replace=True)
    return added(session.introspect(args.name))


def _anchored(command: str, cwd: str | None) -> str:
    """A relative path to a program, made absolute from where it was typed (the kernel's folder, or --cwd):
    a later `%cd` or a restart elsewhere then starts the same program. Anything else is left as typed."""
    if os.sep not in command or Path(command).is_absolute():
        return command
    path = (Path(cwd) if cwd else Path.cwd()) / command
    return str(path.resolve()) if path.exists() else command  # a missing one: the start error explains


def added(found: Any) -> Any:
    """The short answer to ``add``: a notebook that adds three servers should not show three tool tables."""
    return ServerAdded(
        server_name=found.server_name,
        server=found.server,
        tools=[t.name for t in found.tools],
        duration_ms=found.duration_ms,
    )


def _configure_load(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="an mcp.json file (mcpServers format)")


def _run_load(session: Any, args: argparse.Namespace) -> Any:
    from ..config import ServerConfig  # mcp.json parsing: only for `load`

    config = ServerConfig.from_file(args.file)
    _refuse_shared_bindings(session, list(config.servers), str(args.file))
    for spec in config.servers.values():
        session.add_server(spec, replace=True)
    return session.servers.listing()


def _configure_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="server name")


def _run_remove(session: Any, args: argparse.Namespace) -> Any:
    session.remove_server(args.name)
    return session.servers.listing()


def _configure_none(parser: argparse.ArgumentParser) -> None:
    del parser


def _run_servers(session: Any, args: argparse.Namespace) -> Any:
    return session.servers.listing()


def _configure_logs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="server name")
    parser.add_argument("-n", "--lines", type=int, default=40, help="how many lines (default 40)")


def _run_logs(session: Any, args: argparse.Namespace) -> Any:
    conn = session.connection(args.name)
    return LogExcerpt(server=args.name, path=str(conn.log_path), text=conn.log_tail(args.lines))


ADD = Command(
    "add",
    "Add a server to this session: NAME -- COMMAND ARGS... or NAME --url URL.",
    _configure_add,
    _run_add,
    contexts=("magic",),
    takes_rest=True,
)
LOAD = Command(
    "load",
    "Add every server of an mcp.json file to this session.",
    _configure_load,
    _run_load,
    contexts=("magic",),
)
REMOVE = Command(
    "remove",
    "Stop a server and remove it from this session.",
    _configure_name,
    _run_remove,
    contexts=("magic",),
)
SERVERS = Command(
    "servers",
    "The servers of this session and whether they are connected.",
    _configure_none,
    _run_servers,
    contexts=("magic",),
)
LOGS = Command("logs", "The last lines a stdio server wrote to stderr.", _configure_logs, _run_logs)
