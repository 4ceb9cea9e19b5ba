"""``generate SERVER``, ``vfs [PATH]``, ``cat PATH``: bindings and the progressive file tree."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from .command import Command


def _configure_generate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument(
        "--lang", default="python", help="comma-separated: python,typescript (default python)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="also write the tree into DIR: a new or empty directory, or "
        "one an earlier --out wrote (its files are updated; nothing else in it is touched); a "
        "non-empty directory mcp-kernel did not write is refused",
    )
    parser.add_argument("--refresh", action="store_true", help="introspect the server again first")
    parser.add_argument("--save-plugin", action="store_true", help="save the bindings in the plugin store")
    parser.add_argument("--store", metavar="DIR", help="plugin store directory (default: the user data dir)")


def _run_generate(session: Any, args: argparse.Namespace) -> Any:
    languages = tuple(dict.fromkeys(x.strip() for x in args.lang.split(",") if x.strip()))
    if not languages:
        raise UsageError("--lang needs at least one of python,typescript")
    report = session.generate(args.server, languages=languages, out=args.out, refresh=args.refresh)
    if args.save_plugin:
        path = session.bindings.save_plugin(args.server, store=args.store)
        report = report.model_copy(update={"plugin": str(path)})
    return report


def _configure_vfs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default="/mcp-tools", help="a directory under /mcp-tools")
    parser.add_argument("--depth", type=int, default=None, help="how many levels to show (default: all)")


def _run_vfs(session: Any, args: argparse.Namespace) -> Any:
    return session.tree(args.path, args.depth)


def _configure_cat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a file under /mcp-tools, e.g. /mcp-tools/servers/demo/query_sales.py")


def _run_cat(session: Any, args: argparse.Namespace) -> Any:
    return session.read(args.path)


GENERATE = Command(
    "generate",
    "Generate typed bindings, a manifest and a SKILL.md for a server.",
    _configure_generate,
    _run_generate,
)
VFS = Command("vfs", "Show the virtual filesystem of generated bindings as a tree.", _configure_vfs, _run_vfs)
CAT = Command("cat", "Print one file of the virtual filesystem.", _configure_cat, _run_cat)
