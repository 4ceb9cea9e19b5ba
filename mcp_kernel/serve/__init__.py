"""``mcp-kernel serve``: code execution with MCP offered to any agent, as an MCP server of its own.

Three tools front every configured server: ``search_tools`` (find tools without loading every schema),
``read`` (walk the generated tree: servers, then one binding) and ``execute`` (run Python in a
WebAssembly sandbox session whose code reaches the servers only through the bridge). Sandbox state
persists across ``execute`` calls through a server-minted handle passed back as the ``session``
argument (the protocol has no sessions of its own since 2026-07-28). The tree is offered as resources
too (``mcp-tools://servers/<server>/<tool>.py``): their paths complete (``completion/complete``), a client
can subscribe to any of them and hears when a server's tools change what it reads, and serve sends its
own log records (runs, servers whose tools changed) at the level the client set (see audience.py). Over
HTTP, event streams can be resumed after a drop (see eventstore.py).

For example::

    server = build_server(Session(), servers=["demo"])
    server.run("stdio")
"""

from __future__ import annotations

from .callers import CallerTokens, read_callers
from .codemode import CodeMode
from .server import build_server, serve

__all__ = ["CallerTokens", "CodeMode", "build_server", "read_callers", "serve"]
