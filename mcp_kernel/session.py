"""The core API: one object that holds the servers a user works with and does every operation.

The ``%mcp`` magic, the ``mcp-kernel`` command line and plain Python all go through a :class:`Session`;
they only parse arguments and display what it returns.

>>> with Session() as session:                                     # doctest: +SKIP
...     report = session.introspect("demo")
...     print(report.server.name, len(report.tools))
demo 8
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .client import ConnectionPool
from .config import MCPKernel, ServerConfig, load_config
from .errors import MCPKernelError, ServerNotFound
from .models import (
    CallResult,
    FileView,
    GenerateReport,
    Introspection,
    SearchResults,
    ServerEntry,
    ServerList,
    ServerSpec,
    ToolInfo,
    ValidationReport,
    ValidationRow,
)
from .registry import Detail, ToolRegistry
from .vfs import ROOT, TreeNode, VirtualFS, normalize_path

__all__ = ["Session"]


class Session:
    """Servers from a config plus any added at run time, with one pooled connection each."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        settings: MCPKernel | None = None,
        config_file: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.settings = settings if settings is not None else MCPKernel()
        self._config = config
        self._config_file = config_file or self.settings.config_file or None
        self.pool = ConnectionPool(timeout=timeout or self.settings.timeout,
                                   connect_timeout=connect_timeout or self.settings.connect_timeout)
        self.registry = ToolRegistry()
        self.vfs = VirtualFS()
        self._generated: dict[str, tuple[str, ...]] = {}

    @property
    def config(self) -> ServerConfig:
        """The servers of the config file, read on first use (so a broken file only hurts what needs it)."""
        if self._config is None:
            self._config = load_config(self._config_file)
        return self._config

    @classmethod
    def from_config_file(cls, path: str | None = None, **kwargs: Any) -> Session:
        """A session over the servers of ``path`` (or the default config search order)."""
        return cls(config_file=path, **kwargs)

    # ---- servers -----------------------------------------------------------------------------
    def add_server(self, spec: ServerSpec, *, replace: bool = False) -> ServerSpec:
        """Make ``spec`` available under its name (started on first use)."""
        self.pool.add(spec, replace=replace)
        return spec

    def remove_server(self, name: str) -> None:
        self.pool.remove(name)
        self.registry.forget(name)

    def spec(self, name: str) -> ServerSpec:
        """The spec of an added or configured server."""
        if name in self.pool:
            return self.pool.get(name).spec
        return self.config.get(name)

    def server_names(self) -> list[str]:
        """Added and configured servers (the demo server included)."""
        return sorted({*self.pool.names(), *self.config.names()})

    def connection(self, name: str) -> Any:
        """The pooled connection for ``name``, registering a configured server on first use."""
        if name not in self.pool:
            self.pool.add(self.config.get(name))
        return self.pool.get(name)

    def servers(self) -> ServerList:
        """Every known server with its transport and whether it is connected now."""
        entries = []
        for name in self.server_names():
            spec = self.spec(name)
            conn = self.pool.get(name) if name in self.pool else None
            entries.append(
                ServerEntry(
                    name=name,
                    transport=spec.transport,
                    target=spec.describe(),
                    connected=bool(conn and conn.connected),
                    source="session" if name in self.pool and name not in self.config.servers else (
                        self.config.source if name in self.config.servers else "built-in"
                    ),
                )
            )
        return ServerList(servers=entries)

    # ---- operations --------------------------------------------------------------------------
    def introspect(self, name: str, *, refresh: bool = False) -> Introspection:
        """Connect to ``name`` and return its handshake info and every tool it publishes."""
        conn = self.connection(name)
        started = time.perf_counter()
        info = conn.connect()
        tools = conn.list_tools(refresh=refresh)
        self.registry.register(name, info, tools)
        return Introspection(
            server_name=name,
            server=info,
            tools=tools,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def tools(self, server: str) -> list[ToolInfo]:
        """The tools of ``server``, introspecting it first if needed."""
        if server not in self.registry.servers():
            self.introspect(server)
        return self.registry.tools(server)

    def tool_info(self, server: str, tool: str) -> ToolInfo:
        """One tool's definition, introspecting its server first if needed."""
        if server not in self.registry.servers():
            self.introspect(server)
        return self.registry.tool(server, tool)

    def search(self, query: str, *, detail: Detail = "summary", servers: list[str] | None = None) -> SearchResults:
        """Find tools by name, title or description across introspected servers (or ``servers``)."""
        for name in servers or []:
            if name not in self.registry.servers():
                self.introspect(name)
        if not self.registry.servers():
            raise ServerNotFound("No server has been introspected yet. Run `introspect SERVER` first, "
                                 "or pass --server NAME.")
        return self.registry.search(query, detail=detail, servers=servers)

    def call(self, server: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> CallResult:
        """Call one tool directly (outside the sandbox)."""
        return self.connection(server).call_tool(tool, arguments, **kwargs)

    def validate(self, names: Iterable[str] | None = None) -> ValidationReport:
        """Start each server, do the handshake and list its tools; report what failed and why."""
        rows = []
        for name in list(names) if names is not None else self.server_names():
            started = time.perf_counter()
            try:
                report = self.introspect(name, refresh=True)
            except ServerNotFound:
                raise
            except MCPKernelError as exc:
                rows.append(ValidationRow(name=name, ok=False, error=f"{type(exc).__name__}: {exc}",
                                          duration_ms=(time.perf_counter() - started) * 1000))
            else:
                rows.append(ValidationRow(name=name, ok=True, tools=len(report.tools),
                                          protocol_version=report.server.protocol_version,
                                          duration_ms=(time.perf_counter() - started) * 1000))
        return ValidationReport(rows=rows)

    # ---- code generation and the virtual filesystem ----------------------------------------------
    def generate(self, server: str, *, languages: tuple[str, ...] = ("python",), out: str | None = None,
                 refresh: bool = False) -> GenerateReport:
        """Generate bindings, manifest and skill for ``server`` into the VFS (and into ``out`` if given)."""
        from .codegen import generate, server_id

        started = time.perf_counter()
        if refresh or server not in self.registry.servers():
            self.introspect(server, refresh=refresh)
        info, tools = self.registry.info(server), self.registry.tools(server)
        files = generate(info, tools, server_name=server, languages=languages)
        sid = server_id(server)
        self.vfs.remove_prefix(f"servers/{sid}")
        self.vfs.remove_prefix(f"skills/{sid}")
        self.vfs.update(files)
        self._generated[server] = tuple(languages)
        written = None
        if out is not None:
            written = str(VirtualFS(files).materialize(out))
        return GenerateReport(
            server=server, server_id=sid, tools=len(tools), languages=list(languages), files=sorted(files),
            bytes=sum(len(t.encode()) for t in files.values()), out=written,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _ensure_generated(self, path: str) -> str:
        """Generate on demand the server a path points into; return the normalised path."""
        from .codegen import server_id

        rel = normalize_path(path)
        parts = rel.split("/") if rel else []
        if len(parts) >= 2 and parts[0] in ("servers", "skills") and not self.vfs.exists(rel):
            for name in self.server_names():
                if server_id(name) == parts[1] and name not in self._generated:
                    self.generate(name)
        elif len(parts) <= 1 and not self.vfs.files:
            for name in self.server_names():
                self.generate(name)
        return rel

    def tree(self, path: str = ROOT, depth: int | None = None) -> TreeNode:
        """The VFS tree at ``path`` (servers are generated on first visit)."""
        return self.vfs.tree(self._ensure_generated(path), depth)

    def read(self, path: str) -> FileView:
        """One file of the VFS."""
        rel = self._ensure_generated(path)
        text = self.vfs.read(rel)
        return FileView(path=f"{ROOT}/{rel}", text=text, size=len(text.encode()))

    def close(self) -> None:
        """Stop every server this session started."""
        self.pool.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
