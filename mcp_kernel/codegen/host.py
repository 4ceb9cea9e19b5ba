"""The host side of ``_mcp_runtime``: generated bindings run in plain Python, outside the sandbox.

Every binding reaches one entry point, ``_mcp_runtime.call_tool(server, tool, params)``; the sandbox guest
provides that module, and on the host :func:`host_runtime` does.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ToolCallError

RUNTIME_MODULE = "_mcp_runtime"


@contextlib.contextmanager
def host_runtime(call: Callable[[str, str, dict[str, Any]], Any]) -> Iterator[types.ModuleType]:
    """Provide ``_mcp_runtime`` on the host so generated bindings run in plain Python.

    For example::

        with host_runtime(lambda server, tool, params: session.call(server, tool, params).value):
            from servers.demo import list_regions
            list_regions()
    """
    module = types.ModuleType(RUNTIME_MODULE, "Host-side runtime for generated MCP bindings.")

    async def call_async(server: str, tool: str, params: dict[str, Any]) -> Any:
        import asyncio  # tens of ms to import: paid only by bindings called from async code

        return await asyncio.to_thread(call, server, tool, params)

    module.call_tool = call  # type: ignore[attr-defined]
    module.call_tool_async = call_async  # type: ignore[attr-defined]
    module.ToolCallError = ToolCallError  # type: ignore[attr-defined]
    previous = sys.modules.get(RUNTIME_MODULE)
    sys.modules[RUNTIME_MODULE] = module
    try:
        yield module
    finally:
        if previous is None:
            sys.modules.pop(RUNTIME_MODULE, None)
        else:
            sys.modules[RUNTIME_MODULE] = previous
