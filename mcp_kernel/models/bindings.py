"""Generated bindings: what ``generate`` wrote, one file of the virtual filesystem, and saved plugins.

>>> FileView(path="servers/demo/__init__.py", text="", size=0).size
0
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import _Model

__all__ = ["FileView", "GenerateReport", "PluginInfo", "PluginList"]


class GenerateReport(_Model):
    """What ``generate`` wrote for one server."""

    server: str
    server_id: str
    tools: int
    languages: list[str]
    files: list[str]
    bytes: int
    out: str | None = None
    plugin: str | None = None
    duration_ms: float = 0.0


class FileView(_Model):
    """One file of the virtual filesystem."""

    path: str
    text: str
    size: int


class PluginInfo(_Model):
    """One saved plugin: its metadata, its size, and whether the live server has changed since."""

    metadata: dict[str, Any]
    files: int
    bytes: int
    stale: bool | None = None
    changed_tools: list[str] = Field(default_factory=list)


class PluginList(_Model):
    store: str
    plugins: list[PluginInfo]
    broken: dict[str, str] = Field(default_factory=dict)
