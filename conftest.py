"""Set up the whole test run (tests/ and the nbval notebooks): isolated user dirs and the 'mcp' kernelspec.

Everything a run writes (logs, config, data, the kernelspec) goes to a temp dir; only the compiled
sandbox component is kept between runs, under .pytest_cache, because building it takes from 20 s to a couple of minutes.
The component is built (or loaded from that cache) before the first test only when a selected test is marked
``slow`` (every test that needs the component, a kernel or a notebook is), so the fast tier,
``python -m pytest -m "not slow"``, never waits for it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
_SAVED: dict[str, str | None] = {}
_TMP: list[tempfile.TemporaryDirectory[str]] = []


def pytest_configure(config: pytest.Config) -> None:
    tmp = tempfile.TemporaryDirectory(prefix="mcp-kernel-tests-")
    _TMP.append(tmp)
    base = Path(tmp.name)
    env = {
        "MCP_KERNEL_CACHE_DIR": str(ROOT / ".pytest_cache" / "mcp-kernel"),
        "MCP_KERNEL_LOG_DIR": str(base / "logs"),
        "MCP_KERNEL_CONFIG_DIR": str(base / "config"),
        "MCP_KERNEL_DATA_DIR": str(base / "data"),
        "JUPYTER_PATH": os.pathsep.join(
            filter(None, [str(base / "jupyter" / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")])
        ),
    }
    for key, value in env.items():
        _SAVED[key] = os.environ.get(key)
        os.environ[key] = value
    from mcp_kernel.kernelspec import install

    install(prefix=str(base / "jupyter"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: a notebook's cells (nbval) run in a kernel
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
        posix = item.get_closest_marker("posix")
        if posix is not None and sys.platform == "win32":
            item.add_marker(pytest.mark.skip(reason=posix.kwargs.get("reason", "needs POSIX")))
    run_long_files_first(items)


def run_long_files_first(items: list[pytest.Item]) -> None:
    """Order the files as xdist's ``--dist loadfile`` hands them out (pyproject turns off its own order, most
    tests first): files with a ``long`` test first, then most tests first. xdist's order put a file of one
    3-minute test last, and one worker ran it alone while the other had nothing left."""
    count = Counter(item.path for item in items)
    first: dict[Path, int] = {}
    for index, item in enumerate(items):
        first.setdefault(item.path, index)
    long = {item.path for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: (item.path not in long, -count[item.path], first[item.path]))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build the sandbox component before the first test if a slow test is selected, so no cell's output
    depends on whether it happened to be the first (the build prints progress)."""
    if any(item.get_closest_marker("slow") for item in session.items):
        build_component_once()


def build_component_once() -> None:
    """Build or load the component, one process at a time: xdist workers collect (and so get here) together,
    and a cold cache would otherwise be built by each of them at once."""
    from filelock import FileLock  # here: only a run that needs the component takes the lock

    from mcp_kernel.sandbox import Engine

    cache = Path(os.environ["MCP_KERNEL_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(cache / "build.lock"), Engine() as engine:
        engine.component()


def pytest_unconfigure(config: pytest.Config) -> None:
    for key, value in _SAVED.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for tmp in _TMP:
        tmp.cleanup()
