"""MCP Apps views in a real JupyterLab (#30's done-when) and Notebook 7, driven in Debian's headless Chromium.

One `jupyter lab` for the file (``window.jupyterapp`` exposed, so the test runs JupyterLab's own commands:
run a cell, clear an output, change the theme, as its menus do). Each view is an out-of-process sandboxed
iframe, attached as a target of its own (tests/chromium.py), whose DOM is read there:

- tutorial 7 runs; the dashboard draws its SVG bars (screenshots under the test's temp dir); its region
  control calls aggregate_sales through the kernel and redraws with the demo server's EU figures; the dark
  theme reaches the view; the tutorial's refusals show under the view; ``close()`` and clearing an output
  tear a view down, in the page and in the kernel (its AppHost refuses, its widget is closed); opened before
  it runs, the saved tutorial (untrusted) shows the static fallback;
- a hostile view (tests/servers/hostile_view.py) is refused each attempt, visibly, and the kernel goes on;
- the view of a server that is not ours, @modelcontextprotocol/server-basic-vanillajs, renders and its
  "get time" button round-trips through the kernel.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from chromium import CHROMIUM, NO_CHROMIUM, Browser, get, lab_server, wait_for
from realservers import ROOT, SERVERS, node_bin

from mcp_kernel.config import demo_spec
from mcp_kernel.session import Session

TUTORIAL = "07-mcp-apps.ipynb"
BASIC = ROOT / "node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

# The test's own cell after the tutorial's: each view the kernel displayed, by execution count.
CHECK = """import json
from mcp_kernel.apps import AppView
ask = {"id": 0, "method": "tools/call", "params": {"name": "list_regions"}}
print(json.dumps({n: {"closed": v.host.closed, "widget closed": v.comm is None,
                      "refused": v.host.reply(ask).get("error", {}).get("message")}
                  for n, v in Out.items() if isinstance(v, AppView)}))"""

# In the page: JupyterLab's commands on the open notebook, and what its outputs show.
HELPER = """window.t = {
  panel: () => jupyterapp.shell.currentWidget,
  cell: (i) => t.panel().content.widgets[i],
  ready: () => { const k = t.panel()?.sessionContext?.session?.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; },
  select: (i) => { const n = t.panel().content; n.activeCellIndex = i; n.deselectAll(); },
  run: async (i) => { t.select(i); await jupyterapp.commands.execute('notebook:run-cell');
    return t.cell(i).model.executionCount; },
  clear: async (i) => { t.select(i); await jupyterapp.commands.execute('notebook:clear-cell-output'); },
  text: (i) => t.cell(i).node.querySelector('.jp-OutputArea')?.innerText || '',
  views: (i) => [...t.cell(i).node.querySelectorAll('.jp-OutputArea-output')]
    .filter((o) => o.querySelector('iframe.mcp-app-view'))
    .map((o) => { const f = o.querySelector('iframe.mcp-app-view');
      return {sandbox: f.getAttribute('sandbox'), csp: f.getAttribute('csp'), state: f.parentElement.dataset.state,
              notes: o.querySelector('.mcp-app-notes')?.innerText || '',
              overflow: o.scrollWidth - o.clientWidth}; }),
  rect: (i) => { const f = t.cell(i).node.querySelector('iframe.mcp-app-view'); f.scrollIntoView({block: 'start'});
    const r = f.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; },
};"""

# In a view's frame: what it shows.
PROBE = """(() => {
  const d = document, id = (name) => d.getElementById(name);
  if (id('chart')) return {kind: 'dashboard', title: id('title').textContent,
    bars: [...d.querySelectorAll('#chart svg g.bar')].map((g) => [g.dataset.key, g.querySelector('.value').textContent]),
    theme: d.documentElement.dataset.theme || null, background: getComputedStyle(d.body).backgroundColor,
    disabled: id('region').disabled, status: id('status').hidden ? '' : id('status').textContent};
  if (id('report')) return {kind: 'hostile', done: d.body.dataset.done === 'true',
    report: Object.fromEntries([...d.querySelectorAll('#report li')].map((li) =>
      [li.dataset.attempt, {outcome: li.dataset.outcome, text: li.textContent}]))};
  if (id('get-time-btn')) return {kind: 'basic', time: id('server-time').textContent};
  return null;
})()"""


def put(lab: tuple[str, str], name: str, sources: list[str]) -> None:
    """Save a notebook of these code cells on the server (the contents API, as JupyterLab saves)."""
    url, token = lab
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "mcp", "display_name": "MCP (Python)", "language": "python"}
    request = urllib.request.Request(
        f"{url}/api/contents/{name}?token={token}",
        method="PUT",
        data=json.dumps({"type": "notebook", "content": nb}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`jupyter lab` on a copy of tutorial 7 (the test's check cell after it) and the test's notebooks."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    root.mkdir()
    tutorial = nbformat.read(ROOT / "notebooks" / TUTORIAL, as_version=4)
    tutorial.cells.append(nbformat.v4.new_code_cell(CHECK))
    nbformat.write(tutorial, root / TUTORIAL)
    with lab_server(base, root, "--LabApp.expose_app_in_browser=True") as served:
        yield served


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`jupyter notebook` (Notebook 7) on an empty directory."""
    base = tmp_path_factory.mktemp("notebook7")
    (base / "notebooks").mkdir()
    options = ("--JupyterNotebookApp.expose_app_in_browser=True",)
    with lab_server(base, base / "notebooks", *options, app="notebook") as served:
        yield served


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    yield from opened_browser(tmp_path_factory)


@pytest.fixture()
def own_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A browser of the test's own: leaving a page where JupyterLab has unsaved changes waits on its prompt."""
    yield from opened_browser(tmp_path_factory)


def opened_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    browser = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        browser.send("Page.enable")
        browser.send(
            "Emulation.setFocusEmulationEnabled", enabled=True
        )  # JupyterLab's current widget follows focus
        browser.attach_frames()
        yield browser
    finally:
        browser.close()


class Notebook:
    """One notebook open in JupyterLab, its cells run by JupyterLab's commands, its views' frames read."""

    def __init__(self, browser: Browser, lab: tuple[str, str], name: str, page: str = "lab/tree") -> None:
        self.browser, (self.url, self.token) = browser, lab
        browser.send("Page.navigate", url=f"{self.url}/{page}/{name}?token={self.token}&reset")
        wait_for(
            "JupyterLab to open the notebook",
            lambda: browser.evaluate("!!window.jupyterapp?.shell?.currentWidget?.content?.widgets?.length"),
            120,
        )
        browser.evaluate(HELPER)
        wait_for("the kernel to be ready", lambda: browser.evaluate("t.ready()"), 120)

    def run(self, index: int) -> int:
        """Run one cell; its execution count. A kernel that says idle before its connection is ready can
        drop the first request: a cell that got no count is run again, as a person would."""
        for _ in range(3):
            count = self.browser.evaluate(f"t.run({index})")
            if count is not None:
                return int(count)
        pytest.fail(f"cell {index} did not run after three tries")

    def text(self, index: int) -> str:
        return str(self.browser.evaluate(f"t.text({index})"))

    def views(self, index: int) -> list[dict[str, Any]]:
        return list(self.browser.evaluate(f"t.views({index})"))

    def frames(self) -> dict[str, dict[str, Any]]:
        """What each view's frame shows, by its session (frames still loading or gone are left out)."""
        seen = {}
        for session in self.browser.frames():
            reply = self.browser.request(
                "Runtime.evaluate", session, expression=PROBE, returnByValue=True, awaitPromise=True
            )
            value = reply.get("result", {}).get("result", {}).get("value")
            if value:
                seen[session] = value
        return seen

    def frame(self, what: str, check: Any, deadline_s: float = 60) -> tuple[str, dict[str, Any]]:
        """The first frame whose view passes ``check``: ``(session, what it shows)``."""

        def found() -> tuple[str, dict[str, Any]] | None:
            return next(((s, v) for s, v in self.frames().items() if check(v)), None)

        return wait_for(what, found, deadline_s)

    def shoot(self, path: Path, index: int | None = None) -> Path:
        """A screenshot of the page, or of the first view of cell ``index``; its path is printed."""
        clip = self.browser.evaluate(f"t.rect({index})") if index is not None else None
        self.browser.screenshot(path, clip)
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        """Shut the notebook's kernel down (the next notebook gets its own)."""
        for session in get(f"{self.url}/api/sessions?token={self.token}") or []:
            request = urllib.request.Request(
                f"{self.url}/api/sessions/{session['id']}?token={self.token}", method="DELETE"
            )
            urllib.request.urlopen(request, timeout=30).close()


def code_cells(name: str, lab: tuple[str, str]) -> list[tuple[int, str]]:
    url, token = lab
    cells = get(f"{url}/api/contents/{name}?token={token}")["content"]["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"]


def euros(value: float) -> str:
    """The digits of the dashboard's label of ``value`` (whole euros, rounded half up)."""
    return str(int(value + 0.5))


def test_the_tutorial_runs_and_its_dashboard_lives_in_jupyterlab(
    lab: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    with Session() as session:  # what the demo server answers, to compare with what the view draws
        session.add_server(demo_spec())
        eu = session.call("demo", "aggregate_sales", {"group_by": "month", "metric": "sum", "region": "EU"})
    eu_labels = [(g["key"], euros(g["value"])) for g in eu.structured["groups"]]
    cells = code_cells(TUTORIAL, lab)
    at = {source.split("\n")[0]: index for index, source in cells}
    app = at['dashboard = %mcp app demo aggregate_sales \'{"group_by": "month"}\'']
    call = next(i for s, i in at.items() if s.startswith("%mcp call demo aggregate_sales"))
    close = next(i for i, s in cells if s.startswith("dashboard.close()"))
    check = cells[-1][0]

    nb = Notebook(browser, lab, TUTORIAL)
    try:
        # Saved and reopened untrusted (before anything runs): the result and the fallback, no view.
        reopened = nb.text(app)
        assert (
            "The view of demo.aggregate_sales (ui://demo/dashboard.html) needs a running kernel." in reopened
        )
        assert "2025-01" in reopened and nb.views(app) == []

        for index, _ in cells:
            if index > call:
                break
            nb.run(index)
        assert "view" in nb.text(cells[0][0]), "introspect marks aggregate_sales"
        # the dashboard draws its bars in its iframe, one a month; the %mcp call view, one a region
        month_session, month = nb.frame(
            "the dashboard's bars",
            lambda v: v["kind"] == "dashboard" and v["title"] == "Revenue by month" and len(v["bars"]) == 12,
        )
        _, by_region = nb.frame(
            "the %mcp call view's bars",
            lambda v: v["kind"] == "dashboard" and v["title"] == "Orders by region",
        )
        assert [key for key, _ in by_region["bars"]] == ["APAC", "EU", "LATAM", "MEA", "NA"]
        [shown] = nb.views(app)
        assert shown["sandbox"] == "allow-scripts" and "connect-src 'none'" in shown["csp"]
        assert shown["state"] == "initialized" and shown["overflow"] <= 0, shown
        nb.shoot(tmp_path / "dashboard.png", app)
        nb.shoot(tmp_path / "tutorial.png")

        # the region control calls aggregate_sales through the kernel (the frame has no network and no MCP
        # client): the view redraws with the demo server's EU figures
        wait_for("the control enabled", lambda: not nb.frames()[month_session]["disabled"], 30)
        browser.evaluate(
            "(() => { const s = document.getElementById('region'); s.value = 'EU';"
            " s.dispatchEvent(new Event('change')); })()",
            month_session,
        )
        redrawn = wait_for(
            "the EU bars",
            lambda: (v := nb.frames().get(month_session)) and v["title"] == "Revenue by month in EU" and v,
            30,
        )
        assert [(key, re.sub(r"\D", "", label)) for key, label in redrawn["bars"]] == eu_labels
        assert redrawn["bars"] != month["bars"] and not redrawn["disabled"]
        nb.shoot(tmp_path / "dashboard-eu.png", app)

        # JupyterLab's dark theme reaches the view: its document is dark, its background the notebook's
        assert month["theme"] == "light"
        browser.evaluate("jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        wait_for(
            "JupyterLab's dark theme",
            lambda: browser.evaluate("document.body.dataset.jpThemeLight") == "false",
        )
        dark = browser.evaluate(
            "(() => { const probe = document.createElement('div'); document.body.append(probe);"
            " probe.style.background = getComputedStyle(document.body).getPropertyValue('--jp-layout-color0');"
            " const rgb = getComputedStyle(probe).backgroundColor; probe.remove(); return rgb; })()"
        )
        themed = wait_for(
            "the view's dark theme",
            lambda: (
                (v := nb.frames().get(month_session))
                and v["theme"] == "dark"
                and v["background"] == dark
                and v
            ),
            30,
        )
        assert themed["background"] != month["background"], (dark, month["background"])
        nb.shoot(tmp_path / "dashboard-dark.png", app)
        browser.evaluate("jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        wait_for("the view's light theme again", lambda: nb.frames()[month_session]["theme"] == "light", 30)

        # a moved cell (up, then back down): JupyterLab draws its output anew and removes the old one; the
        # view starts again in the new output, the old one's teardown leaves the widget open, and the moved
        # view's calls still go through (the region control of the %mcp call view)
        def pick(session: str, region: str) -> None:
            browser.evaluate(
                f"(() => {{ const s = document.getElementById('region'); s.value = '{region}';"
                " s.dispatchEvent(new Event('change')); })()",
                session,
            )

        for command in ("notebook:move-cell-up", "notebook:move-cell-down"):
            browser.evaluate(
                f"window.moving = t.cell({call}).node.querySelector('.mcp-app-view').parentElement"
            )
            browser.evaluate(
                f"(async () => {{ t.select({call}); await jupyterapp.commands.execute('{command}'); }})()"
            )
            call = int(browser.evaluate("t.panel().content.activeCellIndex"))
            wait_for(
                "the old output's teardown",
                lambda: browser.evaluate("window.moving.dataset.state") == "closed",
                30,
            )
            wait_for(
                "the moved view to start again",
                lambda index=call: [v["state"] for v in nb.views(index)] == ["initialized"],
                30,
            )
        assert call == next(i for s, i in at.items() if s.startswith("%mcp call demo aggregate_sales"))
        moved, _ = nb.frame(
            "the moved view",
            lambda v: v["kind"] == "dashboard" and v["title"] == "Orders by region" and not v["disabled"],
        )
        pick(moved, "NA")
        nb.frame(
            "the moved view's NA bars",
            lambda v: v["kind"] == "dashboard" and v["title"] == "Orders by region in NA",
        )

        # the tutorial's refusals (its requests of the view's host) show under the view
        for index, _ in cells:
            if call < index < close:
                nb.run(index)
        notes = wait_for("the notes under the view", lambda: "more than 10" in nb.views(app)[0]["notes"], 30)
        notes = nb.views(app)[0]["notes"]
        assert "refused: tools/call: Server 'demo' has no tool 'read_file'" in notes
        assert "refused: ui/open-link: only http(s) links are opened" in notes

        # closed from code: the view is torn down in the page, its host refuses
        nb.run(close)
        assert "was closed; run its cell again" in nb.text(close)
        wait_for("the closed view's iframe to go", lambda: nb.views(app) == [], 30)
        wait_for("the closed view's frame to go", lambda: month_session not in browser.frames(), 30)

        # clearing an output tears its view down: in the page (the view's element says closed, its frame is
        # gone) and in the kernel (its host refuses, its widget is closed)
        call_session = next(s for s, v in nb.frames().items() if v.get("title") == "Orders by region in NA")
        browser.evaluate(
            f"window.kept = t.cell({call}).node.querySelector('iframe.mcp-app-view').parentElement"
        )
        call_count = int(browser.evaluate(f"t.cell({call}).model.executionCount"))
        browser.evaluate(f"t.clear({call})")
        wait_for(
            "the cleared view's teardown",
            lambda: browser.evaluate(
                "window.kept.dataset.state === 'closed' && !window.kept.querySelector('iframe')"
            ),
            30,
        )
        wait_for("the cleared view's frame to go", lambda: call_session not in browser.frames(), 30)

        def kernel_sees() -> dict[str, Any] | None:
            nb.run(check)
            seen: dict[str, Any] = json.loads(nb.text(check))
            return seen if seen.get(str(call_count), {}).get("closed") else None

        seen = wait_for("the kernel to close the cleared view", kernel_sees, 30)
        for view in seen.values():
            assert view["closed"] and view["widget closed"], seen
            assert "was closed; run its cell again" in view["refused"]
        assert len(seen) == 2, seen
    finally:
        nb.shoot(tmp_path / "last.png")
        nb.close()


def test_a_hostile_view_is_refused_each_time_and_the_kernel_goes_on(
    lab: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    url, token = lab
    target = f"{url}/api/contents?token={token}"  # the Jupyter server's API, its token included
    put(
        lab,
        "hostile.ipynb",
        [
            f"%mcp add hostile -- {sys.executable} {SERVERS / 'hostile_view.py'}",
            f"%mcp app hostile attack '{json.dumps({'target': target})}'",
            "%mcp call hostile pings",
        ],
    )
    nb = Notebook(browser, lab, "hostile.ipynb")
    try:
        nb.run(0)
        nb.run(1)
        _, view = nb.frame("the hostile view's report", lambda v: v["kind"] == "hostile" and v["done"])
        report = view["report"]
        nb.shoot(tmp_path / "hostile.png", 1)
        # every attempt refused, and the view itself saw why
        assert {name: line["outcome"] for name, line in report.items()} == {
            "fetch": "refused",
            "parent.document": "refused",
            "another server's tool": "refused",
            "a tool not visible to apps": "refused",
            "flood": "refused",
        }, report
        assert "TypeError: Failed to fetch" in report["fetch"]["text"]  # the CSP: connect-src 'none'
        assert "SecurityError" in report["parent.document"]["text"]  # an opaque origin
        assert "has no tool 'query_sales'" in report["another server's tool"]["text"]
        assert "is not visible to apps" in report["a tool not visible to apps"]["text"]
        flood = re.match(r"flood: refused: (\d+) answered, (\d+) refused: (.+)", report["flood"]["text"])
        assert flood is not None, report["flood"]
        answered, refused = int(flood[1]), int(flood[2])
        assert answered + refused == 30 and answered <= 10 and "more than 10 requests" in flood[3]
        # each refusal of the host shows under the view too
        notes = wait_for("the notes under the view", lambda: "more than 10" in nb.views(1)[0]["notes"], 30)
        notes = nb.views(1)[0]["notes"]
        lines = notes.splitlines()
        for refusal in ("has no tool 'query_sales'", "is not visible to apps", "more than 10 requests"):
            assert any(line.startswith("refused: tools/call: ") and refusal in line for line in lines), notes
        # the kernel goes on: the next cell runs, and only the pings the host let through reached the server
        nb.run(2)
        assert f'"pings": {answered}\n' in nb.text(2), nb.text(2)
    finally:
        nb.shoot(tmp_path / "last.png")
        nb.close()


@pytest.mark.npm
def test_a_view_from_a_server_that_is_not_ours_renders_and_calls_through_the_kernel(
    lab: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    if not BASIC.is_file():
        pytest.fail(
            f"{BASIC.relative_to(ROOT)} is not installed: run `npm ci` in {ROOT} (the README's test command does)."
        )
    put(
        lab,
        "basic.ipynb",
        [f"%mcp add basic -- {node_bin('node')} {BASIC} --stdio", "%mcp app basic get-time"],
    )
    nb = Notebook(browser, lab, "basic.ipynb")
    try:
        nb.run(0)
        nb.run(1)
        session, view = nb.frame(
            "the basic view's time", lambda v: v["kind"] == "basic" and v["time"][:2] == "20"
        )
        first = datetime.fromisoformat(view["time"])
        assert view["time"] in nb.text(1), "the view shows the call's result"
        nb.shoot(tmp_path / "basic.png", 1)

        # a real click on the button, at its place on the page (clicked again if nothing happened, as a
        # person would: a click on a frame that was just laid out can miss it, once in a few runs)
        def click() -> None:
            frame = nb.browser.evaluate("t.rect(1)")
            button = browser.evaluate(
                "(() => { const r = document.getElementById('get-time-btn').getBoundingClientRect();"
                " return [r.x + r.width / 2, r.y + r.height / 2]; })()",
                session,
            )
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                browser.send(
                    "Input.dispatchMouseEvent",
                    type=kind,
                    x=frame["x"] + button[0],
                    y=frame["y"] + button[1],
                    button="left",
                    clickCount=1,
                )

        def answered() -> str | None:
            for _ in range(3):
                click()
                end = time.monotonic() + 10
                while time.monotonic() < end:
                    shown = nb.frames().get(session, {}).get("time")
                    if shown and shown != view["time"]:
                        return str(shown)
                    time.sleep(0.3)
            return None

        later = answered()
        assert later is not None, "three clicks on 'Get Server Time' changed nothing"
        assert datetime.fromisoformat(later) > first
        nb.shoot(tmp_path / "basic-clicked.png", 1)
    finally:
        nb.shoot(tmp_path / "last.png")
        nb.close()


def test_the_dashboard_lives_in_notebook_7_too(
    notebook7: tuple[str, str], own_browser: Browser, tmp_path: Path
) -> None:
    browser = own_browser
    # Notebook 7 is built on JupyterLab's application and renders the same widget: the view draws, and its
    # control calls aggregate_sales through the kernel.
    put(notebook7, "nb7.ipynb", ['%mcp app demo aggregate_sales \'{"group_by": "region"}\''])
    nb = Notebook(browser, notebook7, "nb7.ipynb", page="notebooks")
    try:
        assert browser.evaluate("jupyterapp.name") == "Jupyter Notebook"
        nb.run(0)
        session, view = nb.frame(
            "the dashboard's bars", lambda v: v["kind"] == "dashboard" and len(v["bars"]) == 5
        )
        assert view["title"] == "Revenue by region", view
        [shown] = nb.views(0)
        assert shown["sandbox"] == "allow-scripts" and shown["state"] == "initialized", shown
        assert shown["overflow"] <= 0, shown  # the bordered frame fits its output: no scrollbar under it
        nb.shoot(tmp_path / "notebook7.png", 0)
        wait_for("the control enabled", lambda: not nb.frames()[session]["disabled"], 30)
        browser.evaluate(
            "(() => { const s = document.getElementById('region'); s.value = 'EU';"
            " s.dispatchEvent(new Event('change')); })()",
            session,
        )
        wait_for(
            "the EU bars", lambda: nb.frames().get(session, {}).get("title") == "Revenue by region in EU", 30
        )
    finally:
        nb.shoot(tmp_path / "last.png")
        nb.close()
