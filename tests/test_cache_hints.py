"""Cache hints (``ttlMs``, ``cacheScope``, 2026-07-28) from an upstream server, honoured: counted on the server.

tests/servers/hinted.py counts the lists, reads and calls that reach it; each test asks twice and reads the
count. A hint of 0 is never served from a cache; a positive one is, within its time.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from realservers import SERVERS

from mcp_kernel.models import ServerSpec
from mcp_kernel.sandbox.bridge import Bridge
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


def hinted(ttl_ms: int) -> ServerSpec:
    return ServerSpec(name="hinted", command=sys.executable, args=[str(SERVERS / "hinted.py"), str(ttl_ms)])


@pytest.fixture(params=[0, 60_000], ids=["ttl0", "ttl60s"])
def upstream(request: pytest.FixtureRequest) -> Iterator[tuple[Session, int]]:
    with Session(timeout=10) as s:
        s.add_server(hinted(request.param))
        yield s, request.param


def seen(session: Session) -> dict[str, int]:
    return dict(session.servers.call("hinted", "counts").structured or {})


def bridge_of(session: Session) -> Bridge:
    return Bridge(
        lookup=session.servers.tool_info,
        acall=session.servers.acall,
        aread=session.servers.aread_resource,
        servers=["hinted"],
    )


def test_the_hint_arrives_with_the_read_on_the_2026_era(upstream: tuple[Session, int]) -> None:
    session, ttl_ms = upstream
    read = session.servers.read_resource("hinted", "hint://clock")
    assert session.servers.connection("hinted").info.protocol_version == "2026-07-28"
    assert (read.ttl_ms, read.cache_scope) == (ttl_ms, "private")


def test_two_listings_reach_the_server_twice_unless_the_hint_says_fresh(
    upstream: tuple[Session, int],
) -> None:
    session, ttl_ms = upstream
    session.servers.introspect("hinted")
    before = seen(session)["tools/list"]
    session.servers.introspect("hinted")
    session.servers.tools("hinted")
    assert seen(session)["tools/list"] - before == (2 if ttl_ms == 0 else 0)


def test_a_calls_schema_lookup_keeps_the_last_list_even_with_a_hint_of_0(
    upstream: tuple[Session, int],
) -> None:
    session, _ = upstream
    session.servers.introspect("hinted")
    before = seen(session)["tools/list"]
    for _ in range(3):
        session.servers.tool_info("hinted", "lookup")
    assert seen(session)["tools/list"] == before, "a list per tool call would double every call"


def test_two_reads_in_a_cell_reach_the_server_twice_with_a_hint_of_0(upstream: tuple[Session, int]) -> None:
    session, ttl_ms = upstream
    bridge = bridge_of(session)
    first = bridge.read_resource("hinted", "hint://clock")
    second = bridge.read_resource("hinted", "hint://clock")
    records = bridge.take_records()
    if ttl_ms == 0:
        assert seen(session)["resources/read"] == 2 and "read 2" in second and first != second
        assert [r.cached for r in records] == [False, False]
    else:
        assert seen(session)["resources/read"] == 1 and first == second
        assert [r.cached for r in records] == [False, True]


def test_the_policys_age_bounds_a_positive_hint(upstream: tuple[Session, int]) -> None:
    session, _ = upstream
    bridge = bridge_of(session)
    bridge.cache.max_age_s = 0  # the cell's cache_ttl_s: the shorter of it and the hint holds
    bridge.read_resource("hinted", "hint://clock")
    bridge.read_resource("hinted", "hint://clock")
    assert seen(session)["resources/read"] == 2


def test_tool_results_carry_no_hints_and_are_cached_by_annotations_alone(
    upstream: tuple[Session, int],
) -> None:
    session, _ = upstream
    bridge = bridge_of(session)
    bridge.call_tool("hinted", "lookup", '{"key": "a"}')
    bridge.call_tool("hinted", "lookup", '{"key": "a"}')
    assert seen(session)["lookup"] == 1, (
        "tools/call is not a cacheable method: its hints, if any, change nothing"
    )
    bridge.use_cache = False
    bridge.read_resource("hinted", "hint://clock")
    bridge.read_resource("hinted", "hint://clock")
    assert seen(session)["resources/read"] == 2, "--no-cache turns the read cache off too"


def test_reads_in_a_sandboxed_cell_follow_the_hint(upstream: tuple[Session, int]) -> None:
    session, ttl_ms = upstream
    code = (
        "from _mcp_runtime import read_resource\n"
        "[read_resource('hinted', 'hint://clock')[0]['text'] for _ in range(2)]"
    )
    result = session.execute(code, session.policy(["hinted"]))
    assert result.value == (["read 1", "read 2"] if ttl_ms == 0 else ["read 1", "read 1"])
    assert seen(session)["resources/read"] == (2 if ttl_ms == 0 else 1)
