"""The bounds a sandboxed cell's limits may take: one home for :class:`~mcp_kernel.sandbox.SandboxPolicy`'s
fields and the settings that feed them (``memory_mb``, ``cell_timeout``...), which must agree.

Plain numbers, so the settings (traitlets) check them without loading pydantic.

>>> MEMORY_MB
(16, 4096)
"""

from __future__ import annotations

__all__ = ["CACHE_TTL_MAX_S", "CELL_TIMEOUT_MAX_S", "DISK_MB", "MEMORY_MB", "OUTPUT_LIMIT_KIB"]

MEMORY_MB = (16, 4096)  # linear memory of a cell, MiB
CELL_TIMEOUT_MAX_S = 3600  # wall-clock limit of a cell (above 0)
DISK_MB = (1, 1 << 20)  # a session's /workspace, MiB
OUTPUT_LIMIT_KIB = (1, 256 * 1024)  # what a cell may print, KiB
CACHE_TTL_MAX_S = 86400  # how long a cached tool result is reused (from 0)
