"""Connections to MCP servers over stdio and streamable HTTP: with :mod:`mcp_kernel.auth` (sign-in), the only
module that imports the ``mcp`` SDK's client.

A :class:`Connection` is owned by one long-lived task on the background loop (:mod:`mcp_kernel.runtime`);
callers on any thread use its synchronous methods, or ``await`` the ``a*`` ones from the loop itself.
A :class:`ConnectionPool` keeps one live connection per server, shared by every caller, and starts a
server again on the next call after it crashed.

>>> from mcp_kernel.config import demo_spec
>>> with ConnectionPool([demo_spec()]) as pool:                    # doctest: +SKIP
...     tools = pool.list_tools("demo")
...     rows = pool.call_tool("demo", "query_sales", {"region": "EU", "limit": 3}).value
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as _dt
import os
import secrets
import signal
import shutil
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from . import runtime
from .config import log_dir
from .errors import (
    CapabilityNotOffered,
    ConfigError,
    AuthRequired,
    PromptArgumentMissing,
    PromptNotFound,
    ResourceNotFound,
    ServerCrashed,
    ServerError,
    ServerNotFound,
    ServerStartError,
    ServerTimeout,
    ToolCallError,
)
from .models import (
    CallResult,
    Completion,
    PromptArgumentInfo,
    PromptInfo,
    PromptList,
    PromptMessageView,
    PromptView,
    ResourceContent,
    ResourceInfo,
    ResourceList,
    ResourceRead,
    ResourceTemplateInfo,
    ServerInfo,
    ServerSpec,
    ToolAnnotations,
    ToolInfo,
)

if TYPE_CHECKING:  # the SDK costs ~0.35 s to import; only pay for it when a server is used
    from mcp import Client

    from .auth import SignIn, SignInMode
    from .elicitation import Asker

__all__ = ["Connection", "ConnectionPool", "ResourceNotFound", "PromptNotFound", "PromptArgumentMissing",
           "DEFAULT_TIMEOUT", "DEFAULT_CONNECT_TIMEOUT"]


# These belong in errors.py's tree (ServerError / UsageError branches); kept here until it grows them.
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 30.0
_LOG_TAIL_LINES = 20
_LOG_TAIL_BYTES = 16 * 1024  # what is read of a server's stderr to quote it: its end, never the whole file
_LOG_LINE_CHARS = 300
_LOG_MAX_BYTES = 8 * 1024 * 1024  # a server's log is cut back to its last MiB past this size
_LOG_KEEP_BYTES = 1024 * 1024
_MAX_PAGES = 1000
MAX_SSE_EVENT_BYTES = 64 * 1024 * 1024
# How long the synchronous facade waits beyond a call's own timeout before giving up on the loop.
_GRACE = 5.0

ProgressCallback = Callable[[float, float | None, str | None], None]


def _tool_info(tool: Any) -> ToolInfo:
    ann = tool.annotations
    return ToolInfo(
        name=tool.name,
        title=tool.title,
        description=tool.description or "",
        input_schema=tool.input_schema or {"type": "object"},
        output_schema=tool.output_schema,
        annotations=ToolAnnotations(
            title=getattr(ann, "title", None),
            read_only=getattr(ann, "read_only_hint", None),
            destructive=getattr(ann, "destructive_hint", None),
            idempotent=getattr(ann, "idempotent_hint", None),
            open_world=getattr(ann, "open_world_hint", None),
        ),
    )


def _resource_info(r: Any) -> ResourceInfo:
    return ResourceInfo(uri=str(r.uri), name=r.name or "", title=r.title, description=r.description or "",
                        mime_type=r.mime_type, size=r.size)


def _template_info(t: Any) -> ResourceTemplateInfo:
    return ResourceTemplateInfo(uri_template=str(t.uri_template), name=t.name or "", title=t.title,
                                description=t.description or "", mime_type=t.mime_type)


def _resource_content(c: Any) -> ResourceContent:
    import base64
    import binascii

    blob = getattr(c, "blob", None)
    if blob is not None:
        try:
            size = len(base64.b64decode(blob, validate=False))
        except (binascii.Error, ValueError):
            size = len(blob) * 3 // 4
        return ResourceContent(uri=str(c.uri), mime_type=c.mime_type, blob=blob, size=size)
    text = getattr(c, "text", "") or ""
    return ResourceContent(uri=str(c.uri), mime_type=c.mime_type, text=text, size=len(text.encode()))


def _prompt_info(p: Any) -> PromptInfo:
    return PromptInfo(name=p.name, title=p.title, description=p.description or "",
                      arguments=[PromptArgumentInfo(name=a.name, description=a.description or "",
                                                    required=bool(a.required)) for a in p.arguments or []])


def _prompt_message(m: Any) -> PromptMessageView:
    content = m.content
    kind = getattr(content, "type", "text")
    if kind == "text":
        return PromptMessageView(role=m.role, text=content.text)
    if kind == "resource":
        inner = content.resource
        text = getattr(inner, "text", None)
        return PromptMessageView(role=m.role, kind="resource",
                                 text=text if text is not None else f"[resource {inner.uri}, {inner.mime_type or 'binary'}]")
    if kind == "resource_link":
        return PromptMessageView(role=m.role, kind=kind, text=f"[link to {content.uri}]")
    mime = getattr(content, "mime_type", None) or kind
    return PromptMessageView(role=m.role, kind=kind, text=f"[{kind}, {mime}]")


def _template_matches(template: str, uri: str) -> bool:
    """Whether ``uri`` fits an RFC 6570 level-1 template such as ``note://shelf/{name}``."""
    import re

    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                      for part in re.split(r"(\{[^}]*\})", template) if part)
    return re.fullmatch(pattern, uri) is not None


def _server_info(client: Any, fallback_name: str) -> ServerInfo:
    """What the negotiated connection knows of the server (2026-era servers may not name themselves)."""
    impl = client.server_info
    caps = client.server_capabilities
    return ServerInfo(
        name=impl.name if impl is not None else fallback_name,
        version=(impl.version or "") if impl is not None else "",
        title=getattr(impl, "title", None),
        protocol_version=str(client.protocol_version),
        capabilities=caps.model_dump(mode="json", exclude_none=True, by_alias=True) if caps else {},
        instructions=client.instructions,
    )


def _client_info() -> Any:
    from mcp.types import Implementation

    from . import __version__

    return Implementation(name="mcp-kernel", version=__version__)


def missing_command(command: str, cwd: str | None = None) -> str:
    """Why ``command`` could not start, and the one step that fixes it.

    A path (``../node_modules/.bin/x``) is looked for where the server starts (``cwd``, else here), not on
    PATH; one under ``node_modules`` comes from ``npm ci`` in the folder with the ``package.json``; ``npx``
    and ``node`` come with Node.js.

    >>> missing_command("npx")
    "command 'npx' was not found on PATH. Install Node.js (it brings node, npm and npx), then run the cell again."
    """
    if os.sep in command or (os.altsep and os.altsep in command):
        base = Path(cwd) if cwd else Path.cwd()
        path = (base / command).resolve() if not Path(command).is_absolute() else Path(command)
        if path.exists():
            return f"command {command!r} ({path}) is not executable. Fix its permissions or 'command' in mcp.json."
        where = f"{path} does not exist" + ("" if Path(command).is_absolute() else f" (relative to {base})")
        if "node_modules" in Path(command).parts:
            root = path.parents[len(path.parts) - 1 - path.parts.index("node_modules")]
            hint = f"Run `npm ci` in {root} (it installs what package.json lists), or start the server with `npx -y`."
        else:
            hint = "Install it, or give a path that exists (relative paths count from the kernel's folder)."
        return f"command {command!r}: {where}. {hint}"
    if shutil.which(command):
        return f"command {command!r} is not executable. Install it again or fix 'command' in mcp.json."
    if command in ("npx", "node", "npm"):
        return (f"command {command!r} was not found on PATH. Install Node.js (it brings node, npm and npx), then "
                "run the cell again.")
    return f"command {command!r} was not found on PATH. Install it or fix 'command' in mcp.json."


def _leaf_errors(exc: BaseException) -> list[BaseException]:
    """Flatten anyio's exception groups to the errors that actually happened."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaf_errors(sub)]
    return [exc]


def _describe(exc: BaseException) -> str:
    leaves = [e for e in _leaf_errors(exc) if not isinstance(e, asyncio.CancelledError)] or [exc]
    return "; ".join(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__ for e in leaves)


def _is_closed(exc: BaseException) -> bool:
    """Whether the transport is gone: the SDK's CONNECTION_CLOSED code, or a closed/broken stream or pipe."""
    import anyio
    from mcp import MCPError
    from mcp.types import CONNECTION_CLOSED

    return any(
        isinstance(e, MCPError) and e.code == CONNECTION_CLOSED
        or isinstance(e, (BrokenPipeError, ConnectionError, EOFError, anyio.ClosedResourceError,
                          anyio.BrokenResourceError, anyio.EndOfStream))
        for e in _leaf_errors(exc)
    )


class Connection:
    """One connection to one MCP server.

    >>> conn = Connection(ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"]))
    >>> conn.connect().name                                          # doctest: +SKIP
    'demo'
    """

    def __init__(
        self,
        spec: ServerSpec,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        logs: Path | None = None,
        sign_in: SignIn | None = None,
        sign_in_mode: SignInMode = "auto",
    ) -> None:
        self.spec = spec
        self.sign_in = sign_in  # None: the person at the caller's frontend signs in (see auth.person_sign_in)
        self.sign_in_mode = sign_in_mode
        self._denied: int | None = None  # the last 401/403 an HTTP server answered, to name AuthRequired
        self._auth_failure: Exception | None = None  # why the last sign-in failed (the transport only logs it)
        self._connect_asker: Asker | None = None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.log_path = (logs or log_dir()) / f"{safe_filename(spec.name)}.log"
        self.info: ServerInfo | None = None
        self._session: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._log_offset = 0
        self._errlog: IO[str] | None = None
        # Marks the server's process in its environment, so its process group can be found and stopped
        # whole at close (the SDK kills the group only when the server itself does not exit in time).
        self._tag = secrets.token_hex(8)
        self._pgid: int | None = None
        self._requests = 0
        self.list_changes = 0  # counts the server's "my tools/resources/prompts changed" events
        self._garbled: set[Callable[[str], None]] = set()  # told of a reply that is not JSON-RPC
        self._tools: list[ToolInfo] | None = None
        self._askers: list[Any] = []  # the askers of calls in flight (legacy elicitation reaches them)
        self._human_seconds = 0.0  # time people spent answering questions (not held against timeouts)
        self._asking = 0  # questions out to a person right now
        self._connect_lock: asyncio.Lock | None = None
        # What roots/list answers. Empty by default on purpose: a server such as server-filesystem replaces
        # the directories it was started with by any non-empty roots a client sends.
        self.roots: list[Path] = []
        self._tools_expire: float | None = None  # when the tool list's ttlMs passes (None: no expiry)
        self._watchers: dict[str, list[Callable[[str], None]]] = {}  # resource URI -> who wants its updates
        self._watches: dict[str, asyncio.Task[None]] = {}  # resource URI -> the task following it
        self._subscribed: set[str] = set()  # URIs followed by resources/subscribe (older servers)

    # ---- state -------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the server's process (or HTTP session) is up and the handshake is done."""
        return self._session is not None and self._owner is not None and not self._owner.done()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines this server wrote to stderr since it was last started ('' for HTTP).

        Bounded whatever the server wrote: the end of the file only, each line shortened.
        """
        try:
            with open(self.log_path, "rb") as fh:
                end = fh.seek(0, os.SEEK_END)
                start = max(min(self._log_offset, end), end - _LOG_TAIL_BYTES)
                fh.seek(start)
                data = fh.read(end - start)
        except OSError:
            return ""
        tail = data.decode("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(line if len(line) <= _LOG_LINE_CHARS else
                         f"{line[:_LOG_LINE_CHARS]} [... {len(line) - _LOG_LINE_CHARS:,} more characters]"
                         for line in tail).rstrip()

    def _bound_log(self) -> None:
        """Cut the log back to its last MiB once it passes 8 MiB (the server appends, so it writes on)."""
        try:
            size = self.log_path.stat().st_size
            if size <= _LOG_MAX_BYTES:
                return
            with open(self.log_path, "r+b") as fh:
                fh.seek(size - _LOG_KEEP_BYTES)
                kept = fh.read()
                fh.seek(0)
                fh.truncate()
                fh.write(f"--- [log cut to its last {_LOG_KEEP_BYTES // 1024} KiB]\n".encode() + kept)
            self._log_offset = 0
        except OSError:
            pass

    # ---- async API (run on the loop) ---------------------------------------------------------
    async def aconnect(self) -> ServerInfo:
        """Start (or reuse) the connection and return the server's handshake info."""
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self.connected and self.info is not None:
                return self.info
            from .elicitation import current

            self._connect_asker = current()  # who signs in, should the server ask for it
            await self._astop()
            return await self._astart()

    async def _astart(self) -> ServerInfo:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Client] = loop.create_future()  # or the start's error
        self._closing = asyncio.Event()
        self._open_log()
        self._owner = loop.create_task(self._own(ready, self._closing), name=f"mcp-server:{self.spec.name}",
                                       context=contextvars.Context())
        self._denied = None
        try:
            # Not counting the time a person spends signing in (an OAuth server asks during the handshake).
            session = await self._within(asyncio.shield(ready), self.connect_timeout)
        except TimeoutError:
            await self._astop()
            raise ServerStartError(
                f"Server {self.spec.name!r} did not finish the MCP handshake within {self.connect_timeout:g} s "
                f"({self.spec.describe()}). Check that it speaks MCP on {self._where()}.",
                server=self.spec.name,
                log_tail=self.log_tail(),
            ) from None
        except AuthRequired:
            await self._astop()
            raise
        except ServerStartError as exc:
            await self._astop()
            await asyncio.sleep(0.05)  # let the dying process flush stderr so its last words are quoted
            raise ServerStartError(str(exc), server=self.spec.name, log_tail=self.log_tail()) from None
        self._session = session
        self.info = _server_info(session, self.spec.name)
        self._tools = None
        self._pgid = _find_tagged_child(self._tag) if self.spec.transport == "stdio" else None
        return self.info

    def _where(self) -> str:
        return "stdout" if self.spec.transport == "stdio" else self.spec.describe()

    def _open_log(self) -> None:
        if self.spec.transport != "stdio":
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._errlog is None or self._errlog.closed:
            self._errlog = open(self.log_path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        self._bound_log()
        self._errlog.write(f"--- {stamp} starting: {self.spec.describe()}\n")
        self._errlog.flush()
        self._log_offset = self._errlog.tell()

    async def _own(self, ready: asyncio.Future[Client], closing: asyncio.Event) -> None:
        """The task that owns the transport and the negotiated client for their whole life.

        ``mode="auto"`` asks ``server/discover`` at 2026-07-28 first and falls back to the ``initialize``
        handshake (2025-11-25 and older) for servers that only speak those. Declaring elicitation,
        sampling and roots callbacks makes servers publish the tools that need them.
        """
        from mcp import Client

        try:
            transport = self._transport()
        except ConfigError as exc:  # a token directory refused as unsafe: said as it is, not as a slow handshake
            if not ready.done():
                ready.set_exception(exc)
            return
        client = Client(
            transport,
            mode="auto",
            cache=None,  # tools are cached here, per connection, until a refresh or a reconnect
            client_info=_client_info(),
            message_handler=self._on_message,
            elicitation_callback=self._on_elicit,
            sampling_callback=self._on_sampling,
            list_roots_callback=self._on_roots,
            logging_callback=self._on_log,
            log_level="info",
        )
        try:
            async with client:
                if not ready.done():
                    ready.set_result(client)
                listener = asyncio.ensure_future(self._listen(client))
                try:
                    await closing.wait()
                finally:
                    listener.cancel()
                    await asyncio.gather(listener, return_exceptions=True)
        except BaseException as exc:  # noqa: BLE001 - reported to whoever waits for the handshake
            if not ready.done():
                ready.set_exception(self._start_error(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            if not ready.done():
                ready.set_exception(self._start_error(None))
            self._session = None

    def _transport(self) -> Any:
        if self.spec.transport == "stdio":
            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            env = {**(self.spec.env or {}), _TAG_VARIABLE: self._tag}
            params = StdioServerParameters(command=self.spec.command or "", args=self.spec.args, env=env,
                                           cwd=self.spec.cwd)
            return stdio_client(params, errlog=self._errlog)
        from .auth import http_auth

        self._auth_failure = None
        auth = http_auth(self.spec, self._sign_in_for, failed=self._auth_failed) if self.spec.oauth else None
        if self.spec.sse:
            return _sse_transport(str(self.spec.url), self.spec.headers, auth, self._on_response)
        return _http_transport(str(self.spec.url), self.spec.headers, auth, self._on_response)

    def _auth_failed(self, exc: Exception) -> None:
        self._auth_failure = exc

    async def _on_response(self, response: Any) -> None:
        if response.status_code in (401, 403):
            self._denied = response.status_code

    def _person(self) -> Asker | None:
        """Who answers for this connection now: the asker of a call in flight, else the one that connected."""
        from .elicitation import current

        return current() or (self._askers[-1] if self._askers else self._connect_asker)

    def _sign_in_for(self, port: int) -> SignIn:
        from .auth import person_sign_in

        inner = self.sign_in or person_sign_in(self.spec.name, port, self.sign_in_mode, self._person)
        return _Attended(self, inner)

    @contextlib.asynccontextmanager
    async def _people_time(self) -> AsyncIterator[None]:
        """A person is answering (a question, a sign-in): the time does not count against timeouts, here or
        on the thread that waits for the call."""
        asker = self._person()
        self._asking += 1
        if asker is not None:
            asker.busy += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._asking -= 1
            if asker is not None:
                asker.busy -= 1
            self._human_seconds += time.monotonic() - started

    def _start_error(self, exc: BaseException | None) -> ServerStartError | AuthRequired:
        name, spec = self.spec.name, self.spec
        leaves = _leaf_errors(exc) if exc is not None else []
        if any(isinstance(e, FileNotFoundError) for e in leaves) and spec.transport == "stdio":
            message = f"Server {name!r}: {missing_command(spec.command or '', spec.cwd)}"
        elif spec.transport == "http" and any(_is_connect_error(e) for e in leaves):
            message = f"Server {name!r}: nothing answered at {spec.describe()}. Start the server or fix its 'url'."
        elif (denied := self._auth_error(exc)) is not None:
            return denied
        else:
            cause = f" ({_describe(exc)})" if exc is not None else ""
            message = (
                f"Server {name!r} stopped before the MCP handshake finished{cause}. "
                f"Command: {spec.describe()}. See `mcp-kernel server validate {name}` or its log at {self.log_path}."
            )
        return ServerStartError(message, server=name)

    def _auth_error(self, exc: BaseException | None) -> AuthRequired | None:
        """The sign-in problem behind a failure, if there is one: a 401/403 with no ``oauth`` configured, or
        an OAuth flow that failed (the SDK's message names the step; it carries no token)."""
        from mcp.client.auth import OAuthFlowError

        name = self.spec.name
        for leaf in [*(_leaf_errors(exc) if exc is not None else []), *filter(None, [self._auth_failure])]:
            if isinstance(leaf, AuthRequired) and leaf.server is not None:
                return leaf
            if isinstance(leaf, (OAuthFlowError, AuthRequired)):
                return AuthRequired(f"Signing in to server {name!r} failed: {leaf}. Check its oauth block in "
                                    f"mcp.json, then run `%mcp auth login {name}` to try again.", server=name)
        if self._denied is not None and self.spec.oauth is None:
            return AuthRequired.for_server(name, self._denied)
        return None

    async def _astop(self) -> None:
        owner, closing, live = self._owner, self._closing, self._session is not None
        self._owner, self._closing, self._session = None, None, None
        if owner is None:
            return
        if closing is not None:
            closing.set()
        if not live:
            # Still in the handshake: nothing to close politely, the process is stopped by cancellation.
            owner.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(owner), 5)
        except (TimeoutError, asyncio.CancelledError):
            owner.cancel()
            await asyncio.gather(owner, return_exceptions=True)
        except BaseException:  # noqa: BLE001 - the owner already reported its failure
            pass
        pgid, self._pgid = self._pgid, None
        if pgid is not None:
            await _stop_group(pgid)

    async def aclose(self) -> None:
        """Stop the server (or end the HTTP session) and release the log file."""
        await self._astop()
        if self._errlog is not None and not self._errlog.closed:
            self._errlog.close()

    async def alist_tools(self, *, refresh: bool = False) -> list[ToolInfo]:
        """Every tool the server publishes, following ``next_cursor`` to the last page.

        Kept until the server says its tools changed, or until the ``ttlMs`` it gave with the list passes
        (a list found different then counts as a change, so bindings are regenerated).
        """
        if self._tools is not None and not refresh and self.connected and not self.tools_expired:
            return self._tools
        await self.aconnect()
        tools: list[ToolInfo] = []
        cursor: str | None = None
        ttl_ms: int | None = None
        for _ in range(_MAX_PAGES):
            page = await self._request(lambda s, c=cursor: s.list_tools(cursor=c, cache_mode="refresh"),
                                       "tools/list", self.timeout)
            tools.extend(_tool_info(t) for t in page.tools)
            ttl_ms = page.ttl_ms if ttl_ms is None else min(ttl_ms, page.ttl_ms or ttl_ms)
            cursor = page.next_cursor
            if not cursor:
                break
        else:
            raise ServerError(f"Server {self.spec.name!r} returned more than {_MAX_PAGES} pages of tools.")
        if self.tools_expired and self._tools is not None and self._tools != tools:
            self.list_changes += 1
        # A positive ttlMs bounds how long the list is trusted; 0 or none: until the server says it changed.
        self._tools_expire = time.monotonic() + ttl_ms / 1000 if ttl_ms else None
        self._tools = tools
        return tools

    @property
    def tools_expired(self) -> bool:
        """Whether the ``ttlMs`` the server gave with its tool list has passed."""
        return self._tools_expire is not None and time.monotonic() >= self._tools_expire

    async def acall_tool(
        self,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> CallResult:
        """Call one tool; an ``isError`` result comes back as a ``CallResult`` with ``is_error`` set."""
        await self.aconnect()
        timeout = self.timeout if timeout is None else timeout

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            if progress is not None:
                progress(value, total, message)

        from .elicitation import current

        asker = current()
        if asker is not None:
            self._askers.append(asker)
        started = time.perf_counter()
        try:
            result = await self._request(
                lambda s: s.call_tool(tool, arguments or {}, progress_callback=on_progress if progress else None),
                f"tools/call {tool!r}",
                timeout,
            )
        finally:
            if asker is not None:
                self._askers.remove(asker)
        text = "\n".join(block.text for block in result.content if getattr(block, "type", None) == "text")
        return CallResult(
            server=self.spec.name,
            tool=tool,
            structured=result.structured_content,
            text=text,
            content=[block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content],
            is_error=bool(result.is_error),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _apaginate(self, fetch: Callable[[Client, str | None], Any], items: str, what: str) -> list[Any]:
        """Every item of a paginated list request, following ``next_cursor`` to the last page."""
        await self.aconnect()
        found: list[Any] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await self._request(lambda s, c=cursor: fetch(s, c), what, self.timeout)
            found.extend(getattr(page, items))
            cursor = page.next_cursor
            if not cursor:
                return found
        raise ServerError(f"Server {self.spec.name!r} returned more than {_MAX_PAGES} pages of {what}.")

    def _offers(self, capability: str) -> bool:
        return self.info is not None and capability in self.info.capabilities

    async def alist_resources(self) -> ResourceList:
        """Every resource and resource template the server publishes (empty when it has none)."""
        await self.aconnect()
        if not self._offers("resources"):
            return ResourceList(server=self.spec.name)
        resources = await self._apaginate(lambda s, c: s.list_resources(cursor=c), "resources", "resources/list")
        templates = await self._apaginate(lambda s, c: s.list_resource_templates(cursor=c), "resource_templates",
                                          "resources/templates/list")
        return ResourceList(server=self.spec.name, resources=[_resource_info(r) for r in resources],
                            templates=[_template_info(t) for t in templates])

    async def aread_resource(self, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource by URI: its text parts and its blobs (base64, with their decoded size).

        An unknown URI raises :class:`ResourceNotFound` listing what the server does publish.
        """
        await self.aconnect()
        started = time.perf_counter()
        try:
            result = await self._request(lambda s: s.read_resource(uri), f"resources/read {uri!r}",
                                         self.timeout if timeout is None else timeout)
        except (ServerTimeout, ServerCrashed):
            raise
        except (ServerError, ToolCallError) as exc:
            listing = await self.alist_resources() if self._offers("resources") else ResourceList(server=self.spec.name)
            known = {r.uri for r in listing.resources}
            if uri not in known and not any(_template_matches(t.uri_template, uri) for t in listing.templates):
                shown = ", ".join(sorted(known)[:8]) + (" ..." if len(known) > 8 else "")
                raise ResourceNotFound(
                    f"Server {self.spec.name!r} has no resource {uri!r} ({exc}). "
                    + (f"It publishes: {shown}. " if known else "It publishes no resources. ")
                    + f"List them with `%mcp resources {self.spec.name}`.",
                    server=self.spec.name,
                ) from None
            raise
        return ResourceRead(server=self.spec.name, uri=uri, contents=[_resource_content(c) for c in result.contents],
                            duration_ms=(time.perf_counter() - started) * 1000)

    async def awatch(self, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Call ``on_update(uri)`` (on the loop thread; keep it short) each time the server says the resource
        at ``uri`` changed; the returned function stops watching. 2026-07-28 servers are followed with
        ``subscriptions/listen``, older ones with ``resources/subscribe`` and their update notifications."""
        await self.aconnect()
        resources = (self.info.capabilities.get("resources") if self.info else None) or {}
        if not resources.get("subscribe"):
            raise CapabilityNotOffered(f"Server {self.spec.name!r} does not offer resource subscriptions (no "
                                       "`resources.subscribe` capability); read the resource again instead.",
                                       server=self.spec.name)
        watchers = self._watchers.setdefault(uri, [])
        watchers.append(on_update)
        if len(watchers) == 1:
            self._watches[uri] = asyncio.ensure_future(self._follow(uri))
        loop = asyncio.get_running_loop()

        def stop() -> None:
            loop.call_soon_threadsafe(self._unwatch, uri, on_update)

        return stop

    def _unwatch(self, uri: str, on_update: Callable[[str], None]) -> None:
        watchers = self._watchers.get(uri, [])
        if on_update in watchers:
            watchers.remove(on_update)
        if not watchers:
            self._watchers.pop(uri, None)
            task = self._watches.pop(uri, None)
            if task is not None:
                task.cancel()

    async def _follow(self, uri: str) -> None:
        from mcp.client.subscriptions import ListenNotSupportedError, ResourceUpdated

        client = self._session
        if client is None:
            return
        try:
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                async for event in subscription:
                    if isinstance(event, ResourceUpdated):
                        self._resource_updated(event.uri)
        except ListenNotSupportedError:
            import warnings

            from mcp.shared.exceptions import MCPDeprecationWarning

            # Deprecated at 2026-07-28, and the way to follow a resource of a server that speaks an older one.
            warnings.filterwarnings("ignore", "resources/(un)?subscribe is removed", MCPDeprecationWarning)
            try:
                self._subscribed.add(uri)
                await client.subscribe_resource(uri)  # updates arrive as notifications (see _on_message)
                await asyncio.Event().wait()
            finally:
                self._subscribed.discard(uri)
                if self._session is client:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(client.unsubscribe_resource(uri), 5)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the stream ended or failed: say so in the server's log
            self._note(f"stopped following {uri}: {type(exc).__name__}: {exc}")

    def _resource_updated(self, uri: str) -> None:
        for on_update in list(self._watchers.get(uri, [])):
            try:
                on_update(uri)
            except Exception as exc:  # noqa: BLE001 - a watcher's bug must not stop the connection
                self._note(f"a watcher of {uri} failed: {type(exc).__name__}: {exc}")

    async def alist_prompts(self) -> PromptList:
        """Every prompt the server publishes (empty when it has none)."""
        await self.aconnect()
        if not self._offers("prompts"):
            return PromptList(server=self.spec.name)
        prompts = await self._apaginate(lambda s, c: s.list_prompts(cursor=c), "prompts", "prompts/list")
        return PromptList(server=self.spec.name, prompts=[_prompt_info(p) for p in prompts])

    async def aget_prompt(self, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """One prompt filled in with ``arguments``; a missing required argument raises before anything is sent."""
        arguments = {k: str(v) for k, v in (arguments or {}).items()}
        listing = await self.alist_prompts()
        prompt = next((p for p in listing.prompts if p.name == name), None)
        if prompt is None:
            names = ", ".join(p.name for p in listing.prompts) or "none"
            raise PromptNotFound(f"Server {self.spec.name!r} has no prompt {name!r}. Its prompts: {names}. "
                                 f"List them with `%mcp prompts {self.spec.name}`.", server=self.spec.name)
        missing = [a.name for a in prompt.arguments if a.required and a.name not in arguments]
        if missing:
            usage = " ".join(f"{a.name}=..." for a in prompt.arguments if a.required)
            raise PromptArgumentMissing(
                f"Prompt {name!r} of server {self.spec.name!r} needs the argument"
                f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}. "
                f"Give it as `%mcp prompt {self.spec.name} {name} {usage}`.")
        result = await self._request(lambda s: s.get_prompt(name, arguments), f"prompts/get {name!r}", self.timeout)
        return PromptView(server=self.spec.name, prompt=name, arguments=arguments,
                          description=result.description or prompt.description,
                          messages=[_prompt_message(m) for m in result.messages])

    async def acomplete(self, ref: Literal["prompt", "resource"], name: str, argument: str, value: str = "",
                        context: dict[str, str] | None = None) -> Completion:
        """Values the server suggests for ``argument`` of prompt (or resource template) ``name``, given what
        was typed so far (``value``) and the arguments already chosen (``context``)."""
        from mcp.types import PromptReference, ResourceTemplateReference

        await self.aconnect()
        if not self._offers("completions"):
            raise CapabilityNotOffered(f"Server {self.spec.name!r} does not suggest argument values (it declares no "
                                       "`completions` capability); type the value in full.", server=self.spec.name)
        target: Any = (PromptReference(type="ref/prompt", name=name) if ref == "prompt"
                       else ResourceTemplateReference(type="ref/resource", uri=name))
        result = await self._request(
            lambda s: s.complete(target, {"name": argument, "value": value}, context or None),
            f"completion/complete for {argument!r} of {name!r}", self.timeout)
        found = result.completion
        return Completion(server=self.spec.name, ref=ref, name=name, argument=argument, value=value,
                          values=list(found.values), total=found.total, has_more=bool(found.has_more))

    # ---- what a server asks of the client -------------------------------------------------------
    async def _on_elicit(self, context: Any, params: Any) -> Any:
        """A server asks for input (an ``input_required`` round or a legacy ``elicitation/create``).

        The question goes to the person behind the call that caused it: the asker attached to this request
        (2026 era: the callback runs in the request's own task), else the one of the call in flight (legacy
        era: the callback runs in the connection's reader). With none (a sandboxed cell, a call made by code)
        it is declined, and the reason kept in the server's log.
        """
        from mcp.types import ElicitResult

        from .elicitation import Question, current

        url = getattr(params, "url", None)
        question = Question(server=self.spec.name, message=getattr(params, "message", "") or "",
                            schema=getattr(params, "requested_schema", None) or {}, url=str(url) if url else None,
                            elicitation_id=getattr(params, "elicitation_id", None))
        asker = current() or (self._askers[-1] if self._askers else None)
        if asker is None:
            self._note(f"declined an elicitation ({question.message!r}): no person is attached to answer it "
                       "(a sandboxed cell or a call made by code cannot ask; use `%mcp call` or `mcp-kernel call`)")
            return ElicitResult(action="decline")
        async with self._people_time():
            answer = await asker.ask_async(question)
        self._note(f"elicitation {question.message!r}: {answer.action}"
                   + (f" ({answer.reason})" if answer.reason else ""))
        # ElicitResult has no field for a reason: it goes in _meta, under our prefix, for the server's log.
        meta = {"mcp-kernel/reason": answer.reason} if answer.reason else None
        return ElicitResult(action=answer.action, content=answer.content if answer.action == "accept" else None,
                            _meta=meta)

    async def _on_sampling(self, context: Any, params: Any) -> Any:
        """A server asks the client's model to write: mcp-kernel has none, so refuse plainly."""
        from mcp.types import INVALID_REQUEST, ErrorData

        self._note("refused a sampling request: mcp-kernel has no language model to sample from")
        return ErrorData(code=INVALID_REQUEST, message="mcp-kernel has no language model: sampling is not "
                         "available from this client. Call the tool from an agent that has one.")

    async def _on_roots(self, context: Any) -> Any:
        """The directories the server may work in (``roots``; none unless set, so servers keep their own)."""
        from mcp.types import ListRootsResult, Root

        return ListRootsResult(roots=[Root(uri=path.resolve().as_uri(), name=path.name or str(path))
                                      for path in self.roots])

    async def _on_log(self, params: Any) -> None:
        """A ``notifications/message`` from the server: kept in its log, read with ``%mcp logs``."""
        data = params.data if isinstance(params.data, str) else _json_line(params.data)
        logger = f" {params.logger}" if params.logger else ""
        self._note(f"[{params.level}{logger}] {data}")

    def _note(self, line: str) -> None:
        """Append one line to the server's log (the file its stderr goes to), opening it for HTTP servers."""
        try:
            if self._errlog is None or self._errlog.closed:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._errlog = open(self.log_path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open
            self._errlog.write(f"mcp-kernel: {line[:2000]}\n")
            self._errlog.flush()
        except (OSError, ValueError):
            pass

    async def _listen(self, client: Any) -> None:
        """Follow the server's list changes (2026-07-28: ``subscriptions/listen``); older servers send
        ``notifications/*/list_changed`` instead, which :meth:`_on_message` sees."""
        from mcp.client.subscriptions import ListenNotSupportedError

        try:
            async with client.listen(tools_list_changed=True, resources_list_changed=True,
                                     prompts_list_changed=True) as subscription:
                async for _event in subscription:
                    self._lists_changed()
        except ListenNotSupportedError:
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a server that does not offer listen: no change events, no harm
            return

    def _lists_changed(self) -> None:
        self._tools = None
        self.list_changes += 1

    async def _on_message(self, message: Any) -> None:
        """Server notifications and transport faults. A garbled JSON-RPC reply fails the requests in flight
        at once (which one it answered cannot be known), instead of leaving them to time out; other stray
        stdout lines are ignored, as the SDK does. A list-changed notification (older servers) marks the
        lists stale."""
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if isinstance(method, str) and method.endswith("/list_changed"):
            self._lists_changed()
            return
        if method == "notifications/resources/updated":  # older servers; listen streams bring their own
            params = getattr(message, "params", None) or getattr(getattr(message, "root", None), "params", None)
            if params is not None and str(params.uri) in self._subscribed:
                self._resource_updated(str(params.uri))
            return
        if isinstance(message, Exception) and _looks_like_reply(message):
            text = _describe(message).splitlines()[0][:300]
            for tell in list(self._garbled):
                tell(text)

    async def _request(self, send: Callable[[Client], Any], what: str, timeout: float) -> Any:
        from mcp import MCPError

        session = self._session
        if session is None:
            await self.aconnect()
            session = self._session
        assert session is not None
        self._requests += 1
        if self._requests % 50 == 0:
            self._bound_log()
        try:
            return await self._within(send(session), timeout, what)
        except TimeoutError:
            self._bound_log()
            raise ServerTimeout(
                f"Server {self.spec.name!r} did not answer {what} within {timeout:g} s. The connection is kept; "
                "raise the timeout if the tool is slow.",
                server=self.spec.name,
            ) from None
        except ServerError:
            raise
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            if _is_schema_error(exc):
                raise ServerError(f"Server {self.spec.name!r} answered {what} with a reply that does not follow the "
                                  f"MCP schema ({_first_schema_error(exc)}). The server is broken; report it.",
                                  server=self.spec.name) from None
            denied = self._auth_error(exc) if self.spec.transport == "http" else None
            if denied is not None:  # a sign-in that failed, or a 401/403 with no oauth configured
                await self._astop()
                raise denied from None
            if _is_closed(exc) or not self.connected:
                await asyncio.sleep(0.05)  # let the dying process flush its stderr into the log
                self._bound_log()
                tail = self.log_tail()
                await self._astop()
                raise ServerCrashed(
                    f"Server {self.spec.name!r} closed the connection during {what}; it will be started again "
                    "on the next call.",
                    server=self.spec.name,
                    log_tail=tail,
                ) from None
            if isinstance(exc, MCPError):
                from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND

                if exc.code in (INVALID_PARAMS, METHOD_NOT_FOUND):
                    raise ToolCallError(
                        f"Server {self.spec.name!r} refused {what}: {exc.message}", server=self.spec.name
                    ) from None
                raise ServerError(f"Server {self.spec.name!r} answered {what} with an error: {exc.message}",
                                  server=self.spec.name) from None
            raise ServerError(f"Server {self.spec.name!r}: {what} failed: {_describe(exc)}",
                              server=self.spec.name) from exc

    async def _within(self, coro: Any, timeout: float, what: str | None = None) -> Any:
        """``coro``'s result within ``timeout`` seconds, not counting the time a person spent answering
        (a question, a sign-in); with ``what`` (a request), a ``ServerError`` at once if a reply arrives that
        is not JSON-RPC.

        ``coro`` runs in the calling task, which a timer (or the garbled reply) cancels, as ``asyncio.timeout``
        does: no second task and no wait per request, since this is every tool call's path.
        """
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        why: list[str] = []  # who cancelled: "" for the timer, else the garbled reply's text
        human = self._human_seconds
        timer: asyncio.TimerHandle

        def expire() -> None:
            nonlocal human, timer
            if why:  # the garbled reply came first
                return
            if self._asking or self._human_seconds > human:
                # A person is (or was) answering a server's question: their time does not count.
                timer = loop.call_later(max(self._human_seconds - human, 1.0), expire)
                human = self._human_seconds
                return
            why.append("")
            task.cancel()

        def garbled(text: str) -> None:
            if not why and not task.done():
                why.append(text)
                task.cancel()

        timer = loop.call_later(timeout, expire)
        if what is not None:
            self._garbled.add(garbled)
        try:
            value = await coro
        except asyncio.CancelledError:
            if not why or task.uncancel() > 0:  # cancelled from outside (an interrupt, a stopped cell)
                raise
            if why[0]:
                raise ServerError(f"Server {self.spec.name!r} sent a reply to {what} that is not valid JSON-RPC, so "
                                  f"mcp-kernel cannot read it ({why[0]}). The server is broken; see its log or "
                                  "report it.", server=self.spec.name) from None
            raise TimeoutError from None
        finally:
            timer.cancel()
            self._garbled.discard(garbled)
        if why:  # the coroutine finished despite the cancel: take the request back
            task.uncancel()
        return value

    # ---- sync facade (any thread but the loop's) ---------------------------------------------
    def connect(self) -> ServerInfo:
        """Start the server if needed; return its handshake info."""
        return _run(self.aconnect(), self.connect_timeout + _GRACE, self.spec.name)

    def list_tools(self, *, refresh: bool = False) -> list[ToolInfo]:
        """Every tool the server publishes (cached until ``refresh`` or a reconnect)."""
        return _run(self.alist_tools(refresh=refresh), self.connect_timeout + self.timeout + _GRACE, self.spec.name)

    def call_tool(
        self,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> CallResult:
        """Call ``tool`` with ``arguments``; see :meth:`acall_tool`."""
        wait = self.connect_timeout + (self.timeout if timeout is None else timeout) + _GRACE
        return _run(self.acall_tool(tool, arguments, timeout=timeout, progress=progress), wait, self.spec.name)

    def list_resources(self) -> ResourceList:
        """Every resource and resource template; see :meth:`alist_resources`."""
        return _run(self.alist_resources(), self.connect_timeout + 2 * self.timeout + _GRACE, self.spec.name)

    def read_resource(self, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource; see :meth:`aread_resource`."""
        wait = self.connect_timeout + 3 * (self.timeout if timeout is None else timeout) + _GRACE
        return _run(self.aread_resource(uri, timeout=timeout), wait, self.spec.name)

    def list_prompts(self) -> PromptList:
        return _run(self.alist_prompts(), self.connect_timeout + self.timeout + _GRACE, self.spec.name)

    def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """One prompt filled in; see :meth:`aget_prompt`."""
        return _run(self.aget_prompt(name, arguments), self.connect_timeout + 2 * self.timeout + _GRACE, self.spec.name)

    def watch(self, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Follow updates of one resource; see :meth:`awatch`."""
        return _run(self.awatch(uri, on_update), self.connect_timeout + _GRACE, self.spec.name)

    def complete(self, ref: Literal["prompt", "resource"], name: str, argument: str, value: str = "",
                 context: dict[str, str] | None = None) -> Completion:
        """Suggested values for one argument; see :meth:`acomplete`."""
        return _run(self.acomplete(ref, name, argument, value, context),
                    self.connect_timeout + self.timeout + _GRACE, self.spec.name)

    def close(self) -> None:
        """Stop the server; safe to call twice."""
        if self._owner is None and (self._errlog is None or self._errlog.closed):
            return
        try:
            runtime.run(self.aclose(), timeout=10)
        except (TimeoutError, RuntimeError):
            pass

    def __repr__(self) -> str:
        state = "connected" if self.connected else "idle"
        return f"<Connection {self.spec.name!r} {self.spec.transport} {state}>"


class _Attended:
    """A :class:`~mcp_kernel.auth.SignIn` whose time is a person's: not held against the connection's
    timeouts, nor against the waiting caller's."""

    def __init__(self, conn: Connection, inner: SignIn) -> None:
        self.conn, self.inner = conn, inner

    async def redirect(self, url: str) -> None:
        async with self.conn._people_time():
            await self.inner.redirect(url)

    async def callback(self) -> Any:
        async with self.conn._people_time():
            return await self.inner.callback()


def _run(coro: Any, timeout: float, server: str) -> Any:
    """Run ``coro`` on the loop; a calling thread with an asker attached answers the server's questions
    while it waits (only it may read from the person)."""
    from .elicitation import current

    asker = current()
    try:
        if asker is None:
            return runtime.run(coro, timeout)
        future = runtime.submit(coro)
        try:
            return asker.serve(future, timeout)
        except BaseException:
            future.cancel()
            raise
    except TimeoutError:
        raise ServerTimeout(f"Server {server!r} did not answer within {timeout:g} s.", server=server) from None


def _is_schema_error(exc: BaseException) -> bool:
    import pydantic

    return any(isinstance(e, pydantic.ValidationError) for e in _leaf_errors(exc))


def _first_schema_error(exc: BaseException) -> str:
    import pydantic

    for leaf in _leaf_errors(exc):
        if isinstance(leaf, pydantic.ValidationError) and leaf.errors():
            first = leaf.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
            return f"{leaf.title} at {where}: {first.get('msg', '')}"
    return _describe(exc)[:300]


def _looks_like_reply(exc: Exception) -> bool:
    """A parse failure of a line that was meant as a JSON-RPC message (not a stray print on stdout)."""
    import pydantic

    if not isinstance(exc, pydantic.ValidationError):
        return False
    return any('"jsonrpc"' in str(e.get("input", "")) for e in exc.errors())


_TAG_VARIABLE = "MCP_KERNEL_SERVER_TAG"


def _find_tagged_child(tag: str) -> int | None:
    """The pid of our child process started with ``tag`` in its environment (a process group leader)."""
    import psutil

    for child in psutil.Process().children():
        try:
            if child.environ().get(_TAG_VARIABLE) == tag:
                return int(child.pid)
        except (psutil.Error, OSError):
            continue
    return None


async def _stop_group(pgid: int, grace: float = 2.0) -> None:
    """SIGTERM what is left of a server's process group (its own children), SIGKILL it after ``grace``."""
    if not hasattr(os, "killpg"):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not _group_alive(pgid):
                return


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies waiting for a reaper do not count)."""
    import psutil

    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (psutil.Error, OSError):
            continue
    return False


def _is_connect_error(exc: BaseException) -> bool:
    import httpx2

    return isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout, ConnectionRefusedError))


Hook = Callable[[Any], Awaitable[None]]


def _http_transport(url: str, headers: dict[str, str], auth: Any, on_response: Hook) -> Any:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with httpx2.AsyncClient(headers=headers or None, timeout=timeout, auth=auth,
                                      event_hooks={"response": [on_response]}) as http:
            # The SDK's default 1 MiB SSE event cap refuses ordinary large tool results (a few thousand rows
            # sent as text and as structured content); keep a bound, but a generous one.
            async with streamable_http_client(url, http_client=http, max_sse_event_size=MAX_SSE_EVENT_BYTES) as streams:
                yield streams[0], streams[1]

    return transport()


def _sse_transport(url: str, headers: dict[str, str], auth: Any, on_response: Hook) -> Any:
    """The legacy HTTP+SSE transport (a GET event stream plus POSTs to the endpoint it names)."""
    import httpx2
    from mcp.client.sse import sse_client

    def client(headers: dict[str, str] | None = None, timeout: Any = None, auth: Any = None) -> Any:
        return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth, event_hooks={"response": [on_response]})

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        async with sse_client(url, headers=headers or None, timeout=30.0, sse_read_timeout=300.0, auth=auth,
                              httpx_client_factory=client) as streams:
            yield streams[0], streams[1]

    return transport()


def _json_line(data: Any) -> str:
    import json

    try:
        return json.dumps(data, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(data)


def safe_filename(name: str) -> str:
    """A file name for server ``name`` (its log, its token file); different names never share one.

    A name that is already safe is kept (existing files keep their names); one that had to change gets a
    short hash of the original, so ``team/a`` and ``team_a`` keep their tokens apart.

    >>> safe_filename("team_a"), safe_filename("team/a")
    ('team_a', 'team_a-65f838a2')
    """
    import hashlib

    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    cleaned = cleaned[:100] or "server"
    if cleaned == name:
        return name
    return f"{cleaned[:91]}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


class ConnectionPool:
    """One live connection per server, shared by every caller and restarted on demand.

    >>> pool = ConnectionPool()
    >>> pool.names()
    []
    """

    def __init__(
        self,
        specs: Iterable[ServerSpec] = (),
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        logs: Path | None = None,
        roots: Iterable[str | Path] = (),
        sign_in: SignIn | None = None,
        sign_in_mode: SignInMode = "auto",
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.roots = [Path(r).expanduser() for r in roots]  # what roots/list answers, for every connection
        self._logs = logs
        self.sign_in, self.sign_in_mode = sign_in, sign_in_mode
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: ServerSpec, *, replace: bool = False) -> Connection:
        """Register a server (it starts on first use). Replacing one closes the old connection."""
        with self._lock:
            old = self._connections.get(spec.name)
            if old is not None and old.spec == spec:
                return old
            if old is not None and not replace:
                raise ServerError(
                    f"Server {spec.name!r} is already added with a different command or URL. Remove it first.",
                    server=spec.name,
                )
            conn = Connection(spec, timeout=self.timeout, connect_timeout=self.connect_timeout, logs=self._logs,
                              sign_in=self.sign_in, sign_in_mode=self.sign_in_mode)
            conn.roots = list(self.roots)
            self._connections[spec.name] = conn
        if old is not None:
            old.close()
        return conn

    def set_timeouts(self, timeout: float, connect_timeout: float) -> None:
        """Change the timeouts of every connection, present and future."""
        self.timeout, self.connect_timeout = timeout, connect_timeout
        with self._lock:
            for conn in self._connections.values():
                conn.timeout, conn.connect_timeout = timeout, connect_timeout

    def remove(self, name: str) -> None:
        """Stop and forget server ``name``."""
        with self._lock:
            conn = self._connections.pop(name, None)
        if conn is None:
            raise ServerNotFound(f"Server {name!r} is not added. Added: {', '.join(self.names()) or 'none'}.",
                                 server=name)
        conn.close()

    def names(self) -> list[str]:
        return sorted(self._connections)

    def __contains__(self, name: object) -> bool:
        return name in self._connections

    def get(self, name: str) -> Connection:
        """The connection for ``name`` (not started until used)."""
        try:
            return self._connections[name]
        except KeyError:
            raise ServerNotFound(
                f"Server {name!r} is not added. Added: {', '.join(self.names()) or 'none'}. "
                f"Add it with `%mcp add {name} -- <command>` or put it in mcp.json.",
                server=name,
            ) from None

    def list_tools(self, name: str, *, refresh: bool = False) -> list[ToolInfo]:
        return self.get(name).list_tools(refresh=refresh)

    def call_tool(self, name: str, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> CallResult:
        return self.get(name).call_tool(tool, arguments, **kwargs)

    def close(self) -> None:
        """Stop every server."""
        with self._lock:
            conns = list(self._connections.values())
        for conn in conns:
            conn.close()

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
