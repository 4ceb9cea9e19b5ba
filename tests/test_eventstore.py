"""ReplayStore: the SDK's EventStore for serve's streamable HTTP, one view per connection, bounded per stream,
per caller, in time and in streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp.types import JSONRPCNotification

from mcp_kernel.serve.eventstore import Connection, ReplayStore


def note(n: int) -> JSONRPCNotification:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": n})


def replay(view: Connection, after: str) -> tuple[str | None, list[tuple[str | None, Any]]]:
    sent: list[tuple[str | None, Any]] = []

    async def send(event: Any) -> None:
        sent.append((event.event_id, event.message.params["progress"]))

    return asyncio.run(view.replay_events_after(after, send)), sent


def store_all(view: Connection, stream: str, messages: list[Any]) -> list[str]:
    return [asyncio.run(view.store_event(stream, m)) for m in messages]


def test_a_dropped_stream_gets_what_came_after_the_last_event_it_saw_and_nothing_of_other_streams() -> None:
    view = ReplayStore().connection(None)
    priming, one, two = store_all(view, "a", [None, note(1), note(2)])
    store_all(view, "b", [None, note(9)])
    assert replay(view, priming) == ("a", [(one, 1), (two, 2)])  # the priming event is a cursor only
    assert replay(view, one) == ("a", [(two, 2)])
    assert replay(view, two) == ("a", [])


def test_a_stream_replays_only_to_the_connection_that_wrote_it() -> None:
    """Another caller, or the same caller's other connection, gets what an unknown id gets; two sessions'
    streams of the same (JSON-RPC request) id stay apart."""
    store = ReplayStore()
    alice, bob, alice_again = store.connection("alice"), store.connection("bob"), store.connection("alice")
    ids = store_all(alice, "2", [None, note(1)])
    store_all(bob, "2", [None, note(7)])  # bob's request 2: same stream id, another stream
    assert replay(alice, ids[0]) == ("2", [(ids[1], 1)])
    for other in (bob, alice_again):
        assert replay(other, ids[0]) == replay(other, "1-1") == replay(other, "never-given") == (None, [])


def test_event_ids_are_random_and_long() -> None:
    view = ReplayStore().connection(None)
    ids = store_all(view, "a", [None, note(1), note(2)])
    assert len(set(ids)) == 3 and all(len(i) >= 22 for i in ids)  # 16 random bytes
    assert not any(i.replace("-", "").isdigit() for i in ids), "not a guessable counter"


def test_memory_is_bounded_per_stream_in_time_and_in_streams() -> None:
    store = ReplayStore(per_stream=2, max_streams=2)
    view = store.connection(None)
    first = store_all(view, "a", [None, note(1), note(2), note(3)])
    assert store.size == 2 and replay(view, first[2]) == ("a", [(first[3], 3)])
    assert replay(view, first[0]) == (None, []), "an event pushed out is forgotten"
    store_all(view, "b", [note(4)])
    store_all(view, "c", [note(5)])  # a third stream: the least recently written one ("a") goes
    assert replay(view, first[3]) == (None, []) and store.size == 2
    expiring = ReplayStore(ttl=0.0)
    gone = store_all(expiring.connection(None), "x", [note(1)])
    assert replay(expiring.connection(None), gone[0]) == (None, []) and expiring.size == 0


def test_a_caller_that_opens_many_streams_evicts_only_its_own() -> None:
    store = ReplayStore(per_caller=2, max_streams=3)
    alice, bob = store.connection("alice"), store.connection("bob")
    kept = store_all(alice, "1", [note(1), note(2)])
    for n in range(10):
        store_all(bob, f"b{n}", [note(n)])
    assert store.streams_of("bob") == 2 and replay(alice, kept[0]) == ("1", [(kept[1], 2)])
    carol = store.connection("carol")
    store_all(carol, "c", [note(1)])  # the store is full of others' streams: carol's is not kept...
    assert store.streams_of("carol") == 0 and replay(alice, kept[0])[0] == "1"  # ...and alice keeps hers


def test_the_shared_store_refuses_to_be_used_as_one_connection() -> None:
    with pytest.raises(RuntimeError, match="connection"):
        asyncio.run(ReplayStore().store_event("a", note(1)))
    with pytest.raises(RuntimeError, match="connection"):
        asyncio.run(ReplayStore().replay_events_after("x", print))  # type: ignore[arg-type]


def test_each_session_the_sdk_opens_gets_its_own_view_and_a_changed_sdk_fails_loudly() -> None:
    """The one reach into the SDK's internals (StreamableHTTPSessionManager._admit_session)."""
    from mcp.server.mcpserver import MCPServer

    store = ReplayStore()
    server = MCPServer(name="t")
    server.streamable_http_app(event_store=store)
    store.attach(server.session_manager)
    one, two = server.session_manager._admit_session(None), server.session_manager._admit_session(None)
    views = [one._event_store, two._event_store]
    assert all(isinstance(v, Connection) and v.store is store for v in views) and views[0] is not views[1]
    assert server.session_manager.event_store is store
    with pytest.raises(RuntimeError, match="_admit_session"):
        store.attach(object())
