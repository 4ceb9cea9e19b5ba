"""``install`` / ``uninstall``: the "MCP (Python)" kernelspec for Jupyter."""

from __future__ import annotations

import argparse
from typing import Any

from . import Command


def _configure_install(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="install into this Python environment")
    where.add_argument("--prefix", metavar="P", help="install under prefix P")


def _run_install(session: Any, args: argparse.Namespace) -> Any:
    from ..kernelspec import install

    return install(user=args.user, sys_prefix=args.sys_prefix, prefix=args.prefix)


def _configure_uninstall(parser: argparse.ArgumentParser) -> None:
    del parser


def _run_uninstall(session: Any, args: argparse.Namespace) -> Any:
    from ..kernelspec import uninstall

    return uninstall()


INSTALL = Command("install", "Install the 'MCP (Python)' Jupyter kernel.", _configure_install, _run_install,
                  contexts=("cli",))
UNINSTALL = Command("uninstall", "Remove the 'MCP (Python)' Jupyter kernel.", _configure_uninstall, _run_uninstall,
                    contexts=("cli",))
