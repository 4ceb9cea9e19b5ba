"""``call SERVER TOOL [JSON]``: call one tool directly, outside the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import UsageError
from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("tool", help="tool name")
    parser.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object")


def arguments_of(text: str) -> dict[str, Any]:
    """The JSON object of a command line's arguments; a usage error names what is wrong.

    >>> arguments_of('{"region": "EU"}')
    {'region': 'EU'}
    """
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"arguments are not valid JSON ({exc.msg} at column {exc.colno}): {text}") from None
    if not isinstance(arguments, dict):
        raise UsageError(f'arguments must be a JSON object, like \'{{"region": "EU"}}\', not {text}')
    return arguments


def run(session: Any, args: argparse.Namespace) -> Any:
    arguments = arguments_of(args.arguments)
    result = call_tool(session, args.server, args.tool, arguments)
    if getattr(args, "json", False) or not in_notebook():
        return result
    from ..apps.results import view_of  # IPython's display: only in a notebook

    return view_of(result) or result  # the view, as `%mcp app` gives it: `_.result` is the call's result


def in_notebook() -> bool:
    """Whether the command runs in a notebook (the magic attaches the kernel's asker; the CLI does not)."""
    from ..elicitation import current  # ~6 ms: only when a command asks

    return current() is not None


def call_tool(session: Any, server: str, tool: str, arguments: dict[str, Any]) -> Any:
    """Call ``server``'s ``tool``, its progress shown under the cell or on the terminal."""
    # ~6 ms: only when something may ask the person
    from ..elicitation import attached, current, terminal_asker

    asker = current() or terminal_asker()
    show = _NotebookProgress(server, tool) if in_notebook() else _TerminalProgress(server, tool)

    def progress(value: float, total: float | None, message: str | None) -> None:
        # Arrives on the loop thread: shown by the thread that waits for the call, where its output belongs.
        asker.post(lambda: show.update(value, total, message))

    with attached(asker):
        try:
            return session.call(server, tool, arguments, progress=progress)
        finally:
            show.close()


class _TerminalProgress:
    """One stderr line that updates in place on a terminal (one line per update on a pipe)."""

    def __init__(self, server: str, tool: str) -> None:
        self.server, self.tool, self.stream = server, tool, sys.stderr
        self.tty = self.stream.isatty()
        self.shown = False

    def update(self, value: float, total: float | None, message: str | None) -> None:
        amount = f"{value:g}/{total:g} ({value / total:.0%})" if total else f"{value:g}"
        line = f"{self.server}.{self.tool}: {amount}" + (f" - {message}" if message else "")
        self.stream.write(f"\r\x1b[2K{line}" if self.tty else f"{line}\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class _NotebookProgress:
    """A display that updates in place under the cell (created with the first update)."""

    def __init__(self, server: str, tool: str) -> None:
        self.server, self.tool = server, tool
        self.handle: Any = None

    def update(self, value: float, total: float | None, message: str | None) -> None:
        from IPython.display import display  # IPython's display and the renderers: only in a notebook

        from ..display import progress_bundle

        bundle = progress_bundle(self.server, self.tool, value, total, message)
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)

    def close(self) -> None:
        pass


COMMAND = Command(
    "call",
    "Call one tool directly with JSON arguments and show its result (in a notebook, with its MCP Apps view "
    "when the tool has one).",
    configure,
    run,
)
