"""``demo``: the main job on the bundled demo server, with no configuration."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--http", action="store_true", help="run the demo server over streamable HTTP instead of stdio"
    )


def run(session: Any, args: argparse.Namespace) -> Any:
    from ..demo.tour import run_tour  # the tour and its server: only for `demo`

    return run_tour(session, http=args.http, on_progress=lambda m: print(m, file=sys.stderr, flush=True))


COMMAND = Command(
    "demo",
    "Run the main job on the bundled demo server: introspect, generate bindings, run a sandboxed cell, count tokens.",
    configure,
    run,
    contexts=("cli",),
)
