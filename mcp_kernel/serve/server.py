"""The code-mode server: ``CodeMode`` (the work behind the tools), ``build_server`` (the SDK's server around it)
and ``serve`` (run it on stdio or HTTP). See the package's docstring for what it offers.

>>> server = build_server(Session(), servers=["demo"])              # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import secrets
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    Completion,
    LoggingLevel,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
    ToolAnnotations,
)
from pydantic import Field

from .audience import Audience
from ..elicitation import Answer, Question, Relay
from ..errors import (
    Interrupted,
    MCPKernelError,
    SandboxError,
    SessionNotFound,
    UsageError,
)
from ..masking import Mask
from ..models import ExecutionResult
from ..pii import PIITokenizer
from ..session import Session

__all__ = ["CodeMode", "build_server", "serve"]

log = logging.getLogger(__name__)

INSTRUCTIONS = """Code mode over MCP servers. Find tools with search_tools, read a binding with read
(start at /mcp-tools), then run Python with execute: `from servers.<server> import <tool>` and call tools
as typed functions. Filter and aggregate inside the code; only what it prints or returns comes back.
Pass the returned session handle to execute again to keep variables and files."""

MAX_TEXT_CHARS = 20_000
TEMPLATE = "mcp-tools://{+path}"  # the tree as resources
MAX_COMPLETIONS = 100  # the protocol's cap on completion values
WATCH_INTERVAL_S = 1.0  # how often serve looks for servers whose tools changed
RETRY_MS = 1000  # the reconnection delay serve's event streams suggest (SSE `retry`)
ANSWER_TIMEOUT_S = 600.0  # how long a run waits for the agent to answer its servers' questions


class Run:
    """One ``execute`` on a worker thread: its sandbox handle, and events for the request waiting on it on the
    server's loop — ``("question", question, reply)`` when a server asks, then ``("done", outcome)`` or
    ``("failed", exc)``."""

    def __init__(self, caller: str | None, loop: asyncio.AbstractEventLoop) -> None:
        self.id = secrets.token_urlsafe(24)
        self.handle: str | None = None  # known once the session is open
        self.caller = caller
        self.loop = loop
        self.events: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.pending: dict[str, tuple[Question, concurrent.futures.Future[Answer]]] = {}
        self.expiry: threading.Timer | None = None
        self.report: Any = None  # progress(server, tool, value, total, message) of the request waiting now
        self.mask = Mask()  # its session's, once open: what the run sends the agent passes it (see masking.py)

    def put(self, *event: Any) -> None:
        """Hand an event to the loop (from any thread)."""
        self.loop.call_soon_threadsafe(self.events.put_nowait, event)

    def ask(self, question: Question, reply: concurrent.futures.Future[Answer]) -> None:
        """Hand the agent ``question`` masked; its answer reaches the server with the placeholders restored."""
        asked: concurrent.futures.Future[Answer] = concurrent.futures.Future()

        def back(done: concurrent.futures.Future[Answer]) -> None:
            answer = done.result() if not done.cancelled() and done.exception() is None else Answer("cancel")
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                reply.set_result(Answer(answer.action, self.mask.restore(answer.content)))

        asked.add_done_callback(back)
        self.put("question", self.mask(question), asked)

    def progress(self, server: str, tool: str, value: float, total: float | None, message: str | None) -> None:
        if self.report is not None:
            self.report(server, tool, value, total, message)


class CodeMode:
    """The work behind the three tools, over one core :class:`~mcp_kernel.session.Session` (thread-safe)."""

    def __init__(self, session: Session, *, servers: Sequence[str] | None = None, tokenize_pii: bool = False,
                 max_text_chars: int = MAX_TEXT_CHARS, answer_timeout: float = ANSWER_TIMEOUT_S,
                 max_timeout: float | None = None, max_memory_mb: int | None = None) -> None:
        self.session = session
        # The most an agent may raise a cell's limits to (serve --max-timeout / --max-memory, or settings).
        self.max_timeout = max_timeout or session.settings.serve_max_timeout
        self.max_memory_mb = max_memory_mb or session.settings.serve_max_memory_mb
        self.servers = list(servers) if servers else session.server_names()
        self.tokenize_pii = tokenize_pii
        self.max_text_chars = max_text_chars
        self.answer_timeout = answer_timeout
        self.failed: dict[str, str] = {}
        self._seen_changes: dict[str, int] = {}  # each server's list changes the tree reflects
        self._snapshot: dict[str, int] = {}  # the tree's files (path -> hash of the text) last reported
        self._waiting: dict[str, Run] = {}  # runs waiting for the agent's answers, by request state
        self._workers = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="mcp-kernel-execute")
        # Text that belongs to no sandbox session (a refusal before one opened) is masked too, with placeholders
        # nothing restores.
        self._spare = Mask(PIITokenizer(session.settings.pii_patterns) if tokenize_pii else None)
        self._lock = threading.Lock()

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

    def search(self, query: str, detail: str, limit: int) -> str:
        if not self.live:
            return self._unavailable()
        results = self.session.search(query, detail=detail, servers=self.live)  # type: ignore[arg-type]
        lines = []
        for hit in results.hits[:limit]:
            if hit.signature and detail == "signature":
                lines.append(f"{hit.server}: {hit.signature}")
                continue
            line = f"{hit.server}.{hit.tool}"
            if hit.summary:
                line += f": {hit.summary}"
            if hit.input_schema is not None:
                import json

                line += f"\n  input: {json.dumps(hit.input_schema, separators=(',', ':'))}"
            lines.append(line)
        more = len(results.hits) - limit
        if more > 0:
            lines.append(f"... {more} more; narrow the query or raise limit")
        head = f"{len(results.hits)} tool(s) match {query!r}" if results.hits else f"No tool matches {query!r}"
        return "\n".join([head + (":" if lines else ". Try a shorter query or read /mcp-tools/servers."), *lines])

    def read(self, path: str) -> str:
        """A file's text, or a directory's entries one per line (directories end in ``/``)."""
        from ..vfs import ROOT

        path = path.strip() or ROOT
        node = self.session.tree(path, depth=1)
        if node.kind == "file":
            return self.session.read(path).text
        lines = [f"{node.path}/"]
        for child in node.children:
            lines.append(f"  {child.name}/" if child.kind == "dir" else f"  {child.name}  ({child.size:,} bytes)")
        if self.failed and node.path.rstrip("/").endswith("/servers"):
            lines += [f"  (unavailable: {name}: {why})" for name, why in self.failed.items()]
        return "\n".join(lines)

    def complete(self, prefix: str) -> list[str]:
        """Tree paths (after ``mcp-tools://``) that extend ``prefix`` by one step: a directory (ending in
        ``/``) or a file.

        >>> mode.complete("servers/de")                                 # doctest: +SKIP
        ['servers/demo/']
        """
        found = set()
        for path in self.session.vfs.files:
            if path.startswith(prefix):
                head, slash, _ = path[len(prefix):].partition("/")
                found.add(prefix + head + slash)
        return sorted(found)

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

    def execute(self, code: str, handle: str | None, timeout: float | None,
                progress: Any = None, asker: Any = None, caller: str | None = None, *,
                memory_mb: int | None = None, close: bool = False) -> tuple[str, dict[str, Any], bool]:
        """Run ``code``; return (text for the model, structured content, is_error).

        ``progress(server, tool, value, total, message)`` receives the progress the code's tool calls report;
        ``asker`` answers the questions their servers ask (default: declined). ``timeout`` and ``memory_mb``
        raise the cell's limits up to this server's maxima (fuel follows the timeout); ``close`` closes the
        session afterwards. Limits refuse with a ``SandboxError`` whose advice names these arguments.
        """
        self.check_limits(timeout, memory_mb)
        try:
            with self.session.sandboxes.executing(caller):
                return self._execute(code, self.open(handle, caller), timeout, memory_mb, progress, asker, close)
        except SandboxError as exc:  # refused before it ran (too many sessions or executes)
            raise self._worded(exc) from None

    def check_limits(self, timeout: float | None, memory_mb: int | None) -> None:
        """Refuse limits above this server's maxima, naming them."""
        if timeout is not None and timeout > self.max_timeout:
            raise UsageError(f"timeout={timeout:g} is above this server's maximum of {self.max_timeout:g} s (set by "
                             "its operator); pass at most that, or split the work over several executes.")
        if memory_mb is not None and memory_mb > self.max_memory_mb:
            raise UsageError(f"memory_mb={memory_mb} is above this server's maximum of {self.max_memory_mb} MiB (set "
                             "by its operator); pass at most that, or process the data in chunks.")

    def _worded(self, exc: SandboxError) -> SandboxError:
        return exc.worded_for("serve", max_timeout=self.max_timeout, max_memory_mb=self.max_memory_mb)

    def _execute(self, code: str, handle: str, timeout: float | None, memory_mb: int | None, progress: Any,
                 asker: Any, close: bool) -> tuple[str, dict[str, Any], bool]:
        try:
            text, structured, failed = self._run(code, handle, timeout, memory_mb, progress, asker)
        finally:
            if close:
                with contextlib.suppress(SessionNotFound):
                    self.session.sandboxes.close(handle)
        return text, {**structured, "closed": True} if close else structured, failed

    def _run(self, code: str, handle: str, timeout: float | None, memory_mb: int | None, progress: Any,
             asker: Any) -> tuple[str, dict[str, Any], bool]:
        policy = self.session.policy(self.live, timeout=timeout, memory_mb=memory_mb, tokenize_pii=self.tokenize_pii)
        self.session.sandboxes.admit(handle, policy.memory_mb)
        try:
            result = self.session.execute(code, policy, sandbox=handle, open_missing=False,
                                          on_tool_progress=progress, asker=asker)
        except (SandboxError, Interrupted) as exc:
            if isinstance(exc, SandboxError):
                self._worded(exc)
            partial = exc.result if isinstance(exc.result, ExecutionResult) else None
            text = self._text(partial) if partial is not None else ""
            text = (text + "\n" if text else "") + f"{type(exc).__name__}: {exc}"
            return text, self._structured(handle, partial), True
        text = self._text(result)
        if result.error is not None:
            text = (text + "\n" if text else "") + (result.error.traceback or
                                                    f"{result.error.type}: {result.error.message}")
        return text, self._structured(handle, result), result.error is not None

    # ---- runs that wait for the agent's answers (input_required) ----------------------------------------
    def start(self, code: str, handle: str | None, timeout: float | None, caller: str | None = None, *,
              memory_mb: int | None = None, close: bool = False) -> Run:
        """Start ``code`` on a worker thread (called on the server's loop); the session it runs in, its servers'
        questions and its outcome arrive as ``run`` events. Limits above the maxima are refused here, at once."""
        self.check_limits(timeout, memory_mb)
        run = Run(caller, asyncio.get_running_loop())
        run.mask = self.mask(None)  # until its session is open

        def work() -> None:
            try:
                # The caller's running executes are counted from here, so a refused one opens no session.
                with self.session.sandboxes.executing(caller):
                    run.handle = self.open(handle, caller)
                    run.mask = self.mask(run.handle)
                    outcome = self._execute(code, run.handle, timeout, memory_mb, run.progress, Relay(run.ask), close)
                run.put("done", outcome)  # its slot is free before the agent hears, so it can send the next
            except SandboxError as exc:
                run.put("failed", self._worded(exc))
            except BaseException as exc:  # noqa: BLE001 - handed to the request that waits for it
                run.put("failed", exc)

        self._workers.submit(work)
        return run

    def park(self, run: Run, questions: list[tuple[Question, concurrent.futures.Future[Answer]]]) -> Any:
        """Keep ``run`` waiting for the answers to ``questions``; the ``input_required`` result asking for them."""
        from mcp.types import (
            ElicitRequest,
            ElicitRequestFormParams,
            ElicitRequestURLParams,
            InputRequiredResult,
        )

        run.pending = {f"q{i}": pair for i, pair in enumerate(questions, 1)}
        requests: dict[str, Any] = {}
        for key, (question, _) in run.pending.items():
            params: Any = (ElicitRequestURLParams(message=question.message, url=question.url,
                                                  elicitation_id=question.elicitation_id or key)
                           if question.url else
                           ElicitRequestFormParams(message=question.message, requested_schema=question.schema
                                                   or {"type": "object", "properties": {}}))
            requests[key] = ElicitRequest(params=params)
        with self._lock:
            self._waiting[run.id] = run
        run.expiry = threading.Timer(self.answer_timeout, self._expire, args=(run.id,))
        run.expiry.daemon = True
        run.expiry.start()
        return InputRequiredResult(input_requests=requests, request_state=run.id)

    def resume(self, state: str, responses: dict[str, Any], caller: str | None = None) -> Run:
        """The run waiting under ``state``, given the agent's ``responses`` (unanswered questions: cancelled)."""
        with self._lock:
            run = self._waiting.get(state)
            if run is not None and run.caller == caller:
                del self._waiting[state]
            else:
                run = None
        if run is None:
            raise SessionNotFound("These answers belong to no waiting execute: it was answered already, or "
                                  f"nobody answered within {self.answer_timeout:g} s and it went on without "
                                  "them. Run the code again.")
        if run.expiry is not None:
            run.expiry.cancel()
        for key, (_, reply) in run.pending.items():
            response = responses.get(key)
            action = getattr(response, "action", "cancel")
            answer = {"accept": Answer("accept", getattr(response, "content", None)),
                      "decline": Answer("decline")}.get(action, Answer("cancel"))
            if not reply.done():
                reply.set_result(answer)
        run.pending = {}
        return run

    def _expire(self, state: str) -> None:
        with self._lock:
            run = self._waiting.pop(state, None)
        if run is not None:
            for _, reply in run.pending.values():
                if not reply.done():
                    reply.set_result(Answer("cancel"))

    def _text(self, result: ExecutionResult) -> str:
        parts = [p for p in (result.note, result.stdout.rstrip("\n"), result.stderr.rstrip("\n")) if p]
        if result.value_repr is not None:
            parts.append(result.value_repr)
        text = "\n".join(parts)
        if len(text) > self.max_text_chars:
            cut = len(text) - self.max_text_chars
            text = (text[: self.max_text_chars] + f"\n[output truncated: {cut:,} more characters. Print a "
                    "summary, or write the data to a file in /workspace and read parts of it.]")
        return text

    @staticmethod
    def _structured(handle: str, result: ExecutionResult | None) -> dict[str, Any]:
        out: dict[str, Any] = {"session": handle}
        if result is None:
            return out
        out["duration_ms"] = round(result.duration_ms, 1)
        out["calls"] = [{"tool": f"{c.server}.{c.tool}", "ms": round(c.duration_ms, 1), "cached": c.cached,
                         **({"error": c.error} if c.error else {})} for c in result.calls]
        if result.tokens is not None:
            out["tokens"] = {"stayed_in_sandbox": result.tokens.raw_result_tokens,
                             "returned": result.tokens.output_tokens}
        if result.pii_replaced is not None:
            out["pii_replaced"] = result.pii_replaced
        return out

    def _unavailable(self) -> str:
        reasons = "; ".join(f"{n}: {why}" for n, why in self.failed.items()) or "none configured"
        return f"No MCP server is available ({reasons}). Check the servers in mcp.json."


def build_server(session: Session, *, servers: Sequence[str] | None = None, tokenize_pii: bool = False,
                 prepare: bool = True, max_timeout: float | None = None, max_memory_mb: int | None = None) -> Any:
    """The MCP server (the SDK's ``MCPServer``) with ``search_tools``, ``read`` and ``execute``.

    Over HTTP with callers (see callers.py), each sandbox handle works only for the caller that opened it.
    ``max_timeout`` and ``max_memory_mb`` bound what an agent may ask ``execute`` for (default: settings).
    """
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    mode = CodeMode(session, servers=servers, tokenize_pii=tokenize_pii, max_timeout=max_timeout,
                    max_memory_mb=max_memory_mb)
    settings = session.settings
    if prepare:
        mode.prepare()
        session.warm_up(instance=False)  # wasmtime, the component and the tokenizer, while the agent searches
    from .. import __version__

    from mcp.server.subscriptions import InMemorySubscriptionBus

    bus = InMemorySubscriptionBus()
    audience = Audience(bus)

    @contextlib.asynccontextmanager
    async def watching(_: Any) -> Any:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_watch_tree, mode, audience)
            yield None
            tasks.cancel_scope.cancel()

    server = MCPServer(name="mcp-kernel", version=__version__, instructions=INSTRUCTIONS, subscriptions=bus,
                       lifespan=watching)
    _serve_notices(server, mode, audience)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                open_world_hint=False)

    def refuse(exc: MCPKernelError, mask: Mask) -> CallToolResult:
        return mask(CallToolResult(content=[TextContent(type="text", text=f"{type(exc).__name__}: {exc}")],
                                   is_error=True))

    def fail(exc: MCPKernelError) -> ToolError:
        return ToolError(f"{type(exc).__name__}: {exc}")

    @server.tool(annotations=read_only, structured_output=False)
    async def search_tools(
        query: Annotated[str, Field(description="words to look for in tool names and descriptions")],
        detail: Annotated[Literal["name", "signature", "full"], Field(
            description="name; signature: typed call + first sentence; full: + JSON schemas")] = "signature",
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> str:
        """Find tools across the connected MCP servers."""
        try:
            return await anyio.to_thread.run_sync(mode.search, query, detail, limit)
        except MCPKernelError as exc:
            raise fail(exc) from None

    @server.tool(annotations=read_only, structured_output=False)
    async def read(
        path: Annotated[str, Field(description="a directory or file under /mcp-tools")] = "/mcp-tools",
    ) -> str:
        """List a directory of the tool tree or read one file (a typed Python binding, manifest, SKILL.md)."""
        try:
            return await anyio.to_thread.run_sync(mode.read, path)
        except MCPKernelError as exc:
            raise fail(exc) from None

    async def execute(
        code: Annotated[str, Field(description="Python 3 to run; `from servers.<server> import <tool>`")],
        session: Annotated[str | None, Field(description="handle from an earlier execute, to keep state")] = None,
        timeout: float | None = None,  # annotated below: the descriptions quote this server's limits
        memory_mb: int | None = None,
        close: Annotated[bool, Field(description="then close the session")] = False,
        ctx: Context | None = None,
    ) -> CallToolResult:
        """Run Python in a sandbox whose code calls the MCP tools; returns what it printed or returned."""
        loop = asyncio.get_running_loop()
        steps = [0]

        def relay(server: str, tool: str, value: float, total: float | None, message: str | None) -> None:
            # The tools' progress flows back on this request: one increasing step per update.
            steps[0] += 1
            amount = f"{value:g}/{total:g}" if total else f"{value:g}"
            note = run.mask(f"{server}.{tool}: {amount}" + (f" - {message}" if message else ""))
            if ctx is not None:
                asyncio.run_coroutine_threadsafe(ctx.report_progress(steps[0], None, note), loop)

        caller = _caller()
        started = time.perf_counter()
        await _log_request(ctx, audience, "debug", "run started", mask=mode.mask(None))
        try:
            if ctx is not None and ctx.request_state:  # the agent's answers to the questions of a waiting run
                run = mode.resume(ctx.request_state, dict(ctx.input_responses or {}), caller)
            else:
                run = mode.start(code, session, timeout, caller, memory_mb=memory_mb, close=close)
        except MCPKernelError as exc:
            return refuse(exc, mode.mask(None))
        run.report = relay
        while True:
            try:
                event = await run.events.get()
            except anyio.get_cancelled_exc_class():
                # The client gave up: stop the cell and its tool calls, not the session.
                if run.handle is not None:
                    with contextlib.suppress(SessionNotFound):
                        mode.session.sandboxes.get(run.handle, owner=caller).interrupt()
                raise
            if event[0] == "failed":
                await _log_request(ctx, audience, "error", f"run refused: {type(event[1]).__name__}: {event[1]}",
                                   mask=run.mask)
                if isinstance(event[1], MCPKernelError):
                    return refuse(event[1], run.mask)
                raise event[1]
            if event[0] == "done":
                text, structured, failed = event[1]
                calls = len(structured.get("calls", []))
                await _log_request(ctx, audience, "warning" if failed else "info",
                                   f"run {'failed' if failed else 'finished'} in "
                                   f"{(time.perf_counter() - started) * 1000:.0f} ms, {calls} tool call(s)",
                                   mask=run.mask)
                result = run.mask(CallToolResult(content=[TextContent(type="text", text=text or "(no output)")],
                                                 structured_content=structured, is_error=failed))
                # The handle is the agent's key back, not data: kept exactly as minted.
                assert result.structured_content is not None
                result.structured_content["session"] = structured["session"]
                return result
            questions = [(event[1], event[2])]
            while not run.events.empty():  # calls gathered by the code may ask at once: one round for all
                more = run.events.get_nowait()
                if more[0] != "question":
                    run.events.put_nowait(more)
                    break
                questions.append((more[1], more[2]))
            why = _cannot_relay(ctx)
            if why is not None:
                for question, reply in questions:
                    log.warning("declined %s's question %r: %s", question.server, question.message, why)
                    reply.set_result(Answer("decline"))
                continue
            assert ctx is not None
            if _stateless(ctx.protocol_version):
                run.report = None
                return mode.park(run, questions)  # the client retries with the answers (input_required)
            for question, reply in questions:  # an older client: ask it mid-call, as servers then did
                reply.set_result(await _ask_legacy(ctx, question))

    # Objects, not strings (this module's annotations are postponed), so the SDK need not evaluate them.
    execute.__annotations__.update(
        timeout=Annotated[float, Field(gt=0, description=f"seconds (default {settings.cell_timeout:g}, max "
                                              f"{mode.max_timeout:g})")],
        memory_mb=Annotated[int, Field(description=f"MiB (default {settings.memory_mb}, max "
                                              f"{mode.max_memory_mb})")])
    server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                                            open_world_hint=True))(execute)

    @server.resource(TEMPLATE, name="mcp-tools", description="the generated tool tree", mime_type="text/plain")
    def tree_file(path: str) -> str:
        return mode.read("/mcp-tools/" + path)

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Completion:
        """The ``path`` of the tree template, one step at a time, from the tree as it is now."""
        if not (isinstance(ref, ResourceTemplateReference) and ref.uri == TEMPLATE and argument.name == "path"):
            what = f"prompt {ref.name!r}" if isinstance(ref, PromptReference) else f"template {ref.uri!r}"
            raise MCPError(INVALID_PARAMS, f"serve has no {what} with an argument {argument.name!r} to complete: "
                           f"it completes the `path` of its resource template {TEMPLATE} (and has no prompts).")
        values = await anyio.to_thread.run_sync(mode.complete, argument.value)
        return Completion(values=values[:MAX_COMPLETIONS], total=len(values),
                          has_more=len(values) > MAX_COMPLETIONS)

    server.code_mode = mode  # type: ignore[attr-defined]
    return server


def _stateless(protocol_version: str | None) -> bool:
    """Whether a request speaks the stateless era (2026-07-28 on: no handshake, answers by retry, per-request
    log levels), as the SDK counts its versions."""
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    return protocol_version in MODERN_PROTOCOL_VERSIONS


def _serve_notices(server: Any, mode: CodeMode, audience: Audience) -> None:
    """``logging/setLevel`` and ``resources/(un)subscribe`` for 2025-era clients, and the middleware that
    remembers their connections (the SDK's ``MCPServer`` has no decorator for these methods)."""
    from mcp.types import (
        EmptyResult,
        SetLevelRequestParams,
        SubscribeRequestParams,
        UnsubscribeRequestParams,
    )

    async def remember(ctx: Any, call_next: Any) -> Any:
        if not _stateless(ctx.protocol_version):
            audience.seen(Audience.key(ctx.request), ctx.session)
        return await call_next(ctx)

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        audience.set_level(Audience.key(ctx.request), params.level)
        return EmptyResult()

    def tree_uri(uri: str) -> str:
        if not uri.startswith("mcp-tools://"):
            raise MCPError(INVALID_PARAMS, f"serve's resources are its tool tree ({TEMPLATE}); {uri!r} is not "
                           "one of them. Subscribe to e.g. mcp-tools://servers/<server>/<tool>.py.")
        return uri

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        audience.subscribe(Audience.key(ctx.request), tree_uri(str(params.uri)))
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        audience.unsubscribe(Audience.key(ctx.request), tree_uri(str(params.uri)))
        return EmptyResult()

    server.middleware.append(remember)
    lowlevel = server._lowlevel_server  # private: where the SDK keeps its method table (no public decorator)
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


async def _watch_tree(mode: CodeMode, audience: Audience, interval: float = WATCH_INTERVAL_S) -> None:
    """Follow the servers' tool changes into the tree: regenerate, log it, tell the subscribers."""
    import anyio

    while True:
        await anyio.sleep(interval)
        try:
            moved, uris = await anyio.to_thread.run_sync(mode.changes)
        except MCPKernelError as exc:
            await audience.log("error", mode.mask(None)(f"could not follow a server's tool changes: {exc}"))
            continue
        for name in moved:
            await audience.log("notice", f"server {name} changed its tools; its bindings were regenerated")
        for uri in uris:
            await audience.updated(uri)


async def _log_request(ctx: Context | None, audience: Audience, level: LoggingLevel, message: str, *,
                       mask: Mask) -> None:
    """Send serve's log record on the request's own stream: to a 2025 client if it hears ``level`` (its
    ``logging/setLevel``), to a 2026 client if this request asked for ``level`` or lower (its ``_meta``).
    The record passes ``mask``, the one of the run it tells about."""
    from mcp.server.connection import allowed_log_levels

    if ctx is None:
        return
    context = ctx.request_context
    if _stateless(context.protocol_version):
        if level not in allowed_log_levels(context.protocol_version, context.meta):
            return
    elif not audience.wants(Audience.key(context.request), level):
        return
    with contextlib.suppress(Exception):  # a client that went away misses the record
        await context.session.send_notification(mask(audience.record(level, message)),
                                                related_request_id=ctx.request_id)


def _caller() -> str | None:
    """Who HTTP auth says is calling (the bearer token's client), or None without auth (stdio, open HTTP)."""
    from mcp.server.auth.middleware.auth_context import get_access_token

    token = get_access_token()
    return None if token is None else token.client_id


def _cannot_relay(ctx: Context | None) -> str | None:
    """Why the agent's client cannot be asked (None: it can)."""
    if ctx is None:
        return "no client request to relay it on"
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return "the agent's client did not declare the elicitation capability"
    return None


async def _ask_legacy(ctx: Context, question: Question) -> Answer:
    """Ask a 2025-era client mid-call with an ``elicitation/create`` request of our own."""
    session = ctx.request_context.session
    try:
        if question.url:
            result = await session.elicit_url(question.message, question.url, question.elicitation_id or "q",
                                              related_request_id=ctx.request_id)
        else:
            result = await session.elicit_form(question.message, question.schema or {"type": "object",
                                               "properties": {}}, related_request_id=ctx.request_id)
    except Exception as exc:  # noqa: BLE001 - the client could not be asked: the server hears a cancel
        log.warning("could not relay %s's question to the client: %s", question.server, exc)
        return Answer("cancel")
    return Answer(result.action, result.content if result.action == "accept" else None)


def serve(session: Session, *, servers: Sequence[str] | None = None, http: str | None = None,
          tokenize_pii: bool = False, callers: Mapping[str, str] | None = None, max_timeout: float | None = None,
          max_memory_mb: int | None = None) -> None:
    """Run the code-mode server on stdio (default) or streamable HTTP (``http="HOST:PORT"``) until stopped.

    On stdio, stdout is the protocol: everything else (progress, warnings) goes to stderr. ``callers``
    (HTTP only, ``{name: bearer token}``, see callers.py) requires one of the tokens on every request.
    """
    if callers and http is None:
        raise UsageError("--callers needs --http: on stdio the one caller is the process that started serve.")
    host = port = ""
    if http is not None:
        host, _, port = http.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--http takes HOST:PORT or PORT (a port from 1 to 65535), got {http!r}")
        host = host or "127.0.0.1"
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="mcp-kernel serve: %(message)s")
    session.engine().on_progress = functools.partial(print, file=sys.stderr, flush=True)
    server = build_server(session, servers=servers, tokenize_pii=tokenize_pii, max_timeout=max_timeout,
                          max_memory_mb=max_memory_mb)
    if http is None:
        server.run("stdio")
        return
    import uvicorn

    from .endpoint import PATH, endpoint_config, http_app
    from .eventstore import ReplayStore

    app = http_app(server, event_store=ReplayStore(), retry_interval=RETRY_MS, callers=dict(callers or {}))
    settings = session.settings
    config = endpoint_config(app, host=host, port=int(port), header_timeout=settings.http_header_timeout,
                             max_connections=settings.http_max_connections)
    shown = f"[{host}]" if ":" in host else host
    how = (f"; each caller sends its own token from {len(callers)} in --callers as 'Authorization: Bearer <token>'"
           if callers else "; no --callers, so anyone who reaches it may call")
    print(f"mcp-kernel serve: MCP endpoint http://{shown}:{port}{PATH}{how}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run()
