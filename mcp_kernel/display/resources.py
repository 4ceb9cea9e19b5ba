"""How a server's resources look: the list of them and their templates, and one resource read.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import ResourceContent, ResourceRead
>>> print(to_text(ResourceRead(server="demo", uri="note://a", contents=[ResourceContent(uri="note://a", text="hi", size=2)])))
demo note://a: 1 part in 0 ms
--- note://a (no type, 2 B)
hi
"""

from __future__ import annotations

import json

from ..models import ResourceContent, ResourceList, ResourceRead
from .dispatch import renders
from .formatting import filesize, one_line, table

__all__ = ["content_body", "resource_list_text", "resource_read_text"]


@renders(ResourceList, html="display/resources.html.j2")
def resource_list_text(obj: ResourceList) -> str:
    if not obj.resources and not obj.templates:
        return f"{obj.server}: no resources"
    lines = [f"{obj.server}: {len(obj.resources)} resources, {len(obj.templates)} templates"]
    if obj.resources:
        lines += [
            "",
            table(
                ["uri", "name", "type", "description"],
                [[r.uri, r.name, r.mime_type or "", one_line(r.description)] for r in obj.resources],
            ),
        ]
    if obj.templates:
        lines += [
            "",
            table(
                ["template", "name", "type", "description"],
                [[t.uri_template, t.name, t.mime_type or "", one_line(t.description)] for t in obj.templates],
            ),
        ]
    return "\n".join(lines)


def content_body(content: ResourceContent) -> str:
    """How one resource part reads: pretty JSON, the text, or a blob's size and type."""
    if content.is_binary:
        return f"[binary: {filesize(content.size)}, {content.mime_type or 'unknown type'}]"
    parsed = content.parsed
    if parsed is not None and isinstance(parsed, (dict, list)):
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return content.text or ""


@renders(ResourceRead, html="display/resource.html.j2")
def resource_read_text(obj: ResourceRead) -> str:
    parts = [
        f"{obj.server} {obj.uri}: {len(obj.contents)} part{'s' if len(obj.contents) != 1 else ''} "
        f"in {obj.duration_ms:.0f} ms"
    ]
    for content in obj.contents:
        head = f"--- {content.uri} ({content.mime_type or 'no type'}, {filesize(content.size)})"
        parts += [head, content_body(content)]
    return "\n".join(parts)
