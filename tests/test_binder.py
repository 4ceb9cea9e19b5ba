"""Binder's files exist and postBuild runs cleanly in a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_binder_files() -> None:
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert "." in (ROOT / "binder" / "requirements.txt").read_text().split()
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


@pytest.mark.slow
@pytest.mark.long
@pytest.mark.timeout(1200)  # a whole pip install: ~30 s idle, past 300 s on a 2-core machine under load
def test_post_build_in_a_fresh_venv(tmp_path: Path, guest_only_cache: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
        "MCP_KERNEL_CACHE_DIR": str(guest_only_cache),
    }
    env.pop("JUPYTER_PATH", None)
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        # --no-compile: byte-compiling every installed package was 40% of the install, and no check needs it
        [str(bin_dir / "pip"), "install", "-q", "--no-compile", "-r", "binder/requirements.txt"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # The guest component this run built (guest_only_cache): postBuild still compiles it for this machine.
    post = subprocess.run(
        ["bash", "binder/postBuild"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-3000:]
    spec = env_dir / "share" / "jupyter" / "kernels" / "mcp" / "kernel.json"
    assert spec.exists() and str(bin_dir / "python") in spec.read_text()
    assert "compiled in" in post.stdout + post.stderr, "postBuild must compile the component for this machine"
    assert list((guest_only_cache / "components").glob("compiled-*.cwasm"))
    assert sys.version_info >= (3, 11)
