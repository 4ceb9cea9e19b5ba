"""The core API: one facade over the servers, the bindings tree and the sandbox sessions of a user.

The ``%mcp`` magic, the ``mcp-kernel`` command line and plain Python all go through a :class:`Session`;
they only parse arguments and display what it returns. The work is done by three parts it holds:
:class:`~mcp_kernel.servers.Servers` (config, connections, tools), :class:`~mcp_kernel.bindings.Bindings`
(generated code, the tree, plugins) and :class:`~mcp_kernel.sandbox.sessions.SandboxSessions` (the live
sandbox sessions, one by default).

>>> with Session() as session:                                     # doctest: +SKIP
...     report = session.introspect("demo")
...     print(report.server.name, len(report.tools))
demo 8
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from .bindings import Bindings
from .config import MCPKernel, ServerConfig
from .errors import Interrupted, MCPKernelError, SandboxError, ToolNotFound, UsageError
from .models import (
    AuthStatus,
    CallRecord,
    CallResult,
    Completion,
    ExecutionResult,
    FileView,
    GenerateReport,
    Introspection,
    PluginInfo,
    PromptList,
    PromptView,
    ResourceList,
    ResourceRead,
    SandboxSessionList,
    SearchResults,
    ServerList,
    ServerSpec,
    SessionStats,
    TokenReport,
    ToolInfo,
    ValidationReport,
)
from .registry import Detail
from .sandbox.policy import SandboxPolicy
from .servers import Servers
from .vfs import ROOT, TreeNode

if TYPE_CHECKING:
    from .auth import SignIn
    from .elicitation import Asker
    from .plugins import PluginStore
    from .sandbox import Bridge, Engine, Sandbox
    from .sandbox.sessions import SandboxSessions

__all__ = ["Session"]

_SESSION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Session:
    """Servers from a config plus any added at run time, their bindings, and sandbox sessions to run code.

    Long because it is the one public surface: most methods are one-line delegations to ``Servers``,
    ``Bindings`` and ``SandboxSessions``, kept here so the magic, the CLI and plain Python share one API.
    """

    def __init__(
        self,
        config: ServerConfig | str | os.PathLike[str] | None = None,
        *,
        settings: MCPKernel | None = None,
        config_file: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        sign_in: SignIn | None = None,
    ) -> None:
        self.settings = settings if settings is not None else MCPKernel()
        # The timeouts given here are this session's connections' own; the caller's settings are not changed.
        # ``sign_in`` replaces the person's sign-in (link + browser) for servers that need OAuth.
        self._servers = Servers(
            self.settings,
            config=config,
            config_file=config_file,
            timeout=timeout,
            connect_timeout=connect_timeout,
            sign_in=sign_in,
        )
        self.bindings = Bindings(self._servers)
        self.last_execution: ExecutionResult | None = None
        self.current_sandbox = "default"
        self._engine: Engine | None = None
        self._sandboxes: SandboxSessions | None = None
        self._dirs: Path | None = None
        self._watches: dict[tuple[str, str], list[Callable[[], None]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config_file(cls, path: str | None = None, **kwargs: Any) -> Session:
        """A session over the servers of ``path`` (or the default config search order)."""
        return cls(config_file=path, **kwargs)

    # ---- servers (see servers.Servers) -------------------------------------------------------------
    @property
    def config(self) -> ServerConfig:
        return self._servers.config

    @property
    def pool(self) -> Any:
        return self._servers.pool

    @property
    def registry(self) -> Any:
        return self._servers.registry

    @property
    def vfs(self) -> Any:
        return self.bindings.vfs

    def add_server(self, spec: ServerSpec, *, replace: bool = False) -> ServerSpec:
        """Make ``spec`` available under its name (started on first use)."""
        return self._servers.add(spec, replace=replace)

    def remove_server(self, name: str) -> None:
        self._servers.remove(name)

    def spec(self, name: str) -> ServerSpec:
        return self._servers.spec(name)

    def server_names(self) -> list[str]:
        return self._servers.names()

    def connection(self, name: str) -> Any:
        return self._servers.connection(name)

    def servers(self) -> ServerList:
        """Every known server with its transport and whether it is connected now."""
        return self._servers.listing()

    def auth_status(self, name: str) -> AuthStatus:
        """Whether a sign-in to ``name`` is stored: scopes, expiry, the token file (never a token)."""
        return self._servers.auth_status(name)

    def auth_login(self, name: str) -> AuthStatus:
        """Sign in to ``name`` now (a link to open, then the browser's redirect or a pasted address)."""
        return self._servers.auth_login(name)

    def auth_logout(self, name: str) -> AuthStatus:
        """Forget the sign-in to ``name``: its token file is removed and its connection ended."""
        return self._servers.auth_logout(name)

    def introspect(self, name: str, *, refresh: bool = False) -> Introspection:
        """Connect to ``name`` and return its handshake info and every tool it publishes."""
        return self._servers.introspect(name, refresh=refresh)

    def tools(self, server: str) -> list[ToolInfo]:
        return self._servers.tools(server)

    def tool_info(self, server: str, tool: str) -> ToolInfo:
        return self._servers.tool_info(server, tool)

    def search(
        self, query: str, *, detail: Detail = "summary", servers: list[str] | None = None
    ) -> SearchResults:
        """Find tools by name, title or description across introspected servers (or ``servers``)."""
        return self._servers.search(query, detail=detail, servers=servers)

    def call(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> CallResult:
        """Call one tool directly (outside the sandbox)."""
        return self._servers.call(server, tool, arguments, **kwargs)

    def acall(
        self, server: str, tool: str, arguments: dict[str, Any], timeout: float, progress: Any = None
    ) -> Any:
        """The coroutine of one tool call, to run on the loop thread (what the sandbox bridge uses)."""
        return self._servers.acall(server, tool, arguments, timeout, progress)

    def resources(self, server: str) -> ResourceList:
        """The resources and resource templates ``server`` publishes."""
        return self._servers.resources(server)

    def read_resource(self, server: str, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource of ``server`` by URI (text, or blobs with their size and type)."""
        return self._servers.read_resource(server, uri, timeout=timeout)

    def aread_resource(self, server: str, uri: str, timeout: float) -> Any:
        """The coroutine of one read, for the sandbox bridge."""
        return self._servers.aread_resource(server, uri, timeout)

    def watch(self, server: str, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Call ``on_update(uri)`` each time ``server`` says the resource at ``uri`` changed (on the loop thread:
        hand the work to another thread, e.g. to read it again); returns the function that stops.

        >>> stop = session.watch("board", "board://notices", print)     # doctest: +SKIP
        """
        stop = self._servers.watch(server, uri, on_update)
        with self._lock:
            self._watches.setdefault((server, uri), []).append(stop)
        return stop

    def watched(self, server: str, uri: str) -> bool:
        """Whether something in this session follows that resource (see :meth:`watch`)."""
        return bool(self._watches.get((server, uri)))

    def unwatch(self, server: str, uri: str) -> int:
        """Stop every watch of that resource made through this session; return how many there were."""
        with self._lock:
            stops = self._watches.pop((server, uri), [])
        for stop in stops:
            stop()
        return len(stops)

    def prompts(self, server: str) -> PromptList:
        """The prompts ``server`` publishes, with their arguments."""
        return self._servers.prompts(server)

    def prompt(self, server: str, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """Prompt ``name`` of ``server`` filled in with ``arguments``: a conversation."""
        return self._servers.prompt(server, name, arguments)

    def complete(
        self,
        server: str,
        ref: Literal["prompt", "resource"],
        name: str,
        argument: str,
        value: str = "",
        context: dict[str, str] | None = None,
    ) -> Completion:
        """Values ``server`` suggests for ``argument`` of prompt (or resource template) ``name``, starting
        with ``value``, given the ``context`` arguments already chosen (``completion/complete``)."""
        return self._servers.complete(server, ref, name, argument, value, context)

    def validate(self, names: Iterable[str] | None = None) -> ValidationReport:
        """Start each server, do the handshake and list its tools; report what failed and why."""
        return self._servers.validate(names)

    # ---- bindings (see bindings.Bindings) ----------------------------------------------------------
    @property
    def _generated(self) -> dict[str, tuple[str, ...]]:
        return self.bindings.generated

    def generate(
        self,
        server: str,
        *,
        languages: tuple[str, ...] = ("python",),
        out: str | None = None,
        refresh: bool = False,
    ) -> GenerateReport:
        """Generate bindings, manifest and skill for ``server`` into the VFS (and into ``out`` if given)."""
        return self.bindings.generate(server, languages=languages, out=out, refresh=refresh)

    def tree(self, path: str = ROOT, depth: int | None = None) -> TreeNode:
        return self.bindings.tree(path, depth)

    def read(self, path: str) -> FileView:
        return self.bindings.read(path)

    def plugin_store(self, store: str | None = None) -> PluginStore:
        return self.bindings.plugin_store(store)

    def save_plugin(self, server: str, *, store: str | None = None) -> Path:
        return self.bindings.save_plugin(server, store=store)

    def load_plugin(self, server_id: str, *, store: str | None = None) -> PluginInfo:
        return self.bindings.load_plugin(server_id, store=store)

    def plugin_info(
        self, server_id: str, *, store: str | None = None, plugin: Any = None, check_live: bool = True
    ) -> PluginInfo:
        return self.bindings.plugin_info(server_id, store=store, plugin=plugin, check_live=check_live)

    # ---- sandbox sessions --------------------------------------------------------------------------
    def policy(
        self,
        servers: Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        memory_mb: int | None = None,
        fuel: int | None = None,
        cache: bool | None = None,
        output_limit_kb: int | None = None,
        disk_mb: int | None = None,
        tokenize_pii: bool | None = None,
    ) -> SandboxPolicy:
        """The policy for the next cell: the settings, with these overrides.

        ``servers`` defaults to the servers whose bindings were generated in this session.
        """
        settings = self.settings
        return SandboxPolicy.from_limits(
            servers=tuple(servers) if servers is not None else tuple(sorted(self.bindings.generated)),
            timeout_s=timeout or settings.cell_timeout,
            memory_mb=memory_mb or settings.memory_mb,
            fuel=fuel or settings.fuel or None,  # None: what the time limit buys
            output_limit_bytes=(output_limit_kb or settings.output_limit_kb) * 1024,
            rate_limit=settings.rate_limit or None,
            tool_timeout_s=settings.timeout,
            cache=settings.cache if cache is None else cache,
            cache_ttl_s=settings.cache_ttl,
            disk_mb=disk_mb or settings.disk_mb,
            tokenize_pii=settings.tokenize_pii if tokenize_pii is None else tokenize_pii,
            snapshot_limit_bytes=settings.snapshot_limit_mb << 20,
        )

    def engine(self) -> Engine:
        """The wasmtime engine shared by this session's sandboxes (the component loads on first use)."""
        with self._lock:
            if self._engine is None:
                from .sandbox import Engine

                self._engine = Engine()
            return self._engine

    @property
    def sandboxes(self) -> SandboxSessions:
        """The live sandbox sessions (open / get / close / info)."""
        with self._lock:
            if self._sandboxes is None:
                from .sandbox.sessions import SandboxSessions

                settings = self.settings
                self._sandboxes = SandboxSessions(
                    self._new_sandbox,
                    max_sessions=settings.max_sessions,
                    idle_timeout_s=settings.session_idle_timeout or None,
                    memory_budget_mb=settings.memory_budget_mb or None,
                    per_caller_sessions=settings.max_sessions_per_caller,
                    per_caller_memory_mb=settings.memory_budget_per_caller_mb or None,
                    per_caller_executes=settings.max_executes_per_caller,
                )
            return self._sandboxes

    def _session_dirs(self) -> Path:
        with self._lock:
            if self._dirs is None:
                self._dirs = Path(tempfile.mkdtemp(prefix="mcp-kernel-session-"))
            return self._dirs

    def _new_sandbox(self, handle: str) -> Sandbox:
        from .sandbox import Bridge, Sandbox

        root = self._session_dirs()
        bridge = Bridge(lookup=self.tool_info, acall=self.acall, aread=self.aread_resource)
        tools = self.bindings.sync(root / "mcp-tools")
        # A directory of its own even when a handle is reused after a close (the old one is being removed).
        workspace = Path(tempfile.mkdtemp(prefix=f"{handle[:20]}-", dir=_mkdir(root / "workspaces")))
        return Sandbox(
            self.engine(),
            host=bridge,
            tools_dir=tools,
            workspace=workspace,
            name=handle,
            remove_workspace=True,
        )

    def sandbox(
        self,
        on_progress: Callable[[str], None] | None = None,
        *,
        name: str | None = None,
        open_missing: bool = True,
    ) -> Sandbox:
        """A sandbox session by name (default: the current one, opened on first use unless not ``open_missing``)."""
        engine = self.engine()
        if on_progress is not None:
            engine.on_progress = on_progress
        name = name or self.current_sandbox
        return self.sandboxes.get_or_open(name) if open_missing else self.sandboxes.get(name)

    def open_sandbox(self, name: str | None = None, *, use: bool = True) -> str:
        """Open a new sandbox session (named, or with a new handle); make it the current one if ``use``."""
        if name is not None and not _SESSION_NAME.fullmatch(name):
            raise UsageError(
                f"A sandbox session name is 1-64 letters, digits, '-' or '_'; got {name[:70]!r}."
            )
        handle = self.sandboxes.open(name)
        if use:
            self.current_sandbox = handle
        return handle

    def close_sandbox(self, name: str) -> None:
        """Close a sandbox session (its variables, state and workspace are gone)."""
        self.sandboxes.close(name)
        if name == self.current_sandbox:
            self.current_sandbox = "default"

    def use_sandbox(self, name: str) -> None:
        """Make the live session ``name`` the one cells run in."""
        self.sandboxes.get(name)
        self.current_sandbox = name

    def sandbox_sessions(self) -> SandboxSessionList:
        return self.sandboxes.info()

    def execute(
        self,
        code: str,
        policy: SandboxPolicy | None = None,
        *,
        on_progress: Callable[[str], None] | None = None,
        on_output: Callable[[str, str], None] | None = None,
        sandbox: str | None = None,
        open_missing: bool = True,
        on_tool_progress: Callable[[str, str, float, float | None, str | None], None] | None = None,
        asker: Asker | None = None,
        cell_name: str | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> ExecutionResult:
        """Run ``code`` in a sandbox session with ``policy`` (default: :meth:`policy`); tools via the bridge.

        ``cell_name`` is how tracebacks name the cell (``[9]`` as the notebook numbers it; default: the
        sandbox's own count).

        ``sandbox`` names the session (default: the current one); ``on_output(stream, text)`` receives
        output as it is printed; ``on_tool_progress(server, tool, value, total, message)`` the progress its
        tool calls report (called on the loop thread); ``asker`` answers the questions servers ask during
        the code's tool calls (default: none, they are declined), on the calling thread; ``on_call(record)``
        each call's record as it ends (on the guest's thread; for a live count).
        """
        from .tokens import sandbox_savings

        policy = policy or self.policy()
        self.bindings.ensure(policy.servers)
        self.bindings.refresh_changed(policy.servers)
        box = self.sandbox(on_progress, name=sandbox, open_missing=open_missing)
        self.bindings.sync(self._session_dirs() / "mcp-tools")
        # Modules of bindings regenerated since this session's last cell are imported afresh.
        fresh = {
            sid: n for sid, n in self.bindings.generations.items() if box.binding_generations.get(sid) != n
        }
        box.binding_generations.update(fresh)
        bridge = cast("Bridge", box.host)
        bridge.apply(policy)
        pii = self._pii(bridge) if policy.tokenize_pii else None
        if pii is not None and on_output is not None:
            show = on_output
            on_output = lambda stream, text: show(stream, pii.tokenize(text)[0])  # noqa: E731
        if pii is not None and on_tool_progress is not None:  # a tool's progress note quotes what it works on
            from .masking import Mask

            report, mask = on_tool_progress, Mask(pii)
            on_tool_progress = lambda server, tool, value, total, note: report(  # noqa: E731
                server, tool, value, total, mask(note)
            )
        bridge.on_progress = (
            on_tool_progress  # progress of this cell's tool calls (server, tool, value, total, note)
        )
        bridge.asker = asker
        bridge.on_call = on_call
        bridge.take_records()
        try:
            result = box.execute(
                code, policy, on_output=on_output, reload=sorted(fresh), asker=asker, cell_name=cell_name
            )
        except (SandboxError, Interrupted) as exc:
            records = bridge.take_records()
            if isinstance(exc.result, ExecutionResult):
                exc.result = exc.result.model_copy(update={"calls": records})
                if pii is not None:
                    exc.result = _tokenized(exc.result, pii)
            if pii is not None:
                exc.args = (pii.tokenize(str(exc))[0],)
            raise
        records = bridge.take_records()
        tokens = sandbox_savings(
            [r.result_text or "" for r in records if r.error is None],
            result.stdout + result.stderr,
            result.value_repr,
        )
        result = result.model_copy(update={"calls": records, "tokens": tokens})
        if pii is not None:
            result = _tokenized(result, pii)
        self.last_execution = result
        return result

    def placeholders(self, sandbox: str) -> Any:
        """The :class:`~mcp_kernel.pii.PIITokenizer` of sandbox session ``sandbox``: one per session, so a value
        has the same placeholder in its cells' output and in everything serve sends about them.

        >>> session.placeholders(handle).tokenize("ana@example.com")     # doctest: +SKIP
        ('<EMAIL_1>', 1)
        """
        return self._pii(cast("Bridge", self.sandboxes.get(sandbox).host))

    def _pii(self, bridge: Bridge) -> Any:
        """The sandbox session's placeholders for personal data (made on first use, kept in host memory)."""
        if bridge.pii is None:
            from .pii import PIITokenizer

            bridge.pii = PIITokenizer(self.settings.pii_patterns)
        return bridge.pii

    def reset_sandbox(self) -> None:
        """Start the current sandbox session clean: variables, state and cached tool results (workspace files stay)."""
        if self._sandboxes is not None and self.current_sandbox in self._sandboxes:
            box = self._sandboxes.get(self.current_sandbox)
            box.reset()
            cast("Bridge", box.host).cache.clear()

    def interrupt(self) -> None:
        """Stop the cell running in the current sandbox session, if any (from any thread)."""
        if self._sandboxes is not None and self.current_sandbox in self._sandboxes:
            self._sandboxes.get(self.current_sandbox).interrupt()

    def warm_up(self, instance: bool = True) -> threading.Thread:
        """Load the sandbox in the background, so the first cell does not wait for it: the current sandbox
        session's instance (through its owner), or with ``instance=False`` only what every sandbox session
        shares (wasmtime and the compiled component; serve, whose sessions open per agent, does this).

        Tokens and JSON Schema checks are loaded too. Does nothing visible if the component is not built yet;
        a failure is shown by the first cell.
        """
        from .sandbox.engine import is_cached

        cached = is_cached()
        if cached and instance:
            self.sandbox().warm_up()

        def load() -> None:
            from .tokens import tokenizer

            if cached and not instance:
                try:
                    self.engine().component()
                except MCPKernelError:  # shown by the first cell, which loads it again
                    pass
            tokenizer()  # the cell footer counts tokens; loading the BPE takes ~0.14-0.6 s
            # In this thread, not another: the thread returned has loaded everything (see
            # sandbox.bridge._warm_jsonschema for why the first tool call would wait for it).
            import jsonschema  # noqa: F401

        thread = threading.Thread(target=load, name="mcp-kernel-warm-up", daemon=True)
        thread.start()
        return thread

    # ---- token analysis ----------------------------------------------------------------------------
    def tokens(
        self, servers: Sequence[str] | None = None, *, tools: Sequence[str] | None = None
    ) -> TokenReport:
        """Up-front versus progressive tokens for ``servers`` (default: introspected ones, else all known).

        ``tools`` names the tools a task reads (``tool`` or ``server.tool``); without it the report gives
        each tool's cost and counts the progressive path as the listing alone.
        """
        from .codegen import binding_paths
        from .tokens import upfront_vs_progressive

        names = list(servers or self.registry.servers() or self.server_names())
        data = {}
        for name in names:
            self.bindings.ensure([name])
            server_tools = self.registry.tools(name)
            data[name] = (server_tools, self.bindings.server_files(name), binding_paths(name, server_tools))
        read = None
        if tools is not None:
            read = {name: set() for name in names}
            for item in tools:
                server, _, tool = (
                    item.rpartition(".") if "." in item and item.split(".")[0] in names else ("", "", item)
                )
                owners = [server] if server else [n for n in names if any(t.name == tool for t in data[n][0])]
                if not owners:
                    raise ToolNotFound(f"No tool {item!r} in {', '.join(names)}.", tool=item)
                for owner in owners:
                    read[owner].add(tool)
        return upfront_vs_progressive(data, read=read)

    def stats(self) -> SessionStats:
        """Bridge, cache and sandbox counters of the current sandbox session."""
        from .sandbox import BridgeStats

        box = None
        if self._sandboxes is not None and self.current_sandbox in self._sandboxes:
            box = self._sandboxes.get(self.current_sandbox)
        bridge = cast("Bridge", box.host).stats() if box is not None else BridgeStats()
        return SessionStats(
            bridge=bridge,
            cells=box.cells if box is not None else 0,
            servers_connected=self._servers.connected_count(),
            generated=sorted(self.bindings.generated),
            vfs_files=len(self.vfs.files),
            engine_timings=dict(self._engine.timings) if self._engine is not None else {},
            storage=_storage(),
        )

    def close(self) -> None:
        """Stop every server this session started, close its sandboxes and remove its temp files."""
        if self._sandboxes is not None:
            self._sandboxes.close_all()
            self._sandboxes = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._dirs is not None:
            shutil.rmtree(self._dirs, ignore_errors=True)
            self._dirs = None
        self._servers.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tokenized(result: ExecutionResult, pii: Any) -> ExecutionResult:
    """``result`` with personal data replaced in everything that leaves the sandbox; counts the values."""
    import json

    from .masking import Mask

    stdout, a = pii.tokenize(result.stdout)
    stderr, b = pii.tokenize(result.stderr)
    value_repr, c = pii.tokenize(result.value_repr) if result.value_repr is not None else (None, 0)
    value_json, d = None, 0
    if result.value_json is not None:
        value, d = pii.tokenize_value(json.loads(result.value_json))
        value_json = json.dumps(value)
    error, e = result.error, 0
    if error is not None:
        message, e1 = pii.tokenize(error.message)
        traceback, e2 = pii.tokenize(error.traceback)
        error, e = error.model_copy(update={"message": message, "traceback": traceback}), e1 + e2
    mask = Mask(pii)  # the calls' errors quote what servers said (their own error text, a schema error)
    return result.model_copy(
        update={
            "stdout": stdout,
            "stderr": stderr,
            "value_repr": value_repr,
            "value_json": value_json,
            "error": error,
            "calls": mask(result.calls),
            "note": mask(result.note),
            "pii_replaced": a + b + c + d + e,
        }
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _du(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()] if path.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def _storage() -> dict[str, str]:
    """Sizes of what mcp-kernel keeps on disk."""
    from .config import cache_dir, data_dir, log_dir
    from .display import filesize

    out = {}
    for label, path in (
        ("cache (compiled sandbox component)", cache_dir() / "components"),
        ("plugins (saved bindings)", data_dir() / "plugins"),
        ("logs (server stderr)", log_dir()),
    ):
        count, size = _du(path)
        out[label] = f"{count} files, {filesize(size)} in {path}"
    return out
