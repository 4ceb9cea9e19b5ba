"""Tab completion of ``%mcp`` lines in the kernel: commands, servers, tools, prompts, resource URIs, and the
values a server suggests for a prompt's or template's arguments (``completion/complete``).

The kernel's IPython completer calls :func:`matcher` for lines that start with ``%mcp``. A failure (a server that will not start, one that offers no completions) completes nothing and
never raises into the frontend.

>>> candidates(["pro"], lambda *a: [])
['prompt', 'prompts']
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any

from ..commands import COMMANDS
from ..commands.execute import cell_parser
from ..errors import MCPKernelError

__all__ = ["candidates", "cell_candidates", "complete_line", "matcher"]

# Commands whose first positional argument is a server name.
_SERVER_FIRST = {
    "call",
    "introspect",
    "generate",
    "resources",
    "read",
    "prompts",
    "prompt",
    "complete",
    "logs",
    "remove",
    "tokens",
    "server",
}

Lookup = Callable[..., list[str]]


def complete_line(session: Any, line: str, *, cell: bool = False) -> list[str]:
    """Full completions for the last word of ``line`` (text up to the cursor, ``%mcp ...``, or the first line
    of a ``%%mcp_execute`` cell with ``cell``)."""
    body = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    if line.endswith((" ", "\t")):
        body += " "
    try:
        words = shlex.split(body) if body.strip() else []
    except ValueError:  # an open quote: complete nothing rather than guess
        return []
    if not body or body[-1].isspace():
        words.append("")
    return (cell_candidates if cell else candidates)(words, _Lookup(session))


def candidates(words: Sequence[str], lookup: Lookup) -> list[str]:
    """What the last of ``words`` (the one being typed) can become, given the words before it."""
    *done, current = words
    if not done:
        names = sorted(n for n, c in COMMANDS.items() if "magic" in c.contexts)
        return [n for n in names if n.startswith(current)]
    command, args = done[0], [w for w in done[1:] if not w.startswith("-")]
    if command == "skills" and not current.startswith("-"):  # skills ACTION, then show/remove NAME
        if not args:
            return [a for a in ("list", "show", "remove", "export", "import") if a.startswith(current)]
        return (
            [n for n in lookup("skills") if n.startswith(current)]
            if args == ["show"] or args == ["remove"]
            else []
        )
    if current.startswith("-") or command not in _SERVER_FIRST:
        return []
    if not args:
        return [s for s in lookup("servers") if s.startswith(current)]
    server = args[0]
    try:
        options = _second_and_later(command, server, args[1:], current, lookup)
    except MCPKernelError:
        return []
    return [o for o in options if o.startswith(current)]


def cell_candidates(words: Sequence[str], lookup: Lookup) -> list[str]:
    """What the last of ``words`` can become on a ``%%mcp_execute`` line: its options, the servers after
    ``--servers`` (comma-separated: the last name is completed) and the sandbox sessions after ``--session``."""
    *done, current = words
    previous = done[-1] if done else ""
    if previous == "--servers":
        head, _, typed = current.rpartition(",")
        chosen = set(head.split(",")) if head else set()
        prefix = f"{head}," if head else ""
        return [prefix + s for s in lookup("servers") if s.startswith(typed) and s not in chosen]
    if previous == "--session":
        return [s for s in lookup("sessions") if s.startswith(current)]
    if not current.startswith("-"):
        return []
    used = set(done)
    options = [o for action in cell_parser()._actions for o in action.option_strings if o.startswith("--")]
    return [o for o in options if o.startswith(current) and o not in used]


def _second_and_later(command: str, server: str, rest: list[str], current: str, lookup: Lookup) -> list[str]:
    if command == "call" and not rest:
        return lookup("tools", server)
    if command == "read" and not rest:
        return lookup("uris", server)
    if command in ("prompt", "complete") and not rest:
        return lookup("prompts", server) + (lookup("templates", server) if command == "complete" else [])
    if command == "prompt" and rest:
        name, chosen = rest[0], dict(w.partition("=")[::2] for w in rest[1:] if "=" in w)
        key, eq, typed = current.partition("=")
        if not eq:
            return [f"{a}=" for a in lookup("arguments", server, name) if a not in chosen]
        return [f"{key}={v}" for v in lookup("values", server, name, key, typed, chosen)]
    return []


class _Lookup:
    """Answers ``candidates``' questions from a :class:`~mcp_kernel.session.Session`."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, what: str, *args: Any) -> list[str]:
        return list(getattr(self, what)(*args))

    def servers(self) -> list[str]:
        return list(self.session.server_names())

    def skills(self) -> list[str]:
        return self.session.skills.names()

    def sessions(self) -> list[str]:
        return [s.handle for s in self.session.sandbox_sessions().sessions]

    def tools(self, server: str) -> list[str]:
        return [t.name for t in self.session.tools(server)]

    def uris(self, server: str) -> list[str]:
        listing = self.session.servers.resources(server)
        return [r.uri for r in listing.resources]

    def templates(self, server: str) -> list[str]:
        return [t.uri_template for t in self.session.servers.resources(server).templates]

    def prompts(self, server: str) -> list[str]:
        return [p.name for p in self.session.servers.prompts(server).prompts]

    def arguments(self, server: str, prompt: str) -> list[str]:
        found = next((p for p in self.session.servers.prompts(server).prompts if p.name == prompt), None)
        return [a.name for a in found.arguments] if found else []

    def values(
        self, server: str, prompt: str, argument: str, typed: str, chosen: dict[str, str]
    ) -> list[str]:
        return self.session.servers.complete(server, "prompt", prompt, argument, typed, chosen or None).values


def matcher(session_of: Callable[[], Any]) -> Any:
    """An IPython completion matcher (API v2) for ``%mcp`` lines: it offers the completed current word and
    hides every other matcher's guesses (Jedi's Python names mean nothing there)."""
    # IPython's completer: only when the matcher is registered
    from IPython.core.completer import SimpleCompletion, context_matcher

    @context_matcher()
    def mcp_matcher(context: Any) -> dict[str, Any]:
        lines = context.text_until_cursor.split("\n")
        line = lines[-1]
        cell = len(lines) == 1 and line.lstrip().startswith("%%mcp_execute")  # the magic's own line
        if not cell and (not line.lstrip().startswith("%mcp ") or line.lstrip().startswith("%mcp_")):
            return {"completions": [], "suppress": False}
        current = "" if line[-1].isspace() else line.split()[-1]
        try:
            found = complete_line(session_of(), line.lstrip(), cell=cell)
        except Exception:
            found = []
        return {
            "completions": [SimpleCompletion(text=f, type="mcp") for f in found],
            "matched_fragment": current,
            "suppress": True,
            "ordered": True,
        }

    return mcp_matcher
