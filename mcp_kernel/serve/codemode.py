"""Code mode: the work behind serve's three tools over one core session, and the runs of ``execute``.

``search`` finds tools, ``read`` walks the generated tree (``/mcp-tools``), ``execute`` runs code in a
sandbox session named by a handle; ``start`` does the same on a worker thread for a request that relays the
servers' questions (see runs.py), ``park`` and ``resume`` keep such a run waiting for a 2026 client's answers.

For example::

    mode = CodeMode(Session(), servers=["demo"])
    mode.prepare(); print(mode.read("/mcp-tools/servers"))
    # /mcp-tools/servers/
    # demo/
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mcp.types import InputRequiredResult

from ..elicitation import Relay
from ..errors import Interrupted, MCPKernelError, SandboxError, SessionNotFound, UsageError
from ..masking import Mask
from ..models import ExecutionResult
from ..pii import PIITokenizer
from ..registry import search_answer
from ..session import Session
from ..skills import CallerSkills
from ..traces import carried
from ..vfs import ROOT
from . import eras
from .masks import CallerMasks
from .namespace import Namespace
from .runs import Asked, Done, Failed, Parked, Progress, Run

__all__ = ["ANSWER_TIMEOUT_S", "MAX_TEXT_CHARS", "TEMPLATE", "CodeMode", "model_text", "structured_content"]

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
TEMPLATE = "mcp-tools://{+path}"  # the tree as resources
ANSWER_TIMEOUT_S = 600.0  # how long a run waits for the agent to answer its servers' questions


class CodeMode:
    """The work behind the three tools, over one core :class:`~mcp_kernel.session.Session` (thread-safe)."""

    def __init__(
        self,
        session: Session,
        *,
        servers: Sequence[str] | None = None,
        tokenize_pii: bool = False,
        max_text_chars: int = MAX_TEXT_CHARS,
        answer_timeout: float = ANSWER_TIMEOUT_S,
        max_timeout: float | None = None,
        max_memory_mb: int | None = None,
        max_calls: int | None = None,
        approve: str | None = None,
        approve_tools: Mapping[str, str] | None = None,
    ) -> None:
        self.session = session
        # Whose saved skills a caller finds and saves: its own, the user's shared store, or none (serve --skills).
        self.skills = CallerSkills(session.settings, lambda: session.skills, session.settings.serve_skills)
        # The operator's rules over every call (serve --max-calls, --approve, --approve-tool, or settings).
        self.rules: dict[str, Any] = {
            "max_calls": session.settings.serve_max_calls if max_calls is None else max_calls,
            "approve": approve or session.settings.serve_approve,
            "approve_tools": dict(approve_tools or {}),
        }
        # The most an agent may raise a cell's limits to (serve --max-timeout / --max-memory, or settings).
        self.max_timeout = max_timeout or session.settings.serve_max_timeout
        self.max_memory_mb = max_memory_mb or session.settings.serve_max_memory_mb
        self.servers = list(servers) if servers else session.server_names()
        # How the servers' names and URIs look through serve (gateway and exposed tools): from the servers
        # configured, not the live ones, so a server failing to start renames nothing.
        self.names = Namespace(self.servers)
        self.tokenize_pii = tokenize_pii
        self.max_text_chars = max_text_chars
        self.answer_timeout = answer_timeout
        self.failed: dict[str, str] = {}
        self._seen_changes: dict[str, int] = {}  # each server's list changes the tree reflects
        self._snapshot: dict[str, int] = {}  # the tree's files (path -> hash of the text) last reported
        self.parked = Parked()  # runs waiting for a 2026 client's answers
        self.workers = concurrent.futures.ThreadPoolExecutor(
            max_workers=64, thread_name_prefix="mcp-kernel-execute"
        )
        # Text that belongs to no sandbox session (a refusal before one opened) is masked too, with placeholders
        # nothing restores.
        self._spare = Mask(PIITokenizer(session.settings.pii_patterns) if tokenize_pii else None)
        # What serve passes on outside a sandbox session (gateway, exposed tools): each caller's own mask.
        self.caller_mask = CallerMasks(session.settings.pii_patterns, tokenize_pii)

    def prepare(self) -> None:
        """Introspect and generate every server once; a server that fails is reported, the rest served."""
        for name in self.servers:
            try:
                self.session.generate(name)
            except MCPKernelError as exc:
                self.failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                log.warning("server %s is not available: %s", name, exc)
        self._seen_changes = self._list_changes()
        self._snapshot = self._files()

    @property
    def live(self) -> list[str]:
        return [s for s in self.servers if s not in self.failed]

    def search(self, query: str, detail: str, limit: int, caller: str | None = None) -> str:
        """The ``search_tools`` answer: :func:`~mcp_kernel.registry.search_answer` over the live servers and
        the ``caller``'s saved skills."""
        if not self.live:
            return self._unavailable()
        results = self.session.search(
            query,
            detail=detail,  # type: ignore[arg-type]
            servers=self.live,
            skills=self.skills.of(caller),
        )
        mask = self.caller_mask(caller)  # what people wrote (a skill's description); servers' text as it is
        hits = [mask(hit) if hit.calls is not None else hit for hit in results.hits]
        return search_answer(results.model_copy(update={"hits": hits}), limit)

    def read(self, path: str, caller: str | None = None) -> str:
        """A file's text, or a directory's entries one per line (directories end in ``/``); ``caller``'s
        saved skills are under ``/mcp-tools/skills``."""
        path = path.strip() or ROOT
        skills = self.skills.of(caller)
        node = self.session.tree(path, depth=1, skills=skills)
        # What people wrote (skills: their names and sources) passes the caller's masking.
        mask = self.caller_mask(caller) if (node.path + "/").startswith(f"{ROOT}/skills/") else str
        if node.kind == "file":
            return mask(self.session.read(path, skills=skills).text)
        lines = [f"{node.path}/"]
        for child in node.children:
            lines.append(
                f"  {child.name}/" if child.kind == "dir" else f"  {child.name}  ({child.size:,} bytes)"
            )
        if self.failed and node.path.rstrip("/").endswith("/servers"):
            lines += [f"  (unavailable: {name}: {why})" for name, why in self.failed.items()]
        return mask("\n".join(lines))

    def complete(self, prefix: str) -> list[str]:
        """Tree paths (after ``mcp-tools://``) that extend ``prefix`` by one step (see :func:`next_steps`)."""
        return next_steps(self.session.vfs.files, prefix)

    def changes(self) -> tuple[list[str], list[str]]:
        """Regenerate the servers that said their tools changed; return them and the tree URIs whose content
        changed since the last call (a changed file, and each directory above it, whose listing changed)."""
        changes = self._list_changes()
        moved = [name for name, count in changes.items() if count != self._seen_changes.get(name, 0)]
        self._seen_changes = changes
        if moved:
            self.session.bindings.refresh_changed(moved)
        files = self._files()
        differ = {p for p in files.keys() | self._snapshot.keys() if files.get(p) != self._snapshot.get(p)}
        self._snapshot = files
        uris = set()
        for path in differ:
            parts = path.split("/")
            uris.add("mcp-tools://" + path)
            uris.update("mcp-tools://" + "/".join(parts[:i]) for i in range(1, len(parts)))
        return moved, sorted(uris)

    def upstream_ttls(self) -> dict[str, int | None]:
        """The ``ttlMs`` each live server gave its tool list (None: none), which bound the tree's freshness."""
        pool = self.session.pool
        return {name: pool.get(name).tools_ttl_ms for name in self.live if name in pool}

    def _list_changes(self) -> dict[str, int]:
        pool = self.session.pool
        return {name: pool.get(name).list_changes for name in self.live if name in pool}

    def _files(self) -> dict[str, int]:
        return {path: hash(text) for path, text in dict(self.session.vfs.files).items()}

    def mask(self, handle: str | None) -> Mask:
        """What serve sends about sandbox session ``handle`` passes this: with ``tokenize_pii``, the session's own
        tokenizer, so a value has one placeholder in the cell's output and in serve's messages about it."""
        if not self.tokenize_pii:
            return Mask()
        if handle is not None:
            with contextlib.suppress(SessionNotFound):
                return Mask(self.session.placeholders(handle))
        return self._spare

    def open(self, handle: str | None, caller: str | None = None) -> str:
        """``handle`` checked (a forged or expired one, or one another ``caller`` opened, is refused here and
        never opened), or a new session's, bound to ``caller`` (who HTTP auth says is calling, if anyone)."""
        sandboxes = self.session.sandboxes
        if handle:
            sandboxes.get(handle, owner=caller)
            return handle
        return sandboxes.open(owner=caller)

    def execute(
        self,
        code: str,
        handle: str | None,
        timeout: float | None,
        progress: Progress | None = None,
        asker: Any = None,
        caller: str | None = None,
        *,
        memory_mb: int | None = None,
        close: bool = False,
    ) -> tuple[str, dict[str, Any], bool]:
        """Run ``code``; return (text for the model, structured content, is_error).

        ``progress(server, tool, value, total, message)`` receives the progress the code's tool calls report;
        ``asker`` answers the questions their servers ask (default: declined). ``timeout`` and ``memory_mb``
        raise the cell's limits up to this server's maxima (fuel follows the timeout); ``close`` closes the
        session afterwards. Limits refuse with a ``SandboxError`` whose advice names these arguments.
        """
        check_limits(self, timeout, memory_mb)
        try:
            with self.session.sandboxes.executing(caller):
                return self._execute(
                    code, self.open(handle, caller), timeout, memory_mb, progress, asker, close
                )
        except SandboxError as exc:  # refused before it ran (too many sessions or executes)
            raise self._worded(exc) from None

    def _worded(self, exc: SandboxError) -> SandboxError:
        return exc.worded_for("serve", max_timeout=self.max_timeout, max_memory_mb=self.max_memory_mb)

    def _execute(
        self,
        code: str,
        handle: str,
        timeout: float | None,
        memory_mb: int | None,
        progress: Any,
        asker: Any,
        close: bool,
        output: Any = None,
    ) -> tuple[str, dict[str, Any], bool]:
        try:
            text, structured, failed = self._run(code, handle, timeout, memory_mb, progress, asker, output)
        finally:
            if close:
                with contextlib.suppress(SessionNotFound):
                    self.session.sandboxes.close(handle)
        return text, {**structured, "closed": True} if close else structured, failed

    def _run(
        self,
        code: str,
        handle: str,
        timeout: float | None,
        memory_mb: int | None,
        progress: Any,
        asker: Any,
        output: Any = None,
    ) -> tuple[str, dict[str, Any], bool]:
        policy = _policy(self, timeout, memory_mb)
        self.session.sandboxes.admit(handle, policy.memory_mb)
        owner = self.session.sandboxes.owner(handle)
        try:
            result = self.session.execute(
                code,
                policy,
                sandbox=handle,
                open_missing=False,
                on_tool_progress=progress,
                asker=asker,
                on_output=output,
                caller=owner or "serve",
                skills=self.skills.of(owner),
            )
        except (SandboxError, Interrupted) as exc:
            if isinstance(exc, SandboxError):
                self._worded(exc)
            partial = exc.result if isinstance(exc.result, ExecutionResult) else None
            text = model_text(partial, self.max_text_chars) if partial is not None else ""
            text = (text + "\n" if text else "") + f"{type(exc).__name__}: {exc}"
            return text, structured_content(handle, partial), True
        text = model_text(result, self.max_text_chars)
        if result.error is not None:
            text = (text + "\n" if text else "") + (
                result.error.traceback or f"{result.error.type}: {result.error.message}"
            )
        return text, structured_content(handle, result), result.error is not None

    # ---- runs: a request follows their events, and a 2026 client answers their questions by retry ------
    def start(
        self,
        code: str,
        handle: str | None,
        timeout: float | None,
        caller: str | None = None,
        *,
        memory_mb: int | None = None,
        close: bool = False,
    ) -> Run:
        """Start ``code`` on a worker thread (called on the server's loop); the servers' questions and the
        outcome arrive as the run's events. Limits above the maxima are refused here, at once."""
        check_limits(self, timeout, memory_mb)
        run = Run(caller, asyncio.get_running_loop(), self.mask(None))  # its session's mask once that is open

        run.stop = lambda: _interrupt(self.session, run)

        def work() -> None:
            try:
                # The caller's running executes are counted from here, so a refused one opens no session.
                with self.session.sandboxes.executing(caller):
                    run.handle = self.open(handle, caller)
                    run.mask = self.mask(run.handle)
                    outcome = self._execute(
                        code, run.handle, timeout, memory_mb, run.progress, Relay(run.ask), close, run.printed
                    )
                run.put(Done(*outcome))  # its slot is free before the agent hears, so it can send the next
            except SandboxError as exc:
                run.put(Failed(self._worded(exc)))
            except BaseException as exc:
                run.put(Failed(exc))

        self.workers.submit(carried(work))  # under the span of the request (a caller's traceparent)
        return run

    def park(self, run: Run, asked: list[Asked]) -> InputRequiredResult:
        """Keep ``run`` waiting for the answers to ``asked``; the ``input_required`` result asking for them."""
        pending = self.parked.park(run, asked, self.answer_timeout)  # sets run.state, this round's
        return eras.input_required(run.state, pending)

    def resume(
        self, state: str, responses: dict[str, Any], caller: str | None = None, purpose: str | None = None
    ) -> Run:
        """The run of ``purpose`` waiting under ``state``, given the agent's ``responses`` (others: cancelled)."""
        run = self.parked.take(state, caller, purpose)
        if run is None:
            what = "execute" if purpose in (None, "execute") else f"call of {purpose}"
            raise SessionNotFound(
                f"These answers belong to no waiting {what}: it was answered already, or nobody answered within "
                f"{self.answer_timeout:g} s and it went on without them. Call it again."
            )
        run.answer({key: eras.answer_of(responses.get(key)) for key in run.pending})
        return run

    def _unavailable(self) -> str:
        reasons = "; ".join(f"{n}: {why}" for n, why in self.failed.items()) or "none configured"
        return f"No MCP server is available ({reasons}). Check the servers in mcp.json."


def _interrupt(session: Session, run: Run) -> None:
    """Stop ``run``'s cell and its tool calls (not its session): its client gave up."""
    if run.handle is not None:
        with contextlib.suppress(SessionNotFound):
            session.sandboxes.get(run.handle, owner=run.caller).interrupt()


def check_limits(mode: CodeMode, timeout: float | None, memory_mb: int | None) -> None:
    """Refuse limits above this server's maxima, naming them."""
    if timeout is not None and timeout > mode.max_timeout:
        raise UsageError(
            f"timeout={timeout:g} is above this server's maximum of {mode.max_timeout:g} s (set by "
            "its operator); pass at most that, or split the work over several executes."
        )
    if memory_mb is not None and memory_mb > mode.max_memory_mb:
        raise UsageError(
            f"memory_mb={memory_mb} is above this server's maximum of {mode.max_memory_mb} MiB (set "
            "by its operator); pass at most that, or process the data in chunks."
        )


def model_text(result: ExecutionResult, max_chars: int) -> str:
    """What a cell said, for the model: its note, output, errors and value, cut at ``max_chars`` with advice."""
    parts = [p for p in (result.note, result.stdout.rstrip("\n"), result.stderr.rstrip("\n")) if p]
    if result.value_repr is not None:
        parts.append(result.value_repr)
    text = "\n".join(parts)
    if len(text) > max_chars:
        cut = len(text) - max_chars
        text = (
            text[:max_chars] + f"\n[output truncated: {cut:,} more characters. Print a "
            "summary, or write the data to a file in /workspace and read parts of it.]"
        )
    return text


def _policy(mode: CodeMode, timeout: float | None, memory_mb: int | None) -> Any:
    """An execute's policy: these limits, the call budget of each execute (serve --max-calls, or settings;
    0: no cap) and serve's approval rules."""
    return mode.session.policy(
        mode.live,
        timeout=timeout,
        memory_mb=memory_mb,
        tokenize_pii=mode.tokenize_pii,
        **mode.rules,
    )


def next_steps(paths: Iterable[str], prefix: str) -> list[str]:
    """The paths that extend ``prefix`` by one step: a directory (ending in ``/``) or a file.

    >>> next_steps(["servers/demo/index.md", "servers/dev/x.py", "README.md"], "servers/de")
    ['servers/demo/', 'servers/dev/']
    """
    found = set()
    for path in paths:
        if path.startswith(prefix):
            head, slash, _ = path[len(prefix) :].partition("/")
            found.add(prefix + head + slash)
    return sorted(found)


def structured_content(handle: str, result: ExecutionResult | None) -> dict[str, Any]:
    """The run's figures for a program: its session handle, duration, calls, tokens and PII replaced."""
    out: dict[str, Any] = {"session": handle}
    if result is None:
        return out
    out["duration_ms"] = round(result.duration_ms, 1)
    out["calls"] = [
        {
            "tool": f"{c.server}.{c.tool}",
            "ms": round(c.duration_ms, 1),
            "cached": c.cached,
            **({"error": c.error} if c.error else {}),
        }
        for c in result.calls
    ]
    if result.tokens is not None:
        out["tokens"] = {
            "stayed_in_sandbox": result.tokens.raw_result_tokens,
            "returned": result.tokens.output_tokens,
        }
    if result.budget is not None:
        out["budget"] = result.budget.model_dump()
    if result.pii_replaced is not None:
        out["pii_replaced"] = result.pii_replaced
    return out
