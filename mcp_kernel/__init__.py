"""mcp-kernel: code execution with MCP from Jupyter.

Introspect MCP servers, generate typed bindings into a progressive virtual filesystem, and run code that
calls those tools inside a WebAssembly sandbox.

>>> from mcp_kernel import ConnectionPool, demo_spec

For example::

    with ConnectionPool([demo_spec()]) as pool:
        [t.name for t in pool.list_tools("demo")][:2]
    # ['aggregate_sales', 'forecast_revenue']
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .errors import *  # noqa: F403 - the error tree is part of the public API
from .errors import __all__ as _error_names

# The rest of the API loads on first use, so `%load_ext mcp_kernel` and `mcp-kernel --help` stay fast.
_LAZY = {
    "CallResult": "models",
    "ServerInfo": "models",
    "ServerSpec": "models",
    "ToolAnnotations": "models",
    "ToolInfo": "models",
    "ExecutionResult": "models",
    "Connection": "client",
    "ConnectionPool": "client",
    "ServerConfig": "config",
    "demo_spec": "config",
    "load_config": "config",
    "Session": "session",
    "Sandbox": "sandbox",
    "SandboxPolicy": "sandbox",
    "PluginStore": "plugins",
    "VirtualFS": "vfs",
    "generate": "codegen",
}

if _TYPE_CHECKING:  # what the lazy names are, for type checkers (`X as X`: re-exported on purpose)
    from .client import Connection as Connection
    from .client import ConnectionPool as ConnectionPool
    from .codegen import generate as generate
    from .config import ServerConfig as ServerConfig
    from .config import demo_spec as demo_spec
    from .config import load_config as load_config
    from .models import CallResult as CallResult
    from .models import ExecutionResult as ExecutionResult
    from .models import ServerInfo as ServerInfo
    from .models import ServerSpec as ServerSpec
    from .models import ToolAnnotations as ToolAnnotations
    from .models import ToolInfo as ToolInfo
    from .plugins import PluginStore as PluginStore
    from .sandbox import Sandbox as Sandbox
    from .sandbox import SandboxPolicy as SandboxPolicy
    from .session import Session as Session
    from .vfs import VirtualFS as VirtualFS

    __version__: str


def __getattr__(name: str) -> _Any:
    if name == "__version__":  # looked up on first use: importlib.metadata costs ~50 ms of every import
        from .versions import own

        globals()[name] = value = own()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcp_kernel' has no attribute {name!r}")
    from importlib import import_module  # cheap, but kept out of the package's namespace (its API is __all__)

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    *sorted(_LAZY),
    "load_ipython_extension",
    "unload_ipython_extension",
    *_error_names,
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext mcp_kernel``: register ``%mcp`` and ``%%mcp_execute`` in this shell."""
    from .extension import load  # the magics and IPython: only when IPython loads the extension

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext mcp_kernel``: stop the servers this shell started."""
    from .extension import unload  # loaded with load_ipython_extension

    unload(ipython)
