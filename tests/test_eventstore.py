"""ReplayStore: the SDK's EventStore for serve's streamable HTTP, bounded per stream, in time and in streams."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.types import JSONRPCNotification

from mcp_kernel.eventstore import ReplayStore


def note(n: int) -> JSONRPCNotification:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": n})


def replay(store: ReplayStore, after: str) -> tuple[str | None, list[tuple[str | None, Any]]]:
    sent: list[tuple[str | None, Any]] = []

    async def send(event: Any) -> None:
        sent.append((event.event_id, event.message.params["progress"]))

    return asyncio.run(store.replay_events_after(after, send)), sent


def store_all(store: ReplayStore, stream: str, messages: list[Any]) -> list[str]:
    return [asyncio.run(store.store_event(stream, m)) for m in messages]


def test_a_dropped_stream_gets_what_came_after_the_last_event_it_saw_and_nothing_of_other_streams() -> None:
    store = ReplayStore()
    priming, one, two = store_all(store, "a", [None, note(1), note(2)])
    store_all(store, "b", [None, note(9)])
    assert replay(store, priming) == ("a", [(one, 1), (two, 2)])  # the priming event is a cursor only
    assert replay(store, one) == ("a", [(two, 2)])
    assert replay(store, two) == ("a", [])


def test_memory_is_bounded_per_stream_in_time_and_in_streams() -> None:
    store = ReplayStore(per_stream=2, max_streams=2)
    first = store_all(store, "a", [None, note(1), note(2), note(3)])
    assert store.size == 2 and replay(store, first[0]) == ("a", [(first[2], 2), (first[3], 3)])
    store_all(store, "b", [note(4)])
    store_all(store, "c", [note(5)])  # a third stream: the least recently written one ("a") goes
    assert replay(store, first[0]) == (None, []) and store.size == 2
    expiring = ReplayStore(ttl=0.0)
    gone = store_all(expiring, "x", [note(1)])
    assert replay(expiring, gone[0]) == (None, []) and expiring.size == 0


def test_an_id_it_never_gave_replays_nothing() -> None:
    store = ReplayStore()
    store_all(store, "a", [note(1)])
    assert replay(store, "not-an-id") == (None, [])
    assert replay(store, "99-1") == (None, [])
