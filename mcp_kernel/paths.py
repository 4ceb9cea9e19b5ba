"""Where mcp-kernel keeps its files: one directory per kind, each overridable by an environment variable; and
the two steps of writing one of them atomically (:func:`write_new`, then :func:`replace`).

A low room that imports nothing of ours, so that every module (the sandbox looking for its component cache
included) finds its directories without loading the settings machinery (:mod:`mcp_kernel.settings`, traitlets).

>>> cache_dir().name in ("mcp-kernel", "cache") or "MCP_KERNEL_CACHE_DIR" in os.environ
True
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

__all__ = [
    "APP_NAME",
    "cache_dir",
    "config_dir",
    "data_dir",
    "log_dir",
    "replace",
    "safe_filename",
    "write_new",
]

APP_NAME = "mcp-kernel"


def _dir(env_var: str, kind: str) -> Path:
    value = os.environ.get(env_var)
    if value:
        return Path(value).expanduser()
    import platformdirs  # platformdirs: only when the variable is not set

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


def safe_filename(name: str) -> str:
    """A file name for server ``name`` (its log, its token file); different names never share one.

    A name that is already safe is kept (existing files keep their names); one that had to change gets a
    short hash of the original, so ``team/a`` and ``team_a`` keep their tokens apart.

    >>> safe_filename("team_a"), safe_filename("team/a")
    ('team_a', 'team_a-65f838a2')
    """
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    cleaned = cleaned[:100] or "server"
    if cleaned == name:
        return name
    return f"{cleaned[:91]}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never an existing name: "x" is O_CREAT|O_EXCL, which refuses a symlink there too, on
    every platform) in binary mode (O_BINARY on Windows), write ``data`` and fsync it."""
    with open(path, "xb", opener=lambda name, flags: os.open(name, flags, 0o600)) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def replace(source: Path, target: Path) -> None:
    """``os.replace``, retried for a moment on Windows, where it fails while a reader has ``target`` open."""
    for attempt in range(50):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 49:
                raise
            time.sleep(0.02)
