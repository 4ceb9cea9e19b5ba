"""The bridge between sandboxed code and real MCP servers: every check, the cache, the records."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from realservers import our_server

from mcp_kernel.errors import (
    Interrupted,
    PolicyViolation,
    ServerCrashed,
    ServerTimeout,
    ToolCallError,
    ToolNotFound,
)
from mcp_kernel.sandbox.bridge import Bridge, ResultCache
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session():
    with Session(timeout=10) as s:
        s.add_server(our_server("crashy"))
        s.add_server(our_server("hang"))
        yield s


def make_bridge(session: Session, **kwargs) -> Bridge:
    kwargs.setdefault("servers", ["demo"])
    return Bridge(lookup=session.servers.tool_info, acall=session.servers.acall, **kwargs)


def test_a_real_call_returns_the_tool_value_as_json(session: Session) -> None:
    bridge = make_bridge(session)
    rows = json.loads(bridge.call_tool("demo", "query_sales", json.dumps({"region": "EU", "limit": 3})))
    direct = session.call("demo", "query_sales", {"region": "EU", "limit": 3}).value
    assert rows == direct
    [record] = bridge.take_records()
    assert (record.server, record.tool, record.cached, record.error) == ("demo", "query_sales", False, None)
    assert record.bytes_in == len(json.dumps({"region": "EU", "limit": 3}))
    assert record.bytes_out == len(json.dumps(direct, ensure_ascii=False).encode())


def test_servers_outside_the_allowlist_are_refused(session: Session) -> None:
    with pytest.raises(PolicyViolation, match="not allowed in this cell"):
        make_bridge(session).call_tool("crashy", "ok", "{}")


def test_unknown_tool(session: Session) -> None:
    with pytest.raises(ToolNotFound, match="no tool 'nope'"):
        make_bridge(session).call_tool("demo", "nope", "{}")


def test_oversized_params_are_refused_before_decoding(session: Session) -> None:
    bridge = make_bridge(session, max_param_bytes=100)
    with pytest.raises(PolicyViolation, match="limit is 100"):
        bridge.call_tool("demo", "query_sales", json.dumps({"region": "x" * 200}))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{oops", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"limit": "ten"}), "do not match its schema at limit"),
        (json.dumps({"region": "Atlantis"}), "do not match its schema at region"),
    ],
)
def test_params_failing_json_or_the_schema_are_refused(session: Session, params: str, message: str) -> None:
    bridge = make_bridge(session)
    with pytest.raises(ToolCallError, match=message):
        bridge.call_tool("demo", "query_sales", params)
    assert bridge.stats().errors == 1


def test_a_tool_error_result_becomes_a_tool_call_error(session: Session) -> None:
    with pytest.raises(ToolCallError, match="NOBODY"):
        make_bridge(session).call_tool("demo", "get_customer", json.dumps({"customer_id": "NOBODY"}))


def test_read_only_results_are_cached_by_canonical_params(session: Session) -> None:
    bridge = make_bridge(session)
    first = bridge.call_tool("demo", "query_sales", '{"region": "EU", "limit": 2}')
    second = bridge.call_tool("demo", "query_sales", '{"limit": 2,   "region": "EU"}')
    assert first == second
    assert [r.cached for r in bridge.take_records()] == [False, True]
    assert bridge.stats().cache_hits == 1


def test_the_cache_can_be_turned_off(session: Session) -> None:
    bridge = make_bridge(session, use_cache=False)
    for _ in range(2):
        bridge.call_tool("demo", "list_regions", "{}")
    assert [r.cached for r in bridge.take_records()] == [False, False]


def test_tools_that_are_not_read_only_or_idempotent_are_never_cached(session: Session) -> None:
    tool = next(t for t in session.tools("crashy") if t.name == "ok")
    assert not tool.cacheable
    bridge = make_bridge(session, servers=["crashy"])
    bridge.call_tool("crashy", "ok", "{}")
    bridge.call_tool("crashy", "ok", "{}")
    assert [r.cached for r in bridge.take_records()] == [False, False]


def test_lru_cache_is_bounded_in_entries_and_bytes() -> None:
    cache = ResultCache(max_entries=2, max_bytes=10)
    cache.put(b"a", "1234")
    cache.put(b"b", "5678")
    cache.get(b"a")
    cache.put(b"c", "90")
    assert cache.get(b"b") is None and cache.get(b"a") == "1234" and len(cache) == 2
    cache.put(b"d", "123456789")
    assert cache.size_bytes <= 10
    cache.put(b"huge", "x" * 11)
    assert cache.get(b"huge") is None


def test_a_burst_past_the_rate_limit_waits_for_its_slot(session: Session) -> None:
    bridge = make_bridge(session, rate_limit=5, use_cache=False)
    started = time.monotonic()
    for _ in range(6):
        bridge.call_tool("demo", "list_regions", "{}")
    assert time.monotonic() - started >= 1.0, "the sixth call waited for the window to move"
    assert bridge.limiter.reserve("demo", "list_products") == 0, "the limit is per tool"


def test_a_paced_call_is_stopped_by_the_cells_scope(session: Session) -> None:
    from mcp_kernel.runtime import Scope

    bridge = make_bridge(session, rate_limit=1, use_cache=False)
    bridge.call_tool("demo", "list_regions", "{}")
    scope = Scope()
    scope.stop("interrupt")
    with pytest.raises(Interrupted, match="rate limit"):
        bridge.call_tool("demo", "list_regions", "{}", scope)


def test_the_limiter_spaces_slots_a_window_apart() -> None:
    from mcp_kernel.sandbox.bridge import RateLimiter

    limiter = RateLimiter(2)
    waits = [limiter.reserve("s", "t", now=100.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert limiter.reserve("s", "t", now=103.5) == 0.0, "past slots leave the window"
    assert RateLimiter(0.5).reserve("s", "t", now=0.0) == 0.0
    slow = RateLimiter(0.5)
    slow.reserve("s", "t", now=0.0)
    assert slow.reserve("s", "t", now=0.0) == 2.0, "half a call a second: one every 2 s"


def test_a_hanging_tool_times_out_and_the_next_call_works(session: Session) -> None:
    bridge = make_bridge(session, servers=["hang"], timeout=1)
    with pytest.raises(ServerTimeout):  # the tool never answers: only its 1 s timeout ends the call
        bridge.call_tool("hang", "hang", "{}")
    assert json.loads(bridge.call_tool("hang", "ok", "{}"))


def test_a_server_crash_during_the_call(session: Session) -> None:
    bridge = make_bridge(session, servers=["crashy"])
    with pytest.raises(ServerCrashed, match="simulated crash"):
        bridge.call_tool("crashy", "crash", "{}")
    assert json.loads(bridge.call_tool("crashy", "ok", "{}"))


def test_stats_count_calls_errors_and_latency(session: Session) -> None:
    bridge = make_bridge(session)
    bridge.call_tool("demo", "list_regions", "{}")
    with pytest.raises(PolicyViolation):
        bridge.call_tool("elsewhere", "x", "{}")
    stats = bridge.stats()
    assert (stats.calls, stats.errors) == (2, 1)
    assert stats.latency_p50_ms > 0


def test_cached_results_expire() -> None:
    cache = ResultCache(max_age_s=0.2)
    cache.put(b"k", "old")
    assert cache.get(b"k") == "old"
    time.sleep(0.3)
    assert cache.get(b"k") is None and len(cache) == 0 and cache.size_bytes == 0


@pytest.mark.npm
def test_an_edited_file_is_read_again_after_reset_or_expiry(filesystem_spec) -> None:
    from mcp_kernel.settings import MCPKernel

    path = Path(filesystem_spec.args[0]) / "hello.txt"
    settings = MCPKernel(cache_ttl=600.0)
    with Session(settings=settings) as s:
        s.add_server(filesystem_spec)
        s.generate("files")
        read = f"from servers.files import read_text_file\nread_text_file(path={str(path)!r})"
        assert "hello from mcp-kernel" in str(s.execute(read).value)
        path.write_text("edited once\n")
        cached = s.execute(read)
        assert "hello from" in str(cached.value) and cached.calls[0].cached
        s.reset_sandbox()
        assert "edited once" in str(s.execute(read).value), "reset clears the result cache"
        path.write_text("edited twice\n")
        settings.cache_ttl = 0.2  # entries older than this are no longer served (only a lower bound on time)
        time.sleep(0.3)
        again = s.execute(read)
        assert "edited twice" in str(again.value) and not again.calls[0].cached
