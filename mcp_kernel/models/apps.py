"""MCP Apps: a tool's view as read from its server, what the view said or was refused, and a view a sandboxed
cell asked to show.

>>> AppNote(kind="message", text="hello").line
'message: hello'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import _Model
from .tools import CallResult

__all__ = ["AppNote", "AppResource", "ViewRequest"]


class AppResource(_Model):
    """A tool's view: the HTML of its ``ui://`` resource and what its ``_meta.ui`` asks of the host.

    ``csp`` is the policy the view runs under (built by :mod:`mcp_kernel.apps.csp`); ``csp_dropped`` the
    declared domains that were not origins and were left out.
    """

    server: str
    tool: str
    uri: str
    html: str
    csp: str
    csp_dropped: list[str] = Field(default_factory=list)
    prefers_border: bool | None = None
    permissions: dict[str, Any] = Field(default_factory=dict)


class AppNote(_Model):
    """One thing a view did that the notebook shows under it: a message or a context update it sent, a link
    it asked to open, or a request that was refused."""

    kind: Literal["message", "context", "link", "refused"]
    text: str

    @property
    def line(self) -> str:
        return f"{self.kind}: {self.text}"


class ViewRequest(_Model):
    """A view a sandboxed cell asked for with ``show(result)``: the call that returned ``result``, and its whole
    result as the host kept it (never dumped: the notebook shows it in the view, nothing else sends it)."""

    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: CallResult = Field(exclude=True, repr=False)
