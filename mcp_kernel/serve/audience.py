"""The clients of ``mcp-kernel serve``: the log level each set, the resources each subscribed to, and the
notices serve sends them (log records, resource updates, list changes).

Two eras. A 2025 client (the initialize handshake) sets a level with ``logging/setLevel`` and subscribes with
``resources/subscribe``; serve keeps both per connection and sends ``notifications/message`` and
``notifications/resources/updated`` on the connection's own stream. A 2026-07-28 client has neither method:
it asks for log records on each request (``_meta``) and follows resources through ``subscriptions/listen``,
which the SDK's subscription bus serves — serve publishes every update there too.

A connection is known by its HTTP session id *and* the caller (bearer token's client) that uses it, so a
request that names someone else's session id changes nothing of theirs; each caller keeps at most
``per_caller`` connections here (its own least recent are forgotten first) under a ceiling of
``max_clients``.

>>> audience = Audience(bus=None)
>>> audience.wants(STDIO, "info")           # a client that set no level hears warnings and worse
False
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.session import ServerSession
from mcp.server.subscriptions import PromptsListChanged, ResourcesListChanged, ResourceUpdated
from mcp.shared.subscriptions import ToolsListChanged
from mcp.types import (
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    PromptListChangedNotification,
    ResourceListChangedNotification,
    ResourceUpdatedNotification,
    ResourceUpdatedNotificationParams,
    ToolListChangedNotification,
)

__all__ = ["LEVELS", "Audience"]

log = logging.getLogger(__name__)

LEVELS: tuple[LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
DEFAULT_LEVEL: LoggingLevel = "warning"  # what a client hears before it sets a level
Key = tuple[str | None, str]  # (the caller, or None without auth; the connection)
STDIO: Key = (None, "stdio")  # the one connection of `serve` on stdio

# Each list serve tells about: the 2025 notification, the 2026 listen event.
_LIST_CHANGED: dict[str, tuple[Any, Any]] = {
    "prompts": (PromptListChangedNotification, PromptsListChanged),
    "resources": (ResourceListChangedNotification, ResourcesListChanged),
    "tools": (ToolListChangedNotification, ToolsListChanged),
}


@dataclass
class _Client:
    session: ServerSession  # the latest request's proxy: its standalone channel reaches the connection
    level: LoggingLevel = DEFAULT_LEVEL
    uris: set[str] = field(default_factory=set)


class Audience:
    """The 2025-era clients connected now, by caller and connection (the HTTP session id, or ``stdio``).

    One ``OrderedDict``, not a cachetools cache: those evict their own choice over all keys, while here a
    caller makes room only from its own connections and, when the rest is other callers', is refused.
    """

    def __init__(self, bus: Any, *, max_clients: int = 1000, per_caller: int = 100) -> None:
        self.bus = bus
        self.max_clients = max_clients
        self.per_caller = per_caller
        self._clients: OrderedDict[Key, _Client] = OrderedDict()  # least recently heard from first

    @staticmethod
    def key(request: Any) -> Key | None:
        """Which connection a request came on: (its caller, its HTTP session id), :data:`STDIO` without
        HTTP, or None (a stateless request, which has no connection to send notices on later)."""
        headers = getattr(request, "headers", None)
        if headers is None:
            return STDIO
        session_id = headers.get("mcp-session-id")
        token = get_access_token()
        return None if session_id is None else (None if token is None else token.client_id, session_id)

    def seen(self, key: Key | None, session: ServerSession) -> None:
        """Remember the connection ``key`` (called for every 2025-era request)."""
        if key is None:
            return
        client = self._clients.get(key)
        if client is None:
            mine = [k for k in self._clients if k[0] == key[0]]  # least recent first
            while mine and (len(mine) >= self.per_caller or len(self._clients) >= self.max_clients):
                del self._clients[mine.pop(0)]
            if len(self._clients) >= self.max_clients:
                return  # full of other callers' connections: this one hears no notices for now
            client = self._clients[key] = _Client(session)
        client.session = session
        self._clients.move_to_end(key)

    def set_level(self, key: Key | None, level: LoggingLevel) -> None:
        if key is not None and key in self._clients:
            self._clients[key].level = level

    def wants(self, key: Key | None, level: LoggingLevel) -> bool:
        """Whether the connection ``key`` hears records at ``level``."""
        client = self._clients.get(key) if key is not None else None
        return LEVELS.index(level) >= LEVELS.index(client.level if client else DEFAULT_LEVEL)

    def subscribe(self, key: Key | None, uri: str) -> None:
        if key is not None and key in self._clients:
            self._clients[key].uris.add(uri)

    def unsubscribe(self, key: Key | None, uri: str) -> None:
        if key is not None and key in self._clients:
            self._clients[key].uris.discard(uri)

    def subscribed(self) -> set[str]:
        """Every URI some 2025-era client subscribed to."""
        return {uri for client in self._clients.values() for uri in client.uris}

    def subscriptions(self) -> set[tuple[str | None, str]]:
        """Every (caller, URI) some 2025-era client subscribed to."""
        return {(key[0], uri) for key, client in self._clients.items() for uri in client.uris}

    @staticmethod
    def record(level: LoggingLevel, message: str) -> LoggingMessageNotification:
        """serve's log record as the notification that carries it."""
        return LoggingMessageNotification(
            params=LoggingMessageNotificationParams(level=level, data=message, logger="mcp-kernel")
        )

    async def log(self, level: LoggingLevel, message: str) -> None:
        """Send serve's own log record to every connection that hears ``level``."""
        note = self.record(level, message)
        for key, client in list(self._clients.items()):
            if self.wants(key, level):
                await self._send(key, client, note)

    async def updated(self, uri: str, callers: Collection[str | None] | None = None) -> None:
        """Tell the subscribers of ``uri`` (both eras) that what it reads has changed; only the connections
        of ``callers``, if given (a 2026 client hears it on a listen stream that names ``uri``)."""
        note = ResourceUpdatedNotification(params=ResourceUpdatedNotificationParams(uri=uri))
        for key, client in list(self._clients.items()):
            if uri in client.uris and (callers is None or key[0] in callers):
                await self._send(key, client, note)
        if self.bus is not None:
            await self.bus.publish(ResourceUpdated(uri=uri))

    async def lists_changed(self, kinds: set[str]) -> None:
        """Tell every client (both eras) that serve's list of ``kinds`` (``prompts``, ``resources``,
        ``tools``) changed."""
        for kind in sorted(kinds):
            note = _LIST_CHANGED[kind]
            for key, client in list(self._clients.items()):
                await self._send(key, client, note[0]())
            if self.bus is not None:
                await self.bus.publish(note[1]())

    async def _send(self, key: Key, client: _Client, note: Any) -> None:
        try:
            await client.session.send_notification(note)
        except Exception as exc:
            log.debug("could not notify %s: %s", key, exc)
