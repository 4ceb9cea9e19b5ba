"""mcp-kernel: code execution with MCP from Jupyter.

Introspect MCP servers, generate typed bindings into a progressive virtual filesystem, and run code that
calls those tools inside a WebAssembly sandbox.

>>> from mcp_kernel import ConnectionPool, demo_spec
>>> with ConnectionPool([demo_spec()]) as pool:                   # doctest: +SKIP
...     [t.name for t in pool.list_tools("demo")][:2]
['aggregate_sales', 'forecast_revenue']
"""

from __future__ import annotations

from importlib import metadata as _metadata

from .client import Connection, ConnectionPool
from .config import ServerConfig, demo_spec, load_config
from .errors import *  # noqa: F403 - the error tree is part of the public API
from .errors import __all__ as _error_names
from .models import CallResult, ServerInfo, ServerSpec, ToolAnnotations, ToolInfo

try:
    __version__ = _metadata.version("mcp-kernel")
except _metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

__all__ = [
    "__version__",
    "CallResult",
    "Connection",
    "ConnectionPool",
    "ServerConfig",
    "ServerInfo",
    "ServerSpec",
    "ToolAnnotations",
    "ToolInfo",
    "demo_spec",
    "load_config",
    "load_ipython_extension",
    "unload_ipython_extension",
    *_error_names,
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext mcp_kernel``: register ``%mcp`` and ``%%mcp_execute`` in this shell."""
    from .extension import load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext mcp_kernel``: stop the servers this shell started."""
    from .extension import unload

    unload(ipython)
