"""The command reference (docs/reference.md), generated from the one command registry.

Regenerate with ``python -m mcp_kernel.reference > docs/reference.md``; a test fails when the committed
page differs from what the registry generates, so the docs cannot drift from the code.
"""

from __future__ import annotations

import argparse

from .commands import COMMANDS, build_parser

__all__ = ["render_reference"]


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = ", ".join(action.option_strings) or action.dest
        if action.metavar and action.option_strings:
            name += f" {action.metavar}"
        choices = f" ({', '.join(map(str, action.choices))})" if action.choices else ""
        text = (action.help or "").replace("|", "\\|").replace("%%", "%")
        rows.append(f"| `{name}` | {text}{choices} |")
    return rows


def render_reference() -> str:
    """The Markdown reference of every command, for the CLI and the magic."""
    cli, magic = build_parser("mcp-kernel", "cli"), build_parser("%mcp", "magic")
    out = [
        "# Command reference",
        "",
        "Generated from the command registry (`mcp_kernel/commands/`) by `python -m mcp_kernel.reference`;",
        "do not edit by hand. Every command is `mcp-kernel COMMAND` in a shell and `%mcp COMMAND` in a notebook",
        "unless marked otherwise; both take the same flags (the shell adds `--config FILE` and a server timeout).",
        "",
    ]
    for name in sorted(COMMANDS):
        command = COMMANDS[name]
        where = {("cli", "magic"): "shell and notebook", ("cli",): "shell only", ("magic",): "notebook only"}
        parser = _subparser(cli if "cli" in command.contexts else magic, name)
        assert parser is not None
        usage = " ".join(parser.format_usage().split())
        usage = usage.removeprefix("usage: ")
        out += [f"## `{name}`", "", f"{command.help} *({where[command.contexts]})*", "", f"    {usage}", ""]
        out += ["| argument | meaning |", "| --- | --- |", *_rows(parser), ""]
        if command.takes_rest:
            out += ["Words after `--` are the server's own command line.", ""]
    out += [
        "## `%%mcp_execute` (cell magic)",
        "",
        "Runs the cell in the WebAssembly sandbox; output streams as it is printed, the final expression's value",
        "is displayed, and a footer sums up tool calls, time, fuel and the tokens that stayed in the sandbox.",
        "",
        "    %%mcp_execute [--servers a,b] [--timeout S] [--memory MB] [--fuel N] [--no-cache] [--interactive]",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(render_reference(), end="")
