"""The SDK's types turned into mcp-kernel's models: nothing of the ``mcp`` SDK leaves the client package.

Each function takes one SDK object (read by attribute, so the SDK is not imported here) and returns the
model that crosses the boundary.

>>> from types import SimpleNamespace as NS
>>> resource_info(NS(uri="note://a", name="a", title=None, description=None, mime_type="text/plain", size=3, meta=None)).uri
'note://a'
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Literal

from ..models import (
    PromptArgumentInfo,
    PromptInfo,
    PromptMessageView,
    ResourceContent,
    ResourceInfo,
    ResourceTemplateInfo,
    ServerInfo,
    ToolAnnotations,
    ToolInfo,
)

__all__ = [
    "cache_hint",
    "client_info",
    "prompt_info",
    "prompt_message",
    "resource_content",
    "resource_info",
    "server_info",
    "template_info",
    "template_matches",
    "tool_info",
]


def tool_info(tool: Any) -> ToolInfo:
    """One ``mcp.types.Tool`` as a :class:`ToolInfo`."""
    ann = tool.annotations
    return ToolInfo(
        name=tool.name,
        title=tool.title,
        description=tool.description or "",
        input_schema=tool.input_schema or {"type": "object"},
        output_schema=tool.output_schema,
        annotations=ToolAnnotations(
            title=getattr(ann, "title", None),
            read_only=getattr(ann, "read_only_hint", None),
            destructive=getattr(ann, "destructive_hint", None),
            idempotent=getattr(ann, "idempotent_hint", None),
            open_world=getattr(ann, "open_world_hint", None),
        ),
        meta=tool.meta,
    )


def resource_info(r: Any) -> ResourceInfo:
    return ResourceInfo(
        uri=str(r.uri),
        name=r.name or "",
        title=r.title,
        description=r.description or "",
        mime_type=r.mime_type,
        size=r.size,
        meta=r.meta,
    )


def template_info(t: Any) -> ResourceTemplateInfo:
    return ResourceTemplateInfo(
        uri_template=str(t.uri_template),
        name=t.name or "",
        title=t.title,
        description=t.description or "",
        mime_type=t.mime_type,
    )


def resource_content(c: Any) -> ResourceContent:
    """One text or blob part of a read resource; a blob keeps its base64 and says its decoded size."""
    blob = getattr(c, "blob", None)
    if blob is not None:
        try:
            size = len(base64.b64decode(blob, validate=False))
        except (binascii.Error, ValueError):
            size = len(blob) * 3 // 4
        return ResourceContent(uri=str(c.uri), mime_type=c.mime_type, blob=blob, size=size, meta=c.meta)
    text = getattr(c, "text", "") or ""
    return ResourceContent(
        uri=str(c.uri), mime_type=c.mime_type, text=text, size=len(text.encode()), meta=c.meta
    )


def prompt_info(p: Any) -> PromptInfo:
    return PromptInfo(
        name=p.name,
        title=p.title,
        description=p.description or "",
        arguments=[
            PromptArgumentInfo(name=a.name, description=a.description or "", required=bool(a.required))
            for a in p.arguments or []
        ],
    )


def prompt_message(m: Any) -> PromptMessageView:
    """One message of a filled-in prompt; what is not text is shown as a short placeholder."""
    content = m.content
    kind = getattr(content, "type", "text")
    if kind == "text":
        return PromptMessageView(role=m.role, text=content.text)
    if kind == "resource":
        inner = content.resource
        text = getattr(inner, "text", None)
        shown = text if text is not None else f"[resource {inner.uri}, {inner.mime_type or 'binary'}]"
        return PromptMessageView(role=m.role, kind="resource", text=shown)
    if kind == "resource_link":
        return PromptMessageView(role=m.role, kind=kind, text=f"[link to {content.uri}]")
    mime = getattr(content, "mime_type", None) or kind
    return PromptMessageView(role=m.role, kind=kind, text=f"[{kind}, {mime}]")


def template_matches(template: str, uri: str) -> bool:
    """Whether ``uri`` fits an RFC 6570 level-1 template such as ``note://shelf/{name}``.

    >>> template_matches("note://shelf/{name}", "note://shelf/a"), template_matches("note://shelf/{name}", "x://a")
    (True, False)
    """
    pattern = "".join(
        "[^/]+" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{[^}]*\})", template)
        if part
    )
    return re.fullmatch(pattern, uri) is not None


def cache_hint(result: Any, protocol_version: str) -> tuple[int | None, Literal["public", "private"] | None]:
    """The ``ttlMs`` and ``cacheScope`` a list or read result carries, or ``(None, None)`` when it has none.

    Hints count only on the 2026-07-28 era, as the SDK's own cache counts them: a 2025 server has no hints,
    even if it puts the keys on the wire.

    >>> from types import SimpleNamespace as NS
    >>> hinted = NS(ttl_ms=0, cache_scope="public", model_fields_set={"ttl_ms", "cache_scope"})
    >>> cache_hint(hinted, "2026-07-28"), cache_hint(hinted, "2025-11-25")
    ((0, 'public'), (None, None))
    """
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS  # pydantic models (~0.2 s), loaded with the SDK

    if protocol_version not in MODERN_PROTOCOL_VERSIONS or "ttl_ms" not in result.model_fields_set:
        return None, None
    return int(result.ttl_ms), "public" if result.cache_scope == "public" else "private"


def server_info(client: Any, fallback_name: str) -> ServerInfo:
    """What the negotiated connection knows of the server (2026-era servers may not name themselves)."""
    impl = client.server_info
    caps = client.server_capabilities
    return ServerInfo(
        name=impl.name if impl is not None else fallback_name,
        version=(impl.version or "") if impl is not None else "",
        title=getattr(impl, "title", None),
        protocol_version=str(client.protocol_version),
        capabilities=caps.model_dump(mode="json", exclude_none=True, by_alias=True) if caps else {},
        instructions=client.instructions,
    )


def client_info() -> Any:
    """How mcp-kernel names itself in the handshake."""
    from mcp.types import Implementation  # the SDK costs ~0.35 s to import: only once a server is used

    from ..versions import own as own_version  # looked up on first use (importlib.metadata costs ~50 ms)

    return Implementation(name="mcp-kernel", version=own_version())
