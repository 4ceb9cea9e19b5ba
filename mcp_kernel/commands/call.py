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


def run(session: Any, args: argparse.Namespace) -> Any:
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"arguments are not valid JSON ({exc.msg} at column {exc.colno}): {args.arguments}"
        ) from None
    if not isinstance(arguments, dict):
        raise UsageError(
            f'arguments must be a JSON object, like \'{{"region": "EU"}}\', not {args.arguments}'
        )
    # ~6 ms: only when something may ask the person
    from ..elicitation import attached, current, terminal_asker

    in_kernel = current() is not None  # the magic attaches the kernel's asker; the CLI asks on its terminal
    asker = current() or terminal_asker()
    show = (
        _NotebookProgress(args.server, args.tool) if in_kernel else _TerminalProgress(args.server, args.tool)
    )

    def progress(value: float, total: float | None, message: str | None) -> None:
        # Arrives on the loop thread: shown by the thread that waits for the call, where its output belongs.
        asker.post(lambda: show.update(value, total, message))

    with attached(asker):
        try:
            return session.call(args.server, args.tool, arguments, progress=progress)
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


COMMAND = Command("call", "Call one tool directly with JSON arguments and show its result.", configure, run)
