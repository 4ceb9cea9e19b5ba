"""The installed version of a package, or a stated stand-in when it is not installed.

``importlib.metadata`` is loaded on first use: it costs ~50 ms, which no import of mcp-kernel should pay.

>>> installed("no-such-package-here", "missing")
'missing'
"""

from __future__ import annotations

__all__ = ["installed"]


def installed(name: str, missing: str) -> str:
    """The version of the distribution ``name``, or ``missing`` when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return missing
