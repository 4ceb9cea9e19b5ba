"""AppHost answers a view's requests with a real session and real servers (tests/servers/viewer.py, gallery.py):
tools visible to apps only, its own server only, a flood refused, reads bounded, links checked, notes kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import our_server

from mcp_kernel.apps import AppHost, read_view
from mcp_kernel.errors import AppError
from mcp_kernel.session import Session
from mcp_kernel.settings import MCPKernel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MCP_KERNEL_DATA_DIR", str(where))  # the audit trail of the views' calls
        yield where


@pytest.fixture(scope="module")
def session(data: Path) -> Iterator[Session]:
    with Session() as session:
        session.add_server(our_server("viewer"))
        session.add_server(our_server("gallery"))
        yield session


def request(host: AppHost, method: str, **params: object) -> dict:
    return host.reply({"id": 7, "method": method, "params": params})


def refusal(reply: dict) -> str:
    assert reply["id"] == 7 and "result" not in reply, reply
    return str(reply["error"]["message"])


def test_a_tools_view_is_read_with_its_csp_border_and_the_hostile_domains_left_out(session: Session) -> None:
    view = read_view(session.servers, "viewer", session.servers.tool_info("viewer", "show_view"))
    assert view.uri == "ui://viewer/view.html" and "ui/initialize" in view.html
    assert "connect-src https://api.example.com;" in view.csp
    assert view.csp_dropped == ["https://x.example; script-src *", "'unsafe-eval'"]
    assert "unsafe-eval" not in view.csp and view.prefers_border is False
    legacy = read_view(session.servers, "viewer", session.servers.tool_info("viewer", "legacy_view"))
    assert legacy.uri == view.uri and legacy.html == view.html


@pytest.mark.parametrize(
    ("tool", "says"),
    [("wrong_view", "is not a view: it is text/plain"), ("plain", "has no view")],
)
def test_a_tool_without_a_proper_view_is_a_clear_error(session: Session, tool: str, says: str) -> None:
    with pytest.raises(AppError, match=says):
        read_view(session.servers, "viewer", session.servers.tool_info("viewer", tool))


def test_a_view_calls_its_servers_tools_visible_to_apps_and_gets_the_whole_result(session: Session) -> None:
    host = AppHost(session, "viewer", "show_view")
    first = request(host, "tools/call", name="app_only")["result"]
    second = request(host, "tools/call", name="app_only", arguments={})["result"]
    assert second["structuredContent"]["refreshed"] == first["structuredContent"]["refreshed"] + 1
    assert second["isError"] is False and second["content"][0]["type"] == "text"
    assert request(host, "tools/call", name="plain", arguments={"text": "hi"})["result"][
        "structuredContent"
    ] == {"result": "HI"}
    assert host.notes == []


def test_a_tool_not_visible_to_apps_is_refused_and_the_refusal_shown(session: Session, data: Path) -> None:
    host = AppHost(session, "viewer", "show_view")
    message = refusal(request(host, "tools/call", name="model_only"))
    assert "viewer.model_only is not visible to apps" in message and "['model']" in message
    assert [note.kind for note in host.notes] == ["refused"] and "model_only" in host.notes[0].text
    trail = (data / "audit" / "audit.jsonl").read_text() if (data / "audit" / "audit.jsonl").exists() else ""
    assert "model_only" not in trail  # refused before any guard: nothing was sent


def test_a_view_cannot_reach_another_servers_tool_or_resource(session: Session) -> None:
    before = session.call("gallery", "untagged", {"text": "x"})  # the other server is up and has the tool
    assert before.text == "X"
    host = AppHost(session, "viewer", "show_view")
    assert "Server 'viewer' has no tool 'untagged'" in refusal(
        request(host, "tools/call", name="untagged", arguments={"text": "x"})
    )
    assert "ui://gallery/view.html" in refusal(request(host, "resources/read", uri="ui://gallery/view.html"))


def test_arguments_are_checked_against_the_tools_schema(session: Session) -> None:
    host = AppHost(session, "viewer", "show_view")
    assert "do not match its schema" in refusal(
        request(host, "tools/call", name="plain", arguments={"text": 1})
    )
    assert "must be an object" in refusal(request(host, "tools/call", name="plain", arguments=[1]))
    assert "needs the name of a tool" in refusal(request(host, "tools/call"))


def test_a_flood_of_requests_is_refused_past_the_limit(session: Session) -> None:
    host = AppHost(session, "viewer", "show_view", max_requests=3, window_s=600)
    replies = [request(host, "tools/call", name="app_only") for _ in range(6)]
    assert ["result" in reply for reply in replies] == [True] * 3 + [False] * 3
    assert "more than 3 requests within 600 s" in refusal(replies[-1])
    assert "more than 3" in refusal(request(host, "resources/read", uri="viewer://note"))  # reads count too
    assert request(host, "ui/message", content=[{"type": "text", "text": "still heard"}]) == {
        "id": 7,
        "result": {},
    }


def test_reads_are_of_its_own_server_and_bounded(session: Session) -> None:
    host = AppHost(session, "viewer", "show_view", max_read_bytes=4096)
    contents = request(host, "resources/read", uri="viewer://note")["result"]["contents"]
    assert contents == [
        {"uri": "viewer://note", "mimeType": "text/plain", "text": "a note for bob@example.org"}
    ]
    assert "the limit for a sandboxed read is 4,096" in refusal(
        request(host, "resources/read", uri="viewer://big")
    )
    assert "needs a uri" in refusal(request(host, "resources/read"))


def test_links_messages_and_context_are_kept_as_notes(session: Session) -> None:
    host = AppHost(session, "viewer", "show_view")
    shown: list[list[str]] = []
    host.on_note = lambda notes: shown.append([note.line for note in notes])
    assert request(host, "ui/open-link", url="https://example.org/docs") == {"id": 7, "result": {}}
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://", 5):
        assert "only http(s) links" in refusal(request(host, "ui/open-link", url=url))
    request(host, "ui/message", role="user", content=[{"type": "text", "text": "explain this"}])
    request(host, "ui/update-model-context", structuredContent={"region": "EU"})
    assert host.context == {"structuredContent": {"region": "EU"}}
    assert shown[-1][0] == "link: https://example.org/docs"
    assert shown[-1][-2:] == ["message: explain this", 'context: {"region": "EU"}']
    assert "unsupported" not in refusal(request(host, "ui/download-file"))
    assert host.reply({"id": 9, "method": "ui/download-file"})["error"]["code"] == -32601
    assert host.reply("not an object")["error"]["code"] == -32600


def test_the_views_calls_pass_the_audit_trail_as_any_call(session: Session, data: Path) -> None:
    host = AppHost(session, "viewer", "show_view")
    request(host, "tools/call", name="app_only")
    entries = [json.loads(line) for line in (data / "audit" / "audit.jsonl").read_text().splitlines()]
    mine = [entry for entry in entries if entry.get("tool") == "app_only"]
    assert mine and "view of viewer.show_view" in json.dumps(mine[-1])


def test_with_pii_masking_on_what_the_view_gets_is_masked(data: Path) -> None:
    with Session(settings=MCPKernel(tokenize_pii=True)) as session:
        session.add_server(our_server("viewer"))
        host = AppHost(session, "viewer", "show_view")
        result = request(host, "tools/call", name="show_view", arguments={"topic": "t"})["result"]
        assert result["structuredContent"] == {"topic": "t", "owner": "<EMAIL_1>"}
        assert "ann@example.org" not in json.dumps(result)
        read = request(host, "resources/read", uri="viewer://note")["result"]
        assert read["contents"][0]["text"] == "a note for <EMAIL_2>"


def test_a_gone_server_or_a_closed_view_is_a_clear_error(data: Path) -> None:
    with Session() as session:
        session.add_server(our_server("viewer"))
        host = AppHost(session, "viewer", "show_view")
        assert "result" in request(host, "tools/call", name="app_only")
        session.remove_server("viewer")
        assert "The view's server 'viewer' is gone or failing" in refusal(
            request(host, "tools/call", name="app_only")
        )
        host.close()
        assert "was closed" in refusal(request(host, "tools/call", name="app_only"))
