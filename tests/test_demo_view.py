"""The demo server's MCP App view (ui://demo/dashboard.html): how the server offers it, what the committed
file holds, that the pinned build reproduces it, and that it draws in a real browser.

The browser test puts the view in an iframe of a test harness page that speaks just enough of the host side
of the protocol (initialize, tool input and result, tools/call answered by the real demo server): it checks
the view, it is not a host (mcp_kernel/apps/ is).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from realservers import node_bin

from mcp_kernel.config import demo_spec
from mcp_kernel.demo.server import DASHBOARD_URI
from mcp_kernel.session import Session

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "mcp_kernel" / "demo"
HTML = (DEMO / "dashboard.html").read_text(encoding="utf-8")
APP_MIME = "text/html;profile=mcp-app"

# Every http(s) URL the file holds, and why none is a load. A new one (after an upgrade) fails the test
# until someone checks it and says here why it is not fetched.
NOT_LOADS = {
    r"http://www\.w3\.org/2000/svg": "the SVG namespace name main.js passes to createElementNS",
    r"https?://json-schema\.org/draft[-/0-9]+/schema#?": "JSON Schema dialect ids zod compares as strings",
    r"https://\*\.example\.com": "ext-apps' description of csp.resourceDomains (a schema's text)",
    r"https://github\.com/cfworker": "@cfworker/json-schema's base for resolving $refs (new URL, no fetch)",
    r"http://\[\$\{e\}\]": "zod's IPv6 check parses `http://[${address}]` with new URL",
}
URL = re.compile(r"https?://[^\s\"'`)\\<>]+")


class Tags(HTMLParser):
    """Every start tag with its attributes, and the open/close balance of the structural ones."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.depth: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.depth[tag] = self.depth.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        self.depth[tag] = self.depth.get(tag, 0) - 1


def test_the_view_is_one_html_document_that_loads_nothing_from_the_network() -> None:
    assert HTML.startswith("<!doctype html>\n")
    parser = Tags()
    parser.feed(HTML)
    parser.close()
    names = [tag for tag, _ in parser.tags]
    assert names[:3] == ["html", "head", "meta"] and names.count("script") == 1 and names.count("style") == 1
    assert all(parser.depth[t] == 0 for t in ("html", "head", "body", "script", "style", "select", "div"))
    loading = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background"}
    assert [(t, a) for t, a in parser.tags if loading & a.keys()] == []
    style = HTML[HTML.index("<style>") : HTML.index("</style>")]
    assert "url(" not in style and "@import" not in style
    found = set(URL.findall(HTML))
    unexplained = {u for u in found if not any(re.fullmatch(p, u) for p in NOT_LOADS)}
    assert unexplained == set(), "explain each new URL in NOT_LOADS, or keep it out of the bundle"
    assert "http://www.w3.org/2000/svg" in found, "the check sees the URLs the file holds"


def test_the_licence_notes_carry_ext_apps_licence_whole() -> None:
    notes = (DEMO / "LICENSE-dashboard.txt").read_text(encoding="utf-8")
    ext_apps = (ROOT / "node_modules/@modelcontextprotocol/ext-apps/LICENSE").read_text(encoding="utf-8")
    assert ext_apps.strip() in notes
    for bundled in ("@modelcontextprotocol/ext-apps 2.0.4", "zod ", "@modelcontextprotocol/client "):
        assert f"==== {bundled}" in notes


@pytest.mark.slow
def test_a_rebuild_produces_the_committed_bytes(tmp_path: Path) -> None:
    if not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.fail(f"esbuild is not installed: run `npm ci` in {ROOT} (the README's test command does).")
    build = subprocess.run(
        [node_bin("node"), str(ROOT / "js/dashboard/build.mjs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    for name in ("dashboard.html", "LICENSE-dashboard.txt"):
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), (
            f"{name} is not what `npm run build:dashboard` makes from js/dashboard/: rebuild and commit it"
        )


@pytest.mark.slow
def test_the_demo_offers_the_view_over_stdio() -> None:
    from mcp import Client, StdioServerParameters  # the SDK client: mcp_kernel's models keep no resource _meta

    async def main() -> None:
        params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_kernel.demo"], env=dict(os.environ))
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["aggregate_sales"].meta == {"ui": {"resourceUri": DASHBOARD_URI}}
            assert [n for n, t in tools.items() if t.meta] == ["aggregate_sales"]
            [listed] = [r for r in (await client.list_resources()).resources if str(r.uri) == DASHBOARD_URI]
            assert listed.mime_type == APP_MIME and listed.meta == {"ui": {"prefersBorder": True}}
            [content] = (await client.read_resource(DASHBOARD_URI)).contents
            assert content.mime_type == APP_MIME
            assert content.meta == {"ui": {"prefersBorder": True}}, "no csp: the view needs no network"
            assert content.text == HTML  # type: ignore[union-attr]

    asyncio.run(main())


@pytest.mark.slow
def test_the_session_sees_which_tool_has_the_view() -> None:
    with Session() as session:
        session.add_server(demo_spec())
        tools = {t.name: t for t in session.introspect("demo").tools}
    assert tools["aggregate_sales"].meta == {"ui": {"resourceUri": DASHBOARD_URI}}
    assert tools["query_sales"].meta is None
