"""The core Session end to end: generate bindings, run cells in the sandbox against real servers."""

from __future__ import annotations

import json
import sys

import pytest
from realservers import SERVERS, our_server

from mcp_kernel.errors import FuelExhausted, SandboxTimeout
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session():
    with Session() as s:
        s.add_server(our_server("crashy"))
        yield s


def test_a_cell_calls_two_demo_tools_and_only_its_output_leaves(session: Session) -> None:
    result = session.execute(
        "from servers.demo import query_sales, list_regions\n"
        "rows = query_sales(region='EU', limit=5000)['rows']\n"
        "regions = [r['region'] for r in list_regions()['regions']]\n"
        "print(len(rows), sorted(regions))\n"
        "round(sum(r['amount'] for r in rows), 2)",
        session.policy(["demo"]),
    )
    direct = session.call("demo", "query_sales", {"region": "EU", "limit": 5000}).value
    assert result.error is None, result.error
    assert result.stdout == f"{len(direct['rows'])} ['APAC', 'EU', 'LATAM', 'MEA', 'NA']\n"
    assert result.value == round(sum(r["amount"] for r in direct["rows"]), 2)
    assert [c.tool for c in result.calls] == ["query_sales", "list_regions"]
    raw = result.calls[0].bytes_out
    assert raw == len(json.dumps(direct, ensure_ascii=False).encode())
    assert result.tokens.raw_result_tokens > 50 * result.tokens.output_tokens
    assert result.tokens.savings_percent > 98


def test_state_and_cache_across_cells(session: Session) -> None:
    session.execute(
        "from servers.demo import top_customers\nbest = top_customers(n=3)", session.policy(["demo"])
    )
    again = session.execute(
        "[c['customer_id'] for c in best['customers']] == "
        "[c['customer_id'] for c in top_customers(n=3)['customers']]",
        session.policy(["demo"]),
    )
    assert again.value is True
    assert [c.cached for c in again.calls] == [True]
    stats = session.stats()
    assert stats.bridge.cache_hits >= 1 and stats.cells >= 2 and "demo" in stats.generated


def test_default_policy_allows_only_generated_servers(session: Session) -> None:
    assert "crashy" not in session.policy().servers
    refused = session.execute("import _mcp_runtime as rt\nrt.call_tool('crashy', 'ok', {})")
    assert refused.error.type == "ToolCallError" and "not allowed in this cell" in refused.error.message


def test_a_loop_of_1000_calls_under_the_default_policy_is_paced_not_failed(session: Session) -> None:
    """The default rate limit (200 calls a second per tool) makes call 201 wait for its slot."""
    policy = session.policy(["demo"])
    assert policy.rate_limit == 200
    result = session.execute(
        "from servers.demo import get_customer\n"
        "orders = [get_customer(customer_id='C%04d' % (1 + i % 240))['orders'] for i in range(1000)]\n"
        "len(orders)",
        policy.model_copy(update={"cache": False}),
    )
    assert result.error is None, result.error
    assert result.value == 1000 and len(result.calls) == 1000


def test_a_crash_during_a_call_is_an_error_in_the_cell_and_the_next_call_works(session: Session) -> None:
    session.generate("crashy")
    policy = session.policy(["crashy"])
    crashed = session.execute("from servers.crashy import crash\ncrash()", policy)
    assert crashed.error.type == "ToolCallError" and "simulated crash" in crashed.error.message
    assert session.execute("from servers.crashy import ok\nok()", policy).value == {"result": "fine"}


def test_limits_from_the_policy(session: Session) -> None:
    with pytest.raises(SandboxTimeout):
        session.execute("while True: pass", session.policy(timeout=0.5))
    with pytest.raises(FuelExhausted):
        session.execute("while True: pass", session.policy(fuel=20_000_000))
    assert session.execute("'alive'").value == "alive"


def test_warm_up_loads_the_sandbox_in_the_background() -> None:
    with Session() as fresh:
        fresh.warm_up().join(60)
        sandbox = fresh.sandbox()
        sandbox._owner.submit(lambda: None).result(60)  # the warm-up job ran before this one
        assert sandbox._instance is not None and sandbox.warm_error is None, (
            "instance ready before the first cell"
        )
        assert fresh.execute("1 + 1").value == 2
        assert fresh.sandbox() is sandbox


def test_warm_up_without_an_instance_loads_what_every_sandbox_shares() -> None:
    # serve's way (its sandboxes open per agent): in a fresh process, so nothing was loaded before.
    import subprocess

    script = (
        "import sys\nfrom mcp_kernel.session import Session\nwith Session() as s:\n"
        "    s.warm_up(instance=False).join(120)\n"
        "    print('jsonschema' in sys.modules, 'deserialize_s' in s.engine().timings or "
        "'compile_s' in s.engine().timings, s.runner._sessions is None or not s.runner._sessions.info().sessions)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True", "True"], (
        "JSON Schema and the component loaded, no sandbox opened"
    )


def test_the_first_cell_right_after_warm_up_keeps_its_variables() -> None:
    # The warm-up and the first cell both go through the sandbox's owner, in order: never two stores.
    for _ in range(20):
        with Session() as fresh:
            fresh.warm_up()
            fresh.execute("first = 7")
            assert fresh.execute("first * 6").value == 42
            assert fresh.sandbox().warm_error is None


def test_a_tool_added_at_run_time_shows_up_in_the_sandbox_on_the_next_cell() -> None:
    import time

    with Session() as s:
        s.add_server(our_server("dyn"))
        policy = s.policy(["dyn"])
        first = s.execute("from servers.dyn import grow\ngrow(name='fresh')", policy)
        assert first.value == {"result": "added fresh"}
        connection = s.connection("dyn")
        for _ in range(100):  # the change event travels on its own stream; wait for it, not for a time
            if connection.list_changes:
                break
            time.sleep(0.05)
        assert connection.list_changes, "the client heard that the server's tools changed"
        second = s.execute("from servers.dyn import fresh\nfresh()", policy)
        assert second.value == {"result": "I am fresh"}
        assert "fresh" in {t.name for t in s.tools("dyn")}


def test_a_tool_list_is_trusted_for_its_ttl_then_listed_again() -> None:
    """A server that adds tools without saying so, but marks its list fresh for ``ttlMs``: within that time
    no re-listing (the new tool is unknown); once it has passed, the next cell lists again and sees it."""
    import time

    from mcp_kernel.models import ServerSpec

    def quiet(name: str, ttl_ms: int) -> ServerSpec:
        return ServerSpec(
            name=name, command=sys.executable, args=[str(SERVERS / "dyn.py"), "--quiet", str(ttl_ms)]
        )

    with Session() as s:
        s.add_server(quiet("slowly", 600_000))
        s.add_server(quiet("briskly", 300))
        for name in ("slowly", "briskly"):
            grown = s.execute(f"from servers.{name} import grow\ngrow(name='late')", s.policy([name]))
            assert grown.value == {"result": "added late"}
        time.sleep(0.5)  # past the 300 ms of `briskly`, far within the ten minutes of `slowly`
        seen = s.execute("from servers.briskly import late\nlate()", s.policy(["briskly"]))
        assert seen.value == {"result": "I am late"}
        assert s.connection("briskly").list_changes == 1
        assert "late" not in {t.name for t in s.tools("slowly")}
        assert s.connection("slowly").list_changes == 0


def test_progress_of_a_sandboxed_tool_call_reaches_the_caller() -> None:
    seen: list[tuple[str, str, float, float | None, str | None]] = []
    with Session() as s:
        s.generate("demo")
        result = s.execute(
            "from servers.demo import forecast_revenue\nlen(forecast_revenue(months=3)['forecast'])",
            s.policy(["demo"]),
            on_tool_progress=lambda *update: seen.append(update),
        )
    assert result.value == 3
    assert [(srv, tool, value, total) for srv, tool, value, total, _ in seen] == [
        ("demo", "forecast_revenue", float(i), 3.0) for i in (1, 2, 3)
    ]


def test_roots_are_none_unless_the_settings_name_some(tmp_path) -> None:
    """roots/list answers with `MCPKernel.roots` (empty by default, so servers keep their own directories)."""
    from mcp_kernel.settings import MCPKernel

    with Session() as plain:
        plain.add_server(our_server("library"))
        assert plain.call("library", "show_roots").value == {"result": []}
    with Session(settings=MCPKernel(roots=[str(tmp_path)])) as rooted:
        rooted.add_server(our_server("library"))
        assert rooted.call("library", "show_roots").value == {"result": [tmp_path.resolve().as_uri()]}


def test_the_facade_hands_its_work_to_parts_callers_may_use() -> None:
    from mcp_kernel.errors import SessionNotFound, UsageError

    with Session() as s:
        assert s.bindings.servers is s.servers and s.runner.servers is s.servers
        assert (
            s.runner.bindings is s.bindings and s.vfs is s.bindings.vfs and s.registry is s.servers.registry
        )
        assert s.policy(["demo"], timeout=5) == s.runner.policy(["demo"], timeout=5)
        assert s.policy().servers == (), "no bindings generated yet: no server granted"
        assert s.sandboxes is s.runner.sessions and not s.sandbox_sessions().sessions
        with pytest.raises(UsageError):
            s.open_sandbox("no spaces")
        with pytest.raises(SessionNotFound):
            s.close_sandbox("never-opened")
        s.current_sandbox = "other"
        assert s.runner.current == "other"
        s.interrupt()  # nothing runs: nothing to stop, and no sandbox is opened for it
        s.reset_sandbox()
        assert s.last_execution is None and not s.sandbox_sessions().sessions
