"""What a command is: :class:`Command`, the parser that never exits the process, and the argument types the
commands share. A low room of the command package: each command's module imports it, and the registry
(``commands/__init__.py``) imports each command, never the other way round.

>>> seconds("2.5")
2.5
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ..errors import UsageError

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["ArgumentParser", "Command", "Context", "parse_pairs", "seconds", "whole_parser"]

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
    takes_rest: bool = False  # whether words after `--` belong to it (a server command line)


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of exiting the process (or kernel)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        # --help prints and then exits through here; a kernel must not die of it.
        raise _HelpShown(message or "")


class _HelpShown(Exception):
    """Raised after argparse printed help; callers treat it as a normal, empty result."""


def parse_pairs(words: list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` words as a dict (``--header``, ``--env``, prompt arguments); anything else is a usage error.

    >>> parse_pairs(["a=1", "b=x=y"], "--env")
    {'a': '1', 'b': 'x=y'}
    """
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} must look like KEY=VALUE, got {word!r}")
        pairs[key] = value
    return pairs


def seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 (``--timeout -1`` is refused, not a broken wait).

    >>> seconds("2.5")
    2.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


# The registry's build_parser, set by commands/__init__.py when it loads: the one command that describes
# every command (completions) reaches the whole parser through it without importing the registry.
_WHOLE_PARSER: list[Callable[[str, Context], ArgumentParser]] = []


def whole_parser(prog: str, context: Context = "cli") -> ArgumentParser:
    """The parser of every command, as the registry builds it."""
    return _WHOLE_PARSER[0](prog, context)
