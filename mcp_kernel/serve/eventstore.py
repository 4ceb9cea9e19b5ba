"""The event store of ``mcp-kernel serve --http``: resumable SSE streams in bounded memory (SEP-1699), each
readable only by the connection that opened it.

With it the SDK's streamable HTTP transport starts each POST stream with a priming event (an id, empty
data, a ``retry`` hint) and gives every message an event id; a client whose stream dropped reconnects
with ``Last-Event-ID`` and receives what it missed.

Streams belong to whoever opened them. Every transport (one per ``Mcp-Session-Id``) writes and replays
through its own :class:`Connection` view, which records the caller (the bearer token's client) it was
opened by; the SDK's stream ids (JSON-RPC request ids, which every session reuses) are only names inside
one view. Event ids are random (128 bits), so they cannot be guessed, and an id written by another
connection - another caller's, or the same caller's other session - replays exactly what an unknown id
does: nothing.

Memory stays bounded: each stream keeps its last ``per_stream`` events, a stream is forgotten ``ttl``
seconds after its last event, a caller keeps at most ``per_caller`` streams (its own oldest go first) and
the store at most ``max_streams``. When the store is full, a caller's new stream replaces that caller's
oldest; a caller with none stored gets ids that replay nothing until room frees up - nobody's streams are
dropped to make room for someone else's.

>>> import asyncio
>>> store = ReplayStore(per_stream=2)
>>> mine, theirs = store.connection("alice"), store.connection("bob")
>>> first = asyncio.run(mine.store_event("7", None))                # the priming event: a cursor only
>>> len(first) >= 22, asyncio.run(theirs.replay_events_after(first, print))
(True, None)
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage

__all__ = ["Connection", "ReplayStore"]

_Key = tuple[str, StreamId]  # (the connection's own id, the SDK's stream id)


@dataclass
class _Stream:
    caller: str | None
    events: deque[tuple[int, EventId, JSONRPCMessage | None]] = field(default_factory=deque)
    touched: float = field(default_factory=time.monotonic)
    next_seq: int = 0


class ReplayStore:
    """Every connection's streams, bounded per stream, per caller, in time and in number.

    Not an ``EventStore`` itself: each transport gets its own :meth:`connection` (see :meth:`attach`), so
    nothing can replay across connections.

    The streams are one ``OrderedDict``, not a cachetools ``TTLCache``: its evictions pick from every
    caller's streams (here a caller loses only its own, and a newcomer to a full store is refused), and a
    forgotten stream's event ids must leave :attr:`_events` too, for which cachetools has no hook.
    """

    def __init__(
        self, *, per_stream: int = 256, ttl: float = 300.0, max_streams: int = 1000, per_caller: int = 200
    ) -> None:
        self.per_stream = per_stream
        self.ttl = ttl
        self.max_streams = max_streams
        self.per_caller = per_caller
        self._streams: OrderedDict[_Key, _Stream] = OrderedDict()  # least recently written first
        self._events: dict[EventId, tuple[_Key, int]] = {}  # every kept event id -> its stream and sequence

    def connection(self, caller: str | None) -> Connection:
        """A fresh view for one transport (one ``Mcp-Session-Id``) opened by ``caller``."""
        return Connection(self, caller)

    def attach(self, manager: Any) -> None:
        """Give every transport the SDK's session manager opens its own :meth:`connection`.

        The one place that reaches into the SDK (mcp 2.x): ``StreamableHTTPSessionManager._admit_session``
        builds each session's transport with ``event_store=self.event_store``, synchronously, under its
        creation lock; we swap in a fresh view for that call. Anything else the SDK may do with the shared
        store directly fails loudly (see :meth:`store_event`), and tests/test_serve_http.py checks replays.
        """
        admit = getattr(manager, "_admit_session", None)
        if admit is None or getattr(manager, "event_store", None) is not self:
            raise RuntimeError(
                "the SDK's StreamableHTTPSessionManager no longer has _admit_session or "
                "event_store: serve cannot give each connection its own event stream store"
            )

        def admit_with_own_streams(*args: Any, **kwargs: Any) -> Any:
            token = get_access_token()
            manager.event_store = self.connection(None if token is None else token.client_id)
            try:
                return admit(*args, **kwargs)
            finally:
                manager.event_store = self

        manager._admit_session = admit_with_own_streams

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        raise RuntimeError(
            "ReplayStore is shared by every connection: write through ReplayStore.connection()"
        )

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        raise RuntimeError(
            "ReplayStore is shared by every connection: replay through ReplayStore.connection()"
        )

    @property
    def size(self) -> int:
        """How many events are kept now, over every stream."""
        return len(self._events)

    def streams_of(self, caller: str | None) -> int:
        """How many streams ``caller`` has kept now."""
        return sum(1 for s in self._streams.values() if s.caller == caller)

    def _store(
        self, owner: str, caller: str | None, stream_id: StreamId, message: JSONRPCMessage | None
    ) -> EventId:
        self._expire()
        key = (owner, stream_id)
        event_id = secrets.token_urlsafe(16)
        stream = self._streams.get(key)
        if stream is None:
            if not self._make_room(caller):
                return event_id  # full of other callers' streams: this one is not resumable for now
            stream = self._streams[key] = _Stream(caller)
        self._streams.move_to_end(key)
        stream.touched = time.monotonic()
        stream.next_seq += 1
        stream.events.append((stream.next_seq, event_id, message))
        self._events[event_id] = (key, stream.next_seq)
        while len(stream.events) > self.per_stream:
            self._events.pop(stream.events.popleft()[1], None)
        return event_id

    async def _replay(self, owner: str, last_event_id: EventId, send: EventCallback) -> StreamId | None:
        self._expire()
        found = self._events.get(last_event_id)
        if found is None or found[0][0] != owner:
            return None  # unknown, forgotten, or another connection's: the same answer
        key, after = found
        for seq, event_id, message in list(self._streams[key].events):
            if seq > after and message is not None:  # priming events are cursors, not messages
                await send(EventMessage(message, event_id))
        return key[1]

    def _make_room(self, caller: str | None) -> bool:
        """Room for one more stream of ``caller``, taken from its own oldest streams only."""
        mine = [k for k, s in self._streams.items() if s.caller == caller]  # oldest first
        while mine and (len(mine) >= self.per_caller or len(self._streams) >= self.max_streams):
            self._forget(mine.pop(0))
        return len(mine) < self.per_caller and len(self._streams) < self.max_streams

    def _expire(self) -> None:
        horizon = time.monotonic() - self.ttl
        while self._streams:
            oldest = next(iter(self._streams))
            if self._streams[oldest].touched > horizon:
                break
            self._forget(oldest)

    def _forget(self, key: _Key) -> None:
        for _, event_id, _ in self._streams.pop(key).events:
            self._events.pop(event_id, None)


class Connection(EventStore):
    """The SDK's ``EventStore`` for one transport: its streams, and nobody else's."""

    def __init__(self, store: ReplayStore, caller: str | None) -> None:
        self.store = store
        self.caller = caller
        self._owner = secrets.token_hex(8)  # names this view's streams inside the shared store

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        return self.store._store(self._owner, self.caller, stream_id, message)

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        return await self.store._replay(self._owner, last_event_id, send_callback)
