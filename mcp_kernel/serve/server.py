"""The server assembly: the SDK's ``MCPServer`` around :class:`~mcp_kernel.serve.codemode.CodeMode`
(``build_server``), the ``execute`` request following its run's events, and ``serve()`` on stdio or HTTP.

For example::

    server = build_server(Session(), servers=["demo"])
    server.run("stdio")
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.inbound import X_MCP_HEADER_KEY as X_MCP
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field, WithJsonSchema

from ..errors import MCPKernelError, UsageError
from ..session import Session
from .audience import Audience
from .callers import current_caller
from .codemode import TEMPLATE, CodeMode
from .exposed import Exposed
from .gateway import add_gateway
from .hints import cache_hints
from .notices import WATCH_INTERVAL_S, add_notice_methods, announce_list_changes, log_request, watch_tree
from .relay import follow, refusal, resumed
from .replica import HEADER, keep_parking, park_sessions
from .runs import Progress, Run
from .tasks import ExecuteTasks

__all__ = ["build_server", "serve"]

log = logging.getLogger(__name__)

INSTRUCTIONS = """Code mode over MCP servers. Find tools with search_tools, read a binding with read
(start at /mcp-tools), then run Python with execute: `from servers.<server> import <tool>` and call tools
as typed functions. Filter and aggregate inside the code; only what it prints or returns comes back.
Pass the returned session handle to execute again to keep variables and files. Once a function works,
save it for later sessions (`from skills import save_skill; save_skill(fn)`): search_tools finds it, and
code imports it with `from skills.<name> import <name>`."""

RETRY_MS = 1000  # the reconnection delay serve's event streams suggest (SSE `retry`)


def build_server(
    session: Session,
    *,
    servers: Sequence[str] | None = None,
    tokenize_pii: bool = False,
    prepare: bool = True,
    max_timeout: float | None = None,
    max_memory_mb: int | None = None,
    expose: str = "none",
    max_calls: int | None = None,
    approve: str | None = None,
    approve_tools: Mapping[str, str] | None = None,
) -> Any:
    """The MCP server (the SDK's ``MCPServer``) with ``search_tools``, ``read`` and ``execute``, and the
    upstream tools ``expose`` chooses (``none``, ``read-only``, ``all`` or ``<server>.<tool>,...``, see
    exposed.py).

    Over HTTP with callers (see callers.py), each sandbox handle works only for the caller that opened it.
    ``max_timeout`` and ``max_memory_mb`` bound what an agent may ask ``execute`` for, ``max_calls`` is each
    execute's call budget, ``approve`` and ``approve_tools`` which calls ask the agent's user first
    (default: settings).
    """
    from ..versions import own as own_version  # looked up here: the package computes it on first use (~50 ms)

    mode = CodeMode(
        session,
        servers=servers,
        tokenize_pii=tokenize_pii,
        max_timeout=max_timeout,
        max_memory_mb=max_memory_mb,
        max_calls=max_calls,
        approve=approve,
        approve_tools=approve_tools,
    )
    settings = session.settings
    if prepare:
        mode.prepare()
        session.warm_up(instance=False)  # wasmtime, the component and the tokenizer, while the agent searches
    bus = InMemorySubscriptionBus()
    audience = Audience(bus)
    exposed = Exposed(mode, expose)
    long_runs = ExecuteTasks(mode, after=settings.serve_task_after, keep=settings.serve_task_keep)

    @contextlib.asynccontextmanager
    async def watching(_: Any) -> Any:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch_tree, mode, audience, WATCH_INTERVAL_S, server)
            tasks.start_soon(exposed.follow, server)
            tasks.start_soon(keep_parking, session)
            yield None
            tasks.cancel_scope.cancel()

    server = MCPServer(
        name="mcp-kernel",
        version=own_version(),
        instructions=INSTRUCTIONS,
        subscriptions=bus,
        lifespan=watching,
        cache_hints=cache_hints(mode.upstream_ttls()),  # on every list and read, see hints.py
        extensions=[long_runs],  # a long execute becomes a task (tasks.py)
    )
    add_notice_methods(server, audience)
    exposed.register(server, audience)
    add_gateway(server, mode, audience, mode.names)  # upstream resources, prompts, completions
    # The gateway follows its upstreams' prompt and resource lists; exposed tools, their tool lists.
    announce_list_changes(server, {"prompts", "resources", *(["tools"] if exposed.active else [])})
    read_only = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )

    @server.tool(annotations=read_only, structured_output=False)
    async def search_tools(
        query: Annotated[str, Field(description="words to look for in tool names and descriptions")],
        detail: Annotated[
            Literal["name", "signature", "full"],
            Field(description="name; signature: typed call + first sentence; full: + JSON schemas"),
        ] = "signature",
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> str:
        """Find tools across the connected MCP servers."""
        try:
            return await anyio.to_thread.run_sync(mode.search, query, detail, limit, current_caller())
        except MCPKernelError as exc:
            raise _fail(exc) from None

    @server.tool(annotations=read_only, structured_output=False)
    async def read(
        path: Annotated[str, Field(description="a directory or file under /mcp-tools")] = "/mcp-tools",
    ) -> str:
        """List a directory of the tool tree or read one file (a typed Python binding, manifest, SKILL.md)."""
        try:
            return await anyio.to_thread.run_sync(mode.read, path, current_caller())
        except MCPKernelError as exc:
            raise _fail(exc) from None

    async def execute(
        code: Annotated[str, Field(description="Python 3 to run; `from servers.<server> import <tool>`")],
        session: Annotated[
            str | None,
            # a string for clients (the SDK checks x-mcp-header sits on one): mirrored as Mcp-Param-Session
            WithJsonSchema(
                {
                    "type": "string",
                    "description": "handle from an earlier execute, to keep state",
                    X_MCP: HEADER,
                }
            ),
        ] = None,
        timeout: float | None = None,  # annotated below: the descriptions quote this server's limits
        memory_mb: int | None = None,
        close: Annotated[bool, Field(description="then close the session")] = False,
        ctx: Context | None = None,
    ) -> CallToolResult:
        """Run Python in a sandbox whose code calls the MCP tools; returns what it printed or returned."""
        caller = current_caller()
        started = time.perf_counter()
        await log_request(ctx, audience, "debug", "run started", mask=mode.mask(None))
        try:
            # A retry carries the agent's answers to the questions of a waiting run.
            run = resumed(mode, ctx, "execute") or mode.start(
                code, session, timeout, caller, memory_mb=memory_mb, close=close
            )
        except MCPKernelError as exc:
            return refusal(exc, mode.mask(None))
        run.report = _progress_reporter(run, ctx)
        return await long_runs.follow(run, lambda run: follow(run, ctx, mode, audience, started))

    # Objects, not strings (this module's annotations are postponed), so the SDK need not evaluate them.
    execute.__annotations__.update(
        timeout=Annotated[
            float,
            Field(gt=0, description=f"seconds (default {settings.cell_timeout:g}, max {mode.max_timeout:g})"),
        ],
        memory_mb=Annotated[
            int, Field(description=f"MiB (default {settings.memory_mb}, max {mode.max_memory_mb})")
        ],
    )
    server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        )
    )(execute)

    @server.resource(
        TEMPLATE, name="mcp-tools", description="the generated tool tree", mime_type="text/plain"
    )
    def tree_file(path: str) -> str:
        return mode.read("/mcp-tools/" + path, current_caller())

    server.code_mode = mode  # type: ignore[attr-defined]
    return server


def _fail(exc: MCPKernelError) -> ToolError:
    return ToolError(f"{type(exc).__name__}: {exc}")


def _progress_reporter(run: Run, ctx: Context | None) -> Progress:
    """The tools' progress, flowing back on this request: one increasing step per update, masked."""
    steps = [0]

    def report(server: str, tool: str, value: float, total: float | None, message: str | None) -> None:
        steps[0] += 1
        amount = f"{value:g}/{total:g}" if total else f"{value:g}"
        note = run.mask(f"{server}.{tool}: {amount}" + (f" - {message}" if message else ""))
        if ctx is not None:
            run.notify(ctx.report_progress(steps[0], None, note))

    return report


def serve(
    session: Session,
    *,
    servers: Sequence[str] | None = None,
    http: str | None = None,
    tokenize_pii: bool = False,
    callers: Mapping[str, str] | None = None,
    max_timeout: float | None = None,
    max_memory_mb: int | None = None,
    expose: str = "none",
    max_calls: int | None = None,
    approve: str | None = None,
    approve_tools: Mapping[str, str] | None = None,
    park_dir: str | None = None,
    replica: str | None = None,
) -> None:
    """Run the code-mode server on stdio (default) or streamable HTTP (``http="HOST:PORT"``) until stopped.

    On stdio, stdout is the protocol: everything else (progress, warnings) goes to stderr. ``callers``
    (HTTP only, ``{name: bearer token}``, see callers.py) requires one of the tokens on every request.
    Idle sessions are parked in ``park_dir`` (see replica.py), and every idle one when serve stops.
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
    server = build_server(
        session,
        servers=servers,
        tokenize_pii=tokenize_pii,
        max_timeout=max_timeout,
        max_memory_mb=max_memory_mb,
        expose=expose,
        max_calls=max_calls,
        approve=approve,
        approve_tools=approve_tools,
    )
    park_sessions(session, park_dir, replica)
    # SIGTERM (a service manager, Kubernetes) ends serve as Ctrl-C does, so the finally below parks the
    # sessions; uvicorn, which handles it first, raises it again once it has shut down.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        _run(server, session, host, port if http is not None else None, callers)
    finally:
        parked = session.sandboxes.park_all()  # a restarted serve resumes them
        if parked:
            print(f"mcp-kernel serve: parked {parked} sandbox session(s)", file=sys.stderr, flush=True)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run(server: MCPServer, session: Session, host: str, port: str | None, callers: Any) -> None:
    if port is None:
        server.run("stdio")
        return
    # HTTP only, so stdio never pays for the web server:
    import uvicorn

    from .endpoint import PATH, endpoint_config, http_app
    from .eventstore import ReplayStore

    app = http_app(
        server,
        event_store=ReplayStore(),
        retry_interval=RETRY_MS,
        callers=dict(callers or {}),
        replica=session.sandboxes.replica,
    )
    settings = session.settings
    config = endpoint_config(
        app,
        host=host,
        port=int(port),
        header_timeout=settings.http_header_timeout,
        max_connections=settings.http_max_connections,
    )
    shown = f"[{host}]" if ":" in host else host
    how = (
        f"; each caller sends its own token from {len(callers)} in --callers as 'Authorization: Bearer <token>'"
        if callers
        else "; no --callers, so anyone who reaches it may call"
    )
    print(f"mcp-kernel serve: MCP endpoint http://{shown}:{port}{PATH}{how}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run()
