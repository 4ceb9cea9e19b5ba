"""serve's cache hints on the wire: every list and read result a 2026-07-28 client gets carries ``ttlMs`` and
``cacheScope`` (serve/hints.py), over stdio and HTTP; a tree file's ``ttlMs`` follows the upstream's.

Since serve passes upstream resources and prompts on (the gateway), its lists hold the upstream's items, so
their hints follow the upstream's lists (never fresher, private when it said private) instead of being
serve's own stable hour; a read of an upstream resource carries its server's hint."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, running
from test_serve import serve_argv

from mcp_kernel.serve.hints import STABLE_TTL_MS, TREE_TTL_MS

pytestmark = pytest.mark.slow

TREE = "mcp-tools://servers"


def hinted_place(tmp_path: Path, ttl_ms: int) -> dict[str, Any]:
    """An mcp.json with tests/servers/hinted.py, whose tool list is fresh for ``ttl_ms``."""
    config = tmp_path / "mcp.json"
    server = {"command": sys.executable, "args": [str(SERVERS / "hinted.py"), str(ttl_ms)]}
    config.write_text(json.dumps({"mcpServers": {"hinted": server}}))
    return {"config": str(config), "env": {}}


async def hints_of(client: Any) -> dict[str, tuple[int, str] | None]:
    """The hint of each list and read result serve sent (None: the result carried none)."""
    results = {
        "tools/list": await client.list_tools(),
        "prompts/list": await client.list_prompts(),
        "resources/list": await client.list_resources(),
        "resources/templates/list": await client.list_resource_templates(),
        "resources/read": await client.read_resource(TREE),
        "upstream read": await client.read_resource("hinted+hint://clock"),  # demo is served too
    }
    return {
        method: (r.ttl_ms, r.cache_scope) if "ttl_ms" in r.model_fields_set else None
        for method, r in results.items()
    }


def expected(tree_ttl_ms: int, upstream_ttl: int) -> dict[str, tuple[int, str]]:
    """hinted.py hints its resource list and reads ``upstream_ttl``, private; its prompt and template lists
    carry the SDK's default hint (0, private), and serve's lists of them say no more than that."""
    return {
        "tools/list": (STABLE_TTL_MS, "public"),
        "prompts/list": (0, "private"),
        "resources/list": (min(upstream_ttl, TREE_TTL_MS), "private"),
        "resources/templates/list": (0, "private"),
        "resources/read": (tree_ttl_ms, "public"),
        "upstream read": (upstream_ttl, "private"),
    }


@pytest.mark.parametrize(("upstream_ttl", "tree_ttl"), [(0, 0), (5_000, 5_000), (600_000, TREE_TTL_MS)])
def test_every_list_and_read_carries_hints_over_stdio(
    tmp_path: Path, upstream_ttl: int, tree_ttl: int
) -> None:
    from mcp import Client, StdioServerParameters

    place = hinted_place(tmp_path, upstream_ttl)

    async def main() -> dict[str, Any]:
        argv = serve_argv(place)
        params = StdioServerParameters(command=argv[0], args=argv[1:])
        async with Client(params, cache=None) as client:  # no cache: every result as serve sent it
            assert client.protocol_version == "2026-07-28"
            return await hints_of(client)

    assert asyncio.run(main()) == expected(tree_ttl, upstream_ttl)


def test_every_list_and_read_carries_hints_over_http(tmp_path: Path) -> None:
    from mcp import Client

    place = hinted_place(tmp_path, 5_000)
    port = free_port()
    with running(serve_argv(place, "--http", f"127.0.0.1:{port}"), port, timeout=60):

        async def main() -> dict[str, Any]:
            async with Client(f"http://127.0.0.1:{port}/mcp", cache=None) as client:
                assert client.protocol_version == "2026-07-28"
                return await hints_of(client)

        assert asyncio.run(main()) == expected(5_000, 5_000)


@pytest.mark.filterwarnings("ignore:.*2026-07-28")
def test_a_2025_client_gets_no_hints(tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters

    place = hinted_place(tmp_path, 5_000)

    async def main() -> dict[str, Any]:
        argv = serve_argv(place)
        params = StdioServerParameters(command=argv[0], args=argv[1:])
        async with Client(params, mode="legacy", cache=None) as client:
            assert client.protocol_version < "2026-07-28"
            return await hints_of(client)

    assert set(asyncio.run(main()).values()) == {None}
