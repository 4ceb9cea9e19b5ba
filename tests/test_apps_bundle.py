"""The committed MCP Apps host (mcp_kernel/apps/static) is what the pinned npm build produces, byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from realservers import ROOT, node_bin

pytestmark = [pytest.mark.slow, pytest.mark.npm]

STATIC = ROOT / "mcp_kernel" / "apps" / "static"


def test_the_committed_bundle_and_licences_are_the_pinned_builds_output(tmp_path: Path) -> None:
    subprocess.run(
        [node_bin("node"), str(ROOT / "js" / "apphost" / "build.mjs"), "--out", str(tmp_path)],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    for name in ("apphost.js", "LICENSE-ext-apps.txt"):
        built, committed = (tmp_path / name).read_bytes(), (STATIC / name).read_bytes()
        assert built == committed, f"{name} differs from the build: run `npm run build:apphost` and commit it"
    bundle = (STATIC / "apphost.js").read_text()
    assert str(ROOT) not in bundle and "/node_modules/" not in bundle  # no path of the machine that built it
    licences = (STATIC / "LICENSE-ext-apps.txt").read_text()
    for package in ("@modelcontextprotocol/ext-apps", "@modelcontextprotocol/client", "zod"):
        assert f"\n{package} " in licences
