"""The clients of ``mcp-kernel serve``: the log level each set, the tree resources each subscribed to, and
the notices serve sends them.

Two eras. A 2025 client (the initialize handshake) sets a level with ``logging/setLevel`` and subscribes with
``resources/subscribe``; serve keeps both per connection and sends ``notifications/message`` and
``notifications/resources/updated`` on the connection's own stream. A 2026-07-28 client has neither method:
it asks for log records on each request (``_meta``) and follows resources through ``subscriptions/listen``,
which the SDK's subscription bus serves — serve publishes every update there too.

>>> audience = Audience(bus=None)
>>> audience.wants("stdio", "info")         # a client that set no level hears warnings and worse
False
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mcp.server.session import ServerSession
from mcp.types import (
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    ResourceUpdatedNotification,
    ResourceUpdatedNotificationParams,
)

__all__ = ["LEVELS", "Audience"]

log = logging.getLogger(__name__)

LEVELS: tuple[LoggingLevel, ...] = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
DEFAULT_LEVEL: LoggingLevel = "warning"  # what a client hears before it sets a level
STDIO = "stdio"  # the one connection of `serve` on stdio


@dataclass
class _Client:
    session: ServerSession  # the latest request's proxy: its standalone channel reaches the connection
    level: LoggingLevel = DEFAULT_LEVEL
    uris: set[str] = field(default_factory=set)


class Audience:
    """The 2025-era clients connected now, by connection (the HTTP session id, or ``stdio``); at most
    ``max_clients`` are remembered (the least recently heard from are forgotten first)."""

    def __init__(self, bus: Any, *, max_clients: int = 1000) -> None:
        self.bus = bus
        self.max_clients = max_clients
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    @staticmethod
    def key(request: Any) -> str | None:
        """Which connection a request came on: its HTTP session id, ``stdio`` without HTTP, or None (a
        stateless request, which has no connection to send notices on later)."""
        headers = getattr(request, "headers", None)
        if headers is None:
            return STDIO
        return headers.get("mcp-session-id")

    def seen(self, key: str | None, session: ServerSession) -> None:
        """Remember the connection ``key`` (called for every 2025-era request)."""
        if key is None:
            return
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client(session)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        client.session = session
        self._clients.move_to_end(key)

    def set_level(self, key: str | None, level: LoggingLevel) -> None:
        if key is not None and key in self._clients:
            self._clients[key].level = level

    def wants(self, key: str | None, level: LoggingLevel) -> bool:
        """Whether the connection ``key`` hears records at ``level``."""
        client = self._clients.get(key) if key is not None else None
        return LEVELS.index(level) >= LEVELS.index(client.level if client else DEFAULT_LEVEL)

    def subscribe(self, key: str | None, uri: str) -> None:
        if key is not None and key in self._clients:
            self._clients[key].uris.add(uri)

    def unsubscribe(self, key: str | None, uri: str) -> None:
        if key is not None and key in self._clients:
            self._clients[key].uris.discard(uri)

    def subscribed(self) -> set[str]:
        """Every URI some 2025-era client subscribed to."""
        return {uri for client in self._clients.values() for uri in client.uris}

    @staticmethod
    def record(level: LoggingLevel, message: str) -> LoggingMessageNotification:
        """serve's log record as the notification that carries it."""
        return LoggingMessageNotification(params=LoggingMessageNotificationParams(level=level, data=message,
                                                                                 logger="mcp-kernel"))

    async def log(self, level: LoggingLevel, message: str) -> None:
        """Send serve's own log record to every connection that hears ``level``."""
        note = self.record(level, message)
        for key, client in list(self._clients.items()):
            if self.wants(key, level):
                await self._send(key, client, note)

    async def updated(self, uri: str) -> None:
        """Tell the subscribers of ``uri`` (both eras) that what it reads has changed."""
        from mcp.server.subscriptions import ResourceUpdated

        note = ResourceUpdatedNotification(params=ResourceUpdatedNotificationParams(uri=uri))
        for key, client in list(self._clients.items()):
            if uri in client.uris:
                await self._send(key, client, note)
        if self.bus is not None:
            await self.bus.publish(ResourceUpdated(uri=uri))

    async def _send(self, key: str, client: _Client, note: Any) -> None:
        try:
            await client.session.send_notification(note)
        except Exception as exc:  # noqa: BLE001 - a client gone (or without a stream open) misses the notice
            log.debug("could not notify %s: %s", key, exc)
