"""The core API: one object that holds the servers a user works with and does every operation.

The ``%mcp`` magic, the ``mcp-kernel`` command line and plain Python all go through a :class:`Session`;
they only parse arguments and display what it returns.

>>> with Session() as session:                                     # doctest: +SKIP
...     report = session.introspect("demo")
...     print(report.server.name, len(report.tools))
demo 8
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import ConnectionPool
from .config import MCPKernel, ServerConfig, load_config
from .errors import MCPKernelError, SandboxError, ServerNotFound, ToolNotFound
from .models import (
    CallResult,
    ExecutionResult,
    SessionStats,
    TokenReport,
    FileView,
    GenerateReport,
    PluginInfo,
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
from .sandbox.policy import DEFAULT_FUEL, SandboxPolicy
from .vfs import ROOT, TreeNode, VirtualFS, normalize_path

if TYPE_CHECKING:
    from .plugins import PluginStore
    from .sandbox import Sandbox

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
        self._engine: Any = None
        self._sandbox: Any = None
        self._bridge: Any = None
        self._dirs: Path | None = None
        self.last_execution: ExecutionResult | None = None
        self._synced_version = -1
        self._sandbox_lock = threading.Lock()

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

    # ---- the sandbox -----------------------------------------------------------------------------
    def policy(self, servers: Sequence[str] | None = None, *, timeout: float | None = None,
               memory_mb: int | None = None, fuel: int | None = None, cache: bool | None = None,
               output_limit_kb: int | None = None) -> SandboxPolicy:
        """The policy for the next cell: the settings, with these overrides.

        ``servers`` defaults to the servers whose bindings were generated in this session.
        """
        settings = self.settings
        return SandboxPolicy(
            servers=tuple(servers) if servers is not None else tuple(sorted(self._generated)),
            timeout_s=timeout or settings.cell_timeout,
            memory_mb=memory_mb or settings.memory_mb,
            fuel=fuel or settings.fuel or DEFAULT_FUEL,
            output_limit_bytes=(output_limit_kb or settings.output_limit_kb) * 1024,
            rate_limit=settings.rate_limit or None,
            tool_timeout_s=settings.timeout,
            cache=settings.cache if cache is None else cache,
        )

    def _session_dirs(self) -> Path:
        if self._dirs is None:
            self._dirs = Path(tempfile.mkdtemp(prefix="mcp-kernel-session-"))
        return self._dirs

    def sandbox(self, on_progress: Callable[[str], None] | None = None) -> Sandbox:
        """This session's sandbox (one guest instance; the component is built on first use)."""
        with self._sandbox_lock:
            return self._get_sandbox(on_progress)

    def _get_sandbox(self, on_progress: Callable[[str], None] | None) -> Sandbox:
        if self._sandbox is None:
            from .sandbox import Bridge, Engine, Sandbox

            self._engine = Engine(on_progress=on_progress)
            self._bridge = Bridge(lookup=self.tool_info, call=self.call)
            root = self._session_dirs()
            self._sandbox = Sandbox(self._engine, host=self._bridge, tools_dir=self.vfs.sync(root / "mcp-tools"),
                                    workspace=root / "workspace")
            self._synced_version = self.vfs.version
        elif on_progress is not None:
            self._engine.on_progress = on_progress
        return self._sandbox

    def execute(self, code: str, policy: SandboxPolicy | None = None, *,
                on_progress: Callable[[str], None] | None = None) -> ExecutionResult:
        """Run ``code`` in the sandbox with ``policy`` (default: :meth:`policy`); tools via the bridge."""
        from .tokens import sandbox_savings

        policy = policy or self.policy()
        for server in policy.servers:
            if server not in self._generated:
                self.generate(server)
        sandbox = self.sandbox(on_progress)
        if self._synced_version != self.vfs.version:
            self.vfs.sync(self._session_dirs() / "mcp-tools")
            self._synced_version = self.vfs.version
        self._bridge.apply(policy)
        self._bridge.take_records()
        try:
            result = sandbox.execute(code, policy)
        except SandboxError as exc:
            records = self._bridge.take_records()
            if isinstance(exc.result, ExecutionResult):
                exc.result = exc.result.model_copy(update={"calls": records})
            raise
        records = self._bridge.take_records()
        tokens = sandbox_savings([r.result_text or "" for r in records if r.error is None],
                                 result.stdout + result.stderr, result.value_repr)
        result = result.model_copy(update={"calls": records, "tokens": tokens})
        self.last_execution = result
        return result

    # ---- the plugin store --------------------------------------------------------------------------
    def plugin_store(self, store: str | None = None) -> PluginStore:
        from .plugins import PluginStore

        return PluginStore(store) if store else PluginStore()

    def save_plugin(self, server: str, *, store: str | None = None) -> Path:
        """Save ``server``'s generated bindings (generating them first if needed) in the plugin store."""
        from .codegen import GENERATOR_VERSION, schema_hash, server_id
        from .plugins import Plugin, new_metadata

        if server not in self._generated:
            self.generate(server)
        sid = server_id(server)
        files = {p: t for p, t in self.vfs.files.items()
                 if p.startswith((f"servers/{sid}/", f"skills/{sid}/")) or p in ("servers/__init__.py", "runtime.d.ts")}
        tools = self.registry.tools(server)
        meta = new_metadata(sid, server, self.registry.info(server), tool_count=len(tools),
                            tool_hashes={t.name: schema_hash(t) for t in tools}, generator_version=GENERATOR_VERSION)
        return self.plugin_store(store).save(Plugin(metadata=meta, files=files))

    def load_plugin(self, server_id: str, *, store: str | None = None) -> PluginInfo:
        """Mount a saved plugin's bindings into the VFS without introspecting its server."""
        plugin = self.plugin_store(store).load(server_id)
        sid = plugin.metadata.server_id
        self.vfs.remove_prefix(f"servers/{sid}")
        self.vfs.remove_prefix(f"skills/{sid}")
        self.vfs.update(plugin.files)
        languages = ("python", "typescript") if any(p.endswith(".ts") for p in plugin.files) else ("python",)
        self._generated[plugin.metadata.server_name] = languages
        return self.plugin_info(server_id, store=store, plugin=plugin, check_live=False)

    def plugin_info(self, server_id: str, *, store: str | None = None, plugin: Any = None,
                    check_live: bool = True) -> PluginInfo:
        """A plugin's metadata, and whether the live server's schemas still match (``stale``)."""
        from .codegen import schema_hash

        plugin = plugin or self.plugin_store(store).load(server_id)
        meta = plugin.metadata
        stale: bool | None = None
        changed: list[str] = []
        name = meta.server_name
        if check_live and (name in self.registry.servers() or name in self.server_names()):
            try:
                live = {t.name: schema_hash(t) for t in self.tools(name)}
            except MCPKernelError:
                live = None
            if live is not None:
                changed = sorted(n for n in set(live) | set(meta.tool_hashes) if live.get(n) != meta.tool_hashes.get(n))
                stale = bool(changed)
        return PluginInfo(metadata=meta.model_dump(mode="json"), files=len(plugin.files),
                          bytes=sum(len(t.encode()) for t in plugin.files.values()), stale=stale, changed_tools=changed)

    # ---- token analysis ----------------------------------------------------------------------------
    def tokens(self, servers: Sequence[str] | None = None, *, tools: Sequence[str] | None = None) -> TokenReport:
        """Up-front versus progressive tokens for ``servers`` (default: introspected ones, else all known).

        ``tools`` names the tools a task reads (``tool`` or ``server.tool``); without it the report gives
        each tool's cost and counts the progressive path as the listing alone.
        """
        from .codegen import binding_paths, server_id
        from .tokens import upfront_vs_progressive

        names = list(servers or self.registry.servers() or self.server_names())
        data = {}
        for name in names:
            if name not in self._generated:
                self.generate(name)
            sid = server_id(name)
            files = {p: t for p, t in self.vfs.files.items() if p.startswith((f"servers/{sid}/", f"skills/{sid}/"))}
            server_tools = self.registry.tools(name)
            data[name] = (server_tools, files, binding_paths(name, server_tools))
        read = None
        if tools is not None:
            read = {name: set() for name in names}
            for item in tools:
                server, _, tool = item.rpartition(".") if "." in item and item.split(".")[0] in names else ("", "", item)
                owners = [server] if server else [n for n in names if any(t.name == tool for t in data[n][0])]
                if not owners:
                    raise ToolNotFound(f"No tool {item!r} in {', '.join(names)}.", tool=item)
                for owner in owners:
                    read[owner].add(tool)
        return upfront_vs_progressive(data, read=read)

    def warm_up(self) -> threading.Thread:
        """Load the sandbox in the background (component from the cache, first instance), so the first
        sandboxed cell does not wait for it. Does nothing visible if the component is not built yet."""
        from .sandbox.engine import is_cached

        def load() -> None:
            try:
                if is_cached():
                    self.sandbox().warm_up()
                from .tokens import tokenizer

                tokenizer()  # the cell footer counts tokens; loading the BPE takes ~0.14 s
            except Exception:  # noqa: BLE001 - warming is best effort; the first cell reports real errors
                pass

        thread = threading.Thread(target=load, name="mcp-kernel-warm-up", daemon=True)
        thread.start()
        return thread

    def reset_sandbox(self) -> None:
        """Start the sandbox session clean (variables and state; workspace files stay)."""
        if self._sandbox is not None:
            self._sandbox.reset()

    def stats(self) -> SessionStats:
        """Bridge, cache and sandbox counters of this session."""
        from .sandbox import BridgeStats

        bridge = self._bridge.stats() if self._bridge is not None else BridgeStats()
        sandbox = self._sandbox
        return SessionStats(
            bridge=bridge,
            cells=sandbox.cells if sandbox is not None else 0,
            servers_connected=sum(1 for n in self.pool.names() if self.pool.get(n).connected),
            generated=sorted(self._generated),
            vfs_files=len(self.vfs.files),
            engine_timings=dict(self._engine.timings) if self._engine is not None else {},
            storage=_storage(),
        )

    def close(self) -> None:
        """Stop every server this session started, close the sandbox and remove its temp files."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._dirs is not None:
            shutil.rmtree(self._dirs, ignore_errors=True)
            self._dirs = None
        self.pool.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _du(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()] if path.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def _storage() -> dict[str, str]:
    """Sizes of what mcp-kernel keeps on disk."""
    from .config import cache_dir, data_dir, log_dir
    from .display import filesize

    out = {}
    for label, path in (("cache (compiled sandbox component)", cache_dir() / "components"),
                        ("plugins (saved bindings)", data_dir() / "plugins"),
                        ("logs (server stderr)", log_dir())):
        count, size = _du(path)
        out[label] = f"{count} files, {filesize(size)} in {path}"
    return out
