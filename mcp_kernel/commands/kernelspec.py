"""``install`` / ``uninstall``: the "MCP (Python)" kernelspec for Jupyter."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .command import Command


def _configure_install(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="install into this Python environment")
    where.add_argument("--prefix", metavar="P", help="install under prefix P")
    parser.add_argument(
        "--no-build",
        dest="build",
        action="store_false",
        help="do not build the sandbox component now (the first sandboxed cell then builds it, "
        "40-110 s once per machine)",
    )


def _run_install(session: Any, args: argparse.Namespace) -> Any:
    from ..kernelspec import install  # jupyter_client: only to install the kernel

    result = install(user=args.user, sys_prefix=args.sys_prefix, prefix=args.prefix)
    if not args.build:
        return result.model_copy(
            update={"sandbox": "not built (--no-build); the first sandboxed cell builds it"}
        )
    return result.model_copy(update={"sandbox": build_sandbox()})


def build_sandbox() -> str:
    """Build and compile the sandbox component if it is not cached, so no first cell pays for it; say how long
    it took. Steps are printed to stderr as they start (a cold build takes 40-110 s)."""

    from ..sandbox.engine import Engine  # wasmtime: only when a sandbox is built or run

    with Engine(on_progress=lambda step: print(step, file=sys.stderr, flush=True)) as engine:
        engine.component()
        timings = engine.timings
    if "compile_s" not in timings:
        return "already built"
    parts = [f"{timings['build_s']:.1f} s build"] if "build_s" in timings else []
    parts.append(f"{timings['compile_s']:.1f} s compile")
    return (
        f"built in {sum(timings[k] for k in ('build_s', 'compile_s') if k in timings):.1f} s "
        f"({' + '.join(parts)}); the first sandboxed cell starts at once"
    )


def _configure_uninstall(parser: argparse.ArgumentParser) -> None:
    del parser


def _run_uninstall(session: Any, args: argparse.Namespace) -> Any:
    from ..kernelspec import uninstall  # jupyter_client: only to remove the kernel

    return uninstall()


INSTALL = Command(
    "install",
    "Install the 'MCP (Python)' Jupyter kernel and build the sandbox component.",
    _configure_install,
    _run_install,
    contexts=("cli",),
)
UNINSTALL = Command(
    "uninstall",
    "Remove the 'MCP (Python)' Jupyter kernel.",
    _configure_uninstall,
    _run_uninstall,
    contexts=("cli",),
)
