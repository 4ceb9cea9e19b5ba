"""Tools: one tool as ``tools/list`` publishes it, the outcome of a call, what ``introspect`` found on a
server, and what ``search`` found.

>>> ToolInfo(name="echo", annotations=ToolAnnotations(read_only=True)).cacheable
True
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from .base import _Model
from .servers import ServerInfo

__all__ = ["CallResult", "Introspection", "SearchHit", "SearchResults", "ToolAnnotations", "ToolInfo"]


class ToolAnnotations(_Model):
    """Hints a server gives about a tool (all optional; MCP says to treat them as untrusted)."""

    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


class ToolInfo(_Model):
    """One tool as published by ``tools/list``.

    >>> t = ToolInfo(name="echo", input_schema={"type": "object"})
    >>> t.cacheable
    False
    """

    name: str
    title: str | None = None
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    annotations: ToolAnnotations = Field(default_factory=ToolAnnotations)
    # The tool's ``_meta`` as the server sent it (e.g. ``{"ui": {"resourceUri": "ui://..."}}`` for MCP Apps).
    meta: dict[str, Any] | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.annotations.title or self.name

    @property
    def cacheable(self) -> bool:
        """True when the server says calls have no side effects to repeat (read-only or idempotent)."""
        return bool(self.annotations.read_only or self.annotations.idempotent)

    def wire(self) -> dict[str, Any]:
        """The tool as MCP's ``tools/list`` sends it (camelCase keys), e.g. for token counting."""
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        out["inputSchema"] = self.input_schema
        if self.output_schema is not None:
            out["outputSchema"] = self.output_schema
        ann = {
            key: value
            for key, value in (
                ("title", self.annotations.title),
                ("readOnlyHint", self.annotations.read_only),
                ("destructiveHint", self.annotations.destructive),
                ("idempotentHint", self.annotations.idempotent),
                ("openWorldHint", self.annotations.open_world),
            )
            if value is not None
        }
        if ann:
            out["annotations"] = ann
        if self.meta is not None:
            out["_meta"] = self.meta
        return out


class CallResult(_Model):
    """The outcome of one ``tools/call``.

    ``structured`` is the tool's structured content when it sent one; ``text`` joins its text blocks.
    ``value`` is what a binding returns: the structured content, else the text parsed as JSON when it is
    JSON, else the text.
    """

    server: str
    tool: str
    structured: Any = None
    text: str = ""
    content: list[dict[str, Any]] = Field(default_factory=list)
    is_error: bool = False
    duration_ms: float = 0.0

    @property
    def exit_code(self) -> int:
        """1 when the tool answered with an error result (``isError``)."""
        return 1 if self.is_error else 0

    @property
    def value(self) -> Any:
        if self.structured is not None:
            return self.structured
        try:
            return json.loads(self.text)
        except ValueError:
            return self.text


class Introspection(_Model):
    """What ``introspect`` found on one server: its handshake info and every tool."""

    server_name: str
    server: ServerInfo
    tools: list[ToolInfo]
    duration_ms: float = 0.0

    def tool(self, name: str) -> ToolInfo:
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(name)


class SearchHit(_Model):
    """One tool found by ``search``; the fields filled depend on the detail level asked for."""

    server: str
    tool: str
    summary: str | None = None
    signature: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: ToolAnnotations | None = None
    calls: list[str] | None = None  # a saved skill's hit (server "skills"): the servers it calls


class SearchResults(_Model):
    query: str
    detail: Literal["name", "summary", "signature", "full"]
    hits: list[SearchHit]
    total: int
