"""The MCP Apps views a cell asks for with ``show(result)``: its calls' results kept for it, and its requests.

The bridge hands :class:`CellViews` the whole result of each of the cell's calls to a tool that has a view
(the newest ``MAX_KEPT``), under the call as the guest named it: server, tool and the params' JSON as sent.
The guest's ``show-view`` names one of those calls, so the host shows the real result without the guest
sending the data back; the requests (at most ``MAX_SHOWN``) go out with the cell's
:class:`~mcp_kernel.models.ExecutionResult` (``views``), and :meth:`CellViews.take` starts the next cell
clean. A notebook shows them after the cell's output; ``mcp-kernel execute`` and serve leave them out.

>>> from mcp_kernel.models import CallResult, ToolInfo
>>> tool = ToolInfo(name="chart", meta={"ui": {"resourceUri": "ui://demo/chart.html"}})
>>> views = CellViews(lambda server, name: tool)
>>> views.servers = frozenset({"demo"})
>>> views.keep("demo", "chart", '{"n": 3}', CallResult(server="demo", tool="chart", structured={"n": 3}))
>>> views.show("demo", "chart", '{"n": 3}')
>>> [(v.server, v.tool, v.arguments, v.result.value) for v in views.take()]
[('demo', 'chart', {'n': 3}, {'n': 3})]
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable

from ..apps.resource import view_uri
from ..errors import AppError
from ..masking import Mask, wire_masked
from ..models import CallResult, ToolInfo, ViewRequest

__all__ = ["MAX_KEPT", "MAX_SHOWN", "CellViews", "masked"]

MAX_KEPT = 16  # results of calls to tools with a view, kept per cell (the newest)
MAX_SHOWN = 16  # views one cell may ask for

_Call = tuple[str, str, str]  # server, tool, the params' JSON as the guest sent it


class CellViews:
    """The running cell's results of calls to tools with a view, and the views it asked for (thread-safe:
    calls a cell gathers end on several threads)."""

    def __init__(self, lookup: Callable[[str, str], ToolInfo]) -> None:
        self.lookup = lookup
        self.servers: frozenset[str] = frozenset()  # the cell's allowlist (Bridge.apply sets it)
        self._kept: OrderedDict[_Call, CallResult] = OrderedDict()
        self._shown: list[ViewRequest] = []
        self._lock = threading.Lock()

    @staticmethod
    def has_view(tool: ToolInfo) -> bool:
        """Whether ``tool`` names an MCP Apps view (its results are kept for ``show``)."""
        return view_uri(tool) is not None

    def kept(self, server: str, tool: str, params_json: str) -> bool:
        """Whether the result of this call is kept for the cell."""
        with self._lock:
            return (server, tool, params_json) in self._kept

    def keep(self, server: str, tool: str, params_json: str, result: CallResult) -> None:
        """Keep ``result`` of this call for the cell (the oldest kept one goes past ``MAX_KEPT``)."""
        with self._lock:
            self._kept[(server, tool, params_json)] = result
            self._kept.move_to_end((server, tool, params_json))
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)

    def show(self, server: str, tool: str, params_json: str) -> None:
        """Ask for the view of this call; :class:`AppError` when its tool has none, or its result is not kept."""
        with self._lock:
            result = self._kept.get((server, tool, params_json))
            if result is not None and len(self._shown) < MAX_SHOWN:
                self._shown.append(
                    ViewRequest(server=server, tool=tool, arguments=json.loads(params_json), result=result)
                )
                return
        if result is not None:
            raise AppError(f"A cell shows at most {MAX_SHOWN} views; {server}.{tool}'s was not added.")
        if server not in self.servers:  # never asked of its server: the cell may not reach it
            raise AppError(
                f"{server}.{tool} cannot have been called in this cell: {server} is not allowed here."
            )
        if not self.has_view(self.lookup(server, tool)):  # ToolNotFound for a tool the server lacks
            raise AppError(
                f"{server}.{tool} has no view (its _meta names no ui:// resource); show() shows the view "
                "of a tool that has one."
            )
        raise AppError(
            f"The result of this call to {server}.{tool} is not kept: show() shows the view of a call made "
            f"in the same cell (one of its last {MAX_KEPT} to tools with a view). Call it again in this cell."
        )

    def take(self) -> list[ViewRequest]:
        """The views the cell asked for; the kept results are let go (the next cell starts clean)."""
        with self._lock:
            shown, self._shown = self._shown, []
            self._kept.clear()
        return shown


def masked(view: ViewRequest, mask: Mask) -> ViewRequest:
    """``view`` with personal data replaced by ``mask``'s placeholders, as the cell's output has it (binary
    content, base64, stays as it is)."""
    result = view.result
    update = {"structured": mask(result.structured), "text": mask(result.text)}
    return view.model_copy(
        update={
            "arguments": mask(view.arguments),
            "result": result.model_copy(update={**update, "content": wire_masked(result.content, mask)}),
        }
    )
