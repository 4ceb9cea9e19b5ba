"""How saved plugins look: one plugin's metadata and freshness, and the store's list of them.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import PluginList
>>> print(to_text(PluginList(store="/data/plugins", plugins=[])))
plugins in /data/plugins
  (none)  save one with generate SERVER --save-plugin
"""

from __future__ import annotations

from ..models import PluginInfo, PluginList
from .dispatch import renders_sections
from .formatting import Sections, filesize

__all__ = ["plugin_info_sections", "plugin_list_sections"]


@renders_sections(PluginInfo)
def plugin_info_sections(obj: PluginInfo) -> tuple[str, Sections]:
    meta = obj.metadata
    stale = {
        None: "unknown (server not checked)",
        True: "STALE: the live server's schemas changed",
        False: "up to date with the live server",
    }[obj.stale]
    rows = [
        ("server", f"{meta['server_name']} ({meta['server'].get('name')} {meta['server'].get('version')})"),
        ("tools", meta["tool_count"]),
        ("files", f"{obj.files}, {filesize(obj.bytes)}"),
        ("created", meta["created"]),
        ("mcp-kernel", meta["mcp_kernel_version"]),
        ("generator", meta["generator_version"]),
        ("wasmtime", meta["wasmtime_version"]),
        ("status", stale),
    ]
    if obj.changed_tools:
        rows.append(("changed tools", ", ".join(obj.changed_tools)))
    return f"plugin {meta['server_id']}", [("", rows)]


@renders_sections(PluginList)
def plugin_list_sections(obj: PluginList) -> tuple[str, Sections]:
    rows = [
        (
            p.metadata["server_id"],
            f"{p.metadata['tool_count']} tools, {filesize(p.bytes)}, created {p.metadata['created']}",
        )
        for p in obj.plugins
    ]
    rows += [(name, f"BROKEN: {error}") for name, error in obj.broken.items()]
    return f"plugins in {obj.store}", [
        ("", rows or [("(none)", "save one with generate SERVER --save-plugin")])
    ]
