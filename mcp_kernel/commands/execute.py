"""``execute FILE|-``, ``policy``, ``stats``, ``reset``, ``sandbox build``: the sandbox from the registry."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..approvals import MODES
from ..errors import UsageError
from ..models import Notice
from .command import ArgumentParser, Command, seconds


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """The options every sandboxed run takes (shared by `execute` and `%%mcp_execute`)."""
    parser.add_argument(
        "--servers",
        help="comma-separated servers the code may call (default: those with "
        "generated bindings in this session)",
    )
    parser.add_argument(
        "--timeout", dest="cell_timeout", type=seconds, metavar="S", help="wall-clock limit in seconds"
    )
    parser.add_argument("--memory", type=int, metavar="MB", help="memory limit in MiB")
    parser.add_argument("--fuel", type=int, metavar="N", help="instruction budget (wasmtime fuel)")
    parser.add_argument(
        "--disk", type=int, metavar="MB", help="most the session's /workspace may hold, in MiB"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not reuse cached tool results")
    parser.add_argument(
        "--max-calls",
        type=int,
        metavar="N",
        help="most calls the code may make to servers (0: no cap; cache hits are free)",
    )
    parser.add_argument(
        "--max-calls-per-tool",
        metavar="TOOL=N,...",
        help="most calls to one tool, e.g. demo.send_report=5 (repeatable as a comma list)",
    )
    parser.add_argument(
        "--tokenize-pii",
        action="store_true",
        default=None,
        help="replace e-mails, phones, cards, IBANs and IPs in what leaves the sandbox with "
        "placeholders (tools get the real values back)",
    )
    add_approval_options(parser, "the approve setting: never")


def add_approval_options(parser: argparse.ArgumentParser, default: str) -> None:
    """``--approve`` and ``--approve-tool``: which calls ask a person first (approvals.py)."""
    parser.add_argument(
        "--approve",
        choices=MODES,
        help=f"which calls ask a person first: always, destructive (tools not annotated read-only or "
        f"harmless) or never (default: {default})",
    )
    parser.add_argument(
        "--approve-tool",
        dest="approve_tools",
        metavar="RULE=MODE,...",
        help="the rule of one server or tool over --approve, e.g. demo.send_report=always,files=never",
    )


def add_interactive_option(parser: argparse.ArgumentParser, where: str) -> None:
    parser.add_argument(
        "--interactive",
        action="store_true",
        help=f"put the questions servers ask during the code's tool calls to you ({where}); "
        "without it they are declined",
    )


def cell_parser() -> argparse.ArgumentParser:
    """The options of ``%%mcp_execute`` (for the magic and its tab completion)."""
    from ..handover import FORMS  # pydantic models: only when the parser is built

    parser = ArgumentParser(prog="%%mcp_execute", add_help=True)
    add_limit_options(parser)
    add_interactive_option(parser, "at this frontend, one field at a time")
    parser.add_argument(
        "--session",
        metavar="NAME",
        help="run in this sandbox session (see %%mcp session; default: the current one)",
    )
    parser.add_argument(
        "--out",
        metavar="NAME",
        help="put the cell's value (its last expression) into this "
        "notebook's Python as NAME (plain Python, from JSON)",
    )
    parser.add_argument(
        "--as",
        dest="form",
        choices=FORMS,
        default="python",
        help="with --out: python (default) or dataframe (a pandas DataFrame; needs pandas)",
    )
    return parser


def asker_for(interactive: bool, person: Callable[[], Any], rerun: str) -> Any:
    """Who answers the questions asked during sandboxed code: ``person()``. Servers' questions reach them only
    when ``interactive`` (otherwise each is declined with a note that says how to answer instead); an
    approval before a call (approvals.py) always does."""
    asker = person()
    if not interactive:
        asker.declines_servers = f"sandboxed code asks nobody unless it runs with {rerun}"
    return asker


def policy_from(session: Any, args: argparse.Namespace) -> Any:
    servers = None
    if getattr(args, "servers", None):
        servers = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in servers if s not in session.server_names()]
        if unknown:
            raise UsageError(
                f"--servers names unknown server(s) {unknown}; known: {', '.join(session.server_names())}"
            )
    return session.policy(
        servers,
        timeout=args.cell_timeout,
        memory_mb=args.memory,
        fuel=args.fuel,
        cache=False if args.no_cache else None,
        disk_mb=getattr(args, "disk", None),
        tokenize_pii=getattr(args, "tokenize_pii", None),
        max_calls=getattr(args, "max_calls", None),
        max_calls_per_tool=per_tool(getattr(args, "max_calls_per_tool", None)),
        approve=getattr(args, "approve", None),
        approve_tools=approval_rules(getattr(args, "approve_tools", None)),
    )


def per_tool(text: str | None) -> dict[str, int] | None:
    """``--max-calls-per-tool demo.send_report=5,mailer.send_email=2`` as a mapping.

    >>> per_tool("demo.send_report=5")
    {'demo.send_report': 5}
    """
    if not text:
        return None
    from ..sandbox.policy import SandboxPolicy  # pydantic: only when the option is given

    return SandboxPolicy.from_limits(max_calls_per_tool=text).max_calls_per_tool


def approval_rules(text: str | None) -> dict[str, str] | None:
    """``--approve-tool demo.send_report=always,files=never`` as a mapping, each mode checked (as
    :func:`per_tool` reads its twin, by the policy's own rules).

    >>> approval_rules("demo.send_report=always, files=never")
    {'demo.send_report': 'always', 'files': 'never'}
    >>> approval_rules("files=sometimes")
    Traceback (most recent call last):
    mcp_kernel.errors.UsageError: Invalid sandbox limit: approve_tools.files must be 'always', 'destructive' or 'never' (got 'sometimes').
    """
    if not text:
        return None
    from ..sandbox.policy import SandboxPolicy  # pydantic: only when the option is given

    return dict(SandboxPolicy.from_limits(approve_tools=text).approve_tools)


def _configure_execute(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a Python file to run in the sandbox, or - for standard input")
    add_limit_options(parser)
    add_interactive_option(parser, "on this terminal")


def _run_execute(session: Any, args: argparse.Namespace) -> Any:
    if args.file == "-":
        code = sys.stdin.read()
    else:
        try:
            code = Path(args.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    from ..elicitation import terminal_asker  # ~6 ms: only when something may ask the person

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    asker = asker_for(args.interactive, terminal_asker, "`mcp-kernel execute --interactive` on a terminal")
    return session.execute(code, policy_from(session, args), on_progress=progress, asker=asker, caller="cli")


def _configure_policy(parser: argparse.ArgumentParser) -> None:
    add_limit_options(parser)


def _run_policy(session: Any, args: argparse.Namespace) -> Any:
    return policy_from(session, args)


def _configure_none(parser: argparse.ArgumentParser) -> None:
    del parser


def _configure_stats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "category",
        nargs="?",
        choices=["session", "cache", "plugins", "logs"],
        help="only this part (default: all)",
    )


def _run_stats(session: Any, args: argparse.Namespace) -> Any:
    stats = session.stats()
    if args.category in ("cache", "plugins", "logs"):
        return stats.model_copy(
            update={"storage": {k: v for k, v in stats.storage.items() if k.startswith(args.category)}}
        )
    if args.category == "session":
        return stats.model_copy(update={"storage": {}})
    return stats


def _run_reset(session: Any, args: argparse.Namespace) -> Any:
    session.reset_sandbox()
    return Notice(
        text="The sandbox session was reset: variables, state and cached tool results are gone "
        "(workspace files stay)."
    )


def _configure_session(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["new", "list", "use", "close"],
        help="new: open a session (and run cells in it); list: the live sessions; use: run cells "
        "in NAME; close: close NAME (its variables, state and workspace are gone)",
    )
    parser.add_argument("name", nargs="?", help="the session's name (new: optional; use/close: required)")


def _run_session(session: Any, args: argparse.Namespace) -> Any:
    if args.action == "list":
        return session.sandbox_sessions()
    if args.action == "new":
        name = session.open_sandbox(args.name)
        return Notice(
            text=f"Sandbox session {name!r} is open; cells run in it now (`%mcp session use default` to "
            "go back)."
        )
    if not args.name:
        raise UsageError(f"session {args.action} needs a NAME; `%mcp session list` shows them.")
    if args.action == "use":
        session.use_sandbox(args.name)
        return Notice(text=f"Cells run in sandbox session {args.name!r} now.")
    session.close_sandbox(args.name)
    return Notice(text=f"Sandbox session {args.name!r} is closed.")


def _configure_sandbox(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["build", "status"],
        help="build: build and compile the component now; status: is it cached",
    )


def _run_sandbox(session: Any, args: argparse.Namespace) -> Any:
    from ..sandbox.engine import Engine, cache_status  # wasmtime: only when a sandbox is built or run

    if args.action == "build":
        with Engine(on_progress=lambda m: print(m, file=sys.stderr, flush=True)) as engine:
            engine.component()
            timings = ", ".join(f"{k} {v:.2f} s" for k, v in engine.timings.items()) or "already cached"
        return Notice(text=f"sandbox component ready ({timings}); {cache_status()}")
    return Notice(text=cache_status())


EXECUTE = Command(
    "execute",
    "Run a Python file in the WebAssembly sandbox, calling the allowed servers' tools.",
    _configure_execute,
    _run_execute,
    contexts=("cli",),
)
POLICY = Command(
    "policy", "Show the sandbox policy a cell gets: servers, limits, grants.", _configure_policy, _run_policy
)
STATS = Command(
    "stats",
    "Counters of this session (bridge, cache, sandbox) and the size of the component cache, "
    "plugin store and logs.",
    _configure_stats,
    _run_stats,
)
RESET = Command(
    "reset",
    "Restart the sandbox session (variables and state are lost).",
    _configure_none,
    _run_reset,
    contexts=("magic",),
    json_output=False,
)
SESSION = Command(
    "session",
    "Sandbox sessions of this kernel: open a new one, list, switch, close.",
    _configure_session,
    _run_session,
    contexts=("magic",),
)
SANDBOX = Command(
    "sandbox",
    "Build the sandbox component now, or show whether it is cached.",
    _configure_sandbox,
    _run_sandbox,
)
