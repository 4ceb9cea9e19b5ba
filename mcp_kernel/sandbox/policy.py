"""What one sandboxed cell may do: a frozen value, deny by default.

Nothing is granted unless it is named here: the servers the cell may call, how much memory, time,
instructions and output it may use, how large, how frequent and how many its tool calls may be, and which
of them ask a person first (approvals.py). ``%mcp policy`` shows it.

>>> policy = SandboxPolicy(servers=("demo",), timeout_s=10)
>>> policy.memory_mb, policy.allows("demo"), policy.allows("files")
(256, True, False)
>>> SandboxPolicy(timeout_s=120).fuel > SandboxPolicy(timeout_s=30).fuel   # fuel grows with the time limit
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..approvals import APPROVAL_TIMEOUT_S
from ..errors import UsageError
from ..limits import (
    CACHE_TTL_MAX_S,
    CELL_TIMEOUT_MAX_S,
    DISK_MB,
    MEMORY_MB,
    OUTPUT_LIMIT_KIB,
    ApprovalMode,
    fuel_for,
)

__all__ = ["DEFAULT_FUEL", "ZONEINFO_DIR", "SandboxPolicy", "for_cell"]

# The host's time-zone database, granted read-only at /zoneinfo so `zoneinfo` works in cells.
ZONEINFO_DIR = Path("/usr/share/zoneinfo")

# The budget of a cell with the default 30 s time limit; a policy without an explicit fuel gets the budget
# of its own time limit (see limits.fuel_for), so the wall clock stops a runaway cell, fuel is the backstop.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_FUEL = fuel_for(DEFAULT_TIMEOUT_S)


class SandboxPolicy(BaseModel):
    """Limits and grants for one cell."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use, not import

    servers: tuple[str, ...] = Field(default=(), description="servers the cell may call through the bridge")
    memory_mb: int = Field(default=256, ge=MEMORY_MB[0], le=MEMORY_MB[1], description="linear memory limit")
    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S, gt=0, le=CELL_TIMEOUT_MAX_S, description="wall-clock limit"
    )
    fuel: int = Field(
        default=DEFAULT_FUEL,
        ge=1_000_000,
        description="instruction budget (default: what the time limit buys)",
    )
    output_limit_bytes: int = Field(
        default=1 << 20,
        ge=OUTPUT_LIMIT_KIB[0] << 10,
        le=OUTPUT_LIMIT_KIB[1] << 10,
        description="stdout+stderr cap",
    )
    max_param_bytes: int = Field(default=1 << 20, ge=64, description="largest JSON params of one tool call")
    rate_limit: float | None = Field(default=200.0, gt=0, description="calls per second per tool (None: off)")
    tool_timeout_s: float = Field(default=30.0, gt=0, description="per tool call")
    max_calls: int | None = Field(
        default=None,
        ge=0,
        description="calls the cell may make to servers (None: no cap; cache hits are free)",
    )
    max_calls_per_tool: dict[str, int] = Field(
        default_factory=dict, description='calls the cell may make to one tool, {"server.tool": N}'
    )
    approve: ApprovalMode = Field(
        default="never", description="which calls ask a person first, unless a rule of approve_tools says"
    )
    approve_tools: dict[str, ApprovalMode] = Field(
        default_factory=dict,
        description='the rule of a server or a tool, {"server": "never", "server.tool": "always"}',
    )
    approval_timeout_s: float = Field(
        default=APPROVAL_TIMEOUT_S,
        gt=0,
        description="how long a person has to answer; then the call is denied",
    )
    cache: bool = Field(default=True, description="reuse results of read-only/idempotent tools")
    cache_ttl_s: float = Field(
        default=60.0, ge=0, le=CACHE_TTL_MAX_S, description="how long a cached result is reused"
    )
    disk_mb: int = Field(
        default=256, ge=DISK_MB[0], le=DISK_MB[1], description="most the session's /workspace may hold"
    )
    tokenize_pii: bool = Field(default=False, description="replace personal data in what leaves the sandbox")
    state_limit_bytes: int = Field(default=1 << 20, ge=1024, description="total size of get/set-state values")
    snapshot_limit_bytes: int = Field(
        default=64 << 20,
        ge=0,
        description="most the variables kept after each "
        "good cell (restored after a trap) may hold; 0: none are kept",
    )

    @field_validator("servers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    @field_validator("max_calls_per_tool", "approve_tools", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """``"demo.send_report=5,mailer.send_email=2"`` as a person types it, or a mapping."""
        if isinstance(value, str):
            pairs = [p.partition("=") for p in value.split(",") if p.strip()]
            return {k.strip(): v.strip() for k, _, v in pairs}
        return value

    @field_validator("max_calls_per_tool")
    @classmethod
    def _tools_named(cls, value: dict[str, int]) -> dict[str, int]:
        for tool, cap in value.items():
            if "." not in tool or cap < 0:
                raise ValueError(
                    f'give "server.tool": N with N >= 0, e.g. {{"demo.send_report": 5}}; got {tool!r}: {cap}'
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _fuel_from_timeout(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("fuel") is None
            and isinstance(data.get("timeout_s"), (int, float))
        ):
            return {**data, "fuel": fuel_for(max(data["timeout_s"], 0.001))}
        return data

    def allows(self, server: str) -> bool:
        return server in self.servers

    @classmethod
    def from_limits(cls, **fields: Any) -> SandboxPolicy:
        """A policy from limits a person gave (options, settings); each bad one is named in one
        ``UsageError`` with what it takes, instead of pydantic's report.

        >>> SandboxPolicy.from_limits(memory_mb=-5)
        Traceback (most recent call last):
        mcp_kernel.errors.UsageError: Invalid sandbox limit: memory_mb must be greater than or equal to 16 (got -5).
        """
        try:
            return cls(**fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))} {e['msg'].replace('Input should be', 'must be')} "
                f"(got {e['input']!r})"
                for e in exc.errors()
            )
            raise UsageError(f"Invalid sandbox limit: {problems}.") from None

    @classmethod
    def default(cls) -> SandboxPolicy:
        """The policy with every default: one shared value, built without validation (the defaults are
        valid), so a process that only runs default cells never builds the model's validator (~80 ms).

        >>> SandboxPolicy.default() == SandboxPolicy()
        True
        """
        global _DEFAULT
        if _DEFAULT is None:
            _DEFAULT = cls.model_construct()
        return _DEFAULT


_DEFAULT: SandboxPolicy | None = None


def for_cell(
    settings: Any,
    servers: Sequence[str],
    server_rules: Mapping[str, str] | None = None,
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    fuel: int | None = None,
    cache: bool | None = None,
    output_limit_kb: int | None = None,
    disk_mb: int | None = None,
    tokenize_pii: bool | None = None,
    max_calls: int | None = None,
    max_calls_per_tool: Mapping[str, int] | None = None,
    approve: str | None = None,
    approve_tools: Mapping[str, str] | None = None,
) -> SandboxPolicy:
    """The policy of a cell that may call ``servers``: the ``settings`` (an ``MCPKernel``), with these
    overrides. Approval rules: the servers' own (``server_rules``, from mcp.json), then the setting
    ``approve_tools``, then ``approve_tools``; ``approve`` (default: the setting) is every other call's.

    >>> from mcp_kernel.settings import MCPKernel
    >>> for_cell(MCPKernel(), ["demo"], {"demo": "destructive"}, timeout=5).approve_tools
    {'demo': 'destructive'}
    """
    return SandboxPolicy.from_limits(
        servers=tuple(servers),
        timeout_s=timeout or settings.cell_timeout,
        memory_mb=memory_mb or settings.memory_mb,
        fuel=fuel or settings.fuel or None,  # None: what the time limit buys
        output_limit_bytes=(output_limit_kb or settings.output_limit_kb) * 1024,
        rate_limit=settings.rate_limit or None,
        tool_timeout_s=settings.timeout,
        cache=settings.cache if cache is None else cache,
        cache_ttl_s=settings.cache_ttl,
        disk_mb=disk_mb or settings.disk_mb,
        tokenize_pii=settings.tokenize_pii if tokenize_pii is None else tokenize_pii,
        snapshot_limit_bytes=settings.snapshot_limit_mb << 20,
        max_calls=(settings.max_calls if max_calls is None else max_calls) or None,
        max_calls_per_tool={**settings.max_calls_per_tool, **(max_calls_per_tool or {})},
        approve=approve or settings.approve,
        approve_tools={**(server_rules or {}), **settings.approve_tools, **(approve_tools or {})},
        approval_timeout_s=settings.approval_timeout,
    )
