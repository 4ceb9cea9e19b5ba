"""Sandboxed execution: what a cell produced, the tool calls it made through the bridge, and the counters of
the sandbox sessions.

>>> ExecutionResult(value_json="[1, 2]").value
[1, 2]
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .apps import ViewRequest
from .base import _Model
from .tokens import CellTokens

__all__ = [
    "BridgeStats",
    "CallBudgetReport",
    "CallRecord",
    "ExecutionResult",
    "GuestError",
    "SandboxSessionInfo",
    "SandboxSessionList",
    "SessionStats",
]


class CallRecord(BaseModel):
    """One ``call-tool`` from the sandbox, as the bridge saw it.

    ``arguments`` is the parameters' JSON as the code sent it; the result's text stays out of dumps.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    server: str
    tool: str
    duration_ms: float
    bytes_in: int
    arguments: str | None = None
    bytes_out: int = 0
    cached: bool = False
    error: str | None = None
    result_text: str | None = Field(default=None, exclude=True, repr=False)


class BridgeStats(BaseModel):
    """Counters over every call the bridge has handled."""

    model_config = ConfigDict(defer_build=True)

    calls: int = 0
    errors: int = 0
    cache_hits: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    cache_entries: int = 0
    cache_bytes: int = 0


class GuestError(_Model):
    """An exception raised by the cell's code inside the sandbox, with the guest's own traceback."""

    type: str
    message: str
    traceback: str = ""


class CallBudgetReport(BaseModel):
    """How much of a run's call budget its calls used (sandbox/budget.py)."""

    model_config = ConfigDict(defer_build=True)

    max_calls: int | None = Field(default=None, description="calls the run may make (None: no cap)")
    used: int = Field(default=0, description="calls that reached a server (cache hits do not count)")
    refused: int = Field(default=0, description="calls refused for being past a budget")
    per_tool: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description='"server.tool" -> (calls made, calls allowed)'
    )


class ExecutionResult(_Model):
    """What one sandboxed cell produced."""

    stdout: str = ""
    stderr: str = ""
    value_repr: str | None = None
    value_json: str | None = None
    error: GuestError | None = None
    duration_ms: float = 0.0
    fuel_used: int = 0
    memory_limit_mb: int = 0
    session_reset: bool = False
    note: str | None = None
    calls: list[CallRecord] = Field(default_factory=list)
    tokens: CellTokens | None = None
    budget: CallBudgetReport | None = Field(default=None, description="the call budget, when it has a cap")
    pii_replaced: int | None = Field(default=None, description="values replaced by placeholders (None: off)")
    stopped: str | None = Field(
        default=None,
        description="why the host stopped the cell before it ended "
        "(interrupt, timeout, fuel, memory, output, disk, trap), if it did",
    )
    # Never dumped: a notebook shows them after the cell's output; `mcp-kernel execute` and serve leave them out.
    views: list[ViewRequest] = Field(
        default_factory=list, exclude=True, repr=False, description="the views the code asked for with show()"
    )

    @property
    def exit_code(self) -> int:
        """1 when the cell's code raised inside the sandbox."""
        return 1 if self.error is not None else 0

    @property
    def value(self) -> Any:
        """The final expression's value, decoded from JSON when it was JSON-serialisable."""
        return json.loads(self.value_json) if self.value_json is not None else None


class SessionStats(_Model):
    """Counters of one session: the bridge (calls, errors, cache, latency), the sandbox and the tree."""

    bridge: BridgeStats
    cells: int
    servers_connected: int
    generated: list[str]
    vfs_files: int
    engine_timings: dict[str, float] = Field(default_factory=dict)
    storage: dict[str, str] = Field(default_factory=dict)


class SandboxSessionInfo(_Model):
    """One live sandbox session: its handle, how many cells ran, how long it has been idle."""

    handle: str
    cells: int
    idle_s: float
    memory_limit_mb: int
    busy: bool = False


class SandboxSessionList(_Model):
    """The live sandbox sessions of this process and the limits they live under."""

    sessions: list[SandboxSessionInfo]
    max_sessions: int
    memory_reserved_mb: int
    memory_budget_mb: int | None = None
