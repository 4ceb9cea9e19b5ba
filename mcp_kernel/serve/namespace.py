"""How an upstream server's names and URIs look through ``serve``, and the way back to their server.

serve as a gateway passes on what is not code mode (prompts, resources, templates, exposed tools) from
every server it fronts, so two servers' ``search`` prompts or ``file:///`` resources must never collide,
and a request for one must reach its own server. The rule is one, and reversible:

- **One upstream server**: serve is transparent: names and URIs are the server's own, so a client sees
  the server as if it connected to it directly. Only what would collide with serve's own things is
  prefixed: a tool named like serve's tools (``execute``, ``read``, ``search_tools``), a URI of serve's
  tree (``mcp-tools://``).
- **Several**: every name is ``<server>__<name>`` (tool names allow only ``[A-Za-z0-9_.-]`` on many
  clients: Claude's API refuses a dot), every URI ``<server>+<uri>``, and a ``ui://`` URI (an MCP Apps
  view, which hosts recognise by its scheme) ``ui://<server>/<rest>``.

``<server>`` is the server's id in the tree (:func:`~mcp_kernel.names.server_id`: ``sales-db`` ->
``sales_db``), which never holds ``__`` or ``+``, so the first ``__`` or ``+`` splits a name or URI back.

>>> two = Namespace(["demo", "sales-db"])
>>> two.name("sales-db", "search"), two.uri("demo", "ui://dashboard/main"), two.uri("demo", "file:///a")
('sales_db__search', 'ui://demo/dashboard/main', 'demo+file:///a')
>>> two.name_origin("sales_db__search"), two.uri_origin("ui://demo/dashboard/main")
(('sales-db', 'search'), ('demo', 'ui://dashboard/main'))
>>> one = Namespace(["fixtures"])
>>> one.name("fixtures", "test_simple_text"), one.name("fixtures", "execute")
('test_simple_text', 'fixtures__execute')
>>> one.name_origin("fixtures__execute"), one.uri_origin("test://static-text")
(('fixtures', 'execute'), ('fixtures', 'test://static-text'))
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ..errors import ConfigError, UsageError
from ..names import server_id

__all__ = ["OWN_SCHEMES", "OWN_TOOLS", "SEPARATOR", "Namespace"]

OWN_TOOLS = frozenset({"search_tools", "read", "execute"})  # serve's code-mode tools
OWN_SCHEMES = ("mcp-tools:",)  # serve's own resources: the generated tree
SEPARATOR = "__"  # between a server's id and a name
UI = "ui://"  # MCP Apps views: the scheme stays, the server goes first in the path


class Namespace:
    """Outward names and URIs for ``servers``' things, and the way back (see the module's rule).

    ``reserved`` are the names serve itself answers to (its tools), which an upstream name must not take.
    Two servers whose ids coincide (``sales-db`` and ``sales_db``) cannot be told apart: a ``ConfigError``.
    """

    def __init__(self, servers: Sequence[str], reserved: Collection[str] = OWN_TOOLS) -> None:
        self.servers = list(servers)
        self.reserved = frozenset(reserved)
        self._by_id: dict[str, str] = {}
        for server in self.servers:
            sid = server_id(server)
            if sid in self._by_id:
                raise ConfigError(
                    f"servers {self._by_id[sid]!r} and {server!r} both appear as {sid!r} through serve, so "
                    "their prompts, resources and tools could not be told apart; rename one in mcp.json."
                )
            self._by_id[sid] = server
        self.transparent = len(self.servers) == 1

    # ---- names: tools and prompts ----------------------------------------------------------------
    def name(self, server: str, name: str) -> str:
        """The name a client sees for ``server``'s tool or prompt ``name``."""
        if self.transparent and name not in self.reserved:
            return name
        return f"{server_id(server)}{SEPARATOR}{name}"

    def name_origin(self, public: str) -> tuple[str, str]:
        """The server and its own name behind ``public``; a ``UsageError`` naming the forms serve takes."""
        head, sep, rest = public.partition(SEPARATOR)
        if self.transparent:
            if sep and rest in self.reserved and self._by_id.get(head) == self.servers[0]:
                return self.servers[0], rest
            return self.servers[0], public
        if sep and head in self._by_id and rest:
            return self._by_id[head], rest
        raise UsageError(
            f"{public!r} names no upstream server's tool or prompt: through serve they are "
            f"<server>{SEPARATOR}<name>, with <server> one of {', '.join(sorted(self._by_id))}."
        )

    # ---- URIs: resources, resource templates, app views ------------------------------------------
    def uri(self, server: str, uri: str) -> str:
        """The URI (or URI template) a client sees for ``server``'s resource ``uri``."""
        if self.transparent and not uri.startswith(OWN_SCHEMES):
            return uri
        sid = server_id(server)
        if uri.startswith(UI):
            return f"{UI}{sid}/{uri[len(UI) :]}"
        return f"{sid}+{uri}"

    def uri_origin(self, public: str) -> tuple[str, str]:
        """The server and its own URI behind ``public``; a ``UsageError`` naming the forms serve takes."""
        if public.startswith(UI):
            head, slash, rest = public[len(UI) :].partition("/")
            if slash and head in self._by_id and (not self.transparent or rest.startswith(OWN_SCHEMES)):
                return self._by_id[head], UI + rest
        head, plus, rest = public.partition("+")
        if plus and head in self._by_id and (not self.transparent or rest.startswith(OWN_SCHEMES)):
            return self._by_id[head], rest
        if self.transparent and not public.startswith(OWN_SCHEMES):
            return self.servers[0], public
        raise UsageError(
            f"{public!r} is no upstream server's resource: through serve they are <server>+<uri> (ui:// "
            f"views ui://<server>/...), with <server> one of {', '.join(sorted(self._by_id))}."
        )

    def block(self, server: str, block: dict[str, Any]) -> dict[str, Any]:
        """A content block of ``server``'s (wire JSON: a tool result's, a prompt message's) with the URI of a
        ``resource_link`` or an embedded ``resource`` as serve publishes it; any other block as it is.

        >>> Namespace(["a", "b"]).block("a", {"type": "resource_link", "uri": "file:///x", "name": "x"})["uri"]
        'a+file:///x'
        """
        if block.get("type") == "resource_link" and isinstance(block.get("uri"), str):
            return {**block, "uri": self.uri(server, block["uri"])}
        inner = block.get("resource")
        if block.get("type") == "resource" and isinstance(inner, dict) and isinstance(inner.get("uri"), str):
            return {**block, "resource": {**inner, "uri": self.uri(server, inner["uri"])}}
        return block
