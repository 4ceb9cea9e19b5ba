"""What a server asks of the client while connected, and what it tells it.

Questions (elicitation) go to the person behind the call that caused them; sampling is refused (there is
no model here); ``roots/list`` answers the connection's ``roots``; log messages and notes go to the
server's log file. The time a person spends answering (a question, a sign-in) pauses the connection's
``_clock``, which every request's deadline follows, and the clock of the asker waiting for the call.

>>> sorted(m for m in vars(Callbacks) if m.startswith("_on_"))
['_on_elicit', '_on_log', '_on_message', '_on_response', '_on_roots', '_on_sampling']
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..models import ServerSpec
from .errors import describe, looks_like_reply
from .serverlog import ServerLog, json_line

if TYPE_CHECKING:
    from ..auth import SignIn, SignInMode
    from ..deadline import Deadline
    from ..elicitation import Asker

__all__ = ["Attended", "Callbacks"]


class Callbacks:
    """The SDK's callbacks of a :class:`~mcp_kernel.client.Connection`, and the person time they count."""

    if TYPE_CHECKING:  # what the Connection these methods belong to provides
        spec: ServerSpec
        roots: list[Path]
        sign_in: SignIn | None
        sign_in_mode: SignInMode
        _log: ServerLog
        _askers: list[Any]
        _connect_asker: Asker | None
        _clock: Deadline
        _auth_failure: Exception | None
        _denied: int | None
        _garbled: set[Callable[[str], None]]
        _subscribed: set[str]
        _log_listeners: list[Callable[[Any], None]]

        def _lists_changed(self, kind: str) -> None: ...
        def _resource_updated(self, uri: str) -> None: ...

    def _auth_failed(self, exc: Exception) -> None:
        """The OAuth flow failed (the transport only logs it): kept to name the AuthRequired."""
        self._auth_failure = exc

    async def _on_response(self, response: Any) -> None:
        """Every HTTP response: a 401/403 is kept to name the AuthRequired."""
        if response.status_code in (401, 403):
            self._denied = response.status_code

    def _person(self) -> Asker | None:
        """Who answers for this connection now: the asker of a call in flight, else the one that connected."""
        from ..elicitation import current  # ~6 ms to import: paid once a server asks, not at start-up

        return current() or (self._askers[-1] if self._askers else self._connect_asker)

    def _sign_in_for(self, port: int) -> SignIn:
        from ..auth import person_sign_in  # the SDK's OAuth: only for a server that needs sign-in

        inner = self.sign_in or person_sign_in(self.spec.name, port, self.sign_in_mode, self._person)
        return Attended(self, inner)

    @contextlib.asynccontextmanager
    async def _people_time(self) -> AsyncIterator[None]:
        """A person is answering (a question, a sign-in): the time does not count against timeouts, here or
        on the thread that waits for the call."""
        asker = self._person()
        with self._clock.paused(), asker.clock.paused() if asker is not None else contextlib.nullcontext():
            yield

    async def _on_elicit(self, context: Any, params: Any) -> Any:
        """A server asks for input (an ``input_required`` round or a legacy ``elicitation/create``).

        The question goes to the person behind the call that caused it: the asker attached to this request
        (2026 era: the callback runs in the request's own task), else the one of the call in flight (legacy
        era: the callback runs in the connection's reader). With none (a sandboxed cell, a call made by code)
        it is declined, and the reason kept in the server's log.
        """
        from mcp.types import ElicitResult  # the SDK: loaded by now

        from ..elicitation import Question, current  # ~6 ms to import: paid once a server asks

        url = getattr(params, "url", None)
        question = Question(
            server=self.spec.name,
            message=getattr(params, "message", "") or "",
            schema=getattr(params, "requested_schema", None) or {},
            url=str(url) if url else None,
            elicitation_id=getattr(params, "elicitation_id", None),
            # An input_required round's requests are dispatched under their keys (the SDK's request id then).
            key=context.request_id if isinstance(getattr(context, "request_id", None), str) else None,
        )
        asker = current() or (self._askers[-1] if self._askers else None)
        if asker is None:
            self._note(
                f"declined an elicitation ({question.message!r}): no person is attached to answer it "
                "(a sandboxed cell or a call made by code cannot ask; use `%mcp call` or `mcp-kernel call`)"
            )
            return ElicitResult(action="decline")
        async with self._people_time():
            answer = await asker.ask_async(question)
        self._note(
            f"elicitation {question.message!r}: {answer.action}"
            + (f" ({answer.reason})" if answer.reason else "")
        )
        # ElicitResult has no field for a reason: it goes in _meta, under our prefix, for the server's log.
        meta = {"mcp-kernel/reason": answer.reason} if answer.reason else None
        return ElicitResult(
            action=answer.action, content=answer.content if answer.action == "accept" else None, _meta=meta
        )

    async def _on_sampling(self, context: Any, params: Any) -> Any:
        """A server asks the client's model to write: mcp-kernel has none, so refuse plainly."""
        from mcp.types import INVALID_REQUEST, ErrorData  # the SDK: loaded by now

        self._note("refused a sampling request: mcp-kernel has no language model to sample from")
        return ErrorData(
            code=INVALID_REQUEST,
            message="mcp-kernel has no language model: sampling is not "
            "available from this client. Call the tool from an agent that has one.",
        )

    async def _on_roots(self, context: Any) -> Any:
        """The directories the server may work in (``roots``; none unless set, so servers keep their own)."""
        from mcp.types import ListRootsResult, Root  # the SDK: loaded by now
        from pydantic import FileUrl  # with the SDK, loaded by now

        return ListRootsResult(
            roots=[
                Root(uri=FileUrl(path.resolve().as_uri()), name=path.name or str(path)) for path in self.roots
            ]
        )

    async def _on_log(self, params: Any) -> None:
        """A ``notifications/message`` from the server: kept in its log, read with ``%mcp logs``, and handed
        to the listeners (serve relays it to the request it belongs to)."""
        data = params.data if isinstance(params.data, str) else json_line(params.data)
        logger = f" {params.logger}" if params.logger else ""
        self._note(f"[{params.level}{logger}] {data}")
        for listener in list(self._log_listeners):
            listener(params.model_dump(mode="json", by_alias=True, exclude_none=True))

    def _note(self, line: str) -> None:
        """Append one line to the server's log (the file its stderr goes to), opening it for HTTP servers."""
        self._log.note(line)

    async def _on_message(self, message: Any) -> None:
        """Server notifications and transport faults. A garbled JSON-RPC reply fails the requests in flight
        at once (which one it answered cannot be known), instead of leaving them to time out; other stray
        stdout lines are ignored, as the SDK does. A list-changed notification (older servers) marks the
        lists stale."""
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if isinstance(method, str) and method.endswith("/list_changed"):
            self._lists_changed(method.split("/")[1])  # notifications/<kind>/list_changed
            return
        if method == "notifications/resources/updated":  # older servers; listen streams bring their own
            params = getattr(message, "params", None) or getattr(
                getattr(message, "root", None), "params", None
            )
            if params is not None and str(params.uri) in self._subscribed:
                self._resource_updated(str(params.uri))
            return
        if isinstance(message, Exception) and looks_like_reply(message):
            text = describe(message).splitlines()[0][:300]
            for tell in list(self._garbled):
                tell(text)


class Attended:
    """A :class:`~mcp_kernel.auth.SignIn` whose time is a person's: not held against the connection's
    timeouts, nor against the waiting caller's."""

    def __init__(self, conn: Callbacks, inner: SignIn) -> None:
        self.conn, self.inner = conn, inner

    async def redirect(self, url: str) -> None:
        async with self.conn._people_time():
            await self.inner.redirect(url)

    async def callback(self) -> Any:
        async with self.conn._people_time():
            return await self.inner.callback()
