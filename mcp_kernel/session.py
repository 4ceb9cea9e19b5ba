"""The core API: one facade over the servers, the bindings tree and the sandbox sessions of a user.

The ``%mcp`` magic, the ``mcp-kernel`` command line and plain Python all go through a :class:`Session`;
they only parse arguments and display what it returns. The work is done by the three parts it holds, which
callers may use directly: ``session.servers`` (:class:`~mcp_kernel.servers.Servers`: config, connections,
tools, resources, prompts, sign-in), ``session.bindings`` (:class:`~mcp_kernel.bindings.Bindings`: generated
code, the tree, plugins) and ``session.runner`` (:class:`~mcp_kernel.sandbox.runner.SandboxRunner`: the
sandbox sessions, one by default, and the cells run in them). The methods here are the everyday ones.

For example::

    with Session() as session:
        report = session.introspect("demo")
        print(report.server.name, len(report.tools))
        print(len(session.servers.resources("demo").resources))
    # demo 8
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .bindings import Bindings
from .client import Connection, ConnectionPool
from .config import ServerConfig
from .models import (
    CallRecord,
    CallResult,
    ExecutionResult,
    FileView,
    GenerateReport,
    Introspection,
    PluginInfo,
    SandboxSessionList,
    SearchResults,
    ServerSpec,
    SessionStats,
    TokenReport,
    ToolInfo,
)
from .registry import Detail, ToolRegistry
from .sandbox.policy import SandboxPolicy
from .sandbox.runner import OutputCallback, SandboxRunner, ToolProgress
from .servers import Servers
from .settings import MCPKernel
from .vfs import ROOT, TreeNode, VirtualFS

if TYPE_CHECKING:
    from .auth import SignIn
    from .elicitation import Asker
    from .models import Skill
    from .pii import PIITokenizer
    from .sandbox import Engine, Sandbox
    from .sandbox.sessions import SandboxSessions
    from .skills import SkillStore

    # Which saved skills a call sees: None, the user's; a store (a serve caller's); False, none.
    Skills = SkillStore | Literal[False] | None


__all__ = ["Session"]


class Session:
    """Servers from a config plus any added at run time, their bindings, and sandbox sessions to run code.

    A facade: ``servers``, ``bindings`` and ``runner`` do the work; each method here hands it to one of them.
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
        self.servers = Servers(
            self.settings,
            config=config,
            config_file=config_file,
            timeout=timeout,
            connect_timeout=connect_timeout,
            sign_in=sign_in,
        )
        self.bindings = Bindings(self.servers)
        self.runner = SandboxRunner(self.settings, self.servers, self.bindings)
        self._watches: dict[tuple[str, str], list[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._skills: SkillStore | None = None
        self.closed = False

    @classmethod
    def from_config_file(cls, path: str | None = None, **kwargs: Any) -> Session:
        """A session over the servers of ``path`` (or the default config search order)."""
        return cls(config_file=path, **kwargs)

    # ---- servers (see servers.Servers) -------------------------------------------------------------
    @property
    def pool(self) -> ConnectionPool:
        return self.servers.pool

    @property
    def registry(self) -> ToolRegistry:
        return self.servers.registry

    def add_server(self, spec: ServerSpec, *, replace: bool = False) -> ServerSpec:
        """Make ``spec`` available under its name (started on first use)."""
        return self.servers.add(spec, replace=replace)

    def remove_server(self, name: str) -> None:
        self.servers.remove(name)

    def server_names(self) -> list[str]:
        return self.servers.names()

    def connection(self, name: str) -> Connection:
        return self.servers.connection(name)

    def introspect(self, name: str, *, refresh: bool = False) -> Introspection:
        """Connect to ``name`` and return its handshake info and every tool it publishes."""
        return self.servers.introspect(name, refresh=refresh)

    def tools(self, server: str) -> list[ToolInfo]:
        return self.servers.tools(server)

    def search(
        self,
        query: str,
        *,
        detail: Detail = "summary",
        servers: list[str] | None = None,
        skills: Skills = None,
    ) -> SearchResults:
        """Find tools by name, title or description across introspected servers (or ``servers``), and the
        saved skills (``skills``: default the user's, False for none) beside them."""
        return self.servers.search(query, detail=detail, servers=servers, skills=_latest(self, skills))

    # ---- skills (see skills.SkillStore) ------------------------------------------------------------
    @property
    def skills(self) -> SkillStore:
        """The user's saved skills: functions cells saved with ``save_skill`` (see :mod:`mcp_kernel.skills`)."""
        with self._lock:
            if self._skills is None:
                from .skills import skill_store  # blake3, filelock, tarfile: only once skills are used

                self._skills = skill_store(self.settings)
            return self._skills

    def call(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> CallResult:
        """Call one tool directly (outside the sandbox). In a notebook, the result of a tool with an MCP Apps
        view is shown with that view (see :func:`made_by`)."""
        result = self.servers.call(server, tool, arguments, **kwargs)
        key = id(result)
        _MADE[key] = (weakref.ref(self), dict(arguments or {}))
        weakref.finalize(result, _MADE.pop, key, None)
        return result

    def watch(self, server: str, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Call ``on_update(uri)`` each time ``server`` says the resource at ``uri`` changed (on the loop thread:
        hand the work to another thread, e.g. to read it again); returns the function that stops.

        For example::

            stop = session.watch("board", "board://notices", print)
        """
        stop = self.servers.watch(server, uri, on_update)
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

    # ---- bindings (see bindings.Bindings) ----------------------------------------------------------
    @property
    def vfs(self) -> VirtualFS:
        return self.bindings.vfs

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

    def tree(self, path: str = ROOT, depth: int | None = None, *, skills: Skills = None) -> TreeNode:
        """The tree at ``path``, with the saved skills (default the user's) under ``/mcp-tools/skills``."""
        return self.bindings.tree(path, depth, _files(self, skills))

    def read(self, path: str, *, skills: Skills = None) -> FileView:
        """One file of the tree (a saved skill's source included)."""
        return self.bindings.read(path, _files(self, skills))

    def load_plugin(self, server_id: str, *, store: str | None = None) -> PluginInfo:
        """Load saved bindings of ``server_id`` from a plugin store (checked against their checksum)."""
        return self.bindings.load_plugin(server_id, store=store)

    # ---- sandbox sessions (see sandbox.runner.SandboxRunner) -----------------------------------------
    @property
    def sandboxes(self) -> SandboxSessions:
        """The live sandbox sessions (open / get / close / info)."""
        return self.runner.sessions

    @property
    def current_sandbox(self) -> str:
        """The sandbox session cells run in unless told otherwise."""
        return self.runner.current

    @current_sandbox.setter
    def current_sandbox(self, name: str) -> None:
        self.runner.current = name

    @property
    def last_execution(self) -> ExecutionResult | None:
        return self.runner.last_execution

    def engine(self) -> Engine:
        """The wasmtime engine shared by this session's sandboxes (the component loads on first use)."""
        return self.runner.engine()

    def policy(self, servers: Sequence[str] | None = None, **limits: Any) -> SandboxPolicy:
        """The policy for the next cell: the settings, with these overrides (``timeout``, ``memory_mb``,
        ``fuel``, ``cache``, ``output_limit_kb``, ``disk_mb``, ``tokenize_pii``, ``max_calls`` with 0 for no
        cap, ``max_calls_per_tool``, ``approve``, ``approve_tools``: see
        :func:`mcp_kernel.sandbox.policy.for_cell`).

        ``servers`` defaults to the servers whose bindings were generated in this session.
        """
        return self.runner.policy(servers, **limits)

    def sandbox(
        self,
        on_progress: Callable[[str], None] | None = None,
        *,
        name: str | None = None,
        open_missing: bool = True,
    ) -> Sandbox:
        """A sandbox session by name (default: the current one, opened on first use unless not ``open_missing``)."""
        return self.runner.sandbox(on_progress, name=name, open_missing=open_missing)

    def open_sandbox(self, name: str | None = None, *, use: bool = True) -> str:
        """Open a new sandbox session (named, or with a new handle); make it the current one if ``use``."""
        return self.runner.open(name, use=use)

    def close_sandbox(self, name: str) -> None:
        """Close a sandbox session (its variables, state and workspace are gone)."""
        self.runner.close_session(name)

    def use_sandbox(self, name: str) -> None:
        """Make the live session ``name`` the one cells run in."""
        self.runner.use(name)

    def sandbox_sessions(self) -> SandboxSessionList:
        return self.runner.sessions.info()

    def execute(
        self,
        code: str,
        policy: SandboxPolicy | None = None,
        *,
        on_progress: Callable[[str], None] | None = None,
        on_output: OutputCallback | None = None,
        sandbox: str | None = None,
        open_missing: bool = True,
        on_tool_progress: ToolProgress | None = None,
        asker: Asker | None = None,
        cell_name: str | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        caller: str = "notebook",
        skills: Skills = None,
    ) -> ExecutionResult:
        """Run ``code`` in a sandbox session with ``policy`` (default: :meth:`policy`); tools via the bridge.

        ``sandbox`` names the session (default: the current one); the callbacks get the cell's output, its
        tool calls' progress and records as they come, ``asker`` answers servers' questions and ``caller``
        is who the audit trail says ran the code, ``skills`` what it imports and saves (default the user's
        skills, False none): see
        :meth:`SandboxRunner.execute <mcp_kernel.sandbox.runner.SandboxRunner.execute>`.
        """
        return self.runner.execute(
            code,
            policy,
            on_progress=on_progress,
            on_output=on_output,
            sandbox=sandbox,
            open_missing=open_missing,
            on_tool_progress=on_tool_progress,
            asker=asker,
            cell_name=cell_name,
            on_call=on_call,
            caller=caller,
            skills=_chosen(self, skills),
        )

    def placeholders(self, sandbox: str) -> PIITokenizer:
        """The placeholders for personal data of sandbox session ``sandbox`` (one tokenizer per session)."""
        return self.runner.placeholders(sandbox)

    def reset_sandbox(self) -> None:
        """Start the current sandbox session clean: variables, state and cached tool results (workspace files stay)."""
        self.runner.reset()

    def interrupt(self) -> None:
        """Stop the cell running in the current sandbox session, if any (from any thread)."""
        self.runner.interrupt()

    def warm_up(self, instance: bool = True) -> threading.Thread:
        """Load the sandbox in the background (see :meth:`SandboxRunner.warm_up`), so the first cell does not wait."""
        return self.runner.warm_up(instance)

    def stats(self) -> SessionStats:
        """Bridge, cache and sandbox counters of the current sandbox session."""
        return self.runner.stats()

    # ---- token analysis ----------------------------------------------------------------------------
    def tokens(
        self,
        servers: Sequence[str] | None = None,
        *,
        tools: Sequence[str] | None = None,
        skills: Skills = None,
    ) -> TokenReport:
        """Up-front versus progressive tokens for ``servers`` (default: introspected ones, else all known),
        and the saved ``skills`` (default: the user's) as one more row.

        ``tools`` names the tools a task reads (``tool``, ``server.tool`` or ``skills.<name>``); without it
        the report gives each tool's cost and counts the progressive path as the listing alone.
        """
        return self.bindings.tokens(servers, tools=tools, skills=_latest(self, skills))

    def close(self) -> None:
        """Stop every server this session started, close its sandboxes and remove its temp files."""
        self.closed = True
        self.runner.close()
        self.servers.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The session and arguments of each live result of Session.call, by the result's id (a result model is not
# hashable, and its fields stay the tool's own): what a notebook needs to open the tool's view when it shows it.
_MADE: dict[int, tuple[weakref.ref[Session], dict[str, Any]]] = {}


def made_by(result: CallResult) -> tuple[Session, dict[str, Any]] | None:
    """The open session whose :meth:`Session.call` gave ``result``, and the arguments it was called with (None
    once that session is closed: showing a result never starts its server again).

    >>> made_by(CallResult(server="demo", tool="list_regions")) is None
    True
    """
    made = _MADE.get(id(result))
    session = made[0]() if made is not None else None
    return None if session is None or session.closed or made is None else (session, made[1])


def _chosen(session: Session, skills: Skills) -> SkillStore | None:
    """The skills a call sees: the user's for None, ``skills`` itself, or none for False."""
    return session.skills if skills is None else skills or None


def _latest(session: Session, skills: Skills) -> list[Skill]:
    store = _chosen(session, skills)
    return store.latest() if store is not None else []


def _files(session: Session, skills: Skills) -> dict[str, str] | None:
    store = _chosen(session, skills)
    return store.files() if store is not None else None
