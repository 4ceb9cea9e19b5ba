"""``resources``, ``read``, ``prompts`` and ``prompt``: what a server offers besides tools."""

from __future__ import annotations

import argparse
from typing import Any

from . import Command, parse_pairs


def _configure_resources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")


def _run_resources(session: Any, args: argparse.Namespace) -> Any:
    return session.resources(args.server)


def _configure_read(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("uri", help="the resource's URI, as `resources SERVER` lists it (or one a template fits)")


def _run_read(session: Any, args: argparse.Namespace) -> Any:
    return session.read_resource(args.server, args.uri)


def _configure_prompts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")


def _run_prompts(session: Any, args: argparse.Namespace) -> Any:
    return session.prompts(args.server)


def _configure_prompt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("prompt", help="prompt name")
    parser.add_argument("arguments", nargs="*", metavar="KEY=VALUE", help="the prompt's arguments")


def _run_prompt(session: Any, args: argparse.Namespace) -> Any:
    return session.prompt(args.server, args.prompt, parse_pairs(args.arguments, "prompt arguments"))


def _configure_complete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", help="server name")
    parser.add_argument("name", help="a prompt name, or a resource template (a URI with {placeholders})")
    parser.add_argument("argument", metavar="ARGUMENT[=TYPED]", help="the argument to complete, and what is typed so far")
    parser.add_argument("context", nargs="*", metavar="KEY=VALUE", help="arguments already chosen")


def _run_complete(session: Any, args: argparse.Namespace) -> Any:
    argument, _, typed = args.argument.partition("=")
    ref = "resource" if "://" in args.name or "{" in args.name else "prompt"
    return session.complete(args.server, ref, args.name, argument, typed,
                            parse_pairs(args.context, "context arguments") or None)


RESOURCES = Command("resources", "List a server's resources and resource templates.", _configure_resources,
                    _run_resources)
READ = Command("read", "Read one resource of a server by URI (text, JSON, or a blob's size and type).",
               _configure_read, _run_read)
PROMPTS = Command("prompts", "List a server's prompts and their arguments.", _configure_prompts, _run_prompts)
COMPLETE = Command("complete", "Values a server suggests for an argument of a prompt or resource template "
                   "(completion/complete).", _configure_complete, _run_complete)
PROMPT = Command("prompt", "Get one prompt filled in with KEY=VALUE arguments, shown as a conversation.",
                 _configure_prompt, _run_prompt)
