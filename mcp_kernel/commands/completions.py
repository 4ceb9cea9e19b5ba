"""``completions bash|zsh|fish``: a shell completion script generated from the same argparse parser."""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command, whole_parser


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete for")


def run(session: Any, args: argparse.Namespace) -> Any:
    return completion_script(whole_parser("mcp-kernel", "cli"), args.shell)


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``: shtab for bash and zsh, a generated one for fish."""
    if shell in ("bash", "zsh"):
        import shtab  # shtab: only when completions are printed

        return shtab.complete(parser, shell=shell)
    return _fish(parser)


def _fish(parser: argparse.ArgumentParser) -> str:
    # shtab has no fish backend: walk the same parser and emit `complete` lines.
    lines = [
        "# fish completion for mcp-kernel (generated from its argparse parser)",
        "complete -c mcp-kernel -f",
    ]
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in subs._choices_actions}
    for name, sub in subs.choices.items():
        desc = (helps.get(name) or "").replace("'", "\\'")
        lines.append(f"complete -c mcp-kernel -n '__fish_use_subcommand' -a {name} -d '{desc}'")
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--"):
                    text = (action.help or "").replace("'", "\\'")
                    lines.append(
                        f"complete -c mcp-kernel -n '__fish_seen_subcommand_from {name}' "
                        f"-l {option[2:]} -d '{text}'"
                    )
            if (
                action.choices
                and not action.option_strings
                and not isinstance(action, argparse._SubParsersAction)
            ):
                values = " ".join(str(c) for c in action.choices)
                lines.append(f"complete -c mcp-kernel -n '__fish_seen_subcommand_from {name}' -a '{values}'")
    return "\n".join(lines) + "\n"


COMMAND = Command(
    "completions",
    "Print a shell completion script (bash, zsh or fish).",
    configure,
    run,
    contexts=("cli",),
    json_output=False,
)
