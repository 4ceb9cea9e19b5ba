"""The one command registry behind ``mcp-kernel <command>`` and ``%mcp <command>``.

Each command is defined once, in its own module, as a :class:`Command`: its name, help, arguments and a
handler that calls the core API (:class:`mcp_kernel.session.Session`) and returns a result object. The
CLI, the magic, shell completions and the reference docs are all built from :data:`COMMANDS`.

>>> parser = build_parser("mcp-kernel")
>>> parser.parse_args(["introspect", "demo", "--json"]).json
True
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ..errors import UsageError

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["Command", "COMMANDS", "ArgumentParser", "build_parser"]

Context = Literal["cli", "magic"]


@dataclass(frozen=True)
class Command:
    """One subcommand: ``configure`` adds its arguments, ``run`` does the work through the session."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Session, argparse.Namespace], Any]
    contexts: tuple[Context, ...] = ("cli", "magic")
    json_output: bool = True


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of exiting the process (or kernel)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        # --help prints and then exits through here; a kernel must not die of it.
        raise _HelpShown(message or "")


class _HelpShown(Exception):
    """Raised after argparse printed help; callers treat it as a normal, empty result."""


def _commands() -> dict[str, Command]:
    from . import call, completions, debug, demo, introspect, kernelspec, search, server, servers, settings

    found = [
        servers.ADD, servers.LOAD, servers.REMOVE, servers.SERVERS,
        introspect.COMMAND, search.COMMAND, call.COMMAND, servers.LOGS, server.COMMAND, demo.COMMAND,
        kernelspec.INSTALL, kernelspec.UNINSTALL, settings.COMMAND, debug.COMMAND, completions.COMMAND,
    ]
    return {c.name: c for c in found}


COMMANDS: dict[str, Command] = _commands()


def build_parser(prog: str, context: Context = "cli") -> ArgumentParser:
    """The parser for every command available in ``context``."""
    parser = ArgumentParser(prog=prog, description="Code execution with MCP: introspect servers, generate "
                            "bindings, run sandboxed code.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for command in COMMANDS.values():
        if context not in command.contexts:
            continue
        sub = subs.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        if context == "cli":
            sub.add_argument("--config", metavar="FILE", help="mcp.json to read servers from "
                             "(default: ./mcp.json, then the user config dir)")
            sub.add_argument("--timeout", type=float, default=None, metavar="S",
                             help="seconds to wait for a server (default 30)")
        if command.json_output:
            sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        sub.set_defaults(handler=command.run)
    return parser
