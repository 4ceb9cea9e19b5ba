"""``resources``, ``read``, ``prompts`` and ``prompt``: what a server offers besides tools."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from ..errors import UsageError
from ..models import Notice
from .command import Command, parse_pairs


def _configure_resources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")


def _run_resources(session: Any, args: argparse.Namespace) -> Any:
    return session.servers.resources(args.server)


def _configure_read(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument(
        "uri", help="the resource's URI, as `resources SERVER` lists it (or one a template fits)"
    )


def _run_read(session: Any, args: argparse.Namespace) -> Any:
    return session.servers.read_resource(args.server, args.uri)


def _configure_prompts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")


def _run_prompts(session: Any, args: argparse.Namespace) -> Any:
    return session.servers.prompts(args.server)


def _configure_prompt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("prompt", help="prompt name")
    parser.add_argument("arguments", nargs="*", metavar="KEY=VALUE", help="the prompt's arguments")


def _run_prompt(session: Any, args: argparse.Namespace) -> Any:
    return session.servers.prompt(args.server, args.prompt, parse_pairs(args.arguments, "prompt arguments"))


def _configure_complete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("name", help="a prompt name, or a resource template (a URI with {placeholders})")
    parser.add_argument(
        "argument", metavar="ARGUMENT[=TYPED]", help="the argument to complete, and what is typed so far"
    )
    parser.add_argument("context", nargs="*", metavar="KEY=VALUE", help="arguments already chosen")


def _run_complete(session: Any, args: argparse.Namespace) -> Any:
    argument, _, typed = args.argument.partition("=")
    ref = "resource" if "://" in args.name or "{" in args.name else "prompt"
    return session.servers.complete(
        args.server, ref, args.name, argument, typed, parse_pairs(args.context, "context arguments") or None
    )


def _configure_watch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("uri", help="the resource to follow")
    parser.add_argument(
        "--count", type=int, metavar="N", help="in a terminal: stop after N updates (default: until Ctrl-C)"
    )
    parser.add_argument("--stop", action="store_true", help="in a notebook: stop following it")


def _run_watch(session: Any, args: argparse.Namespace) -> Any:
    """In a notebook: the resource shown once and redrawn in place at each update, until `--stop`.
    In a terminal: printed, then printed again at each update, until Ctrl-C or `--count` updates."""
    import queue  # only a watch in a terminal waits on a queue (the CLI does not load it otherwise)

    try:
        from IPython import get_ipython  # IPython: only to tell a notebook from a terminal
    except ImportError:  # the CLI without IPython installed: a terminal
        get_ipython = None
    if args.stop:
        if not session.unwatch(args.server, args.uri):
            raise UsageError(f"{args.uri} of {args.server} is not being watched here.")
        return Notice(text=f"Stopped watching {args.uri} of {args.server}.")
    if get_ipython is not None and get_ipython() is not None:
        return _watch_in_notebook(session, args)
    updates: queue.Queue[str] = queue.Queue()
    stop = session.watch(args.server, args.uri, updates.put)
    from ..display import to_text  # the renderers: only to print a resource

    print(to_text(session.servers.read_resource(args.server, args.uri)), flush=True)
    seen = 0
    try:
        while args.count is None or seen < args.count:
            updates.get()
            seen += 1
            print(f"--- updated ({seen})", flush=True)
            print(to_text(session.servers.read_resource(args.server, args.uri)), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return ""


def _watch_in_notebook(session: Any, args: argparse.Namespace) -> Any:
    from IPython.display import display  # IPython's display: only in a notebook

    if session.watched(args.server, args.uri):
        raise UsageError(
            f"{args.uri} of {args.server} is already watched; `%mcp watch {args.server} {args.uri} "
            "--stop` first."
        )
    shown = display(session.servers.read_resource(args.server, args.uri), display_id=True)
    lock = threading.Lock()

    def redraw(uri: str) -> None:  # on the loop thread: read again elsewhere, never block it
        def work() -> None:
            with lock:
                try:
                    shown.update(session.servers.read_resource(args.server, args.uri))
                except Exception as exc:
                    shown.update({"text/plain": f"{args.uri}: could not read the update ({exc})"}, raw=True)

        threading.Thread(target=work, name="mcp-kernel-watch", daemon=True).start()

    session.watch(args.server, args.uri, redraw)
    return None


RESOURCES = Command(
    "resources", "List a server's resources and resource templates.", _configure_resources, _run_resources
)
READ = Command(
    "read",
    "Read one resource of a server by URI (text, JSON, or a blob's size and type).",
    _configure_read,
    _run_read,
)
PROMPTS = Command("prompts", "List a server's prompts and their arguments.", _configure_prompts, _run_prompts)
WATCH = Command(
    "watch",
    "Follow one resource: shown again each time the server says it changed.",
    _configure_watch,
    _run_watch,
    json_output=False,
)
COMPLETE = Command(
    "complete",
    "Values a server suggests for an argument of a prompt or resource template (completion/complete).",
    _configure_complete,
    _run_complete,
)
PROMPT = Command(
    "prompt",
    "Get one prompt filled in with KEY=VALUE arguments, shown as a conversation.",
    _configure_prompt,
    _run_prompt,
)
