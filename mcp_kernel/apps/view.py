"""AppView: a tool's MCP Apps view in a notebook output (an anywidget), its requests answered by AppHost.

The widget carries what the browser side (``static/apphost.js``, built from ``js/apphost/``) needs: the
view's HTML and CSP, the call's input and result, and the notes shown under the view. The view's requests
come as custom messages ``{id, method, params}``, on whatever thread the comm runs (a subshell's, while
another cell runs): each is handed to the MCP loop (:mod:`mcp_kernel.runtime`), whose worker answers with
``{id, result | error}``. Displayed, a view shows the call's own result first, as an output of its own,
so a notebook reopened without a kernel (or untrusted) still reads; the widget's bundle carries a static
fallback too.

For example::

    result = session.call("viewer", "show_view", {"topic": "sales"})
    view = open_view(session, result, {"topic": "sales"})
    view  # in a notebook: the result, then the live view
"""

from __future__ import annotations

import concurrent.futures
import functools
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets
from IPython.display import display

from ..display import bundle, to_html, to_text
from ..masking import wire_masked
from ..models import AppNote, AppResource, CallResult
from ..runtime import submit
from .host import AppHost
from .resource import read_view

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["STATIC", "AppView", "open_view"]

STATIC = Path(__file__).resolve().parent / "static"
_OPENED = "mcp-kernel/opened"  # what the page says when it shows the widget (one view of it)
_CLOSED = "mcp-kernel/closed"  # ... and when that view left it (cleared, re-run, moved)


class AppView(anywidget.AnyWidget):
    """One live view: the widget the page renders, and the :class:`AppHost` answering its requests."""

    _esm = STATIC / "apphost.js"
    server = traitlets.Unicode().tag(sync=True)
    tool = traitlets.Unicode().tag(sync=True)
    html = traitlets.Unicode().tag(sync=True)
    csp = traitlets.Unicode().tag(sync=True)
    prefers_border = traitlets.Bool(None, allow_none=True).tag(sync=True)
    tool_input = traitlets.Dict().tag(sync=True)
    tool_result = traitlets.Dict().tag(sync=True)
    notes: traitlets.List[dict[str, Any]] = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, host: AppHost, resource: AppResource, result: CallResult, arguments: dict[str, Any]):
        for entry in resource.csp_dropped:  # in the state the page first gets, not in an update after it
            host.note("refused", f"the CSP domain {entry!r} is not an origin; it was left out")
        super().__init__(
            server=resource.server,
            tool=resource.tool,
            html=resource.html,
            csp=resource.csp,
            prefers_border=resource.prefers_border,
            tool_input=wire_masked(arguments, host.mask),
            tool_result=host.outbound(result),
            notes=[note.model_dump() for note in host.notes],
        )
        self.host, self.resource, self.result = host, resource, result
        self.shown: set[str] = set()  # the page's views of this widget, by the id each one gives itself
        host.on_note = self._noted
        self.on_msg(self._received)

    def _noted(self, notes: list[AppNote]) -> None:
        self.notes = [note.model_dump() for note in notes]

    def _received(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """A request from the page, on the comm's thread: answered from the MCP loop, never here."""
        if isinstance(content, dict) and content.get("method") in (_OPENED, _CLOSED):
            self._shown(content["method"], content.get("params"))
            return
        ident = content.get("id") if isinstance(content, dict) else None
        submit(self.host.areply(content)).add_done_callback(functools.partial(self._answer, ident))

    def _shown(self, method: str, params: Any) -> None:
        """One view of the widget came or went. The last one gone closes the widget: a view that left the page
        (its output cleared, its cell re-run) ends it, but not while another shows it (a moved cell's output is
        drawn anew before the old one goes)."""
        view = str(params.get("view") if isinstance(params, dict) else None)
        if method == _OPENED:
            self.shown.add(view)
            return
        self.shown.discard(view)
        if not self.shown:
            self.close()

    def _answer(self, ident: Any, done: concurrent.futures.Future[dict[str, Any]]) -> None:
        try:
            reply = done.result()
        except BaseException as exc:  # a bug of ours: the view still gets an answer, never a hang
            reply = {"id": ident, "error": {"code": -32603, "message": f"the host failed: {exc!r}"}}
        if self.comm is not None:
            self.send(reply)

    def close(self) -> None:
        """Close the view: its host refuses every later request, the page tears the view down."""
        self.host.close()
        super().close()

    # ---- display ---------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        note = f"The view of {self.server}.{self.tool} ({self.resource.uri}) needs a running kernel."
        data["text/plain"] = f"{note}\n{to_text(self.result)}"
        data["text/html"] = (
            f"<p><em>{html.escape(note)}</em></p><details><summary>The tool's result</summary>"
            f"{to_html(self.result)}</details>"
        )
        return data, metadata

    def _ipython_display_(self) -> None:
        display(
            bundle(self.result), raw=True
        )  # the result as an output of its own: readable without a kernel
        widget = self._repr_mimebundle_()
        if widget is not None:
            display(widget[0], metadata=widget[1], raw=True)


def open_view(
    session: Session, result: CallResult, arguments: dict[str, Any], *, max_requests: int = 10
) -> AppView:
    """The view of the tool that gave ``result`` (called with ``arguments``), live and answered by its own
    :class:`AppHost`; :class:`~mcp_kernel.errors.AppError` when the tool has no view."""
    info = session.servers.tool_info(result.server, result.tool)
    resource = read_view(session.servers, result.server, info)
    host = AppHost(session, result.server, result.tool, max_requests=max_requests)
    return AppView(host, resource, result, arguments)
