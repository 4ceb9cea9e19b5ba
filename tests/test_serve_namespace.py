"""serve/namespace.py: every upstream name and URI maps out and back to its own server, never to another."""

from __future__ import annotations

import pytest

from mcp_kernel.errors import ConfigError, UsageError
from mcp_kernel.serve.namespace import Namespace

NAMES = ["search", "execute", "a__b", "x+y", "read", "test_simple_text", ""]
URIS = [
    "file:///a/b",
    "ui://dashboard/main",
    "ui://",
    "test://static-text",
    "mcp-tools://servers",
    "demo+x:y",
]


@pytest.mark.parametrize("servers", [["demo"], ["demo", "sales-db"], ["a", "b", "c-d"]])
def test_every_name_and_uri_goes_back_to_its_server(servers: list[str]) -> None:
    space = Namespace(servers)
    for server in servers:
        for name in NAMES[:-1]:
            assert space.name_origin(space.name(server, name)) == (server, name)
        for uri in URIS:
            assert space.uri_origin(space.uri(server, uri)) == (server, uri)


def test_two_servers_never_share_a_name_or_uri() -> None:
    space = Namespace(["demo", "sales-db"])
    assert {space.name(s, "search") for s in space.servers} == {"demo__search", "sales_db__search"}
    assert len({space.uri(s, u) for s in space.servers for u in URIS}) == 2 * len(URIS)


def test_one_server_is_transparent_except_for_serves_own_names() -> None:
    space = Namespace(["fixtures"])
    assert space.name("fixtures", "test_simple_text") == "test_simple_text"
    assert space.uri("fixtures", "ui://view") == "ui://view"
    assert space.name("fixtures", "execute") == "fixtures__execute"  # serve's own tool keeps its name
    assert space.uri("fixtures", "mcp-tools://x") == "fixtures+mcp-tools://x"  # serve's own tree too
    with pytest.raises(UsageError, match="no upstream server's resource"):
        space.uri_origin("mcp-tools://servers")


def test_an_unknown_prefix_is_a_clear_error_not_another_servers_thing() -> None:
    space = Namespace(["demo", "mail"])
    with pytest.raises(UsageError, match=r"<server>__<name>.*demo, mail"):
        space.name_origin("other__search")
    with pytest.raises(UsageError, match="no upstream server's resource"):
        space.uri_origin("file:///etc/passwd")
    with pytest.raises(UsageError):
        space.uri_origin("ui://other/view")


def test_servers_whose_ids_coincide_are_refused() -> None:
    with pytest.raises(ConfigError, match="rename one"):
        Namespace(["sales-db", "sales_db"])
