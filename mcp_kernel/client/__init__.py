"""Connections to MCP servers over stdio, streamable HTTP and SSE: with :mod:`mcp_kernel.auth` (sign-in),
the only place that imports the ``mcp`` SDK's client.

A :class:`Connection` is owned by one long-lived task on the background loop (:mod:`mcp_kernel.runtime`);
callers on any thread use its synchronous methods, or ``await`` the ``a*`` ones from the loop itself.
A :class:`ConnectionPool` keeps one live connection per server, shared by every caller, and starts a
server again on the next call after it crashed.

The package, one concept a module:

- ``connection``: the owner task and the request core (timer, error translation)
- ``operations``: lists, tool calls, reads, prompts, completions; ``sync``: their blocking twins
- ``callbacks``: what the server asks of the client; ``watch``: resource updates and list changes
- ``transports``: stdio, streamable HTTP, SSE; ``process``: a stdio server's process group
- ``serverlog``: the server's log file; ``convert``: SDK types to models
- ``errors``: the one :func:`translate` from SDK/transport failures to mcp-kernel's errors
- ``pool``: :class:`ConnectionPool`

>>> from mcp_kernel.config import demo_spec

For example::

    with ConnectionPool([demo_spec()]) as pool:
        tools = pool.list_tools("demo")
        rows = pool.call_tool("demo", "query_sales", {"region": "EU", "limit": 3}).value
"""

from __future__ import annotations

from ..errors import PromptArgumentMissing, PromptNotFound, ResourceNotFound
from .connection import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Connection
from .errors import translate
from .operations import ProgressCallback
from .pool import ConnectionPool
from .process import missing_command
from .serverlog import safe_filename
from .transports import MAX_SSE_EVENT_BYTES

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MAX_SSE_EVENT_BYTES",
    "Connection",
    "ConnectionPool",
    "ProgressCallback",
    "PromptArgumentMissing",
    "PromptNotFound",
    "ResourceNotFound",
    "missing_command",
    "safe_filename",
    "translate",
]
