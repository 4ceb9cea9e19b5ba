"""How mcp-kernel names things in the tree: Python identifiers for tools and arguments, server ids.

A low room of its own: settings, the registry, codegen and token analysis all name servers the same way,
and none of them should need codegen's machinery (or each other) for it.

>>> server_id("sales-db"), python_identifier("class")
('sales_db', 'class_')
"""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata

__all__ = ["BUILTINS", "RESERVED", "python_identifier", "server_id"]

BUILTINS = frozenset(dir(__import__("builtins")))
# Names a binding module or the types module binds itself: no tool, parameter or type may take them.
RESERVED = frozenset({"call", "call_tool", "Any", "Literal", "NotRequired", "TypedDict", "_mcp_params"})


def _ascii_words(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", folded)).strip("_")


@functools.lru_cache(maxsize=8192)
def python_identifier(name: str, *, fallback: str = "tool") -> str:
    """A valid, non-shadowing Python identifier for ``name``.

    >>> [python_identifier(n) for n in ["get-sum", "2fa.check", "class", "list", ""]]
    ['get_sum', 'tool_2fa_check', 'class_', 'list_', 'tool']
    """
    ident = _ascii_words(name) or fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in BUILTINS or ident in RESERVED:
        ident += "_"
    return ident


def server_id(name: str) -> str:
    """The directory name of a server in the tree: ``sales-db`` -> ``sales_db``."""
    return python_identifier(name, fallback="server").lower()
