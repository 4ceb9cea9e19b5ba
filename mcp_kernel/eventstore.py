"""The event store of ``mcp-kernel serve --http``: resumable SSE streams in bounded memory (SEP-1699).

With it the SDK's streamable HTTP transport starts each POST stream with a priming event (an id, empty
data, a ``retry`` hint) and gives every message an event id; a client whose stream dropped reconnects
with ``Last-Event-ID`` and receives what it missed. Memory stays bounded: each stream keeps its last
``per_stream`` events, a stream is forgotten ``ttl`` seconds after its last event, and at most
``max_streams`` streams are kept (the oldest go first).

>>> import asyncio
>>> store = ReplayStore(per_stream=2)
>>> first = asyncio.run(store.store_event("7", None))               # the priming event: a cursor only
>>> first
'1-1'
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage

__all__ = ["ReplayStore"]


@dataclass
class _Stream:
    number: int
    events: deque[tuple[int, JSONRPCMessage | None]]
    touched: float = field(default_factory=time.monotonic)


class ReplayStore(EventStore):
    """The SDK's ``EventStore`` in memory, bounded per stream, in time and in the number of streams.

    Event ids are ``<stream number>-<sequence>``: the stream an id belongs to is found without a global
    index, and an id whose stream was forgotten replays nothing (the client starts over).
    """

    def __init__(self, *, per_stream: int = 256, ttl: float = 300.0, max_streams: int = 1000) -> None:
        self.per_stream = per_stream
        self.ttl = ttl
        self.max_streams = max_streams
        self._streams: OrderedDict[StreamId, _Stream] = OrderedDict()  # least recently written first
        self._numbers: dict[int, StreamId] = {}
        self._next_stream = itertools.count(1)
        self._next_event = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        self._expire()
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = _Stream(next(self._next_stream), deque(maxlen=self.per_stream))
            self._numbers[stream.number] = stream_id
            while len(self._streams) >= self.max_streams:
                self._forget(next(iter(self._streams)))
        self._streams[stream_id] = stream
        self._streams.move_to_end(stream_id)
        stream.touched = time.monotonic()
        sequence = next(self._next_event)
        stream.events.append((sequence, message))
        return f"{stream.number}-{sequence}"

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        self._expire()
        number, _, sequence = last_event_id.partition("-")
        if not (number.isdigit() and sequence.isdigit()):
            return None
        stream_id = self._numbers.get(int(number))
        if stream_id is None:
            return None
        for seq, message in list(self._streams[stream_id].events):
            if seq > int(sequence) and message is not None:  # priming events are cursors, not messages
                await send_callback(EventMessage(message, f"{number}-{seq}"))
        return stream_id

    @property
    def size(self) -> int:
        """How many events are kept now, over every stream."""
        return sum(len(s.events) for s in self._streams.values())

    def _expire(self) -> None:
        horizon = time.monotonic() - self.ttl
        while self._streams:
            oldest = next(iter(self._streams))
            if self._streams[oldest].touched > horizon:
                break
            self._forget(oldest)

    def _forget(self, stream_id: StreamId) -> None:
        stream = self._streams.pop(stream_id)
        self._numbers.pop(stream.number, None)
