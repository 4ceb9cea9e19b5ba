"""Set up the whole test run (tests/ and the nbval notebooks): isolated user dirs and the 'mcp' kernelspec.

Everything a run writes (logs, config, data, the kernelspec) goes to a temp dir; only the compiled
sandbox component is kept between runs, under .pytest_cache, because building it takes from 20 s to a couple of minutes.
"""

from __future__ import annotations

import os
import tempfile
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
    # Build the sandbox component before any test or notebook needs it, so no cell's output depends on
    # whether it happened to be the first (the build prints progress).
    from mcp_kernel.sandbox import Engine

    with Engine() as engine:
        engine.component()


def pytest_unconfigure(config: pytest.Config) -> None:
    for key, value in _SAVED.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for tmp in _TMP:
        tmp.cleanup()
