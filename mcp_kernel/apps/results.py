"""How a notebook shows the result of a direct call: with the tool's MCP Apps view when it has one.

Registered for :class:`~mcp_kernel.models.CallResult` in a kernel's shell (``extension.py``), so that
``%mcp call`` and a plain ``session.call(...)`` look the same: a result of :meth:`Session.call
<mcp_kernel.session.Session.call>` whose tool names a view is shown as the result and its live view (see
:mod:`mcp_kernel.apps.view`); any other result, or one whose session is closed, as its table. A view that
cannot be opened (its resource is missing or malformed) is said on stderr and the result is shown as it is.

For example, in a notebook::

    result = session.call("demo", "aggregate_sales", {"group_by": "region"})
    result  # the call's result, then the dashboard
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..display import bundle
from ..errors import MCPKernelError
from ..models import CallResult
from ..session import made_by
from .resource import view_uri

if TYPE_CHECKING:
    from .view import AppView

__all__ = ["result_bundle", "view_of"]


def view_of(result: CallResult) -> AppView | None:
    """The live view of ``result`` when its tool has one and the session that made it is open; None
    otherwise. A view that cannot be opened (its resource missing or malformed) is said on stderr."""
    made = made_by(result)
    if made is None:
        return None
    session, arguments = made
    try:
        if view_uri(session.servers.tool_info(result.server, result.tool)) is None:
            return None
    except MCPKernelError:  # the server or the tool is gone: the result still shows
        return None
    from .view import open_view  # anywidget and ipywidgets: only for a tool with a view

    try:
        return open_view(session, result, arguments)
    except MCPKernelError as exc:
        print(f"The view of {result.server}.{result.tool} cannot be shown: {exc}", file=sys.stderr)
        return None


def result_bundle(result: CallResult) -> Any:
    """How a kernel shows ``result`` (its mimebundle formatter): its table; for a tool with a view, the table
    as an output of its own (readable without a kernel) and then the live view."""
    view = view_of(result)
    if view is None:
        return bundle(result)
    display(bundle(result), raw=True)
    return view._repr_mimebundle_()
