"""``_mcp_runtime``: what generated bindings call (tools, resources, state, logs, views) and what cells may import.

The module is built here from these functions, not imported from a file, so that it holds only them;
``mcp_guest`` puts it back into ``sys.modules`` before each cell (a cell may have removed it).
"""

import asyncio
import sys
import types

from componentize_py_types import Err  # type: ignore[import-not-found]  # componentize-py's, in the guest only
from guest_host import (
    _DECODE,
    CellTimeout,
    ToolCallError,
    _check_stop,
    _dumps,
    _loads,
    _names,
    _raise_from_host,
    _text,
    host,
)
from guest_loop import HostEventLoop
from guest_output import _flush_output
from guest_views import _remember, show


def call_tool(server, tool, params=None):
    """Call ``tool`` on ``server`` through the host bridge; return the tool's value."""
    server, tool = _names(server, tool)
    _flush_output()
    params_json = _dumps(params or {})
    text = host.call_tool(server, tool, params_json)
    if text[:1] != "+":
        _raise_from_host(text[1:])
    value = _DECODE(text, 1)[0]  # parsed in place: a large result is not copied first
    _remember(value, server, tool, params_json)  # show(value) names this call
    return value


def read_resource(server, uri):
    """Read resource ``uri`` of ``server`` through the host bridge: a list of parts, each a dict with
    ``uri``, ``mime_type``, ``size`` and ``text`` (or ``blob``, base64)."""
    _flush_output()
    try:
        text = host.read_resource(_text(server), _text(uri))
    except Err as exc:
        _raise_from_host(exc.value)
    return _loads(text)


async def call_tool_async(server, tool, params=None):
    """Call ``tool`` on ``server`` without blocking the event loop: calls gathered together run at once."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, HostEventLoop):
        return call_tool(server, tool, params)
    return await loop.call_tool(server, tool, params)


def get_state(key, default=None):
    """A value saved with ``set_state`` in this session (also in earlier cells), or ``default``."""
    text = host.get_state(_text(key))
    return default if text is None else _loads(text)


def set_state(key, value):
    """Save a JSON-serialisable value for later cells of this session."""
    try:
        host.set_state(_text(key), _dumps(value))
    except Err as exc:
        raise ValueError(exc.value) from None


def log(level, message):
    """Send a log line to the host."""
    _check_stop(host.log(_text(level), _text(message)))


_runtime = types.ModuleType("_mcp_runtime", "The sandbox side of generated MCP tool bindings.")
for _fn in (
    call_tool,
    call_tool_async,
    read_resource,
    get_state,
    set_state,
    log,
    show,
    ToolCallError,
    CellTimeout,
    HostEventLoop,
):
    setattr(_runtime, _fn.__name__, _fn)
sys.modules["_mcp_runtime"] = _runtime
