"""Resources over real servers: list, templates, read (text, JSON, blobs), unknown URIs, the commands."""

from __future__ import annotations

import pytest

from realservers import our_server
from mcp_kernel.client import ConnectionPool
from mcp_kernel.errors import ResourceNotFound
from mcp_kernel.display import to_html, to_text
from mcp_kernel.models import ServerSpec
from mcp_kernel.session import Session
from test_display import HOSTILE, StyleAudit, check_html


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
    from mcp_kernel.models import ResourceContent, ResourceInfo, ResourceList, ResourceRead, ResourceTemplateInfo

    objects = [
        pool.get("library").list_resources(),
        pool.get("library").read_resource("note://catalog"),
        pool.get("library").read_resource("image://pixel"),
        ResourceList(server=HOSTILE, resources=[ResourceInfo(uri=HOSTILE, name=HOSTILE, description=HOSTILE)],
                     templates=[ResourceTemplateInfo(uri_template=HOSTILE, description=HOSTILE)]),
        ResourceRead(server=HOSTILE, uri=HOSTILE, contents=[ResourceContent(uri=HOSTILE, text=HOSTILE)]),
    ]
    for obj in objects:
        html = to_html(obj)
        check_html(html)
        assert "<script>" not in html
        audit = StyleAudit()
        audit.feed(html)
        assert not audit.problems, audit.problems[:5]


def test_sandboxed_code_reads_resources_through_the_bridge() -> None:
    with Session() as session:
        session.add_server(our_server("library"))
        session.introspect("library")
        code = ("from _mcp_runtime import read_resource\n"
                "parts = read_resource('library', 'note://catalog')\n"
                "import json\n"
                "print(json.loads(parts[0]['text'])['books'][0]['title'], parts[0]['mime_type'])\n"
                "print(read_resource('library', 'image://pixel')[0]['size'])")
        result = session.execute(code, session.policy(["library"]))
        assert result.error is None, result.error
        assert result.stdout == "Dune application/json\n70\n"
        assert any(c.tool == "resources/read" for c in result.calls)
        unknown = session.execute("from _mcp_runtime import read_resource\nread_resource('library', 'note://x')",
                                  session.policy(["library"]))
        assert unknown.error is not None and "ResourceNotFound" in unknown.error.message
        assert "note://welcome" in unknown.error.message
        refused = session.execute("from _mcp_runtime import read_resource\nread_resource('library', 'note://welcome')",
                                  session.policy([]))
        assert refused.error is not None and "not allowed" in refused.error.message
