"""The pool of connections: one live connection per server, shared by every caller.

A server that crashed is started again on the next call through the pool (the connection does it).

>>> ConnectionPool().names()
[]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ServerError, ServerNotFound
from ..models import CallResult, ServerSpec, ToolInfo
from .connection import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Connection

if TYPE_CHECKING:
    from ..auth import SignIn, SignInMode

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """One live connection per server, shared by every caller and restarted on demand.

    >>> pool = ConnectionPool()
    >>> pool.names()
    []
    """

    def __init__(
        self,
        specs: Iterable[ServerSpec] = (),
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        logs: Path | None = None,
        roots: Iterable[str | Path] = (),
        sign_in: SignIn | None = None,
        sign_in_mode: SignInMode = "auto",
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.roots = [Path(r).expanduser() for r in roots]  # what roots/list answers, for every connection
        self._logs = logs
        self.sign_in, self.sign_in_mode = sign_in, sign_in_mode
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: ServerSpec, *, replace: bool = False) -> Connection:
        """Register a server (it starts on first use). Replacing one closes the old connection."""
        with self._lock:
            old = self._connections.get(spec.name)
            if old is not None and old.spec == spec:
                return old
            if old is not None and not replace:
                raise ServerError(
                    f"Server {spec.name!r} is already added with a different command or URL. Remove it first.",
                    server=spec.name,
                )
            conn = Connection(
                spec,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                logs=self._logs,
                sign_in=self.sign_in,
                sign_in_mode=self.sign_in_mode,
            )
            conn.roots = list(self.roots)
            self._connections[spec.name] = conn
        if old is not None:
            old.close()
        return conn

    def set_timeouts(self, timeout: float, connect_timeout: float) -> None:
        """Change the timeouts of every connection, present and future."""
        self.timeout, self.connect_timeout = timeout, connect_timeout
        with self._lock:
            for conn in self._connections.values():
                conn.timeout, conn.connect_timeout = timeout, connect_timeout

    def remove(self, name: str) -> None:
        """Stop and forget server ``name``."""
        with self._lock:
            conn = self._connections.pop(name, None)
        if conn is None:
            raise ServerNotFound(
                f"Server {name!r} is not added. Added: {', '.join(self.names()) or 'none'}.", server=name
            )
        conn.close()

    def names(self) -> list[str]:
        return sorted(self._connections)

    def __contains__(self, name: object) -> bool:
        return name in self._connections

    def get(self, name: str) -> Connection:
        """The connection for ``name`` (not started until used)."""
        try:
            return self._connections[name]
        except KeyError:
            raise ServerNotFound(
                f"Server {name!r} is not added. Added: {', '.join(self.names()) or 'none'}. "
                f"Add it with `%mcp add {name} -- <command>` or put it in mcp.json.",
                server=name,
            ) from None

    def list_tools(self, name: str, *, refresh: bool = False) -> list[ToolInfo]:
        return self.get(name).list_tools(refresh=refresh)

    def call_tool(
        self, name: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> CallResult:
        return self.get(name).call_tool(tool, arguments, **kwargs)

    def close(self) -> None:
        """Stop every server."""
        with self._lock:
            conns = list(self._connections.values())
        for conn in conns:
            conn.close()

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
