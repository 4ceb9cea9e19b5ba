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
import re
from typing import Any

from ..errors import UsageError
from ..models import CommandList, CommandSummary
from . import (
    app,
    audit,
    auth,
    call,
    completions,
    debug,
    demo,
    execute,
    generate,
    introspect,
    kernelspec,
    plugin,
    resources,
    search,
    serve,
    server,
    servers,
    settings,
    skills,
    tokens,
)
from .command import _WHOLE_PARSER, ArgumentParser, Command, Context, _HelpShown, parse_pairs, seconds  # noqa: F401 - the names commands and shells import from here

__all__ = ["COMMANDS", "ArgumentParser", "Command", "build_parser", "command_list", "parse", "parse_pairs"]


def _commands() -> dict[str, Command]:
    found = [
        servers.ADD,
        servers.LOAD,
        servers.REMOVE,
        servers.SERVERS,
        introspect.COMMAND,
        generate.GENERATE,
        generate.VFS,
        generate.CAT,
        search.COMMAND,
        tokens.COMMAND,
        audit.COMMAND,
        plugin.COMMAND,
        skills.COMMAND,
        call.COMMAND,
        app.COMMAND,
        resources.RESOURCES,
        resources.READ,
        resources.PROMPTS,
        resources.PROMPT,
        resources.COMPLETE,
        resources.WATCH,
        servers.LOGS,
        auth.COMMAND,
        execute.EXECUTE,
        execute.POLICY,
        execute.STATS,
        execute.RESET,
        execute.SESSION,
        execute.SANDBOX,
        server.COMMAND,
        demo.COMMAND,
        serve.COMMAND,
        kernelspec.INSTALL,
        kernelspec.UNINSTALL,
        settings.COMMAND,
        debug.COMMAND,
        completions.COMMAND,
    ]
    return {c.name: c for c in found}


COMMANDS: dict[str, Command] = _commands()


def build_parser(prog: str, context: Context = "cli") -> ArgumentParser:
    """The parser for every command available in ``context``."""
    parser = ArgumentParser(
        prog=prog,
        description="Code execution with MCP: introspect servers, generate bindings, run sandboxed code.",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for command in COMMANDS.values():
        if context not in command.contexts:
            continue
        sub = subs.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        if context == "cli":
            sub.add_argument(
                "--config",
                metavar="FILE",
                help="mcp.json to read servers from (default: ./mcp.json, then the user config dir)",
            )
            sub.add_argument(
                "--server-timeout" if "--timeout" in sub._option_string_actions else "--timeout",
                dest="timeout",
                type=seconds,
                default=None,
                metavar="S",
                help="seconds to wait for a server (default 30)",
            )
        if command.json_output:
            sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        sub.set_defaults(handler=command.run)
    return parser


def command_list(prog: str, context: Context = "cli") -> Any:
    """The commands of ``context`` with the first sentence of their help (what ``%mcp help`` shows).

    >>> command_list("%mcp", "magic").commands[0].name
    'add'
    """

    def first_sentence(text: str) -> str:
        return re.split(r"(?<=[a-z)])\.\s", " ".join(text.split()), maxsplit=1)[0].rstrip(".")

    rows = [
        CommandSummary(name=c.name, summary=first_sentence(c.help))
        for c in COMMANDS.values()
        if context in c.contexts
    ]
    hint = (
        f"`{prog} COMMAND -h` explains one command; `%%mcp_execute -h` the sandboxed cell's options."
        if context == "magic"
        else f"`{prog} COMMAND -h` explains one command."
    )
    return CommandList(prog=prog, commands=rows, hint=hint)


def parse(parser: ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; words after the first ``--`` go to ``args.rest`` (a server's own command line).

    argparse cannot hand ``--`` through a subparser, so it is split off here, once, for the CLI and
    the magic alike.
    """
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    command = COMMANDS.get(getattr(args, "command", None) or "")
    if rest and (command is None or not command.takes_rest):
        raise UsageError(f"{parser.prog}: unexpected words after --: {' '.join(rest)}")
    args.rest = rest
    return args


_WHOLE_PARSER.append(build_parser)
