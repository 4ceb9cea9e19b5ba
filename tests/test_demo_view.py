"""The demo server's MCP App view (ui://demo/dashboard.html): how the server offers it, what the committed
file holds, that the pinned build reproduces it, and that it draws in a real browser.

The browser test puts the view in an iframe of a test harness page that speaks just enough of the host side
of the protocol (initialize, tool input and result, tools/call answered by the real demo server): it checks
the view, it is not a host (mcp_kernel/apps/ is).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, Browser, wait_for
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
    from mcp import (
        Client,
        StdioServerParameters,
    )  # the SDK client: mcp_kernel's models keep no resource _meta

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_kernel.demo"], env=dict(os.environ)
        )
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["aggregate_sales"].meta == {"ui": {"resourceUri": DASHBOARD_URI}}
            assert [n for n, t in tools.items() if t.meta] == ["aggregate_sales"]
            [listed] = [r for r in (await client.list_resources()).resources if str(r.uri) == DASHBOARD_URI]
            assert listed.mime_type == APP_MIME and listed.meta == {"ui": {"prefersBorder": True}}
            [content] = (await client.read_resource(DASHBOARD_URI)).contents
            assert content.mime_type == APP_MIME
            assert content.meta == {"ui": {"prefersBorder": True}}, "no csp: the view needs no network"
            assert content.text == HTML

    asyncio.run(main())


@pytest.mark.slow
def test_the_session_sees_which_tool_has_the_view() -> None:
    with Session() as session:
        session.add_server(demo_spec())
        tools = {t.name: t for t in session.introspect("demo").tools}
    assert tools["aggregate_sales"].meta == {"ui": {"resourceUri": DASHBOARD_URI}}
    assert tools["query_sales"].meta is None


# The harness page: an iframe for the view and just enough of the host side to feed it. allow-same-origin
# only so that the test can read the view's DOM; the real host's iframe is opaque (mcp_kernel/apps/).
HARNESS = """<!doctype html><meta charset="utf-8"><title>test harness for the dashboard view (not a host)</title>
<body><script>
const seen = {calls: [], sizes: [], pending: []};
let frame;
window.addEventListener("message", (event) => {
  if (!frame || event.source !== frame.contentWindow) return;
  const msg = event.data;
  const post = (m) => frame.contentWindow.postMessage({jsonrpc: "2.0", ...m}, "*");
  if (msg.method === "ui/initialize") {
    post({id: msg.id, result: {protocolVersion: msg.params.protocolVersion, hostInfo: {name: "harness",
      version: "0"}, hostCapabilities: {serverTools: {}}, hostContext: frame.context}});
  } else if (msg.method === "ui/notifications/initialized") {
    if (frame.input) post({method: "ui/notifications/tool-input", params: {arguments: frame.input}});
    if (frame.result) post({method: "ui/notifications/tool-result", params: frame.result});
  } else if (msg.method === "tools/call") {
    seen.calls.push(msg.params);
    seen.pending.push(msg.id);
  } else if (msg.method === "ui/notifications/size-changed") {
    seen.sizes.push(msg.params);
  }
});
function start(html, context, input, result) {
  if (frame) frame.remove();
  seen.calls = []; seen.sizes = []; seen.pending = [];
  frame = document.createElement("iframe");
  Object.assign(frame, {context, input, result});
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin");
  frame.style.cssText = "width: 600px; height: 500px";
  frame.srcdoc = html;
  document.body.append(frame);
}
function answer(result) {
  frame.contentWindow.postMessage({jsonrpc: "2.0", id: seen.pending.shift(), result}, "*");
}
function pick(region) {
  const select = frame.contentDocument.getElementById("region");
  select.value = region;
  select.dispatchEvent(new Event("change"));
}
function view() {
  const d = frame.contentDocument;
  if (!d || !d.getElementById("status")) return null;
  const status = d.getElementById("status");
  return {
    bars: [...d.querySelectorAll("#chart svg .bar")].map((g) => g.dataset.key),
    status: status.hidden ? "" : status.textContent,
    title: d.getElementById("title").textContent,
    theme: d.documentElement.dataset.theme || null,
    background: getComputedStyle(d.body).backgroundColor,
    region: d.getElementById("region").value,
    disabled: d.getElementById("region").disabled,
    calls: seen.calls, sizes: seen.sizes.length, pending: seen.pending.length,
  };
}
</script></body>"""


def wire(result: Any) -> dict[str, Any]:
    """A CallResult as the host sends it to a view (MCP's CallToolResult)."""
    out = {"content": result.content, "isError": result.is_error}
    if result.structured is not None:
        out["structuredContent"] = result.structured
    return out


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (`apt-get install chromium`; .ci/run does)"
)
def test_the_view_draws_the_result_and_redraws_from_a_call_through_the_host(tmp_path: Path) -> None:
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS)
    browser = Browser(tmp_path / "profile")
    try:
        with Session() as session:
            session.add_server(demo_spec())
            by_month = {"group_by": "month"}
            first = wire(session.call("demo", "aggregate_sales", by_month))
            failed = wire(session.call("demo", "aggregate_sales", {"group_by": "planet"}))
            browser.send("Page.navigate", url=harness.as_uri())
            wait_for("the harness page", lambda: browser.evaluate("typeof start === 'function'"), 30)

            def start(context: dict[str, Any], tool_input: Any, result: Any) -> None:
                args = ", ".join(json.dumps(v) for v in (HTML, context, tool_input, result))
                browser.evaluate(f"start({args})")

            def shoot(name: str) -> None:  # what the view looked like, kept under the test's temp dir
                clip = {"x": 0, "y": 0, "width": 640, "height": 540, "scale": 1}
                png = browser.send("Page.captureScreenshot", clip=clip)["data"]
                (tmp_path / f"{name}.png").write_bytes(base64.b64decode(png))

            def view(what: str, check: Any) -> dict[str, Any]:
                return wait_for(what, lambda: (v := browser.evaluate("view()")) and check(v) and v, 30)

            # the call's result arrives: one bar a month, colours from the host's dark theme
            start({"theme": "dark"}, by_month, first)
            drawn = view("the bars", lambda v: v["bars"])
            assert drawn["bars"] == [g["key"] for g in first["structuredContent"]["groups"]]
            assert len(drawn["bars"]) == 12 and drawn["status"] == "" and drawn["region"] == "all"
            assert drawn["theme"] == "dark" and drawn["background"] == "rgb(30, 30, 30)"
            assert drawn["sizes"] > 0, "the view reports its size to the host"
            shoot("dark")

            # the region control calls aggregate_sales through the host; the real server answers
            view("the control enabled", lambda v: not v["disabled"])
            browser.evaluate("pick('EU')")
            asked = view("the view's tools/call", lambda v: v["pending"])
            [call] = asked["calls"]
            assert call["name"] == "aggregate_sales"
            assert call["arguments"] == {"group_by": "month", "metric": "sum", "region": "EU"}
            assert asked["status"].startswith("Loading EU") and asked["disabled"]
            eu = wire(session.call("demo", call["name"], call["arguments"]))
            browser.evaluate(f"answer({json.dumps(eu)})")
            redrawn = view("the EU bars", lambda v: "in EU" in v["title"])
            assert redrawn["bars"] == [g["key"] for g in eu["structuredContent"]["groups"]]
            assert not redrawn["disabled"] and redrawn["status"] == ""
            shoot("eu")

            # host style variables win over the theme's own colours
            start(
                {"theme": "light", "styles": {"variables": {"--color-background-primary": "rgb(1, 2, 3)"}}},
                by_month,
                first,
            )
            styled = view("the bars", lambda v: v["bars"])
            assert styled["theme"] == "light" and styled["background"] == "rgb(1, 2, 3)"

            # an error result shows its message and no chart
            start({"theme": "light"}, {"group_by": "planet"}, failed)
            error = view("the error", lambda v: "failed" in v["status"])
            assert "Input should be 'region'" in error["status"] and error["bars"] == []
            shoot("error")

            # no result ever comes: the view says it is waiting
            start({"theme": "light"}, by_month, None)
            waiting = view("the view up", lambda v: not v["disabled"])
            assert waiting["status"] == "Waiting for the tool's result…" and waiting["bars"] == []
            shoot("waiting")
    finally:
        browser.close()
