"""Upstream tools offered directly beside code mode: ``serve --expose-tools none|read-only|all|<server>.<tool>,...``.

Code mode hides every upstream tool behind ``search_tools``, ``read`` and ``execute``. An MCP Apps host
renders a tool's view only when it sees the tool itself, and an agent may want one tool without writing
code; so chosen tools are listed as they are: input and output schemas, annotations, title, description
and ``_meta``, whose ``ui.resourceUri`` names the view as serve publishes it. Names and URIs follow
:class:`~mcp_kernel.serve.namespace.Namespace`. ``read-only`` picks the tools whose annotations say
``readOnlyHint: true`` (no annotations: not read-only); ``none`` (the default) registers nothing.

A call passes the checks of a call from code, because it goes through the sandbox's own
:class:`~mcp_kernel.sandbox.bridge.Bridge`: one per caller, with the policy a cell gets (the servers serve
fronts, parameter size, the input schema, then the caller's placeholders restored, rate, tool timeout,
a call record). The bridge keeps only a result's value; the whole result (content, structured content,
``isError``) is taken where the bridge hands the call to its server, and cached whole under the bridge's
rules (read-only or idempotent tools, the policy's age). What goes back passes the caller's mask (bound
to who HTTP auth says is calling): content, structured content, errors (a schema error quotes the
arguments), the progress the server reports. Binary parts (an image's or a blob's base64) pass as they
are: masking reads text, and rewriting base64 would break the image.

For example::

    exposed = Exposed(CodeMode(Session(), servers=["demo"]), "read-only")
    exposed.check()
    [tool.name for tool in exposed.tools()]
    # ['list_regions', 'query_sales', 'aggregate_sales']
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    InputRequiredResult,
    ListToolsResult,
    PaginatedRequestParams,
    Tool,
)

from ..audit import guards_for
from ..elicitation import Answer, Question, Relay, attached
from ..errors import MCPKernelError, ToolCallError, UsageError
from ..masking import Mask
from ..models import CallRecord, CallResult, ToolInfo
from ..names import server_id
from ..runtime import Scope
from ..sandbox.bridge import Bridge, ResultCache
from ..sandbox.budget import CallBudget
from ..traces import carried
from .audience import Audience
from .callers import current_caller
from .codemode import CodeMode
from .eras import answer_of
from .hints import tree_hint
from .masks import wire_masked
from .notices import WATCH_INTERVAL_S, records_relayed
from .relay import follow, refusal, resumed
from .runs import Event, Failed, Returned, Run, Said

__all__ = ["CHOICES", "Exposed"]

log = logging.getLogger(__name__)

CHOICES = ("none", "read-only", "all")


@dataclass
class _Desk:
    """One caller's way to the upstream tools: its bridge, its whole results cached, its mask."""

    bridge: Bridge
    results: ResultCache
    mask: Mask
    cache: bool  # the policy allows the result cache


@dataclass
class _Call:
    """One exposed call on its worker thread: what the bridge's hand-off to the server saw."""

    desk: _Desk = field(repr=False)
    cacheable: bool
    progress: Callable[[float, float | None, str | None], None] | None
    asker: Relay  # the server's questions during the call go to the run's relay
    result: CallResult | None = None
    cached: bool = False
    record: CallRecord | None = None


def _guarded(bridge: Bridge, policy: Any, caller: str | None, settings: Any) -> None:
    """``bridge`` under ``policy`` for ``caller``'s exposed calls. Each is a turn of the agent, not a loop:
    no total cap, but the per-tool budgets hold for this caller's calls as long as serve runs."""
    bridge.apply(policy)
    bridge.budget = CallBudget(None, policy.max_calls_per_tool)
    bridge.approvals.run_wide = False  # each call is a run of its own: approve-all would mean "from now on"
    bridge.caller = caller or "serve"
    bridge.guards = guards_for(settings)


class Exposed:
    """The upstream tools ``choice`` exposes from ``mode``'s live servers, listed and called (thread-safe)."""

    def __init__(self, mode: CodeMode, choice: str = "none") -> None:
        self.mode = mode
        self.choice = choice.strip() or "none"
        self.names = mode.names
        self.picked: dict[str, set[str]] | None = None if self.choice in CHOICES else self._parse(self.choice)
        self._desks: dict[str | None, _Desk] = {}
        self._lock = threading.Lock()
        self._here = threading.local()  # the _Call of the exposed call this worker thread makes
        self.audience: Audience | None = None  # who hears serve's notices, once registered

    @property
    def active(self) -> bool:
        return self.choice != "none"

    # ---- which tools -----------------------------------------------------------------------------
    def _parse(self, choice: str) -> dict[str, set[str]]:
        picked: dict[str, set[str]] = {}
        for item in (part.strip() for part in choice.split(",")):
            server = max((s for s in self.mode.servers if item.startswith(s + ".")), key=len, default=None)
            if server is None or item == server + ".":
                raise UsageError(
                    f"--expose-tools takes none, read-only, all or <server>.<tool>,...; {item!r} names no "
                    f"tool of a server serve fronts ({', '.join(self.mode.servers) or 'none'})."
                )
            picked.setdefault(server, set()).add(item[len(server) + 1 :])
        return picked

    def check(self) -> None:
        """Refuse named tools their server does not have, naming the tools it has (a server that failed to
        start cannot be checked: it is reported, as serve reports it anyway)."""
        for server, tools in (self.picked or {}).items():
            if server in self.mode.failed:
                log.warning("--expose-tools: cannot check %s's tools: %s", server, self.mode.failed[server])
                continue
            known = {tool.name for tool in self.mode.session.servers.tools(server)}
            missing = sorted(tools - known)
            if missing:
                raise UsageError(
                    f"--expose-tools: server {server!r} has no tool {', '.join(map(repr, missing))}; its "
                    f"tools are {', '.join(sorted(known)) or 'none'}."
                )

    def wanted(self, server: str, tool: ToolInfo) -> bool:
        if self.choice == "all":
            return True
        if self.choice == "read-only":
            return tool.annotations.read_only is True
        return self.picked is not None and tool.name in self.picked.get(server, ())

    def selected(self) -> list[tuple[str, ToolInfo]]:
        """(server, tool) for every tool exposed now, from the live servers' current lists."""
        found: list[tuple[str, ToolInfo]] = []
        for server in self.mode.live if self.active else ():
            try:
                tools = self.mode.session.servers.tools(server)
            except MCPKernelError as exc:  # one server failing to list hides its tools, not everyone's
                log.warning("cannot list %s's tools: %s", server, exc)
                continue
            found += [(server, tool) for tool in tools if self.wanted(server, tool)]
        return found

    def tools(self) -> list[Tool]:
        """The exposed tools as ``tools/list`` sends them: the server's own definitions, renamed."""
        return [self.public(server, tool) for server, tool in self.selected()]

    def public(self, server: str, tool: ToolInfo) -> Tool:
        wire = tool.wire()
        wire["name"] = self.names.name(server, tool.name)
        ui = (tool.meta or {}).get("ui")
        if isinstance(ui, dict) and isinstance(ui.get("resourceUri"), str):
            ui = {**ui, "resourceUri": self.names.uri(server, ui["resourceUri"])}
            wire["_meta"] = {**(tool.meta or {}), "ui": ui}
        return Tool.model_validate(wire)

    def find(self, public: str, *, listing: bool = True) -> tuple[str, ToolInfo] | None:
        """The server and tool behind the exposed name ``public``; None when no exposed tool has it.
        Without ``listing``, only tools known already are looked at (no server is asked)."""
        try:
            server, name = self.names.name_origin(public)
        except UsageError:
            return None
        if server not in self.mode.live or self.names.name(server, name) != public:
            return None
        try:
            servers = self.mode.session.servers
            tool = servers.tool_info(server, name) if listing else servers.registry.tool(server, name)
        except (MCPKernelError, KeyError):
            return None
        return (server, tool) if self.wanted(server, tool) else None

    # ---- calls -----------------------------------------------------------------------------------
    def desk(self, caller: str | None) -> _Desk:
        """``caller``'s bridge, cache and mask, made on its first call: placeholders one caller was given
        are never restored for another."""
        with self._lock:
            desk = self._desks.get(caller)
            if desk is None:
                mode = self.mode
                policy = mode.session.policy(mode.live, tokenize_pii=mode.tokenize_pii, **mode.rules)
                mask = mode.caller_mask(caller)  # the gateway's too: one placeholder, one value
                bridge = Bridge(lookup=mode.session.servers.tool_info, acall=self._acall)
                _guarded(bridge, policy, caller, mode.session.settings)
                bridge.use_cache = False  # it would keep the value alone: whole results are cached here
                bridge.pii = mask.pii
                bridge.on_call = self._recorded
                results = ResultCache(max_age_s=policy.cache_ttl_s)
                desk = self._desks[caller] = _Desk(bridge, results, mask, policy.cache)
            return desk

    async def call(
        self, ctx: Context, server: str, tool: ToolInfo, arguments: dict[str, Any]
    ) -> CallToolResult | InputRequiredResult:
        """Call ``server``'s ``tool`` for the request ``ctx``, as a run the request follows (relay.py): the
        server's questions go to the agent's client (mid-call, or by ``input_required`` and retry), its log
        records and progress too; the outcome is masked. A 2026 client's retry resumes the waiting call."""
        assert self.audience is not None  # registered: only then are calls made
        desk = self.desk(current_caller())
        public = self.names.name(server, tool.name)
        given = dict(ctx.input_responses or {})  # answers sent up front, to the questions of those names
        run = resumed(self.mode, ctx, public) or self._start(desk, server, tool, arguments, public, given)

        def report(_server: str, _tool: str, value: float, total: float | None, message: str | None) -> None:
            note = desk.mask(message) if message else None
            run.notify(ctx.report_progress(value, total, note))

        run.report = report
        conn = self.mode.session.connection(server)
        async with records_relayed(ctx.request_context, self.audience, conn, server_id(server), desk.mask):
            result: CallToolResult | InputRequiredResult = await follow(run, ctx, self.mode, self.audience)
        return result

    def _start(
        self,
        desk: _Desk,
        server: str,
        tool: ToolInfo,
        arguments: dict[str, Any],
        public: str,
        given: dict[str, Any],
    ) -> Run:
        """The call on a worker thread, as a run: its questions go to the run's relay, its record and
        outcome are the run's last events. A question under a key the client ``given`` an answer for up front
        takes that answer (once), as the server itself would; an approval (serve's own question, not the
        server's) is always asked, so its answer comes from the user who saw it."""
        run = Run(current_caller(), asyncio.get_running_loop(), desk.mask, public, keys=True)

        def ask(question: Question, reply: concurrent.futures.Future[Answer]) -> None:
            if question.key is not None and question.key in given and not question.approval:
                answer = answer_of(given.pop(question.key))
                reply.set_result(Answer(answer.action, desk.mask.restore(answer.content)))
            else:
                run.ask(question, reply)

        progress = functools.partial(run.progress, server, tool.name)
        call = _Call(desk, desk.cache and tool.cacheable, progress, Relay(ask))
        scope = Scope()
        run.stop = lambda: scope.stop("cancelled by the client")  # cancelled on the server too

        def work() -> None:
            outcome: Event
            try:
                outcome = Returned(
                    self.outbound(server, self._call(call, scope, server, tool.name, arguments), desk.mask)
                )
            except BaseException as exc:
                outcome = Failed(exc)
            if call.record is not None:
                run.put(Said("debug", _described(call.record)))
            run.put(outcome)

        # Its outcome comes as the run's events; it runs under the span of the request (a caller's traceparent
        # reaches the upstream server).
        self.mode.workers.submit(carried(work))
        return run

    def _call(
        self, call: _Call, scope: Scope, server: str, tool: str, arguments: dict[str, Any]
    ) -> CallResult:
        """On a worker thread: the bridge's checks and call; an upstream ``isError`` result comes back whole."""
        self._here.call = call
        bridge = call.desk.bridge
        try:
            bridge.call_tool(server, tool, json.dumps(arguments, ensure_ascii=False), scope, call.asker)
        except ToolCallError:
            if call.result is None or not call.result.is_error:
                raise
        finally:
            self._here.call = None
            bridge.take_records()  # each record reached _recorded; the bridge need not keep them
        assert call.result is not None
        return call.result

    def _acall(
        self, server: str, tool: str, params: dict[str, Any], timeout: float, _progress: Any
    ) -> Coroutine[Any, Any, CallResult]:
        """The bridge's hand-off to the server, on the calling worker thread: from the whole-result cache
        when the rules allow, else the real call, kept whole (the bridge reduces it to a value)."""
        call: _Call = self._here.call
        key = ResultCache.key(server, tool, params) if call.cacheable else None
        hit = call.desk.results.get(key) if key is not None else None
        if hit is not None:
            call.result, call.cached = CallResult.model_validate_json(hit), True
            return _ready(call.result)
        request = self.mode.session.servers.acall(server, tool, params, timeout, call.progress)
        return _kept(call, request, key)

    def _recorded(self, record: CallRecord) -> None:
        call: _Call | None = getattr(self._here, "call", None)
        if call is not None:
            call.record = record.model_copy(update={"cached": call.cached})

    def outbound(self, server: str, result: CallResult, mask: Mask) -> CallToolResult:
        """``result`` as serve sends it: URIs renamed, text and structured content masked, binary intact."""
        content = [wire_masked(self.names.block(server, block), mask) for block in result.content]
        return CallToolResult.model_validate(
            {"content": content, "structuredContent": mask(result.structured), "isError": result.is_error}
        )

    # ---- in the server ---------------------------------------------------------------------------
    def register(self, server: Any, audience: Audience) -> None:
        """Serve ``tools/list`` and ``tools/call`` with the exposed tools beside ``server``'s own.

        The SDK's ``MCPServer`` makes tools from Python functions, whose schemas it derives; an upstream
        tool comes with its own JSON schemas and ``_meta``, which must pass unchanged. So the two methods
        are registered on its low-level server (``add_request_handler``, as notices.py does for methods
        ``MCPServer`` has no decorator for): they answer for the exposed tools and hand the rest to the
        handlers ``MCPServer`` installed.
        """
        if not self.active:
            return
        self.audience = audience
        self.check()
        lowlevel = server._lowlevel_server  # private: the SDK's method table (see the docstring)
        own_call = lowlevel.get_request_handler("tools/call").handler
        own_schema = lowlevel.get_tool_input_schema

        async def list_tools(ctx: Any, params: PaginatedRequestParams) -> ListToolsResult:
            exposed = await anyio.to_thread.run_sync(self.tools)
            return ListToolsResult(tools=[*await server.list_tools(), *exposed])

        async def call_tool(ctx: Any, params: CallToolRequestParams) -> Any:
            own = {tool.name for tool in await server.list_tools()}
            if params.name in own:
                return await own_call(ctx, params)
            found = await anyio.to_thread.run_sync(self.find, params.name)
            if found is None:
                return refusal(self._unknown(params.name), self.desk(current_caller()).mask)
            context = Context(request_context=ctx, mcp_server=server, input_params=params)
            return await self.call(context, *found, dict(params.arguments or {}))

        def input_schema(name: str) -> Any:  # Mcp-Param headers are checked against the exposed schemas too
            found = self.find(name, listing=False)
            return own_schema(name) if found is None else found[1].input_schema

        lowlevel.add_request_handler("tools/list", PaginatedRequestParams, list_tools)
        lowlevel.add_request_handler("tools/call", CallToolRequestParams, call_tool)
        lowlevel.get_tool_input_schema = input_schema
        lowlevel.cache_hints["tools/list"] = tree_hint(self.mode.upstream_ttls())

    def _unknown(self, name: str) -> UsageError:
        exposed = (
            f"the {self.choice} upstream tools it exposes" if self.picked is None else "the tools it exposes"
        )
        return UsageError(
            f"{name!r} is not one of serve's tools (search_tools, read, execute and {exposed}, as tools/list "
            "shows). Other tools of the upstream servers are called from execute's code."
        )

    async def follow(self, server: Any, interval: float = WATCH_INTERVAL_S) -> None:
        """Follow the upstream lists: when the exposed tools change, tell the clients (``list_changed``);
        keep ``tools/list``'s cache hint within the upstream lists' ``ttlMs``."""
        if not self.active:
            return
        seen = await anyio.to_thread.run_sync(self._digest)
        while True:
            await anyio.sleep(interval)
            server._lowlevel_server.cache_hints["tools/list"] = tree_hint(self.mode.upstream_ttls())
            try:
                now = await anyio.to_thread.run_sync(self._digest)
            except MCPKernelError as exc:
                log.warning("could not follow the exposed tools: %s", exc)
                continue
            if now != seen and self.audience is not None:
                seen = now
                await self.audience.lists_changed({"tools"})

    def _digest(self) -> str:
        listed = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in self.tools()]
        return hashlib.blake2b(json.dumps(listed, sort_keys=True).encode()).hexdigest()


def _described(record: CallRecord) -> str:
    """A call's record as a line (what execute lists under ``calls``)."""
    what = f"{record.server}.{record.tool}: {record.duration_ms:.0f} ms" + (
        ", cached" if record.cached else ""
    )
    return what + (f", {record.error}" if record.error else "")


async def _ready(result: CallResult) -> CallResult:
    return result


async def _kept(call: _Call, request: Coroutine[Any, Any, CallResult], key: bytes | None) -> CallResult:
    """The real call's result, kept whole for the exposed call (and cached, when it may be); the server's
    questions during it go to the call's relay."""
    with attached(call.asker):  # type: ignore[arg-type]  # a Relay answers as an Asker does
        result = await request
    call.result = result
    if key is not None and not result.is_error:
        call.desk.results.put(key, result.model_dump_json())
    return result
