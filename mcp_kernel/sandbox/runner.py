"""Running a user's code: the sandbox sessions of a :class:`~mcp_kernel.session.Session` and what a cell needs.

A :class:`SandboxRunner` holds the engine its sandbox sessions share, the sessions themselves
(:class:`~mcp_kernel.sandbox.sessions.SandboxSessions`, one named ``default`` for the kernel) and a temporary
directory with the bindings tree and each session's workspace. For each cell it builds the policy from the
settings, generates and syncs the bindings the policy grants, points the session's bridge at the servers,
runs the code and adds the tool calls' records, token figures and the views it asked for with ``show()``
(views.py) to the result; with ``tokenize_pii`` it replaces personal data in everything that leaves the
sandbox by the session's placeholders.

For example::

    runner = SandboxRunner(settings, servers, bindings)
    runner.execute("from servers.demo import list_regions\\nlen(list_regions()['regions'])").value
    # 5
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..audit import guards_for
from ..errors import Interrupted, MCPKernelError, SandboxError, UsageError
from ..models import BridgeStats, CallBudgetReport, CallRecord, ExecutionResult, SessionStats
from ..paths import cache_dir, data_dir, log_dir
from ..traces import ExecuteTrace
from .bridge import Bridge
from .engine import Engine, is_cached
from .policy import SandboxPolicy, for_cell
from .session import Sandbox
from .sessions import SandboxSessions
from .skills import check_imports, discard_saved, sync, take_saved
from .views import CellViews, masked

if TYPE_CHECKING:
    from ..bindings import Bindings
    from ..elicitation import Asker
    from ..pii import PIITokenizer
    from ..servers import Servers
    from ..settings import MCPKernel
    from ..skills import SkillStore

__all__ = ["SandboxRunner"]

_SESSION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
OutputCallback = Callable[[str, str], None]  # (stream, text)
ToolProgress = Callable[
    [str, str, float, float | None, str | None], None
]  # (server, tool, value, total, note)


class SandboxRunner:
    """The sandbox sessions of one user and the cells run in them, with tools of ``servers`` and ``bindings``."""

    def __init__(self, settings: MCPKernel, servers: Servers, bindings: Bindings) -> None:
        self.settings = settings
        self.servers = servers
        self.bindings = bindings
        self.current = "default"  # the sandbox session cells run in unless told otherwise
        self.last_execution: ExecutionResult | None = None
        self._engine: Engine | None = None
        self._sessions: SandboxSessions | None = None
        self._dirs: Path | None = None
        self._lock = threading.Lock()

    # ---- the parts, made on first use --------------------------------------------------------------
    def engine(self) -> Engine:
        """The wasmtime engine shared by these sandbox sessions (the component loads on first use)."""
        with self._lock:
            if self._engine is None:
                self._engine = Engine()
            return self._engine

    @property
    def sessions(self) -> SandboxSessions:
        """The live sandbox sessions (open / get / close / info)."""
        with self._lock:
            if self._sessions is None:
                settings = self.settings
                self._sessions = SandboxSessions(
                    self._new_sandbox,
                    max_sessions=settings.max_sessions,
                    idle_timeout_s=settings.session_idle_timeout or None,
                    memory_budget_mb=settings.memory_budget_mb or None,
                    per_caller_sessions=settings.max_sessions_per_caller,
                    per_caller_memory_mb=settings.memory_budget_per_caller_mb or None,
                    per_caller_executes=settings.max_executes_per_caller,
                )
            return self._sessions

    def _current(self) -> Sandbox | None:
        """The current sandbox session if it is open (never opens one)."""
        if self._sessions is not None and self.current in self._sessions:
            return self._sessions.get(self.current)
        return None

    def _session_dirs(self) -> Path:
        """The temporary directory of these sessions: the bindings tree and one workspace per session."""
        with self._lock:
            if self._dirs is None:
                self._dirs = Path(tempfile.mkdtemp(prefix="mcp-kernel-session-"))
            return self._dirs

    def _new_sandbox(self, handle: str) -> Sandbox:
        root = self._session_dirs()
        servers = self.servers
        bridge = Bridge(lookup=servers.tool_info, acall=servers.acall, aread=servers.aread_resource)
        bridge.views = CellViews(servers.tool_info)  # show(result) in its cells
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
            skills_dir=_mkdir(workspace.with_name(workspace.name + ".skills")),
        )

    # ---- sandbox sessions --------------------------------------------------------------------------
    def policy(self, servers: Sequence[str] | None = None, **limits: Any) -> SandboxPolicy:
        """The policy for the next cell: the settings, with these overrides (see :func:`~.policy.for_cell`).

        ``servers`` defaults to the servers whose bindings were generated in this session; their entries in
        mcp.json give their approval rules.
        """
        chosen = tuple(servers) if servers is not None else tuple(sorted(self.bindings.generated))
        return for_cell(self.settings, chosen, self.servers.approval_rules(chosen), **limits)

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
        name = name or self.current
        return self.sessions.get_or_open(name) if open_missing else self.sessions.get(name)

    def open(self, name: str | None = None, *, use: bool = True) -> str:
        """Open a new sandbox session (named, or with a new handle); make it the current one if ``use``."""
        if name is not None and not _SESSION_NAME.fullmatch(name):
            raise UsageError(
                f"A sandbox session name is 1-64 letters, digits, '-' or '_'; got {name[:70]!r}."
            )
        handle = self.sessions.open(name)
        if use:
            self.current = handle
        return handle

    def close_session(self, name: str) -> None:
        """Close a sandbox session (its variables, state and workspace are gone)."""
        self.sessions.close(name)
        if name == self.current:
            self.current = "default"

    def use(self, name: str) -> None:
        """Make the live session ``name`` the one cells run in."""
        self.sessions.get(name)
        self.current = name

    # ---- cells -------------------------------------------------------------------------------------
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
        skills: SkillStore | None = None,
    ) -> ExecutionResult:
        """Run ``code`` in a sandbox session with ``policy`` (default: :meth:`policy`); tools via the bridge.

        ``cell_name`` is how tracebacks name the cell (``[9]`` as the notebook numbers it; default: the
        sandbox's own count).

        ``sandbox`` names the session (default: the current one); ``on_output(stream, text)`` receives
        output as it is printed; ``on_tool_progress(server, tool, value, total, message)`` the progress its
        tool calls report (called on the loop thread); ``asker`` answers the questions servers ask during
        the code's tool calls (default: none, they are declined), on the calling thread; ``on_call(record)``
        each call's record as it ends (on the guest's thread; for a live count); ``caller`` is who ran it.
        ``skills`` are the saved skills the code may import and where ``save_skill`` saves (none if None);
        the result's note says what was saved.
        """
        policy = policy or self.policy()
        check_imports(
            code, skills, policy
        )  # before anything changes: a refused cell leaves the session as it was
        self.bindings.ensure(policy.servers)
        self.bindings.refresh_changed(policy.servers)
        box = self.sandbox(on_progress, name=sandbox, open_missing=open_missing)
        self.bindings.sync(self._session_dirs() / "mcp-tools")
        # Modules of bindings regenerated since this session's last cell are imported afresh.
        fresh = {
            sid: n for sid, n in self.bindings.generations.items() if box.binding_generations.get(sid) != n
        }
        box.binding_generations.update(fresh)
        reload = [f"servers.{sid}" for sid in sorted(fresh)]
        if sync(box, skills, self.bindings.vfs):
            reload.append("skills")  # saved since its last cell: imported afresh
        bridge = cast("Bridge", box.host)
        bridge.apply(policy)
        pii = self._pii(bridge) if policy.tokenize_pii else None
        if pii is not None:
            on_output, on_tool_progress = _masked(pii, on_output, on_tool_progress)
        bridge.on_progress = (
            on_tool_progress  # progress of this cell's tool calls (server, tool, value, total, note)
        )
        bridge.asker = asker
        trace = ExecuteTrace(box.name)  # a span with its calls' spans, when tracing is on (traces.py)
        bridge.acall, bridge.on_call = trace.caller(self.servers.acall), trace.recording(on_call)
        bridge.caller, bridge.guards = caller, guards_for(self.settings)
        bridge.take_records()
        if bridge.views is not None:
            bridge.views.take()  # what a stopped cell left
        with trace:
            try:
                result = box.execute(
                    code, policy, on_output=on_output, reload=reload, asker=asker, cell_name=cell_name
                )
            except (SandboxError, Interrupted) as exc:
                discard_saved(box)
                records = bridge.take_records()
                if isinstance(exc.result, ExecutionResult):
                    exc.result = exc.result.model_copy(update={"calls": records, "budget": _budget(bridge)})
                    if pii is not None:
                        exc.result = _tokenized(exc.result, pii)
                if pii is not None:
                    exc.args = (pii.tokenize(str(exc))[0],)
                raise
            trace.outcome(result)
        error = None if result.error is None else result.error.type
        result = _finished(result, bridge, take_saved(box, skills, error))
        if pii is not None:
            result = _tokenized(result, pii)
        self.last_execution = result
        return result

    def placeholders(self, sandbox: str) -> PIITokenizer:
        """The :class:`~mcp_kernel.pii.PIITokenizer` of sandbox session ``sandbox``: one per session, so a value
        has the same placeholder in its cells' output and in everything serve sends about them.

        For example::

            runner.placeholders(handle).tokenize("ana@example.com")
            # ('<EMAIL_1>', 1)
        """
        return self._pii(cast("Bridge", self.sessions.get(sandbox).host))

    def _pii(self, bridge: Bridge) -> PIITokenizer:
        """The sandbox session's placeholders for personal data (made on first use, kept in host memory)."""
        if bridge.pii is None:
            from ..pii import PIITokenizer  # its patterns compile only for a session that tokenizes

            bridge.pii = PIITokenizer(self.settings.pii_patterns)
        return cast("PIITokenizer", bridge.pii)

    def reset(self) -> None:
        """Start the current sandbox session clean: variables, state and cached tool results (workspace files stay)."""
        box = self._current()
        if box is not None:
            box.reset()
            cast("Bridge", box.host).cache.clear()

    def interrupt(self) -> None:
        """Stop the cell running in the current sandbox session, if any (from any thread)."""
        box = self._current()
        if box is not None:
            box.interrupt()

    def warm_up(self, instance: bool = True) -> threading.Thread:
        """Load the sandbox in the background, so the first cell does not wait for it: the current sandbox
        session's instance (through its owner), or with ``instance=False`` only what every sandbox session
        shares (wasmtime and the compiled component; serve, whose sessions open per agent, does this).

        Tokens and JSON Schema checks are loaded too. Does nothing visible if the component is not built yet;
        a failure is shown by the first cell.
        """
        cached = is_cached()
        if cached and instance:
            self.sandbox().warm_up()

        def load() -> None:
            from ..tokens import tokenizer  # loading it is what this thread is for

            if cached and not instance:
                with contextlib.suppress(MCPKernelError):  # shown by the first cell, which loads it again
                    self.engine().component()
            tokenizer()  # the cell footer counts tokens; loading the BPE takes ~0.14-0.6 s
            # In this thread, not another: the thread returned has loaded everything (see
            # sandbox.params.warm_jsonschema for why the first tool call would wait for it).
            importlib.import_module("jsonschema")

        thread = threading.Thread(target=load, name="mcp-kernel-warm-up", daemon=True)
        thread.start()
        return thread

    def stats(self) -> SessionStats:
        """Bridge, cache and sandbox counters of the current sandbox session."""
        box = self._current()
        bridge = cast("Bridge", box.host).stats() if box is not None else BridgeStats()
        return SessionStats(
            bridge=bridge,
            cells=box.cells if box is not None else 0,
            servers_connected=self.servers.connected_count(),
            generated=sorted(self.bindings.generated),
            vfs_files=len(self.bindings.vfs.files),
            engine_timings=dict(self._engine.timings) if self._engine is not None else {},
            storage=_storage(),
        )

    def close(self) -> None:
        """Close every sandbox session and the engine, and remove the temporary directory."""
        if self._sessions is not None:
            self._sessions.close_all()
            self._sessions = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._dirs is not None:
            shutil.rmtree(self._dirs, ignore_errors=True)
            self._dirs = None


def _finished(result: ExecutionResult, bridge: Bridge, saved: list[str]) -> ExecutionResult:
    """``result`` with the cell's call records, its token savings, its budget and what it ``saved`` as skills."""
    from ..tokens import sandbox_savings  # the tokenizer loads with the first cell (or the warm-up)

    records = bridge.take_records()
    views = bridge.views.take() if bridge.views is not None else []
    tokens = sandbox_savings(
        [r.result_text or "" for r in records if r.error is None],
        result.stdout + result.stderr,
        result.value_repr,
    )
    note = "\n".join([*([result.note] if result.note else []), *saved]) or None
    return result.model_copy(
        update={"calls": records, "tokens": tokens, "budget": _budget(bridge), "views": views, "note": note}
    )


def _budget(bridge: Bridge) -> CallBudgetReport | None:
    """The cell's call budget as its result reports it, when the cell had one."""
    budget = bridge.budget
    return budget.report() if budget.max_calls is not None or budget.per_tool else None


def _masked(
    pii: PIITokenizer, on_output: OutputCallback | None, on_tool_progress: ToolProgress | None
) -> tuple[OutputCallback | None, ToolProgress | None]:
    """The caller's callbacks, given what they get with personal data replaced (a tool's progress note quotes
    what it works on)."""
    from ..masking import Mask  # only a cell that tokenizes personal data needs it

    show, report, mask = on_output, on_tool_progress, Mask(pii)
    if show is not None:
        on_output = lambda stream, text: show(stream, pii.tokenize(text)[0])  # noqa: E731
    if report is not None:
        on_tool_progress = lambda server, tool, value, total, note: report(  # noqa: E731
            server, tool, value, total, mask(note)
        )
    return on_output, on_tool_progress


def _tokenized(result: ExecutionResult, pii: PIITokenizer) -> ExecutionResult:
    """``result`` with personal data replaced in everything that leaves the sandbox; counts the values."""
    from ..masking import Mask  # only a cell that tokenizes personal data needs it

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
            "views": [masked(view, mask) for view in result.views],
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
    from ..display import filesize  # the display module (jinja2) loads when something is shown, not here

    out = {}
    for label, path in (
        ("cache (compiled sandbox component)", cache_dir() / "components"),
        ("plugins (saved bindings)", data_dir() / "plugins"),
        ("logs (server stderr)", log_dir()),
    ):
        count, size = _du(path)
        out[label] = f"{count} files, {filesize(size)} in {path}"
    return out
