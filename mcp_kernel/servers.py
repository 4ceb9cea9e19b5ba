"""The servers a user works with: configured and added ones, their pooled connections and their tools.

For example::

    servers = Servers()
    servers.introspect("demo").server.name
    # 'mcp-kernel-demo'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from .approvals import server_rules
from .client import Connection, ConnectionPool
from .config import ServerConfig, check_server_ids, load_config
from .errors import ConfigError, MCPKernelError, ServerNotFound
from .models import (
    AuthStatus,
    CallResult,
    Completion,
    Introspection,
    PromptList,
    PromptView,
    ResourceList,
    ResourceRead,
    SearchResults,
    ServerEntry,
    ServerList,
    ServerSpec,
    ToolInfo,
    ValidationReport,
    ValidationRow,
)
from .registry import Detail, ToolRegistry
from .settings import MCPKernel

if TYPE_CHECKING:
    from .auth import SignIn, SignInMode
    from .models import SkillInfo

__all__ = ["Servers"]


class Servers:
    """Servers from a config plus any added at run time, one pooled connection each, and their tools."""

    def __init__(
        self,
        settings: MCPKernel,
        *,
        config: ServerConfig | str | os.PathLike[str] | None = None,
        config_file: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        sign_in: SignIn | None = None,
    ) -> None:
        self.settings = settings
        if isinstance(config, (str, os.PathLike)):  # Session("mcp.json") reads that file (on first use)
            config_file = str(os.fspath(config))
            config = None
        self._config = config
        self._config_file = config_file or settings.config_file or None
        self.pool = ConnectionPool(
            timeout=timeout or settings.timeout,
            connect_timeout=connect_timeout or settings.connect_timeout,
            roots=settings.roots,
            sign_in=sign_in,
            sign_in_mode=cast("SignInMode", settings.sign_in),
        )
        self.registry = ToolRegistry()

    @property
    def config(self) -> ServerConfig:
        """The servers of the config file, read on first use (so a broken file only hurts what needs it)."""
        if self._config is None:
            self._config = load_config(self._config_file)
        return self._config

    def add(self, spec: ServerSpec, *, replace: bool = False) -> ServerSpec:
        """Make ``spec`` available under its name (started on first use)."""
        check_server_ids([*(n for n in self.names() if n != spec.name), spec.name], "add")
        self.pool.add(spec, replace=replace)
        return spec

    def remove(self, name: str) -> None:
        self.pool.remove(name)
        self.registry.forget(name)

    def spec(self, name: str) -> ServerSpec:
        """The spec of an added or configured server."""
        if name in self.pool:
            return self.pool.get(name).spec
        return self.config.get(name)

    def approval_rules(self, names: Iterable[str]) -> dict[str, str]:
        """The approval rules the ``approve`` keys of these servers' entries give (approvals.py). A server
        that cannot be looked up gives none: calling it fails with its own error."""
        rules: dict[str, str] = {}
        for name in names:
            try:
                rules.update(server_rules(name, self.spec(name).approve))
            except MCPKernelError:
                continue
        return rules

    def names(self) -> list[str]:
        """Added and configured servers (the demo server included)."""
        return sorted({*self.pool.names(), *self.config.names()})

    def connection(self, name: str) -> Connection:
        """The pooled connection for ``name``, registering a configured server on first use."""
        if name not in self.pool:
            self.pool.add(self.config.get(name))
        return self.pool.get(name)

    def listing(self) -> ServerList:
        """Every known server with its transport and whether it is connected now."""
        entries = []
        for name in self.names():
            # Not started yet: the spec as written, so an unset ${VAR} of one server does not break the list.
            spec = self.pool.get(name).spec if name in self.pool else self.config.declared(name)
            conn = self.pool.get(name) if name in self.pool else None
            entries.append(
                ServerEntry(
                    name=name,
                    transport=spec.transport,
                    target=spec.describe(),
                    connected=bool(conn and conn.connected),
                    source="session"
                    if name in self.pool and name not in self.config.servers
                    else (self.config.source if name in self.config.servers else "built-in"),
                )
            )
        return ServerList(servers=entries)

    def introspect(self, name: str, *, refresh: bool = False) -> Introspection:
        """Connect to ``name`` and return its handshake info and every tool it publishes."""
        conn = self.connection(name)
        started = time.perf_counter()
        info = conn.connect()
        tools = conn.list_tools(refresh=refresh)
        self.registry.register(name, info, tools)
        return Introspection(
            server_name=name, server=info, tools=tools, duration_ms=(time.perf_counter() - started) * 1000
        )

    def ensure(self, name: str, *, listing: bool = False) -> None:
        """Introspect ``name`` unless its tools are known and still fresh (within the server's ``ttlMs``).

        A ``listing`` (tools shown or searched) also asks again when the server's ``ttlMs`` was 0; a call's
        schema lookup does not (see ``Connection.tools_expired``).
        """
        conn = self.pool.get(name) if name in self.pool else None
        stale = conn is not None and (conn.tools_stale if listing else conn.tools_expired)
        if name not in self.registry.servers() or stale:
            self.introspect(name)

    def tools(self, server: str) -> list[ToolInfo]:
        """The tools of ``server``, introspecting it first if needed."""
        self.ensure(server, listing=True)
        return self.registry.tools(server)

    def tool_info(self, server: str, tool: str) -> ToolInfo:
        """One tool's definition, introspecting its server first if needed."""
        self.ensure(server)
        return self.registry.tool(server, tool)

    def search(
        self,
        query: str,
        *,
        detail: Detail = "summary",
        servers: list[str] | None = None,
        skills: Sequence[SkillInfo] = (),
    ) -> SearchResults:
        """Find tools by name, title or description across introspected servers (or ``servers``), and
        ``skills`` beside them."""
        for name in servers or []:
            self.ensure(name, listing=True)
        if not self.registry.servers() and not skills:
            raise ServerNotFound(
                "No server has been introspected yet. Run `introspect SERVER` first, or pass --server NAME."
            )
        return self.registry.search(query, detail=detail, servers=servers, skills=skills)

    def call(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> CallResult:
        """Call one tool directly (outside the sandbox)."""
        return self.connection(server).call_tool(tool, arguments, **kwargs)

    def acall(
        self, server: str, tool: str, arguments: dict[str, Any], timeout: float, progress: Any = None
    ) -> Coroutine[Any, Any, CallResult]:
        """The coroutine of one call, to run on the loop thread (the sandbox bridge's way in)."""
        return self.connection(server).acall_tool(tool, arguments, timeout=timeout, progress=progress)

    def resources(self, server: str) -> ResourceList:
        """The resources and resource templates ``server`` publishes."""
        return self.connection(server).list_resources()

    def read_resource(self, server: str, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource of ``server`` by URI."""
        return self.connection(server).read_resource(uri, timeout=timeout)

    def aread_resource(self, server: str, uri: str, timeout: float) -> Coroutine[Any, Any, ResourceRead]:
        """The coroutine of one read, to run on the loop thread (the sandbox bridge's way in)."""
        return self.connection(server).aread_resource(uri, timeout=timeout)

    def watch(self, server: str, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Follow updates of one resource of ``server``; returns the function that stops."""
        return self.connection(server).watch(uri, on_update)

    def prompts(self, server: str) -> PromptList:
        """The prompts ``server`` publishes."""
        return self.connection(server).list_prompts()

    def prompt(self, server: str, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """One prompt of ``server`` filled in with ``arguments``."""
        return self.connection(server).get_prompt(name, arguments)

    def complete(
        self,
        server: str,
        ref: Literal["prompt", "resource"],
        name: str,
        argument: str,
        value: str = "",
        context: dict[str, str] | None = None,
    ) -> Completion:
        """Values ``server`` suggests for ``argument`` of a prompt or resource template."""
        return self.connection(server).complete(ref, name, argument, value, context)

    def validate(self, names: Iterable[str] | None = None) -> ValidationReport:
        """Start each server, do the handshake and list its tools; report what failed and why."""
        rows = []
        for name in list(names) if names is not None else self.names():
            started = time.perf_counter()
            try:
                report = self.introspect(name, refresh=True)
            except ServerNotFound:
                raise
            except MCPKernelError as exc:
                rows.append(
                    ValidationRow(
                        name=name,
                        ok=False,
                        error=f"{type(exc).__name__}: {exc}",
                        duration_ms=(time.perf_counter() - started) * 1000,
                    )
                )
            else:
                rows.append(
                    ValidationRow(
                        name=name,
                        ok=True,
                        tools=len(report.tools),
                        protocol_version=report.server.protocol_version,
                        duration_ms=(time.perf_counter() - started) * 1000,
                    )
                )
        return ValidationReport(rows=rows)

    # ---- sign-in (see auth.py) ------------------------------------------------------------------------------
    def _token_store(self, name: str) -> tuple[ServerSpec, Any]:
        from .auth import TokenStore  # the SDK's OAuth: only for servers that sign in

        spec = self.spec(name)
        if spec.oauth is None or spec.url is None:
            return spec, None
        return spec, TokenStore(spec.name, spec.url)

    def auth_status(self, name: str, action: Literal["status", "login", "logout"] = "status") -> AuthStatus:
        """Whether a sign-in to ``name`` is stored (never the tokens themselves)."""
        spec, store = self._token_store(name)
        if store is None:
            return AuthStatus(server=name, configured=False, signed_in=False, action=action)
        return AuthStatus(
            server=name,
            configured=True,
            action=action,
            grant=spec.oauth.grant if spec.oauth else None,
            token_file=str(store.path),
            **store.status(),
        )

    def auth_login(self, name: str) -> AuthStatus:
        """Sign in to ``name`` now, afresh (its stored tokens are dropped first; the registration is kept)."""
        _, store = self._token_store(name)
        if store is None:
            raise ConfigError(
                f"Server {name!r} has no oauth block in mcp.json, so there is nothing to sign in to. "
                f'Add "oauth": {{}} to its entry (see `mcp-kernel server info {name}`).'
            )
        # ~6 ms: only when something may ask the person
        from .elicitation import attached, current, terminal_asker

        store.forget_tokens()
        conn = self.connection(name)
        conn.close()  # the next connection starts without the tokens it held
        with attached(current() or terminal_asker()):  # the magic attaches the kernel's; else the terminal's
            conn.connect()
        return self.auth_status(name, "login")

    def auth_logout(self, name: str) -> AuthStatus:
        """Forget the sign-in to ``name`` (tokens and registration) and end its connection."""
        _, store = self._token_store(name)
        if name in self.pool:
            self.pool.get(name).close()
        if store is not None:
            store.clear()
        return self.auth_status(name, "logout")

    def connected_count(self) -> int:
        return sum(1 for n in self.pool.names() if self.pool.get(n).connected)

    def close(self) -> None:
        """Stop every server started here."""
        self.pool.close()
