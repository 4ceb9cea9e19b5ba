"""Where mcp-kernel keeps its files: one directory per kind, each overridable by an environment variable.

Apart from :mod:`mcp_kernel.config` so that the sandbox finds its component cache without loading the
settings machinery (traitlets).

>>> cache_dir().name in ("mcp-kernel", "cache") or "MCP_KERNEL_CACHE_DIR" in os.environ
True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["APP_NAME", "cache_dir", "config_dir", "data_dir", "log_dir"]

APP_NAME = "mcp-kernel"


def _dir(env_var: str, kind: str) -> Path:
    value = os.environ.get(env_var)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME))


def config_dir() -> Path:
    """User config directory (``$MCP_KERNEL_CONFIG_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_CONFIG_DIR", "config")


def data_dir() -> Path:
    """User data directory: plugins and sandbox workspaces (``$MCP_KERNEL_DATA_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_DATA_DIR", "data")


def cache_dir() -> Path:
    """User cache directory: the compiled sandbox component (``$MCP_KERNEL_CACHE_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_CACHE_DIR", "cache")


def log_dir() -> Path:
    """Where each stdio server's stderr is logged (``$MCP_KERNEL_LOG_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_LOG_DIR", "log")
