"""The MCP client over real stdio and HTTP servers: ours, the demo, and third-party servers from npm."""

from __future__ import annotations

import contextlib
import sys
import time

import pytest
from realservers import our_server

from mcp_kernel.client import Connection, ConnectionPool
from mcp_kernel.config import demo_spec
from mcp_kernel.errors import ServerCrashed, ServerError, ServerStartError, ServerTimeout, ToolCallError
from mcp_kernel.models import ServerSpec

pytestmark = pytest.mark.slow


@pytest.fixture()
def pool():
    with ConnectionPool(timeout=10, connect_timeout=20) as p:
        yield p


# ---- the demo server -------------------------------------------------------------------------------
def test_demo_over_stdio_lists_typed_tools_and_calls_one(pool: ConnectionPool) -> None:
    pool.add(demo_spec())
    info = pool.get("demo").connect()
    assert info.name == "demo" and info.protocol_version
    tools = {t.name: t for t in pool.list_tools("demo")}
    assert {"list_regions", "query_sales", "get_customer", "aggregate_sales"} <= set(tools)
    for tool in tools.values():
        assert tool.output_schema is not None, tool.name
        assert tool.description
    assert tools["list_regions"].annotations.read_only is True
    result = pool.call_tool("demo", "query_sales", {"region": "EU", "limit": 5})
    assert not result.is_error
    rows = result.value["rows"] if isinstance(result.value, dict) and "rows" in result.value else result.value
    assert 0 < len(rows) <= 5
    assert all(row["region"] == "EU" for row in rows)


def test_demo_over_streamable_http(pool: ConnectionPool, demo_http_url: str) -> None:
    pool.add(ServerSpec(name="web", url=demo_http_url))
    names = [t.name for t in pool.list_tools("web")]
    assert "query_sales" in names
    regions = pool.call_tool("web", "list_regions").value
    assert regions


def test_a_tool_error_result_is_returned_not_raised(pool: ConnectionPool) -> None:
    pool.add(demo_spec())
    result = pool.call_tool("demo", "get_customer", {"customer_id": "NO-SUCH-CUSTOMER"})
    assert result.is_error
    assert "NO-SUCH-CUSTOMER" in result.text


def test_progress_notifications_reach_the_caller(pool: ConnectionPool) -> None:
    pool.add(demo_spec())
    slow = [t for t in pool.list_tools("demo") if t.name == "forecast_revenue"]
    assert slow, "the demo server has a slow tool that reports progress"
    seen: list[tuple[float, float | None]] = []
    pool.call_tool(
        "demo", "forecast_revenue", {"months": 2}, progress=lambda p, total, msg: seen.append((p, total))
    )
    assert len(seen) >= 2
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)


def test_one_connection_per_server_is_reused(pool: ConnectionPool) -> None:
    pool.add(demo_spec())
    conn = pool.get("demo")
    conn.connect()
    owner = conn._owner
    for _ in range(3):
        pool.call_tool("demo", "list_regions")
    assert pool.get("demo") is conn and conn._owner is owner


# ---- pagination and schemas -------------------------------------------------------------------------
def test_list_tools_follows_next_cursor_to_the_end(pool: ConnectionPool) -> None:
    pool.add(our_server("many_tools"))
    tools = pool.list_tools("many_tools")
    assert len(tools) == 250
    assert len({t.name for t in tools}) == 250


def test_complex_schemas_arrive_intact(pool: ConnectionPool) -> None:
    pool.add(our_server("schemas"))
    tools = pool.list_tools("schemas")
    text = repr([t.input_schema for t in tools])
    assert "$defs" in text and "$ref" in text and "anyOf" in text and "enum" in text


# ---- bad input ---------------------------------------------------------------------------------------
def test_unknown_command_is_a_start_error(pool: ConnectionPool) -> None:
    pool.add(ServerSpec(name="nope", command="definitely-not-a-real-command-xyz"))
    with pytest.raises(ServerStartError, match="was not found on PATH"):
        pool.get("nope").connect()


def test_a_missing_relative_path_is_not_looked_for_on_path_and_names_npm_ci(
    pool: ConnectionPool, tmp_path
) -> None:
    # What tutorial 3 said to a newcomer who had not run `npm ci`: "not found on PATH" for a relative path.
    (tmp_path / "notebooks").mkdir()
    pool.add(
        ServerSpec(
            name="everything",
            command="../node_modules/.bin/mcp-server-everything",
            cwd=str(tmp_path / "notebooks"),
        )
    )
    with pytest.raises(ServerStartError) as caught:
        pool.get("everything").connect()
    message = str(caught.value)
    assert "PATH" not in message
    assert f"{tmp_path}/node_modules/.bin/mcp-server-everything does not exist" in message
    assert f"Run `npm ci` in {tmp_path}" in message


def test_a_missing_npx_says_to_install_node(monkeypatch, tmp_path) -> None:
    from mcp_kernel.client import missing_command

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without Node
    assert "Install Node.js" in missing_command("npx")


def test_a_non_executable_command_is_a_start_error(pool: ConnectionPool, tmp_path) -> None:
    script = tmp_path / "srv.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    pool.add(ServerSpec(name="noexec", command=str(script)))
    with pytest.raises(ServerStartError):
        pool.get("noexec").connect()


def test_server_exiting_before_handshake_quotes_its_stderr(pool: ConnectionPool) -> None:
    pool.add(our_server("exit_early"))
    with pytest.raises(ServerStartError) as err:
        pool.get("exit_early").connect()
    assert "missing API key" in str(err.value)
    assert "missing API key" in err.value.log_tail
    assert "did not finish the MCP handshake" not in str(err.value), "told as it exited, not at the timeout"


def test_garbage_on_stdout_before_the_handshake(pool: ConnectionPool) -> None:
    pool.add(our_server("garbage"))
    # The SDK skips lines that are not JSON-RPC; the server must still be usable.
    tools = pool.list_tools("garbage")
    assert tools


def test_http_url_with_nothing_listening(pool: ConnectionPool) -> None:
    from realservers import free_port

    pool.add(ServerSpec(name="void", url=f"http://127.0.0.1:{free_port()}/mcp"))
    with pytest.raises(ServerStartError, match="nothing answered"):  # at once, not at the connect timeout
        pool.get("void").connect()


def test_a_hanging_tool_times_out_and_the_next_call_works() -> None:
    with ConnectionPool([our_server("hang")], timeout=1.0) as pool:
        conn = pool.get("hang")
        conn.connect()
        owner = conn._owner
        with pytest.raises(ServerTimeout, match="within 1 s"):
            pool.call_tool("hang", "hang")
        assert not pool.call_tool("hang", "ok").is_error
        assert conn._owner is owner, "a timeout must not cost the connection"


def test_a_crash_mid_call_quotes_stderr_and_the_next_call_reconnects(pool: ConnectionPool) -> None:
    pool.add(our_server("crashy"))
    pool.get("crashy").connect()
    with pytest.raises(ServerCrashed) as err:
        pool.call_tool("crashy", "crash")
    assert "simulated crash" in str(err.value)
    assert not pool.call_tool("crashy", "ok").is_error


def test_connect_timeout_on_a_silent_process() -> None:
    spec = ServerSpec(name="silent", command=sys.executable, args=["-c", "import time; time.sleep(60)"])
    conn = Connection(spec, connect_timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(ServerStartError, match="did not finish the MCP handshake within 1 s"):
            conn.connect()
    finally:
        conn.close()
    assert time.monotonic() - started < 30, "the process was stopped, not waited for (it sleeps 60 s)"


def test_an_unknown_tool_is_a_tool_error(pool: ConnectionPool) -> None:
    pool.add(demo_spec())
    try:
        result = pool.call_tool("demo", "no_such_tool")
    except ToolCallError as exc:
        assert "no_such_tool" in str(exc)
    else:
        assert result.is_error and "no_such_tool" in result.text


# ---- third-party servers ------------------------------------------------------------------------------
def test_server_everything_over_stdio(pool: ConnectionPool, everything_spec: ServerSpec) -> None:
    pool.add(everything_spec)
    tools = {t.name: t for t in pool.list_tools("everything")}
    assert {"echo", "get-sum", "get-structured-content", "trigger-long-running-operation"} <= set(tools)
    echo = tools["echo"]
    assert echo.input_schema["properties"]["message"]["type"] == "string"
    assert echo.input_schema["required"] == ["message"]
    assert echo.annotations.read_only is True and echo.annotations.idempotent is True
    assert tools["get-structured-content"].output_schema is not None
    assert tools["toggle-simulated-logging"].annotations.read_only is False
    assert pool.call_tool("everything", "echo", {"message": "hi"}).text == "Echo: hi"
    total = pool.call_tool("everything", "get-sum", {"a": 2, "b": 3}).text
    assert "5" in total


def test_server_everything_over_streamable_http(pool: ConnectionPool, everything_http_url: str) -> None:
    pool.add(ServerSpec(name="everything-http", url=everything_http_url))
    names = {t.name for t in pool.list_tools("everything-http")}
    assert "echo" in names
    assert pool.call_tool("everything-http", "echo", {"message": "over http"}).text == "Echo: over http"


def test_server_filesystem(pool: ConnectionPool, filesystem_spec: ServerSpec) -> None:
    pool.add(filesystem_spec)
    tools = {t.name: t for t in pool.list_tools("files")}
    assert {"read_text_file", "write_file", "list_directory", "search_files"} <= set(tools)
    assert tools["read_text_file"].annotations.read_only is True
    assert tools["write_file"].annotations.destructive is True
    assert tools["list_directory"].output_schema is not None
    root = filesystem_spec.args[0]
    text = pool.call_tool("files", "read_text_file", {"path": f"{root}/hello.txt"})
    assert "hello from mcp-kernel" in str(text.value)
    refused = pool.call_tool("files", "read_text_file", {"path": "/etc/passwd"})
    assert refused.is_error


def test_a_servers_own_children_are_stopped_with_it() -> None:
    import psutil

    pool = ConnectionPool([our_server("spawner")])
    child = pool.call_tool("spawner", "child_pid").value["result"]
    assert psutil.Process(child).status() != psutil.STATUS_ZOMBIE
    pool.close()
    with contextlib.suppress(psutil.NoSuchProcess):
        assert psutil.Process(child).status() == psutil.STATUS_ZOMBIE, "stopped, waiting only for a reaper"


def test_a_flood_on_stderr_is_quoted_briefly_and_the_log_is_bounded(tmp_path) -> None:
    with ConnectionPool([our_server("crashy")], logs=tmp_path) as pool:
        with pytest.raises(ServerCrashed) as caught:
            pool.call_tool("crashy", "shout_and_crash", {"megabytes": 20})
        assert len(str(caught.value)) < 5_000, "the quote is bounded"
        assert "more characters" in str(caught.value)
        assert (tmp_path / "crashy.log").stat().st_size <= 9 << 20, "the log was cut back"
        assert pool.call_tool("crashy", "ok").value == {"result": "fine"}


@pytest.mark.parametrize(
    ("tool", "message"), [("bad_shape", "does not follow the MCP schema"), ("not_json", "not valid JSON-RPC")]
)
def test_a_reply_that_cannot_be_read_is_reported_at_once(tool: str, message: str) -> None:
    with ConnectionPool([our_server("malformed")], timeout=60) as pool:
        with pytest.raises(ServerError, match=message) as caught:
            pool.call_tool("malformed", tool)
        assert "did not answer" not in str(caught.value), "at once, not after the 60 s timeout"


# ---- both protocol eras, one client ---------------------------------------------------------------------
def test_a_2026_server_is_reached_without_a_handshake_and_a_2025_one_with_it(
    pool: ConnectionPool, everything_spec: ServerSpec
) -> None:
    pool.add(our_server("library"))
    pool.add(everything_spec)
    assert pool.get("library").connect().protocol_version == "2026-07-28"
    legacy = pool.get("everything").connect()
    assert legacy.protocol_version == "2025-11-25"
    assert legacy.name == "mcp-servers/everything"
    assert pool.call_tool("library", "whoami").value["protocol"] == "2026-07-28"
    assert pool.call_tool("everything", "echo", {"message": "old era"}).text == "Echo: old era"


def test_the_client_names_itself_and_declares_what_it_can_answer(pool: ConnectionPool) -> None:
    from mcp_kernel import __version__

    pool.add(our_server("library"))
    seen = pool.call_tool("library", "whoami").value
    assert seen["client"] == "mcp-kernel" and seen["version"] == __version__
    assert {"elicitation", "sampling", "roots"} <= set(seen["capabilities"])


@pytest.mark.parametrize(("mode", "protocol"), [([], "2026-07-28"), (["legacy"], "2025-11-25")])
def test_the_client_declares_mcp_apps_in_both_eras(
    pool: ConnectionPool, mode: list[str], protocol: str
) -> None:
    spec = our_server("viewer")
    pool.add(spec.model_copy(update={"args": [*spec.args, *mode]}))
    assert pool.call_tool("viewer", "apps_supported").value == {"apps": True, "protocol": protocol}


def test_server_everything_lists_the_tools_that_need_client_capabilities(
    pool: ConnectionPool, everything_spec: ServerSpec
) -> None:
    pool.add(everything_spec)
    names = {t.name for t in pool.list_tools("everything")}
    # 13 without client capabilities; these four appear once elicitation, sampling and roots are declared.
    assert {"trigger-elicitation-request", "trigger-sampling-request", "get-roots-list"} <= names
    assert len(names) == 17


def test_a_sampling_request_is_refused_with_the_reason(
    pool: ConnectionPool, everything_spec: ServerSpec
) -> None:
    pool.add(everything_spec)
    result = pool.call_tool("everything", "trigger-sampling-request", {"prompt": "hello"})
    assert result.is_error or "no language model" in result.text
    assert "no language model" in (result.text + pool.get("everything").log_tail(50))
