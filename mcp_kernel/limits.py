"""The bounds a sandboxed cell's limits may take: one home for :class:`~mcp_kernel.sandbox.SandboxPolicy`'s
fields and the settings that feed them (``memory_mb``, ``cell_timeout``...), which must agree; the
instruction budget a time limit buys; how each surface tells a caller to raise a limit it hit; and the
approval modes a policy and the settings share (``approve``).

Plain numbers, so the settings (traitlets) check them without loading pydantic.

>>> MEMORY_MB
(16, 4096)
>>> fuel_for(30) > fuel_for(10)
True
>>> advice("memory", "serve", {"max_memory_mb": 1024})
'Pass a larger `memory_mb` to execute (at most 1024 on this server), or process the data in chunks.'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

__all__ = [
    "APPROVAL_MODES",
    "CACHE_TTL_MAX_S",
    "CELL_TIMEOUT_MAX_S",
    "DISK_MB",
    "FUEL_PER_SECOND",
    "MEMORY_MB",
    "OUTPUT_LIMIT_KIB",
    "RAISE_WITH",
    "ApprovalMode",
    "advice",
    "fuel_for",
]

ApprovalMode = Literal["always", "destructive", "never"]  # which calls ask a person first (approvals.py)
APPROVAL_MODES: tuple[str, ...] = get_args(ApprovalMode)

MEMORY_MB = (16, 4096)  # linear memory of a cell, MiB
CELL_TIMEOUT_MAX_S = 3600  # wall-clock limit of a cell (above 0)
DISK_MB = (1, 1 << 20)  # a session's /workspace, MiB
OUTPUT_LIMIT_KIB = (1, 256 * 1024)  # what a cell may print, KiB
CACHE_TTL_MAX_S = 86400  # how long a cached tool result is reused (from 0)

# Fuel a second of busy guest Python burns: measured on this project's machine (2 cores, wasmtime 3x,
# loops, sorting, json.dumps in a cell) at 0.86-1.1e10 per second of CPU. A cell's budget is twice that
# per second of its time limit, so the wall clock is what stops a runaway cell (fuel is the backstop for
# a host too slow to notice) and a longer time limit really runs longer; a fixed 1e11 stopped CPU-bound
# code at ~10 s whatever the time limit.
FUEL_PER_SECOND = 10_000_000_000
_FUEL_HEADROOM = 2


def fuel_for(timeout_s: float) -> int:
    """The instruction budget of a cell with a ``timeout_s`` wall-clock limit.

    >>> fuel_for(30)
    600000000000
    """
    return int(timeout_s * FUEL_PER_SECOND * _FUEL_HEADROOM)


# How a caller raises each limit, in the words of the surface it calls from: the sandbox names which limit
# stopped a cell (SandboxError.limit), never a flag that some surface does not have. serve's texts quote
# its operator's maxima (serve --max-timeout / --max-memory).
RAISE_WITH: dict[str, dict[str, str]] = {
    "serve": {
        "timeout": "Pass a larger `timeout` to execute (seconds, at most {max_timeout:g} on this server).",
        "fuel": "Pass a larger `timeout` to execute: the instruction budget grows with it (at most "
        "{max_timeout:g} s on this server).",
        "memory": "Pass a larger `memory_mb` to execute (at most {max_memory_mb} on this server), or process the "
        "data in chunks.",
        "disk": "Delete files in /workspace from your code.",
        "sessions": "Close a session you no longer need: execute with `close` true and its `session` handle.",
        "executes": "Wait for one of your executes to finish, then send this one again.",
    },
    "cli": {
        "timeout": "Raise it with --timeout S.",
        "fuel": "Raise it with --timeout S (the budget grows with the time limit) or --fuel N.",
        "memory": "Raise it with --memory MB, or process the data in chunks.",
        "disk": "Delete files there (from the code) or raise the limit with --disk MB.",
    },
    "notebook": {
        "timeout": "Raise it with `%%mcp_execute --timeout S` (or `%config MCPKernel.cell_timeout`).",
        "fuel": "Raise it with `%%mcp_execute --timeout S` (the budget grows with the time limit) or `--fuel N`.",
        "memory": "Raise it with `%%mcp_execute --memory MB`, or process the data in chunks.",
        "disk": "Delete files there (from a cell) or raise the limit with `%%mcp_execute --disk MB`.",
        "sessions": "Close one first (`%mcp session close NAME`) or raise `%config MCPKernel.max_sessions`.",
    },
    "python": {
        "timeout": "Raise it with session.policy(timeout=S).",
        "fuel": "Raise it with session.policy(timeout=S) (the budget grows with the time limit) or fuel=N.",
        "memory": "Raise it with session.policy(memory_mb=MB), or process the data in chunks.",
        "disk": "Delete files there or raise the limit with session.policy(disk_mb=MB).",
        "sessions": "Close one first (session.close_sandbox(NAME)) or raise the max_sessions setting.",
    },
}


def advice(limit: str, surface: str, bounds: Mapping[str, object] | None = None) -> str:
    """How to raise ``limit`` from ``surface`` (empty when that surface has no way)."""
    text = RAISE_WITH.get(surface, RAISE_WITH["python"]).get(limit, "")
    try:
        return text.format(**(bounds or {}))
    except (KeyError, ValueError, TypeError):  # a maximum the surface did not give: say it without
        return text.split(" (at most")[0].rstrip(".") + "."
