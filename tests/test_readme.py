"""The README's two opening commands are the ones a newcomer pastes, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_opens_with_install_and_demo_then_the_test_command() -> None:
    first, second = readme_commands()
    assert first == "pip install . && mcp-kernel demo"
    assert "pytest" in second


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test_command = readme_commands()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in lines


def in_jupyter_commands() -> list[str]:
    """The commands of the README's "In Jupyter" section, as a newcomer pastes them."""
    section = (ROOT / "README.md").read_text().split("## In Jupyter", 1)[1]
    block = re.search(r"```bash\n(.+?)\n```", section, re.S)
    assert block is not None
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.long
def test_in_jupyter_steps_then_run_all_on_every_tutorial(tmp_path: Path, guest_only_cache: Path) -> None:
    """A fresh machine: a component cache with nothing compiled for it (guest_only_cache: the built guest,
    which tests/sandbox/test_engine.py builds), an empty Jupyter data dir, no `npm ci` (the tutorials are run
    from a copy outside the repository, so no node_modules is near), then each tutorial's Run All, as
    JupyterLab runs it (the kernel starts in the notebook's folder)."""
    import os
    import shutil
    import subprocess
    import sys

    import nbformat
    from nbclient import NotebookClient

    install, lab = in_jupyter_commands()
    assert install == "mcp-kernel install --user" and lab == "jupyter lab notebooks/"
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
        "MCP_KERNEL_CACHE_DIR": str(guest_only_cache),
    }
    mcp_kernel = [sys.executable, "-m", "mcp_kernel"]  # `mcp-kernel` of this interpreter, installed or not
    done = subprocess.run(
        [*mcp_kernel, *install.split()[1:]], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr
    assert "sandbox component: built in" in done.stdout  # so no first cell pays for it
    assert (tmp_path / "jupyter" / "kernels" / "mcp" / "kernel.json").exists()

    notebooks = tmp_path / "copy" / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    saved = {k: os.environ.get(k) for k in ("JUPYTER_DATA_DIR", "MCP_KERNEL_CACHE_DIR")}
    os.environ.update({k: env[k] for k in saved})
    try:
        for path in sorted(notebooks.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            NotebookClient(
                nb, timeout=600, kernel_name="mcp", resources={"metadata": {"path": str(notebooks)}}
            ).execute()
            outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
            meant = [cell for cell in nb.cells if "raises-exception" in cell.metadata.get("tags", [])]
            failed = [
                cell.source
                for cell in nb.cells
                if cell not in meant and any(o.output_type == "error" for o in cell.get("outputs", []))
            ]
            assert not failed, (path.name, failed)
            text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
            for unready in ("Building the sandbox component", "Compiling the sandbox component"):
                assert unready not in text, (path.name, "install left the component for the first cell")
            assert "not found on PATH" not in text, path.name
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
