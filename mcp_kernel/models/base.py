"""The base of mcp-kernel's result models: frozen, strict, built on first use, each with an exit code.

>>> class Point(_Model):
...     x: int
>>> Point(x=1).exit_code
0
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["_Model"]


class _Model(BaseModel):
    """Base of the result models. How they look lives in :mod:`mcp_kernel.display`, never here."""

    # defer_build: a model's validator is built on its first use, not at import (all of them at once cost
    # ~170 ms of every import of mcp_kernel.sandbox, where one or two are used).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @property
    def exit_code(self) -> int:
        """What ``mcp-kernel`` exits with after printing this result: 0, unless the result is a failure."""
        return 0
