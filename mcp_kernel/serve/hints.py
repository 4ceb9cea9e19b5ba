"""The cache hints serve puts on its lists and reads (``ttlMs``, ``cacheScope``, 2026-07-28): truthful ones.

Its three tools, its one resource template and its (empty) prompt and resource lists do not change while it
runs and are the same for every caller: ``public``, for an hour. A file of the ``/mcp-tools`` tree changes
when an upstream server's tools do: serve sees a ``list_changed`` within ``WATCH_INTERVAL_S`` (and tells
listening clients with ``resources/updated``), and an upstream that gave its list a ``ttlMs`` is listed
again when it passes. So a tree file is fresh for ``TREE_TTL_MS``, never longer than the shortest
``ttlMs`` of an upstream list, and 0 when an upstream said its list is stale at once. The tree is built
once for everyone (no caller sees a different one): ``public`` too. A 2025 client sees no hints: the SDK
puts them only on the 2026-07-28 wire.

>>> tree_hint({"demo": None, "files": 5_000}).ttl_ms
5000
>>> tree_hint({"demo": 0}).ttl_ms, tree_hint({}).scope
(0, 'public')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.caching import CacheableMethod, CacheHint

__all__ = ["STABLE_TTL_MS", "TREE_TTL_MS", "cache_hints", "tree_hint", "update_tree_hint"]

STABLE_TTL_MS = 3_600_000  # what does not change while serve runs: its tools, template, empty lists
TREE_TTL_MS = 30_000  # a tree file, when no upstream list bounds it more tightly


def tree_hint(upstream_ttls: Mapping[str, int | None]) -> CacheHint:
    """The hint of a tree file, from the ``ttlMs`` each upstream gave its tool list (None: none)."""
    given = [ttl for ttl in upstream_ttls.values() if ttl is not None]
    return CacheHint(ttl_ms=min([TREE_TTL_MS, *given]), scope="public")


def cache_hints(upstream_ttls: Mapping[str, int | None]) -> dict[CacheableMethod, CacheHint]:
    """Every cacheable method serve answers, with its hint (the SDK fills them into each result)."""
    stable = CacheHint(ttl_ms=STABLE_TTL_MS, scope="public")
    return {
        "tools/list": stable,
        "prompts/list": stable,
        "resources/list": stable,
        "resources/templates/list": stable,
        "resources/read": tree_hint(upstream_ttls),
    }


def update_tree_hint(server: Any, upstream_ttls: Mapping[str, int | None]) -> None:
    """Follow the upstream lists' ``ttlMs`` into the tree's hint (called as serve watches for changes)."""
    lowlevel = server._lowlevel_server  # private: the SDK keeps the hints there and reads them per result
    lowlevel.cache_hints["resources/read"] = tree_hint(upstream_ttls)
