"""MCP Apps in the notebook: a tool's interactive view rendered in its output, its requests answered here.

``resource`` finds a tool's view and reads it, ``csp`` builds the policy it runs under, ``host``
(:class:`AppHost`) answers what the view asks (plain Python, no Jupyter needed) and ``view``
(:class:`AppView`) is the widget that shows it. The widget's module (anywidget, ipywidgets) loads only when a
view is shown.

>>> from mcp_kernel.apps import view_csp
>>> view_csp(None).text.startswith("default-src 'none'")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .csp import ViewCsp, view_csp
from .resource import RESOURCE_MIME_TYPE, read_view, view_uri, visibility

__all__ = [
    "RESOURCE_MIME_TYPE",
    "AppHost",
    "AppView",
    "ViewCsp",
    "open_view",
    "read_view",
    "view_csp",
    "view_uri",
    "visibility",
]

_LAZY = {"AppHost": "host", "AppView": "view", "open_view": "view"}

if _TYPE_CHECKING:
    from .host import AppHost as AppHost
    from .view import AppView as AppView
    from .view import open_view as open_view


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcp_kernel.apps' has no attribute {name!r}")
    from importlib import import_module  # the host loads the sandbox's bridge, the view anywidget: on use

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
