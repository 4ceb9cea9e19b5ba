"""``mcp-kernel serve --http``'s endpoint: the SDK's streamable HTTP app, behind the callers' tokens, on a
uvicorn that does not hold half-sent requests.

uvicorn waits for a request's headers as long as the client keeps the socket open (its keep-alive timeout
covers only the gap after a response), so a few slow clients could hold every connection. Here a
connection that has not sent a complete request head within ``header_timeout`` seconds (from connecting,
or from its previous response) is closed; at most ``max_connections`` connections are served at once
(beyond that, 503); a request head may be at most 16 KiB and a body 4 MiB.

>>> config = endpoint_config(app=None, host="127.0.0.1", port=8000, header_timeout=10, max_connections=100)
>>> config.limit_concurrency, config.http.header_timeout
(100, 10)
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .callers import guard
from .replica import NamedSessionIds

__all__ = ["MAX_BODY_BYTES", "MAX_HEAD_BYTES", "HeaderTimeoutProtocol", "endpoint_config", "http_app"]

MAX_HEAD_BYTES = 16 * 1024  # request line + headers
MAX_BODY_BYTES = 4 * 1024 * 1024  # one JSON-RPC message (the SDK answers 413 beyond)
PATH = "/mcp"


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in time (subclass
    with ``header_timeout`` set; see :func:`endpoint_config`)."""

    header_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()  # the next request on a kept-alive connection has the same time

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _head_overdue(self) -> None:
        # h11 leaves IDLE for the client once a request's head is complete, and returns to it only after
        # the response: still IDLE means no complete head in time (a half-sent one, or none at all).
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def http_app(
    server: Any,
    *,
    event_store: Any,
    retry_interval: int,
    callers: dict[str, str] | None,
    replica: str | None = None,
) -> Any:
    """The ASGI app of ``serve --http``: the SDK's streamable HTTP app at ``/mcp``, each connection with its
    own event streams, behind the callers' tokens when there are callers; with ``replica``, its protocol
    sessions named after it (:class:`~mcp_kernel.serve.replica.NamedSessionIds`)."""
    app = server.streamable_http_app(
        streamable_http_path=PATH,
        event_store=event_store,
        retry_interval=retry_interval,
        max_request_body_size=MAX_BODY_BYTES,
    )
    event_store.attach(server.session_manager)
    if replica is not None:
        app = NamedSessionIds(app, replica)
    if callers:
        app = guard(app, callers)
    return app


def endpoint_config(app: Any, *, host: str, port: int, header_timeout: float, max_connections: int) -> Any:
    """uvicorn's configuration for ``app``: the header timeout, the connection cap, bounded request heads,
    and uvicorn's own lines silenced (serve prints its endpoint itself)."""
    protocol = type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        limit_concurrency=max_connections,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
