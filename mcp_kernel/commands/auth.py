"""``auth login|status|logout SERVER``: sign in to a server that needs OAuth, see the sign-in, or forget it."""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["login", "status", "logout"],
        help="login: sign in now (a link to open); status: what is stored (never a token); "
        "logout: forget the tokens",
    )
    parser.add_argument("server", help="server name (its mcp.json entry has an oauth block)")


def run(session: Any, args: argparse.Namespace) -> Any:
    if args.action == "status":
        return session.servers.auth_status(args.server)
    if args.action == "logout":
        return session.servers.auth_logout(args.server)
    return session.servers.auth_login(args.server)


COMMAND = Command(
    "auth", "Sign in to a server that needs OAuth, show the stored sign-in, or sign out.", configure, run
)
