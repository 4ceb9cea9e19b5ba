"""What one sandboxed cell may do: a frozen value, deny by default.

Nothing is granted unless it is named here: the servers the cell may call, how much memory, time,
instructions and output it may use, how large and how frequent its tool calls may be. ``%mcp policy``
shows it.

>>> policy = SandboxPolicy(servers=("demo",), timeout_s=10)
>>> policy.memory_mb, policy.allows("demo"), policy.allows("files")
(256, True, False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..limits import CACHE_TTL_MAX_S, CELL_TIMEOUT_MAX_S, DISK_MB, MEMORY_MB, OUTPUT_LIMIT_KIB

__all__ = ["SandboxPolicy", "DEFAULT_FUEL", "ZONEINFO_DIR"]

# The host's time-zone database, granted read-only at /zoneinfo so `zoneinfo` works in cells.
ZONEINFO_DIR = Path("/usr/share/zoneinfo")

# About 10^11 wasm instructions: minutes of pure-Python work, far past the default 30 s wall clock, so
# the wall clock is normally what stops a runaway cell and fuel is the hard backstop.
DEFAULT_FUEL = 100_000_000_000


class SandboxPolicy(BaseModel):
    """Limits and grants for one cell."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use, not import

    servers: tuple[str, ...] = Field(default=(), description="servers the cell may call through the bridge")
    memory_mb: int = Field(default=256, ge=MEMORY_MB[0], le=MEMORY_MB[1], description="linear memory limit")
    timeout_s: float = Field(default=30.0, gt=0, le=CELL_TIMEOUT_MAX_S, description="wall-clock limit")
    fuel: int = Field(default=DEFAULT_FUEL, ge=1_000_000, description="instruction budget")
    output_limit_bytes: int = Field(default=1 << 20, ge=OUTPUT_LIMIT_KIB[0] << 10, le=OUTPUT_LIMIT_KIB[1] << 10,
                                    description="stdout+stderr cap")
    max_param_bytes: int = Field(default=1 << 20, ge=64, description="largest JSON params of one tool call")
    rate_limit: float | None = Field(default=200.0, gt=0, description="calls per second per tool (None: off)")
    tool_timeout_s: float = Field(default=30.0, gt=0, description="per tool call")
    cache: bool = Field(default=True, description="reuse results of read-only/idempotent tools")
    cache_ttl_s: float = Field(default=60.0, ge=0, le=CACHE_TTL_MAX_S,
                               description="how long a cached result is reused")
    disk_mb: int = Field(default=256, ge=DISK_MB[0], le=DISK_MB[1],
                         description="most the session's /workspace may hold")
    tokenize_pii: bool = Field(default=False, description="replace personal data in what leaves the sandbox")
    state_limit_bytes: int = Field(default=1 << 20, ge=1024, description="total size of get/set-state values")

    @field_validator("servers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

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
        from pydantic import ValidationError

        from ..errors import UsageError

        try:
            return cls(**fields)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))} {e['msg'].replace('Input should be', 'must be')} "
                                 f"(got {e['input']!r})" for e in exc.errors())
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
