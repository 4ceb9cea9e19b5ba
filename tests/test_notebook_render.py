"""The executed tutorials render in a real browser with their rich outputs (tables, trees, charts).

Each notebook is exported to HTML with nbconvert and loaded in headless Chromium (Debian's `chromium`,
installed by .ci/run); the rendered DOM is checked and a screenshot is saved under the test's temp dir.
nbconvert trusts the outputs; how an untrusted notebook looks in JupyterLab itself is checked in
tests/test_jupyterlab_render.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What each tutorial must show once rendered: (marker in the DOM, what it proves).
EXPECTED = {
    "01-getting-started": ['style="display: inline-block', "<table", "<details", "query_sales"],
    "02-sandboxed-execution": ["stayed in the sandbox", "SandboxTimeout", "<table"],
    "03-token-savings": ['title="search path:', "Token savings", "Stayed in the sandbox"],
    "04-plugins-and-skills": ["plugins in", "name: demo", "export async function getCustomer"],
    "06-resources-prompts-progress": [
        "sales://regions/{region}",
        "analyze_region",
        "3/3",
        "# Demo sales data",
    ],
    "07-mcp-apps": [
        'title="an MCP Apps view: %mcp app shows it"',
        "needs a running kernel.",
        "connect-src 'none'",
        "Nothing reached demo.",
    ],
    "05-serve-for-agents": [
        "tokens for the whole tools/list",
        "def aggregate_sales(",
        "values replaced",
        "saved:",
    ],
}


def test_every_tutorial_is_checked() -> None:
    assert [p.stem for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (`apt-get install chromium`; .ci/run does)"
)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_rendered_in_chromium(notebook: Path, tmp_path: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    assert all(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        "saved outputs are missing"
    )
    html, _ = HTMLExporter().from_notebook_node(nb)
    page = tmp_path / f"{notebook.stem}.html"
    page.write_text(html)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    for marker in EXPECTED[notebook.stem]:
        assert marker in dom.stdout, f"{marker!r} missing from the rendered {notebook.name}"
    assert "<script>alert" not in dom.stdout
    shot = tmp_path / f"{notebook.stem}.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
