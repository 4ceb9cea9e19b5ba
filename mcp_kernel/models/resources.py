"""Resources: what ``resources/list`` and ``resources/templates/list`` publish, and what a read returns.

>>> ResourceRead(server="demo", uri="note://a", contents=[ResourceContent(uri="note://a", text="hi")]).text
'hi'
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import Field

from .base import _Model

__all__ = ["ResourceContent", "ResourceInfo", "ResourceList", "ResourceRead", "ResourceTemplateInfo"]


class ResourceInfo(_Model):
    """One resource as published by ``resources/list``."""

    uri: str
    name: str = ""
    title: str | None = None
    description: str = ""
    mime_type: str | None = None
    size: int | None = None
    # The resource's ``_meta`` as listed (e.g. an MCP Apps view's ``{"ui": {"csp": ...}}``).
    meta: dict[str, Any] | None = None


class ResourceTemplateInfo(_Model):
    """One parameterised resource (``resources/templates/list``), e.g. ``note://shelf/{name}``."""

    uri_template: str
    name: str = ""
    title: str | None = None
    description: str = ""
    mime_type: str | None = None


class ResourceList(_Model):
    """Every resource and resource template of one server."""

    server: str
    resources: list[ResourceInfo] = Field(default_factory=list)
    templates: list[ResourceTemplateInfo] = Field(default_factory=list)


class ResourceContent(_Model):
    """One part of a read resource: ``text``, or ``blob`` (base64) with its decoded ``size``.

    >>> ResourceContent(uri="image://x", mime_type="image/png", blob="AAEC", size=3).is_binary
    True
    """

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None
    size: int = 0
    # The part's ``_meta`` as read (an MCP Apps view's ``{"ui": {"csp": ..., "prefersBorder": ...}}``).
    meta: dict[str, Any] | None = None

    @property
    def is_binary(self) -> bool:
        return self.blob is not None

    @property
    def parsed(self) -> Any:
        """The text parsed as JSON when it is JSON (whatever the declared type), else None."""
        if self.text is None:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def data(self) -> bytes:
        """The content's bytes (a blob decoded, or the text as UTF-8)."""
        return base64.b64decode(self.blob) if self.blob is not None else (self.text or "").encode()


class ResourceRead(_Model):
    """The outcome of one ``resources/read``, with the server's cache hint (2026-07-28; None before).

    >>> ResourceRead(server="demo", uri="note://a", ttl_ms=0).ttl_ms
    0
    """

    server: str
    uri: str
    contents: list[ResourceContent] = Field(default_factory=list)
    duration_ms: float = 0.0
    ttl_ms: int | None = Field(
        default=None, description="how long the server says the read stays fresh; 0: not at all"
    )
    cache_scope: Literal["public", "private"] | None = Field(
        default=None, description="public: any caller may be served it; private: only this caller"
    )

    @property
    def text(self) -> str:
        """Every text part, joined (blobs left out)."""
        return "\n".join(c.text for c in self.contents if c.text is not None)
