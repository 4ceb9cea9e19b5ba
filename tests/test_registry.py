"""Tool search at three levels of detail, over real introspected servers."""

from __future__ import annotations

import pytest

from mcp_kernel.errors import ServerNotFound, ToolNotFound
from mcp_kernel.models import ServerInfo, ToolInfo
from mcp_kernel.registry import ToolRegistry, summary_line
from mcp_kernel.session import Session


def make_registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(
        "shop",
        ServerInfo(name="shop"),
        [
            ToolInfo(
                name="query_sales",
                description="Query sales rows. Filters by region and date.",
                input_schema={"type": "object", "properties": {"region": {"type": "string"}}},
            ),
            ToolInfo(name="get_customer", title="Customer sales profile", description="One customer."),
            ToolInfo(name="send_mail", description="Send an e-mail about sales figures."),
        ],
    )
    reg.register("files", ServerInfo(name="files"), [ToolInfo(name="read_file", description="Read a file.")])
    return reg


def test_name_matches_rank_above_title_and_description() -> None:
    hits = make_registry().search("sales", detail="name").hits
    assert [h.tool for h in hits] == ["query_sales", "get_customer", "send_mail"]
    assert all(h.summary is None and h.input_schema is None for h in hits)


def test_every_word_must_match() -> None:
    assert [h.tool for h in make_registry().search("sales region").hits] == ["query_sales"]
    assert make_registry().search("sales nonexistentword").hits == []


def test_summary_is_the_first_sentence_and_full_carries_schemas() -> None:
    reg = make_registry()
    summary = reg.search("query", detail="summary").hits[0]
    assert summary.summary == "Query sales rows."
    assert summary.input_schema is None
    full = reg.search("query", detail="full").hits[0]
    assert full.input_schema == {"type": "object", "properties": {"region": {"type": "string"}}}


def test_search_can_be_limited_to_servers() -> None:
    reg = make_registry()
    assert [h.server for h in reg.search("read", servers=["files"]).hits] == ["files"]
    with pytest.raises(ServerNotFound, match="has not been introspected"):
        reg.search("x", servers=["nope"])


def test_unknown_tool_lists_the_servers_tools() -> None:
    with pytest.raises(ToolNotFound, match="query_sales"):
        make_registry().tool("shop", "missing")


def test_summary_line_trims_long_text() -> None:
    assert summary_line("a" * 300).endswith("…")
    assert summary_line("First line\nsecond line") == "First line"


@pytest.mark.slow
def test_search_over_the_real_demo_server() -> None:
    with Session() as session:
        results = session.search("customer", servers=["demo"])
        names = [h.tool for h in results.hits]
        assert "get_customer" in names and "top_customers" in names
        assert all(h.summary for h in results.hits)


def test_signature_detail_gives_the_index_line_of_each_hit() -> None:
    from mcp_kernel.codegen import generate, index_lines

    reg = make_registry()
    hits = reg.search("sales", detail="signature").hits
    lines = index_lines("shop", reg.tools("shop"))
    assert [h.signature for h in hits] == [lines[h.tool] for h in hits]
    assert (
        hits[0].signature == 'def query_sales(*, region: str | None = None) -> Any: """Query sales rows."""'
    )
    assert all(h.summary is None and h.input_schema is None for h in hits)
    index = generate(reg.info("shop"), reg.tools("shop"), server_name="shop")["servers/shop/__init__.pyi"]
    assert all(h.signature in index.splitlines() for h in hits)
    full = reg.search("query", detail="full").hits[0]
    assert full.signature == lines["query_sales"] and full.summary and full.input_schema


@pytest.mark.slow
def test_signature_detail_over_the_real_demo_server_prints_one_line_per_tool() -> None:
    from mcp_kernel.display import to_text

    with Session() as session:
        results = session.search("sales", detail="signature", servers=["demo"])
        text = to_text(results).splitlines()
        assert text[0] == f"{results.total} tool(s) match 'sales'" and text[1] == "servers.demo:"
        assert text[2:] == [h.signature for h in results.hits]
        assert any(line.startswith("def query_sales(*, region: Region | None = None,") for line in text)
