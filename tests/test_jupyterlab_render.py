"""A shipped tutorial, opened untrusted in a real JupyterLab, keeps its look: badges and tables are styled;
and a cell that prints a flood leaves the page usable.

JupyterLab sanitizes the HTML outputs of an untrusted notebook (any notebook someone else saved, the
tutorials included): it removes <style> and <svg> and keeps only the inline declarations it recognises.
This test starts `jupyter lab` on 127.0.0.1 with a token and a fresh notary (so nothing is trusted), opens
tutorial 01 in Debian's headless Chromium, driven over Chromium's remote-debugging protocol, and checks the
DOM: the output badges and table cells keep their inline styles and computed layout.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, NO_CHROMIUM, Browser, get, lab_server, wait_for

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01-getting-started.ipynb"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`jupyter lab` serving a copy of the tutorial, with empty Jupyter dirs: no notebook is trusted."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    with lab_server(base, root) as served:
        yield served


# Runs in the page: what the sanitized outputs look like once rendered.
INSPECT = """(() => {
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
  const within = (sel) => outputs.flatMap(o => [...o.querySelectorAll(sel)]);
  const look = (el) => { const s = getComputedStyle(el);
    return {style: el.getAttribute('style') || '', display: s.display, border: s.borderTopStyle,
            radius: s.borderTopLeftRadius, align: s.textAlign, padding: s.paddingRight,
            underline: s.borderBottomStyle, whiteSpace: s.whiteSpace}; };
  return {
    outputs: outputs.length,
    styleElements: within('style').length,
    svgElements: within('svg').length,
    badges: within('span').filter(el => el.textContent.trim() === 'read-only').map(look),
    cells: within('table td').slice(0, 40).map(look),
    pres: within('pre').filter(el => el.getAttribute('style')).map(look),
  };
})()"""


def test_an_untrusted_tutorial_keeps_its_badges_and_tables(lab: tuple[str, str], tmp_path: Path) -> None:
    url, token = lab
    model = get(f"{url}/api/contents/{NOTEBOOK}?token={token}")
    code_cells = [c for c in model["content"]["cells"] if c["cell_type"] == "code"]
    assert code_cells and not any(c["metadata"].get("trusted") for c in code_cells), (
        "the notebook is untrusted"
    )
    browser = Browser(tmp_path / "profile")
    try:
        browser.send("Page.enable")
        browser.send("Page.navigate", url=f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset")
        wait_for(
            "the tutorial's outputs to render",
            lambda: (
                browser.evaluate("document.querySelectorAll('.jp-OutputArea-output table td').length") > 20
            ),
        )
        seen = browser.evaluate(INSPECT)
        browser.screenshot(tmp_path / "jupyterlab.png")
    finally:
        browser.close()
    assert seen["styleElements"] == 0 and seen["svgElements"] == 0
    assert seen["badges"], "the introspection table shows read-only badges"
    # sanitize-html re-serialises what it keeps ("text-align:left;..."): proof the untrusted path was taken.
    assert all(": " not in cell["style"] for cell in seen["cells"]), "outputs were rendered trusted"
    for badge in seen["badges"]:
        assert "border:1px solid" in badge["style"], (
            f"the sanitizer dropped the badge's inline style: {badge}"
        )
        assert (badge["display"], badge["border"], badge["radius"]) == ("inline-block", "solid", "8px"), badge
    assert len(seen["cells"]) > 20
    for cell in seen["cells"]:
        assert "text-align:left" in cell["style"], f"the sanitizer dropped a cell's inline style: {cell}"
        assert (cell["align"], cell["padding"], cell["underline"]) == ("left", "10px", "solid"), cell
    # text wraps; source files (bindings, SKILL.md's code) keep their lines and scroll sideways
    assert seen["pres"] and all(p["whiteSpace"] in ("pre-wrap", "pre") for p in seen["pres"])


FLOOD = "flood.ipynb"


def test_a_flood_of_prints_leaves_the_page_usable_and_says_why_on_top(
    lab: tuple[str, str], tmp_path: Path
) -> None:
    """A person runs a cell printing 100,000 lines, then another: the first ends at its output limit with the
    reason at the top of its output, the page answers and the second runs right after, all within 20 s."""
    url, token = lab
    cells = [
        nbformat_cell("%%mcp_execute\nfor i in range(100_000):\n    print('line', i)"),
        nbformat_cell(
            "%%mcp_execute\nprint('after the flood')\n"
            "[{'region': r, 'revenue': 1234567.5 / (i + 1)} for i, r in enumerate(['EU', 'NA', 'APAC'])]"
        ),
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "mcp", "display_name": "MCP (Python)", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    put = urllib.request.Request(
        f"{url}/api/contents/{FLOOD}?token={token}",
        method="PUT",
        data=json.dumps({"type": "notebook", "content": notebook}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(put, timeout=10).close()
    browser = Browser(tmp_path / "profile")
    try:
        browser.send("Page.enable")
        browser.send("Page.navigate", url=f"{url}/lab/tree/{FLOOD}?token={token}&reset")

        def shoot() -> None:  # what a person saw, kept on failure too
            browser.screenshot(tmp_path / "flood.png")

        wait_for(
            "the kernel to be ready",
            lambda: browser.evaluate(
                "document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle' "
                '|| !!document.querySelector(\'.jp-Toolbar-kernelStatus[title*="Idle"], '
                '[data-status="idle"]\')'
            ),
            deadline_s=120,
        )

        def click(cell: int) -> None:
            box = browser.evaluate(
                f"(() => {{ const el = [...document.querySelectorAll('.jp-Cell .cm-content')]"
                f"[{cell}]; el.scrollIntoView({{block: 'center'}}); "
                "const r = el.getBoundingClientRect(); return [r.x + 5, r.y + 5]; })()"
            )
            for kind in ("mousePressed", "mouseReleased"):
                browser.send(
                    "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
                )

        def shift_enter() -> None:
            for kind in ("rawKeyDown", "keyUp"):
                browser.send(
                    "Input.dispatchKeyEvent",
                    type=kind,
                    key="Enter",
                    code="Enter",
                    windowsVirtualKeyCode=13,
                    modifiers=8,
                )

        def prompt(cell: int) -> str:
            return browser.evaluate(
                f"[...document.querySelectorAll('.jp-Cell')][{cell}]"
                ".querySelector('.jp-InputPrompt').innerText"
            )

        def run(cell: int) -> None:
            """Click the cell and press Shift+Enter, as a person would again if nothing happened (a kernel
            that says idle before its connection is ready can drop the first request)."""
            for _ in range(3):
                click(cell)
                shift_enter()
                end = time.monotonic() + 10
                while time.monotonic() < end:
                    if re.search(r"\[(\*|\d+)\]", prompt(cell)):
                        return
                    time.sleep(0.2)
            pytest.fail(f"cell {cell} did not start after three tries")

        run(0)  # the flood
        # then the next cell (an error stops what was queued behind it, as in Jupyter): once the flood ended
        wait_for("the flood to end", lambda: re.search(r"\[\d+\]", prompt(0)), deadline_s=60)
        run(1)
        second = (
            "[...document.querySelectorAll('.jp-Cell')][1]?.querySelector('.jp-OutputArea')?.innerText || ''"
        )
        wait_for(
            "the cell after the flood to run",
            lambda: "after the flood" in (text := browser.evaluate(second)) and "rows" in text,
            deadline_s=60,
        )
        table = browser.evaluate("""(() => {
          const area = [...document.querySelectorAll('.jp-Cell')][1].querySelector('.jp-OutputArea');
          const cells = [...area.querySelectorAll('table td')];
          return {text: area.innerText, aligns: cells.map(td => [td.innerText, getComputedStyle(td).textAlign])};
        })()""")
        first = browser.evaluate("""(() => {
          const area = [...document.querySelectorAll('.jp-Cell')][0].querySelector('.jp-OutputArea');
          const outputs = [...area.querySelectorAll('.jp-OutputArea-output')];
          return {count: outputs.length, first: outputs[0]?.innerText || '', text: area.innerText.length};
        })()""")
    finally:
        with contextlib.suppress(Exception):
            shoot()
        browser.close()
    assert "stopped at its output limit" in first["first"], first
    assert first["count"] < 20 and first["text"] < 100_000, first
    # the next cell's value, three records, is a table: numbers formatted and right-aligned, text left
    assert "3 rows" in table["text"], table["text"]
    assert ["1,234,567.50", "right"] in table["aligns"] and ["EU", "left"] in table["aligns"], table["aligns"]


def nbformat_cell(source: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": secrets.token_hex(4),
        "metadata": {},
        "outputs": [],
        "source": source,
    }
