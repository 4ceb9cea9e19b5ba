"""Resources over real servers: list, templates, read (text, JSON, blobs), unknown URIs, the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from realservers import our_server
from test_display import HOSTILE, assert_safe_html

from mcp_kernel.client import ConnectionPool
from mcp_kernel.display import to_text
from mcp_kernel.errors import ResourceNotFound
from mcp_kernel.models import ServerSpec
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture()
def pool():
    with ConnectionPool([our_server("library")], timeout=20, connect_timeout=20) as p:
        yield p


def test_resources_and_templates_are_listed(pool: ConnectionPool) -> None:
    listing = pool.get("library").list_resources()
    assert [r.uri for r in listing.resources] == ["note://welcome", "note://catalog", "image://pixel"]
    assert listing.resources[2].mime_type == "image/png"
    assert [t.uri_template for t in listing.templates] == ["note://shelf/{name}"]


def test_text_json_and_blob_resources_are_read(pool: ConnectionPool) -> None:
    conn = pool.get("library")
    text = conn.read_resource("note://welcome")
    assert text.text == "Welcome to the library.\nOpen 9-17."
    catalog = conn.read_resource("note://catalog").contents[0]
    assert catalog.parsed["books"][0]["title"] == "Dune"
    assert '"title": "Dune"' in to_text(conn.read_resource("note://catalog")), "JSON is shown pretty"
    pixel = conn.read_resource("image://pixel").contents[0]
    assert pixel.is_binary and pixel.size == 70 and pixel.data()[:4] == b"\x89PNG"
    assert "[binary: 70 B, image/png]" in to_text(conn.read_resource("image://pixel"))
    assert conn.read_resource("note://shelf/b").text == "Shelf b: 12 books", "a template fills in"


def test_an_unknown_uri_is_a_typed_error_naming_the_fix(pool: ConnectionPool) -> None:
    with pytest.raises(ResourceNotFound) as caught:
        pool.get("library").read_resource("note://nope")
    message = str(caught.value)
    assert "note://nope" in message and "note://welcome" in message and "%mcp resources library" in message


def test_server_everything_resources(everything_spec: ServerSpec) -> None:
    with ConnectionPool([everything_spec], timeout=20) as pool:
        conn = pool.get("everything")
        listing = conn.list_resources()
        assert len(listing.resources) == 7 and len(listing.templates) == 2
        first = conn.read_resource(listing.resources[0].uri).contents[0]
        assert first.text and first.mime_type == "text/markdown"
        blob_template = next(t.uri_template for t in listing.templates if "blob" in t.uri_template)
        blob = conn.read_resource(blob_template.replace("{resourceId}", "1")).contents[0]
        assert blob.is_binary and blob.size > 0
        with pytest.raises(ResourceNotFound):
            conn.read_resource("demo://no/such/thing")


def test_the_commands_through_a_session(tmp_path) -> None:
    from mcp_kernel.commands import build_parser, parse

    parser = build_parser("mcp-kernel")
    with Session() as session:
        session.add_server(our_server("library"))
        listing = parse(parser, ["resources", "library"])
        assert len(listing.handler(session, listing).resources) == 3
        read = parse(parser, ["read", "library", "image://pixel"])
        assert read.handler(session, read).contents[0].size == 70


def test_resource_html_is_escaped_and_readable_untrusted(pool: ConnectionPool) -> None:
    from mcp_kernel.models import (
        ResourceContent,
        ResourceInfo,
        ResourceList,
        ResourceRead,
        ResourceTemplateInfo,
    )

    objects = [
        pool.get("library").list_resources(),
        pool.get("library").read_resource("note://catalog"),
        pool.get("library").read_resource("image://pixel"),
        ResourceList(
            server=HOSTILE,
            resources=[ResourceInfo(uri=HOSTILE, name=HOSTILE, description=HOSTILE)],
            templates=[ResourceTemplateInfo(uri_template=HOSTILE, description=HOSTILE)],
        ),
        ResourceRead(server=HOSTILE, uri=HOSTILE, contents=[ResourceContent(uri=HOSTILE, text=HOSTILE)]),
    ]
    for obj in objects:
        assert_safe_html(obj)


def test_sandboxed_code_reads_resources_through_the_bridge() -> None:
    with Session() as session:
        session.add_server(our_server("library"))
        session.introspect("library")
        code = (
            "from _mcp_runtime import read_resource\n"
            "parts = read_resource('library', 'note://catalog')\n"
            "import json\n"
            "print(json.loads(parts[0]['text'])['books'][0]['title'], parts[0]['mime_type'])\n"
            "print(read_resource('library', 'image://pixel')[0]['size'])"
        )
        result = session.execute(code, session.policy(["library"]))
        assert result.error is None, result.error
        assert result.stdout == "Dune application/json\n70\n"
        assert any(c.tool == "resources/read" for c in result.calls)
        unknown = session.execute(
            "from _mcp_runtime import read_resource\nread_resource('library', 'note://x')",
            session.policy(["library"]),
        )
        assert unknown.error is not None and "ResourceNotFound" in unknown.error.message
        assert "note://welcome" in unknown.error.message
        refused = session.execute(
            "from _mcp_runtime import read_resource\nread_resource('library', 'note://welcome')",
            session.policy([]),
        )
        assert refused.error is not None and "not allowed" in refused.error.message


# ---- following a resource's updates ------------------------------------------------------------------------
def wait_for(condition: Any, what: str) -> None:
    """Wait for an event that travels on its own stream (bounded, never a timing assertion)."""
    import time

    for _ in range(400):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_a_watch_hears_each_update_until_stopped() -> None:
    """Our board server (2026-07-28: `subscriptions/listen`) says when a tool changed its resource."""
    with ConnectionPool([our_server("board")], timeout=20, connect_timeout=20) as pool:
        board = pool.get("board")
        heard: list[str] = []
        stop = board.watch("board://notices", heard.append)
        board.call_tool("post", {"text": "fire drill at 3"})
        wait_for(lambda: heard, "the first update")
        assert heard == ["board://notices"]
        assert board.read_resource("board://notices").contents[0].text == "fire drill at 3"
        stop()
        board.call_tool("post", {"text": "cake in the kitchen"})
        marker: list[str] = []
        second = board.watch("board://notices", marker.append)  # a later watch hears the next update...
        board.call_tool("post", {"text": "last one"})
        wait_for(lambda: marker, "the later watch's update")
        assert heard == ["board://notices"], "...and the stopped one hears nothing more"
        second()


def test_an_older_server_is_followed_with_resources_subscribe(everything_spec: ServerSpec) -> None:
    """server-everything speaks 2025-11-25: resources/subscribe, then notifications/resources/updated."""
    with ConnectionPool([everything_spec], timeout=30, connect_timeout=30) as pool:
        everything = pool.get("everything")
        uri = everything.list_resources().resources[0].uri
        heard: list[str] = []
        stop = everything.watch(uri, heard.append)
        everything.call_tool("toggle-subscriber-updates", {})  # it then announces updates every 5 s
        wait_for(lambda: heard, "an update from server-everything")
        assert set(heard) == {uri}
        stop()


def test_a_server_without_subscriptions_says_so() -> None:
    from mcp_kernel.errors import CapabilityNotOffered

    with (
        ConnectionPool([our_server("many_tools")], timeout=20, connect_timeout=20) as pool,  # tools only
        pytest.raises(CapabilityNotOffered, match=r"resources.subscribe"),
    ):
        pool.get("many_tools").watch("note://anything", print)


def test_the_cli_prints_the_resource_again_at_each_update(tmp_path: Path) -> None:
    """`mcp-kernel watch --count 2` on a board that pins a notice by itself every 0.3 s."""
    import os
    import subprocess
    import sys

    config = tmp_path / "mcp.json"
    spec = our_server("board")
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "board": {"command": spec.command, "args": spec.args, "env": {"BOARD_TICK": "0.3"}}
                }
            }
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mcp_kernel",
            "watch",
            "board",
            "board://notices",
            "--count",
            "2",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    shown = done.stdout.split("--- updated (")
    assert len(shown) == 3, done.stdout
    assert shown[1].startswith("1)") and "tick" in shown[1]
    assert shown[2].startswith("2)") and shown[2].count("tick") > shown[1].count("tick")
