"""Token savings: per tool, per server and in total (``tokens``), and per sandboxed cell.

>>> CellTokens(encoding="o200k_base", exact=True, calls=1, raw_result_tokens=200, raw_result_bytes=800,
...            output_tokens=2).savings_percent
99.0
"""

from __future__ import annotations

import math

from pydantic import computed_field

from .base import _Model

__all__ = ["CellTokens", "ServerTokens", "TokenReport", "ToolTokens"]


def _savings(before: int, after: int) -> float:
    """Percent saved, rounded down to 0.01 so that 99.999 never shows as 100."""
    return 0.0 if before <= 0 else math.floor(10000.0 * (before - after) / before) / 100


class ToolTokens(_Model):
    """One tool's cost: its definition as ``tools/list`` sends it, its generated binding, and its index line
    (what ``search --detail signature`` answers for it)."""

    server: str
    tool: str
    definition: int
    binding: int
    signature: int = 0


class ServerTokens(_Model):
    """Up front versus the listing path and the search path, for one server.

    listing path = the listing of the server's directory (0 when the task reads nothing from it) + the
    bindings the task reads; search path = this server's part of one search answer at signature detail
    + the same bindings.
    """

    server: str
    tools: int
    upfront: int
    listing: int
    search: int = 0
    bindings_read: int
    tools_read: list[str]
    per_tool: list[ToolTokens]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progressive(self) -> int:
        """The listing path."""
        return self.listing + self.bindings_read

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        """Saved on the listing path."""
        return _savings(self.upfront, self.progressive)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_path(self) -> int:
        return self.search + self.bindings_read

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_savings_percent(self) -> float:
        return _savings(self.upfront, self.search_path)


class TokenReport(_Model):
    """Token savings of the two progressive paths over loading every definition, per server and in total.

    ``progressive`` and ``savings_percent`` are the listing path, whose total includes the listing of
    ``servers/`` (``listing_head``); ``search_path`` and ``search_savings_percent`` the search path, whose
    total includes the answer's head line and the breaks between servers' lines (``search_head``), so that
    the answer's part of it is the count of ``search_text``, the answer exactly as ``serve`` sends it.
    Without a task (``task_defined`` False) nothing is read: the listing path is every listing and the
    search path is empty.
    """

    encoding: str
    exact: bool
    servers: list[ServerTokens]
    task_defined: bool = False
    listing_head: int = 0
    search_head: int = 0
    search_text: str = ""
    duration_ms: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def upfront(self) -> int:
        return sum(s.upfront for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progressive(self) -> int:
        return self.listing_head + sum(s.progressive for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        return _savings(self.upfront, self.progressive)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_path(self) -> int:
        return self.search_head + sum(s.search_path for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_savings_percent(self) -> float:
        return _savings(self.upfront, self.search_path)


class CellTokens(_Model):
    """For one sandboxed cell: raw tool results that stayed inside versus what reached the notebook."""

    encoding: str
    exact: bool
    calls: int
    raw_result_tokens: int
    raw_result_bytes: int
    output_tokens: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        return _savings(self.raw_result_tokens, self.output_tokens)
