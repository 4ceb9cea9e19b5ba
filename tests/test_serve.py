"""`mcp-kernel serve` as a subprocess, driven by the mcp SDK's client over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, node_bin, running

from mcp_kernel.tokens import tokenizer

pytestmark = [pytest.mark.slow, pytest.mark.npm]


@pytest.fixture()
def workplace(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An mcp.json with demo, server-filesystem on a temp dir, the mailer, and one server that cannot start."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "targets.csv").write_text("region,target\nEU,100000\nNA,120000\n")
    outbox = tmp_path / "outbox.jsonl"
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {"command": node_bin("mcp-server-filesystem"), "args": [str(files)]},
                    "mailer": {
                        "command": sys.executable,
                        "args": [str(SERVERS / "mailer.py")],
                        "env": {"MAILER_OUTBOX": str(outbox)},
                    },
                    "broken": {"command": str(tmp_path / "no-such-server")},
                }
            }
        )
    )
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "config.toml").write_text("[MCPKernel]\nsession_idle_timeout = 2.0\n")
    env = {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(settings_dir)}
    yield {"config": str(config), "files": files, "outbox": outbox, "env": env}


def serve_argv(place: dict[str, Any], *extra: str) -> list[str]:
    """``mcp-kernel serve`` on the place's servers. Its default asks the agent's user before each call to a tool
    not annotated read-only, which most test servers' tools are not: the tests of other things run with
    ``--approve never``, and tests/test_approvals_serve.py gives its own ``--approve`` (the last one counts)."""
    return [
        sys.executable,
        "-m",
        "mcp_kernel.cli",
        "serve",
        "--config",
        place["config"],
        "--approve",
        "never",
        *extra,
    ]


async def caller_client(stack: AsyncExitStack, url: str, token: str) -> Any:
    """An SDK client of serve at ``url`` over HTTP, as the caller whose bearer token is ``token``, open until
    ``stack`` closes."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    )
    return await stack.enter_async_context(Client(streamable_http_client(url, http_client=http)))


@asynccontextmanager
async def stdio_client(place: dict[str, Any], *extra: str) -> Any:
    from mcp import Client, StdioServerParameters

    argv = serve_argv(place, *extra)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=place["env"])
    async with Client(params) as client:
        yield client


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


AGGREGATE = """
from servers.demo import aggregate_sales
from servers.files import read_text_file
import csv, io
targets = {r['region']: float(r['target']) for r in csv.DictReader(io.StringIO(read_text_file(path=TARGETS)['content']))}
revenue = {g['key']: g['value'] for g in aggregate_sales(group_by='region')['groups']}
for region in sorted(targets):
    print(region, round(revenue[region] / targets[region], 2))
"""


async def agent_session(client: Any, place: dict[str, Any]) -> None:
    """What a model does: search, read one binding, run code over two servers, continue with the handle."""
    found = text(await client.call_tool("search_tools", {"query": "aggregate"}))
    assert "demo: def aggregate_sales(" in found, found
    listing = text(await client.call_tool("read", {"path": "/mcp-tools/servers"}))
    assert "demo/" in listing and "files/" in listing and "unavailable: broken" in listing
    binding = text(await client.call_tool("read", {"path": "/mcp-tools/servers/demo/aggregate_sales.py"}))
    assert "def aggregate_sales(" in binding
    code = AGGREGATE.replace("TARGETS", repr(str(place["files"] / "targets.csv")))
    first = await client.call_tool("execute", {"code": code})
    assert not first.is_error, text(first)
    lines = text(first).splitlines()
    assert [line.split()[0] for line in lines] == ["EU", "NA"] and all(
        float(line.split()[1]) > 0 for line in lines
    )
    handle = first.structured_content["session"]
    assert {c["tool"] for c in first.structured_content["calls"]} == {
        "demo.aggregate_sales",
        "files.read_text_file",
    }
    second = await client.call_tool("execute", {"code": "sorted(targets)", "session": handle})
    assert text(second) == "['EU', 'NA']"


def test_an_agent_session_over_stdio(workplace: dict[str, Any]) -> None:
    async def main() -> None:
        async with stdio_client(workplace) as client:
            tools = await client.list_tools()
            assert [t.name for t in tools.tools] == ["search_tools", "read", "execute"]
            listing = json.dumps(
                [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools.tools]
            )
            assert tokenizer().count(listing) < 600, "the whole tools/list stays small"
            await agent_session(client, workplace)
            resource = await client.read_resource("mcp-tools://servers/demo/query_sales.py")
            assert "def query_sales(" in resource.contents[0].text

    asyncio.run(main())


def test_the_token_report_measures_exactly_the_search_answer_serve_sends(tmp_path: Path) -> None:
    """The search path's figure is the count of the very text `search_tools` sends for the same query and
    detail, not of a text built beside it."""
    from mcp_kernel.session import Session

    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {}}))  # the bundled demo server is always there
    place = {"config": str(config), "env": dict(os.environ)}

    async def main() -> str:
        async with stdio_client(place) as client:
            return text(
                await client.call_tool("search_tools", {"query": "aggregate_sales", "detail": "signature"})
            )

    sent = asyncio.run(main())
    with Session() as session:
        report = session.tokens(["demo"], tools=["aggregate_sales"])
    [row] = report.servers
    assert sent == report.search_text and sent.startswith("1 tool(s) match 'aggregate_sales':\ndemo: def ")
    assert report.search_head + row.search == tokenizer().count(sent)
    assert report.search_path == tokenizer().count(sent) + row.bindings_read


def test_an_agent_session_over_streamable_http(workplace: dict[str, Any]) -> None:
    from mcp import Client

    port = free_port()

    async def main() -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            await agent_session(client, workplace)

    with running(
        serve_argv(workplace, "--http", f"127.0.0.1:{port}"), port, env=workplace["env"], timeout=60
    ):
        asyncio.run(main())


def test_handles_isolate_clients_and_idle_sessions_are_parked(workplace: dict[str, Any]) -> None:
    async def main() -> None:
        async with stdio_client(workplace) as one, stdio_client(workplace) as two:
            a = await one.call_tool("execute", {"code": "secret = 'one'; open('mine.txt', 'w').write('x')"})
            b = await two.call_tool(
                "execute", {"code": "'secret' in globals(), __import__('os').listdir('.')"}
            )
            assert text(b) == "(False, [])"
            handle = a.structured_content["session"]
            forged = await one.call_tool("execute", {"code": "1", "session": handle[:-2] + "xx"})
            assert forged.is_error and "SessionNotFound" in text(forged)
            await asyncio.sleep(2.5)  # idle past session_idle_timeout: parked, dropped from memory
            back = await one.call_tool("execute", {"code": "secret", "session": handle})
            assert not back.is_error and "'one'" in text(back) and "was parked" in text(back)
            assert text(await one.call_tool("execute", {"code": "6 * 7"})) == "42"

    asyncio.run(main())


def test_over_http_each_caller_has_a_token_and_only_its_own_handles(
    workplace: dict[str, Any], tmp_path: Path
) -> None:
    """`serve --http --callers FILE`: a request without a known bearer token is refused (401); a handle opened
    by one caller is, for another, the same `SessionNotFound` as a forged one; its owner keeps using it."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    callers = tmp_path / "callers.json"
    alice_token, bob_token = "al1ce-token-" + "0123456789" * 3, "b0b-token-" + "0123456789" * 3  # >= 32 chars
    callers.write_text(json.dumps({"alice": "${ALICE_TOKEN}", "bob": bob_token}))
    env = {**workplace["env"], "ALICE_TOKEN": alice_token}
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    @asynccontextmanager
    async def as_caller(token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            yield client

    async def main() -> None:
        async with as_caller(alice_token) as alice, as_caller(bob_token) as bob:
            opened = await alice.call_tool("execute", {"code": "x = 'alice'"})
            handle = opened.structured_content["session"]
            stolen = await bob.call_tool("execute", {"code": "x", "session": handle})
            assert stolen.is_error and "SessionNotFound" in text(stolen), text(stolen)
            forged = await bob.call_tool("execute", {"code": "x", "session": handle[:-2] + "zz"})
            assert text(forged).replace(handle[:-2] + "zz", "H") == text(stolen).replace(handle, "H")
            assert text(await alice.call_tool("execute", {"code": "x", "session": handle})) == "'alice'"
        ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        for token in (None, "not-a-known-token"):
            headers = {
                "Accept": "application/json, text/event-stream",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            }
            async with httpx2.AsyncClient(timeout=60) as http:
                refused = await http.post(url, json=ping, headers=headers)
            assert refused.status_code == 401 and "Bearer" in refused.headers.get("www-authenticate", "")

    with running(
        serve_argv(workplace, "--http", f"127.0.0.1:{port}", "--callers", str(callers)),
        port,
        env=env,
        timeout=60,
    ):
        asyncio.run(main())


HOSTILE = [
    ("open('/etc/passwd').read()", "FileNotFoundError"),
    ("import socket; socket.create_connection(('127.0.0.1', 22), timeout=1)", "gaierror"),
    ("import subprocess; subprocess.run(['ls'])", "Traceback"),
    ("while True: pass", "SandboxTimeout"),
    ("blocks = []\nwhile True: blocks.append(bytearray(8 << 20))", "SandboxOutOfMemory"),
    ("print('x' * (2 << 20))", "OutputTooLarge"),
    ("from _mcp_runtime import call_tool\ncall_tool('broken', 'x', {})", "not allowed"),
]


def test_hostile_code_is_refused_and_serve_keeps_serving(workplace: dict[str, Any]) -> None:
    async def main() -> None:
        async with stdio_client(workplace, "--servers", "demo") as client:
            for code, expected in HOSTILE:
                result = await client.call_tool("execute", {"code": code, "timeout": 2})
                assert result.is_error and expected in text(result), (code, text(result))
                assert text(await client.call_tool("execute", {"code": "6 * 7"})) == "42"
            long = await client.call_tool("execute", {"code": "print('y' * 50_000)"})
            assert "[output truncated" in text(long) and len(text(long)) < 21_000

    asyncio.run(main())


def test_personal_data_never_reaches_the_client(workplace: dict[str, Any]) -> None:
    async def main() -> None:
        async with stdio_client(workplace, "--servers", "demo,mailer", "--tokenize-pii") as client:
            shown = await client.call_tool(
                "execute",
                {
                    "code": (
                        "from servers.demo import get_customer\n"
                        "c = get_customer(customer_id='C0024')\n"
                        "print(c['name'], c['email'], c['phone'])\nc"
                    )
                },
            )
            handle = shown.structured_content["session"]
            again = await client.call_tool(
                "execute",
                {
                    "session": handle,
                    "code": (
                        "from servers.mailer import send_email\n"
                        "print(c['email'])\n"
                        "send_email(to=c['email'], subject='Your order')"
                    ),
                },
            )
            sms = await client.call_tool(
                "execute",
                {
                    "session": handle,
                    "code": ("from servers.mailer import send_sms\nsend_sms(phone='<PHONE_1>', text='hi')"),
                },
            )
            return shown, again, sms

    shown, again, sms = asyncio.run(main())
    from mcp_kernel.demo.server import orders, phone_of

    row = next(o for o in orders() if o.customer_id == "C0024")
    seen = json.dumps([r.model_dump(mode="json") for r in (shown, again, sms)])
    assert row.email not in seen and phone_of("C0024", row.region) not in seen
    assert "<EMAIL_1>" in text(shown) and "<PHONE_1>" in text(shown) and row.customer_name in text(shown)
    assert text(again).splitlines()[0] == "<EMAIL_1>", "the same value, the same placeholder"
    assert shown.structured_content["pii_replaced"] >= 2
    sent = [json.loads(line) for line in workplace["outbox"].read_text().splitlines()]
    assert [m["to"] for m in sent] == [row.email, phone_of("C0024", row.region)], (
        "servers got the real values"
    )


def test_progress_of_the_codes_tool_calls_flows_back_on_the_request(workplace: dict[str, Any]) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total, message))

    async def main() -> Any:
        async with stdio_client(workplace, "--servers", "demo") as client:
            return await client.call_tool(
                "execute",
                {
                    "code": "from servers.demo import forecast_revenue\n"
                    "len(forecast_revenue(months=2)['forecast'])"
                },
                progress_callback=on_progress,
            )

    result = asyncio.run(main())
    assert text(result) == "2"
    assert [v for v, _, _ in seen] == [1.0, 2.0]
    assert seen[-1][2] == "demo.forecast_revenue: 2/2 - month 2 of 2"


# ---- questions of the upstream servers, relayed to the agent's client -----------------------------------
def one_server_place(tmp_path: Path, name: str) -> dict[str, Any]:
    """An mcp.json with one of tests/servers, by its file name."""
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {name: {"command": sys.executable, "args": [str(SERVERS / f"{name}.py")]}}})
    )
    return {"config": str(config), "env": dict(os.environ)}


@pytest.fixture()
def library_place(tmp_path: Path) -> dict[str, Any]:
    return one_server_place(tmp_path, "library")


BOOK = "from servers.library import book\nfirst = book()\nprint(first)\nprint(book())"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_questions_of_the_codes_servers_reach_the_agents_client(
    library_place: dict[str, Any], mode: str
) -> None:
    """2026-07-28 clients get `input_required` from execute and retry with the answers; older clients get an
    `elicitation/create` request during the call. Either way the code goes on with what the agent answered."""
    from mcp import Client, StdioServerParameters
    from mcp.types import ElicitResult

    asked: list[str] = []

    async def answer(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if len(asked) == 1:
            assert set(params.requested_schema["properties"]) == {"name", "nights", "breakfast"}
            return ElicitResult(action="accept", content={"name": "Agent", "nights": 2, "breakfast": True})
        return ElicitResult(action="decline")

    async def main() -> tuple[Any, Any]:
        argv = serve_argv(library_place)
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=library_place["env"])
        async with Client(params, mode=mode, elicitation_callback=answer) as client:
            assert (client.protocol_version >= "2026-07-28") == (mode == "auto")
            first = await client.call_tool("execute", {"code": BOOK})
            handle = first.structured_content["session"]
            again = await client.call_tool("execute", {"code": "first['booking']['name']", "session": handle})
            return first, again

    first, again = asyncio.run(main())
    assert not first.is_error, text(first)
    assert text(first).splitlines() == [
        "{'action': 'accept', 'booking': {'name': 'Agent', 'nights': 2, 'breakfast': True}}",
        "{'action': 'decline'}",
    ]
    assert asked == ["Who is booking, and for how long?"] * 2
    assert text(again) == "'Agent'", "the run that waited for answers kept its session's variables"


def test_a_client_without_elicitation_gets_a_decline(library_place: dict[str, Any]) -> None:
    async def main() -> Any:
        async with stdio_client(library_place) as client:
            return await client.call_tool("execute", {"code": BOOK})

    result = asyncio.run(main())
    assert text(result).splitlines() == ["{'action': 'decline'}"] * 2


def test_answers_that_come_too_late_are_refused_and_the_code_went_on(library_place: dict[str, Any]) -> None:
    """An agent that never answers does not hold the sandbox: past the wait the question is cancelled, the
    code finishes, and answers sent afterwards get a clear protocol error: the request state names nothing
    (driven by hand, in-process)."""
    from mcp import Client
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, ElicitResult, InputRequiredResult

    from mcp_kernel.serve import build_server
    from mcp_kernel.session import Session

    async def unused(context: Any, params: Any) -> ElicitResult:
        raise AssertionError("this test answers by hand")

    async def main(server: Any) -> tuple[Any, Any]:
        async with Client(server, elicitation_callback=unused) as client:
            asked = await client.session.call_tool(
                "execute",
                {"code": "from servers.library import book\nprint(book())"},
                allow_input_required=True,
            )
            assert isinstance(asked, InputRequiredResult) and list(asked.input_requests) == ["q1"]
            await asyncio.sleep(1.5)  # longer than the 0.5 s the server waits for answers
            with pytest.raises(MCPError) as late:
                await client.session.call_tool(
                    "execute",
                    {"code": "from servers.library import book\nprint(book())"},
                    input_responses={
                        "q1": ElicitResult(action="accept", content={"name": "Late", "nights": 1})
                    },
                    request_state=asked.request_state,
                    allow_input_required=True,
                )
            return asked, late.value

    with Session(library_place["config"]) as session:
        server = build_server(session)
        server.code_mode.answer_timeout = 0.5
        _, late = asyncio.run(main(server))
        assert late.error.code == INVALID_PARAMS and "belong to no waiting execute" in late.error.message
        [handle] = session.sandboxes.handles()
        box = session.sandboxes.get(handle)
        for _ in range(200):  # the cancelled question lets the code finish: the session is free again
            if not box.busy:
                break
            time.sleep(0.05)
        assert not box.busy and box.cells == 1


# ---- serve's own notices: log records, completion and subscriptions of the tree ----------------------------
@pytest.fixture()
def dyn_place(tmp_path: Path) -> dict[str, Any]:
    """One server that adds tools when asked (and says its tools changed)."""
    return one_server_place(tmp_path, "dyn")


GROW = "from servers.dyn import grow\ngrow(name='fresh')"
FRESH = "mcp-tools://servers/dyn/fresh.py"


@pytest.mark.filterwarnings("ignore:.*2026-07-28")  # the 2025 methods, used on purpose
def test_a_2025_client_sets_a_level_subscribes_and_hears_the_tree_change(dyn_place: dict[str, Any]) -> None:
    """logging/setLevel filters serve's records; a subscription to a file that does not exist yet and to its
    directory both hear resources/updated once the server adds the tool; the path completes one step."""
    from mcp import Client, StdioServerParameters
    from mcp.types import ResourceTemplateReference

    records: list[tuple[str, str]] = []
    updated: list[str] = []

    async def on_log(params: Any) -> None:
        records.append((params.level, params.data))

    async def on_message(message: Any) -> None:
        if getattr(message, "method", None) == "notifications/resources/updated":
            updated.append(str(message.params.uri))

    async def main() -> None:
        argv = serve_argv(dyn_place)
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=dyn_place["env"])
        async with Client(
            params, mode="legacy", logging_callback=on_log, message_handler=on_message
        ) as client:
            caps = client.server_capabilities
            assert caps.logging is not None and caps.completions is not None and caps.resources.subscribe
            await client.call_tool("execute", {"code": "1"})
            assert records == [], "before any setLevel a client hears warnings and worse only"
            await client.set_logging_level("info")
            await client.subscribe_resource(FRESH)
            await client.subscribe_resource("mcp-tools://servers/dyn")
            with pytest.raises(Exception, match="tool tree"):
                await client.subscribe_resource("test://elsewhere")
            assert not (await client.call_tool("execute", {"code": GROW})).is_error
            for _ in range(100):  # serve looks for changed tools every second
                if {FRESH, "mcp-tools://servers/dyn"} <= set(updated):
                    break
                await asyncio.sleep(0.1)
            assert {FRESH, "mcp-tools://servers/dyn"} <= set(updated), updated
            assert "def fresh(" in (await client.read_resource(FRESH)).contents[0].text
            ref = ResourceTemplateReference(uri="mcp-tools://{+path}")
            assert (
                await client.complete(ref, {"name": "path", "value": "servers/dy"})
            ).completion.values == ["servers/dyn/"]
            found = (await client.complete(ref, {"name": "path", "value": "servers/dyn/f"})).completion.values
            assert found == ["servers/dyn/fresh.py"]
            await client.unsubscribe_resource(FRESH)

    asyncio.run(main())
    messages = [data for _, data in records]
    assert any(m.startswith("run finished in ") and m.endswith("1 tool call(s)") for m in messages), records
    assert ("notice", "server dyn changed its tools; its bindings were regenerated") in records
    assert all(level != "debug" for level, _ in records)


def test_a_2026_client_asks_for_records_per_request_and_listens_for_updates(
    dyn_place: dict[str, Any],
) -> None:
    """At 2026-07-28 there is no setLevel or resources/subscribe: the records ride the request that asked
    for them (its _meta), and updates reach a subscriptions/listen stream."""
    from mcp import Client, StdioServerParameters

    records: list[tuple[str, str]] = []

    async def on_log(params: Any) -> None:
        records.append((params.level, params.data))

    async def main() -> list[Any]:
        argv = serve_argv(dyn_place)
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=dyn_place["env"])
        async with Client(params, logging_callback=on_log, log_level="debug") as client:
            assert client.protocol_version >= "2026-07-28"
            events = []
            async with client.listen(resource_subscriptions=[FRESH]) as subscription:
                assert not (await client.call_tool("execute", {"code": GROW})).is_error
                with anyio_timeout(10):
                    async for event in subscription:
                        events.append(event)
                        break
            return events

    events = asyncio.run(main())
    assert [str(e.uri) for e in events] == [FRESH]
    assert [level for level, _ in records] == ["debug", "info"] and records[0][1] == "run started", records


def anyio_timeout(seconds: float) -> Any:
    import anyio

    return anyio.fail_after(seconds)


# ---- resumable event streams over HTTP (SEP-1699) ----------------------------------------------------------
def sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-sent events, parsed from response lines."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        name, _, value = line.partition(":")
        event[name] = event.get(name, "") + value.removeprefix(" ")


def test_a_dropped_execute_stream_is_resumed_with_last_event_id(dyn_place: dict[str, Any]) -> None:
    """Each POST stream opens with a priming event (an id, empty data, a retry hint); a client that drops it
    mid-run reconnects with Last-Event-ID and still gets the run's result."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    head = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2025-11-25",
    }

    def rpc(method: str, params: dict[str, Any], id_: int | None = None) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "method": method,
            "params": params,
            **({"id": id_} if id_ is not None else {}),
        }

    with (
        running(serve_argv(dyn_place, "--http", f"127.0.0.1:{port}"), port, env=dyn_place["env"], timeout=60),
        httpx.Client(timeout=30) as http,
    ):
        init = http.post(
            url,
            headers=head,
            json=rpc(
                "initialize",
                {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
                1,
            ),
        )
        head["Mcp-Session-Id"] = init.headers["mcp-session-id"]
        http.post(url, headers=head, json=rpc("notifications/initialized", {}))
        call = rpc(
            "tools/call", {"name": "execute", "arguments": {"code": "import time\ntime.sleep(2)\n'woke'"}}, 2
        )
        with http.stream("POST", url, headers=head, json=call) as stream:
            priming = next(sse_events(stream.iter_lines()))
        assert priming.get("data") == "" and priming["retry"] == "1000" and priming["id"], priming
        resumed = {**head, "Accept": "text/event-stream", "Last-Event-ID": priming["id"]}
        with http.stream("GET", url, headers=resumed) as stream:
            for event in sse_events(stream.iter_lines()):
                message = json.loads(event["data"]) if event.get("data") else {}
                if message.get("id") == 2:
                    break
    assert message["result"]["content"][0]["text"] == "'woke'", message
