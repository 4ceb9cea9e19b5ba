"""``demo``: the main job on the bundled demo server, with no configuration."""

from __future__ import annotations

import argparse
from typing import Any

from . import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", action="store_true", help="run the demo server over streamable HTTP instead of stdio")


def run(session: Any, args: argparse.Namespace) -> Any:
    from ..demo.tour import run_tour

    return run_tour(session, http=args.http)


COMMAND = Command("demo", "Run the tour on the bundled demo server: start, introspect, call.", configure, run,
                  contexts=("cli",))
