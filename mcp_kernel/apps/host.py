"""AppHost: the requests one view makes of its host, answered with the checks of any call from code.

A view (MCP Apps) talks JSON-RPC to its host. This is the host's side, in plain Python (the notebook's
widget, view.py, only carries the messages):

- ``tools/call``: only its own server's tools (the view names a tool, never a server), and only those whose
  ``_meta.ui.visibility`` includes ``"app"``. The call goes through a sandbox :class:`~mcp_kernel.sandbox.
  bridge.Bridge` of its own, as serve's exposed tools do: the policy a cell gets for that one server
  (parameter size, the input schema, placeholders restored, rate, tool timeout), the approvals and the
  audit trail of the settings. The whole result (content, structured content, ``isError``) goes back.
- ``resources/read``: its own server's resources, through the same bridge (at most ``max_read_bytes``).
- ``ui/open-link``: an http(s) URL only; the page asks the person before it opens (view.py's JS).
- ``ui/message``, ``ui/update-model-context``: kept (:attr:`AppHost.notes`, :attr:`AppHost.context`) and
  shown under the view; there is no model in a notebook to hand them to.

More than ``max_requests`` requests within ``window_s`` seconds are refused (a view in a loop cannot flood
its server or the kernel). Every refusal is an :class:`~mcp_kernel.errors.AppError` that the view gets as
its JSON-RPC error and a note shown under the view. With ``tokenize_pii`` on, what goes back to the view
passes a mask of its own (placeholders it sends back in a call are restored).

For example::

    host = AppHost(session, "viewer", "show_view")
    host.reply({"id": 1, "method": "tools/call", "params": {"name": "app_only", "arguments": {}}})
    # {'id': 1, 'result': {'content': [...], 'isError': False}}
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..audit import guards_for
from ..errors import AppError, MCPKernelError, ServerError, ToolCallError
from ..masking import Mask, wire_masked
from ..models import AppNote, CallResult
from ..pii import PIITokenizer
from ..runtime import Scope
from ..sandbox.bridge import Bridge
from .resource import visibility

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["MAX_NOTES", "AppHost"]

MAX_NOTES = 100  # notes kept per view (the newest); a flood of refusals is counted, not kept line by line
_INVALID_REQUEST = -32600


class AppHost:
    """The host of one view of ``server``'s ``tool``: its requests answered, its notes kept (thread-safe)."""

    def __init__(
        self,
        session: Session,
        server: str,
        tool: str,
        *,
        max_requests: int = 10,
        window_s: float = 1.0,
        max_read_bytes: int = 4 * 1024 * 1024,
        on_note: Callable[[list[AppNote]], None] | None = None,
    ) -> None:
        self.session, self.server, self.tool = session, server, tool
        self.max_requests, self.window_s = max_requests, window_s
        self.on_note = on_note  # told the notes after each new one (the widget shows them)
        settings = session.settings
        self.mask = Mask(PIITokenizer(settings.pii_patterns) if settings.tokenize_pii else None)
        self.bridge = Bridge(
            lookup=session.servers.tool_info,
            acall=self._acall,
            aread=session.servers.aread_resource,
            servers=[server],
            max_resource_bytes=max_read_bytes,
        )
        self.bridge.apply(session.policy([server]))
        self.bridge.use_cache = False  # it keeps a result's value alone; a view needs the whole result
        self.bridge.approvals.run_wide = False  # each request is a run of its own
        self.bridge.guards = guards_for(settings)
        self.bridge.caller = f"notebook (view of {server}.{tool})"
        self.bridge.pii = self.mask.pii
        self.notes: list[AppNote] = []
        self.dropped_notes = 0
        self.context: dict[str, Any] | None = None  # the view's last ui/update-model-context
        self.closed = False
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._here = threading.local()

    # ---- the protocol ---------------------------------------------------------------------------
    def reply(self, message: Any) -> dict[str, Any]:
        """The answer to one request ``{id, method, params}``: ``{id, result}`` or ``{id, error}``."""
        if not isinstance(message, dict):
            return {"id": None, "error": {"code": _INVALID_REQUEST, "message": "a request is an object"}}
        ident, method, params = message.get("id"), message.get("method"), message.get("params")
        try:
            return {
                "id": ident,
                "result": self.handle(str(method), params if isinstance(params, dict) else {}),
            }
        except AppError as exc:
            return {"id": ident, "error": {"code": exc.code, "message": str(exc)}}

    async def areply(self, message: Any) -> dict[str, Any]:
        """:meth:`reply` for the MCP loop: its blocking work on a worker thread, never on the loop itself."""
        return await asyncio.to_thread(self.reply, message)

    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The result of ``method``; :class:`AppError` (noted under the view) when it is refused."""
        try:
            if self.closed:
                raise AppError(f"The view of {self.server}.{self.tool} was closed; run its cell again.")
            return self._answer(method, params)
        except MCPKernelError as exc:
            refusal = exc if isinstance(exc, AppError) else AppError(self._why(exc))
            self.note("refused", f"{method}: {refusal}")
            raise refusal from None

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "tools/call":
            self._admit(method)
            return self.call(params.get("name"), params.get("arguments"))
        if method == "resources/read":
            self._admit(method)
            return self.read(params.get("uri"))
        if method == "ui/open-link":
            return self.open_link(params.get("url"))
        if method == "ui/message":
            self.note("message", _text_of(params.get("content")) or json.dumps(params)[:500])
            return {}
        if method == "ui/update-model-context":
            self.context = params
            text = _text_of(params.get("content")) or json.dumps(params.get("structuredContent"))[:500]
            self.note("context", text)
            return {}
        raise AppError(f"{method!r} is not a request this host answers.", code=-32601)

    def _admit(self, method: str) -> None:
        """Refuse a request past ``max_requests`` within ``window_s`` (the requests that reach the server)."""
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= self.window_s:
                self._recent.popleft()
            if len(self._recent) >= self.max_requests:
                raise AppError(
                    f"{method} refused: the view sent more than {self.max_requests} requests within "
                    f"{self.window_s:g} s. Nothing reached {self.server}."
                )
            self._recent.append(now)

    # ---- the requests -------------------------------------------------------------------------------
    def call(self, name: Any, arguments: Any) -> dict[str, Any]:
        """Call the view's server's tool ``name`` (visible to apps) through the bridge; the result as wire JSON."""
        if not isinstance(name, str) or not name:
            raise AppError("tools/call needs the name of a tool.")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise AppError(f"The arguments of {name!r} must be an object.")
        info = self.session.servers.tool_info(self.server, name)  # ToolNotFound: not on this server
        if "app" not in visibility(info):
            raise AppError(
                f"{self.server}.{name} is not visible to apps (its _meta.ui.visibility is "
                f'{list(visibility(info))}); a view may call only its server\'s tools marked "app".'
            )
        held: list[CallResult] = []
        self._here.held = held
        try:
            self.bridge.call_tool(self.server, name, json.dumps(arguments, ensure_ascii=False), Scope())
        except ToolCallError:
            if not held or not held[0].is_error:
                raise
        finally:
            self._here.held = None
            self.bridge.take_records()  # the view's calls are not a cell's: nothing reads these
        return self.outbound(held[0])

    def outbound(self, result: CallResult) -> dict[str, Any]:
        """``result`` as the view gets it (``CallToolResult``'s wire shape), through the view's mask."""
        wire: dict[str, Any] = {"content": result.content, "isError": result.is_error}
        if result.structured is not None:
            wire["structuredContent"] = result.structured
        return dict(wire_masked(wire, self.mask))

    def read(self, uri: Any) -> dict[str, Any]:
        """Read the view's server's resource ``uri`` through the bridge; ``ReadResourceResult``'s wire shape."""
        if not isinstance(uri, str) or not uri:
            raise AppError("resources/read needs a uri.")
        parts = json.loads(self.bridge.read_resource(self.server, uri, Scope()))
        self.bridge.take_records()
        contents = []
        for part in parts:
            wire = {"uri": part["uri"], "mimeType": part.get("mime_type")}
            wire.update({key: part[key] for key in ("text", "blob") if key in part})
            if part.get("meta") is not None:
                wire["_meta"] = part["meta"]
            contents.append({key: value for key, value in wire.items() if value is not None})
        return dict(wire_masked({"contents": contents}, self.mask))

    def open_link(self, url: Any) -> dict[str, Any]:
        """Agree to open ``url`` (http or https only); the page asks the person before it opens it."""
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise AppError(f"only http(s) links are opened, not {str(url)[:200]!r}.")
        self.note("link", url)
        return {}

    # ---- notes and the end ---------------------------------------------------------------------------
    def note(self, kind: str, text: str) -> None:
        """Keep one note (the newest ``MAX_NOTES``) and tell :attr:`on_note`."""
        with self._lock:
            self.notes.append(AppNote(kind=kind, text=text[:2000]))  # type: ignore[arg-type]
            if len(self.notes) > MAX_NOTES:
                del self.notes[0]
                self.dropped_notes += 1
            notes = list(self.notes)
        if self.on_note is not None:
            self.on_note(notes)

    def close(self) -> None:
        """Refuse every later request (the view was torn down)."""
        self.closed = True

    def _why(self, exc: MCPKernelError) -> str:
        if isinstance(exc, ServerError):
            return f"The view's server {self.server!r} is gone or failing: {exc}"
        return str(exc)

    def _acall(
        self, server: str, tool: str, params: dict[str, Any], timeout: float, progress: Any
    ) -> Coroutine[Any, Any, CallResult]:
        """The bridge's hand-off to the server, on the calling thread: the whole result is kept for it."""
        held: list[CallResult] = self._here.held
        return _kept(self.session.servers.acall(server, tool, params, timeout, progress), held)


async def _kept(request: Coroutine[Any, Any, CallResult], held: list[CallResult]) -> CallResult:
    result = await request
    held.append(result)
    return result


def _text_of(content: Any) -> str:
    """The text blocks of ``content`` (a list of content blocks), joined."""
    if not isinstance(content, list):
        return ""
    texts = [block.get("text") for block in content if isinstance(block, dict)]
    return "\n".join(text for text in texts if isinstance(text, str))[:2000]
