"""The installed version of a package, or a stated stand-in when it is not installed.

``importlib.metadata`` is loaded on first use: it costs ~50 ms, which no import of mcp-kernel should pay.

>>> installed("no-such-package-here", "missing")
'missing'
>>> own() == installed("mcp-kernel", "0.1.0")
True
"""

from __future__ import annotations

import functools

__all__ = ["installed", "own"]


def installed(name: str, missing: str) -> str:
    """The version of the distribution ``name``, or ``missing`` when it is not installed."""
    from importlib import metadata  # importlib.metadata (~50 ms): only when a version is asked for

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return missing


@functools.cache
def own() -> str:
    """mcp-kernel's own version (``mcp_kernel.__version__``): 0.1.0 for a source tree that is not installed.
    Here, not in the package's ``__init__``, so that a module asking for it does not import the package's face."""
    return installed("mcp-kernel", "0.1.0")
