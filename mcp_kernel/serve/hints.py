"""The cache hints serve puts on its lists and reads (``ttlMs``, ``cacheScope``, 2026-07-28): truthful ones.

Its three tools and its one resource template do not change while it runs and are the same for every
caller: ``public``, for an hour; so are its resource, template and prompt lists while no upstream server
offers resources or prompts. A file of the ``/mcp-tools`` tree changes
when an upstream server's tools do: serve sees a ``list_changed`` within ``WATCH_INTERVAL_S`` (and tells
listening clients with ``resources/updated``), and an upstream that gave its list a ``ttlMs`` is listed
again when it passes. So a tree file is fresh for ``TREE_TTL_MS``, never longer than the shortest
``ttlMs`` of an upstream list, and 0 when an upstream said its list is stale at once. The tree is built
once for everyone (no caller sees a different one): ``public`` too. A 2025 client sees no hints: the SDK
puts them only on the 2026-07-28 wire.

With upstream things in them (serve as a gateway), a list changes when an upstream's does: serve passes the
change on within ``WATCH_INTERVAL_S`` too, so the list is fresh for ``TREE_TTL_MS``, never longer than an
upstream's own ``ttlMs``, and 0 when an upstream could not be listed (it will be when it comes back). A read
of an upstream resource is fresh for as long as its server said, and 0 when it said nothing (serve cannot
know). Either is ``private`` when an upstream said so, or when PII masking is on (each caller has its own
placeholders).

>>> tree_hint({"demo": None, "files": 5_000}).ttl_ms
5000
>>> tree_hint({"demo": 0}).ttl_ms, tree_hint({}).scope
(0, 'public')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mcp.server.caching import CacheableMethod, CacheHint

__all__ = [
    "STABLE_TTL_MS",
    "TREE_TTL_MS",
    "cache_hints",
    "list_hint",
    "read_hint",
    "tree_hint",
    "update_tree_hint",
]

STABLE_TTL_MS = 3_600_000  # what does not change while serve runs: its tools, template, empty lists
TREE_TTL_MS = 30_000  # a tree file, when no upstream list bounds it more tightly


def tree_hint(upstream_ttls: Mapping[str, int | None]) -> CacheHint:
    """The hint of a tree file, from the ``ttlMs`` each upstream gave its tool list (None: none)."""
    given = [ttl for ttl in upstream_ttls.values() if ttl is not None]
    return CacheHint(ttl_ms=min([TREE_TTL_MS, *given]), scope="public")


class Hinted(Protocol):
    """An upstream answer and the hint it carried (:class:`~mcp_kernel.client.wire.Wire`)."""

    @property
    def ttl_ms(self) -> int | None: ...
    @property
    def cache_scope(self) -> str | None: ...


def list_hint(answers: Sequence[Hinted], *, fronting: bool, complete: bool, private: bool) -> dict[str, Any]:
    """The wire hint of a list holding the upstream ``answers`` (``fronting``: some upstream offers such
    things; ``complete``: every one of them answered; ``private``: masking is per caller).

    >>> list_hint([], fronting=False, complete=True, private=True)
    {'ttlMs': 3600000, 'cacheScope': 'public'}
    """
    if not fronting:
        return {"ttlMs": STABLE_TTL_MS, "cacheScope": "public"}
    given = [a.ttl_ms for a in answers if a.ttl_ms is not None]
    ttl = min([TREE_TTL_MS, *given]) if complete else 0
    private = private or any(a.cache_scope == "private" for a in answers)
    return {"ttlMs": ttl, "cacheScope": "private" if private else "public"}


def read_hint(answer: Hinted, *, private: bool) -> dict[str, Any]:
    """The wire hint of a read of an upstream resource: its server's, 0 when it gave none."""
    private = private or answer.cache_scope == "private"
    return {"ttlMs": answer.ttl_ms or 0, "cacheScope": "private" if private else "public"}


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
