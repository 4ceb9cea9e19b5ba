"""``show(result)``: the MCP Apps view of the tool call that returned ``result``, shown by the notebook.

The runtime remembers the last ``_REMEMBERED`` dicts and lists that tool calls returned, by identity, with the
call that returned each (server, tool, the params' JSON as sent). ``show`` names that call to the host, which
kept the call's whole result for the cell: the data itself never leaves the sandbox again. Only dicts and
lists are remembered, since only their identity says which call made them (an int or a short string may be
the same object as any other equal one).

    from servers.demo import aggregate_sales
    from _mcp_runtime import show
    show(aggregate_sales(group_by="region"))
"""

import collections

from componentize_py_types import Err  # type: ignore[import-not-found]  # componentize-py's, in the guest only
from guest_host import _raise_from_host, host

_REMEMBERED = 16
# (value, server, tool, params_json), newest last; the values are held, so an id is never another object's
_RESULTS: collections.deque = collections.deque(maxlen=_REMEMBERED)


def _remember(value, server, tool, params_json):
    """Note that ``value`` came back from ``server``.``tool`` called with ``params_json``."""
    if type(value) in (dict, list):
        _RESULTS.append((value, server, tool, params_json))


def show(result):
    """Show the MCP Apps view of the tool call that returned ``result``, after the cell's output (notebook).

    ``result`` must be the very dict or list a tool call of this cell returned (one of the last 16); a
    ``ToolCallError`` says why the host cannot show it (the tool has no view, the call was not this cell's).
    """
    made = next((entry for entry in reversed(_RESULTS) if entry[0] is result), None)
    if made is None:
        raise ValueError(
            f"show() takes the dict or list a tool call returned (one of the last {_REMEMBERED}), not "
            f"a {type(result).__name__} made otherwise; pass the call's value itself, e.g. "
            "show(aggregate_sales(...))."
        )
    _, server, tool, params_json = made
    try:
        host.show_view(server, tool, params_json)
    except Err as exc:
        _raise_from_host(exc.value)
