"""``debug``: versions, paths and component status — what a bug report needs."""

from __future__ import annotations

import argparse
from typing import Any

from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(session: Any, args: argparse.Namespace) -> Any:
    from ..diagnostics import collect  # tiktoken and the engine: only for `debug`

    return collect(session)


COMMAND = Command(
    "debug", "Show versions, paths, config and sandbox/tokenizer status for a bug report.", configure, run
)
