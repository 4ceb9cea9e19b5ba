"""Result objects render as text and as valid, self-contained, escaped HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from mcp_kernel.display import bundle, to_html, to_text
from mcp_kernel.models import (
    CallResult,
    Introspection,
    LogExcerpt,
    SearchHit,
    SearchResults,
    ServerEntry,
    ServerInfo,
    ServerList,
    ToolAnnotations,
    ToolInfo,
    ValidationReport,
    ValidationRow,
)

HOSTILE = '<script>alert("x")</script> & "quotes" </pre></details>'

VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source", "track", "embed"}


class StrictParser(HTMLParser):
    """Checks that tags nest and close properly and that no script or external resource appears."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "link", "img"}:
            self.problems.append(f"<{tag}> present")
        for name, value in attrs:
            if name.startswith("on") or (value and ("http://" in value or "https://" in value)):
                self.problems.append(f"{tag} {name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def check_html(html: str) -> None:
    parser = StrictParser()
    parser.feed(html)
    parser.close()
    assert not parser.problems, parser.problems
    assert not parser.stack, f"unclosed: {parser.stack}"


def hostile_tool() -> ToolInfo:
    return ToolInfo(name="evil<b>", title=HOSTILE, description=HOSTILE,
                    input_schema={"type": "object", "properties": {HOSTILE: {"type": "string", "description": HOSTILE}}},
                    output_schema={"type": "object", "description": HOSTILE},
                    annotations=ToolAnnotations(read_only=True, destructive=True))


OBJECTS = [
    Introspection(server_name=HOSTILE, server=ServerInfo(name=HOSTILE, instructions=HOSTILE), tools=[hostile_tool()]),
    ServerList(servers=[ServerEntry(name=HOSTILE, transport="stdio", target=HOSTILE, connected=True, source=HOSTILE)]),
    ValidationReport(rows=[ValidationRow(name=HOSTILE, ok=False, error=HOSTILE)]),
    SearchResults(query=HOSTILE, detail="full", total=1, hits=[SearchHit(server=HOSTILE, tool=HOSTILE, summary=HOSTILE,
                                                                        input_schema={"x": HOSTILE})]),
    CallResult(server=HOSTILE, tool=HOSTILE, structured={"v": HOSTILE}),
    CallResult(server="s", tool="t", text=HOSTILE, is_error=True),
    LogExcerpt(server=HOSTILE, path=HOSTILE, text=HOSTILE),
]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_html_is_valid_and_escapes_hostile_text(obj: object) -> None:
    html = to_html(obj)
    check_html(html)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_bundle_has_exactly_text_and_html(obj: object) -> None:
    data = bundle(obj)
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/plain"] == to_text(obj)


def test_introspection_html_shows_schemas_in_details_and_hints_as_badges() -> None:
    tool = ToolInfo(name="query_sales", description="Query sales. More text here.",
                    input_schema={"type": "object", "properties": {"region": {"type": "string"}}, "required": []},
                    output_schema={"type": "object"}, annotations=ToolAnnotations(read_only=True))
    html = to_html(Introspection(server_name="demo", server=ServerInfo(name="demo"), tools=[tool]))
    assert "<details>" in html and "read-only" in html and "region?" in html


def test_text_table_lists_tools() -> None:
    text = to_text(Introspection(server_name="demo", server=ServerInfo(name="demo", version="1"),
                                 tools=[ToolInfo(name="a", description="Does A.")]))
    assert "demo: demo 1" in text and "Does A." in text
