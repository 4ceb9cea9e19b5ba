"""The WebAssembly sandbox: CPython as a component on wasmtime, reaching MCP tools only through the bridge.

For example::

    from mcp_kernel.sandbox import Sandbox, SandboxPolicy
"""

from .bridge import Bridge, BridgeStats, CallRecord, ResultCache
from .engine import Engine
from .policy import SandboxPolicy
from .session import HostHandler, Sandbox, StateStore

__all__ = [
    "Bridge",
    "BridgeStats",
    "CallRecord",
    "Engine",
    "HostHandler",
    "ResultCache",
    "Sandbox",
    "SandboxPolicy",
    "StateStore",
]
