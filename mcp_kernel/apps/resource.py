"""A tool's view: which ``ui://`` resource its ``_meta`` names, and that resource read as an :class:`AppResource`.

MCP Apps names a tool's view in ``_meta.ui.resourceUri`` (older servers: the flat key ``"ui/resourceUri"``)
and who may call the tool in ``_meta.ui.visibility`` (``"model"``, ``"app"``; both when absent). The view
is a resource of the same server whose content is HTML of type ``text/html;profile=mcp-app``; its
``_meta.ui`` (on the read content, else on the listed resource) gives the CSP domains, the border it
prefers and the permissions it asks for.

>>> from mcp_kernel.models import ToolInfo
>>> view_uri(ToolInfo(name="t", meta={"ui": {"resourceUri": "ui://t/view.html"}}))
'ui://t/view.html'
>>> visibility(ToolInfo(name="t", meta={"ui": {"visibility": ["app"]}}))
('app',)
>>> visibility(ToolInfo(name="t"))
('model', 'app')
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Protocol

from ..errors import AppError, MCPKernelError
from ..models import AppResource, ResourceContent, ResourceList, ResourceRead, ToolInfo
from .csp import view_csp

__all__ = [
    "LEGACY_URI_KEY",
    "MAX_VIEW_BYTES",
    "RESOURCE_MIME_TYPE",
    "Readable",
    "read_view",
    "view_uri",
    "visibility",
]

RESOURCE_MIME_TYPE = "text/html;profile=mcp-app"
LEGACY_URI_KEY = "ui/resourceUri"
MAX_VIEW_BYTES = 8 * 1024 * 1024  # a view's HTML travels to the browser in one comm message
_VISIBILITIES = ("model", "app")


class Readable(Protocol):
    """What :func:`read_view` needs of :class:`~mcp_kernel.servers.Servers` (a protocol: the display marks
    tools with a view through this module, and must not reach the client layer through it)."""

    def read_resource(self, server: str, uri: str, *, timeout: float | None = None) -> ResourceRead: ...

    def resources(self, server: str) -> ResourceList: ...


def _ui(meta: dict[str, Any] | None) -> dict[str, Any]:
    ui = (meta or {}).get("ui")
    return ui if isinstance(ui, dict) else {}


def view_uri(tool: ToolInfo) -> str | None:
    """The ``ui://`` URI of ``tool``'s view, or None when it has none."""
    uri = _ui(tool.meta).get("resourceUri", (tool.meta or {}).get(LEGACY_URI_KEY))
    return uri if isinstance(uri, str) and uri.startswith("ui://") else None


def visibility(tool: ToolInfo) -> tuple[str, ...]:
    """Who may call ``tool``: ``"model"`` (the agent or the person), ``"app"`` (its server's views)."""
    declared = _ui(tool.meta).get("visibility")
    if not isinstance(declared, list):
        return _VISIBILITIES
    return tuple(v for v in _VISIBILITIES if v in declared)


def _is_view(mime_type: str | None) -> bool:
    return (mime_type or "").replace(" ", "").lower() == RESOURCE_MIME_TYPE


def _html(part: ResourceContent, where: str) -> str:
    if part.blob is None:
        return part.text or ""
    try:
        return base64.b64decode(part.blob, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AppError(f"{where} is not base64 of UTF-8 HTML; the server sent a broken view.") from None


def read_view(servers: Readable, server: str, tool: ToolInfo) -> AppResource:
    """Read ``tool``'s view from ``server``; :class:`AppError` when it has none or the resource is no view.

    For example::

        view = read_view(session.servers, "viewer", session.servers.tool_info("viewer", "show_view"))
        view.uri, view.csp.startswith("default-src 'none'")
        # ('ui://viewer/view.html', True)
    """
    uri = view_uri(tool)
    if uri is None:
        raise AppError(
            f"{server}.{tool.name} has no view (its _meta names no ui:// resource). "
            f"Call it with `%mcp call {server} {tool.name}` to see its result."
        )
    read = servers.read_resource(server, uri)
    where = f"The view {uri} of {server}"
    parts = [part for part in read.contents if _is_view(part.mime_type)]
    if not parts:
        found = ", ".join(sorted({str(part.mime_type) for part in read.contents})) or "nothing"
        raise AppError(f"{where} is not a view: it is {found}, not {RESOURCE_MIME_TYPE}.")
    part = parts[0]
    html = _html(part, where)
    if len(html.encode("utf-8", "replace")) > MAX_VIEW_BYTES:
        raise AppError(f"{where} is larger than {MAX_VIEW_BYTES:,} bytes; it is not shown.")
    ui = _ui(part.meta)
    if not ui:  # the spec's fallback: the _meta of the resource as listed
        try:
            listed = [r for r in servers.resources(server).resources if r.uri == uri]
        except MCPKernelError:  # a server that reads but does not list: the defaults hold
            listed = []
        ui = _ui(listed[0].meta) if listed else {}
    csp = view_csp(ui.get("csp"))
    border = ui.get("prefersBorder")
    permissions = ui.get("permissions")
    return AppResource(
        server=server,
        tool=tool.name,
        uri=uri,
        html=html,
        csp=csp.text,
        csp_dropped=csp.dropped,
        prefers_border=border if isinstance(border, bool) else None,
        permissions=permissions if isinstance(permissions, dict) else {},
    )
