"""One connection to one MCP server: the task that owns it on the background loop, and the request core.

A :class:`Connection` is owned by one long-lived task on the background loop (:mod:`mcp_kernel.runtime`),
which enters and leaves the SDK's transport and client (their anyio cancel scopes) for their whole life.
Every request runs in its caller's task through :meth:`Connection._request`: one timer that does not count
a person's time (:func:`.timeouts.within`), and one translation of what failed (:func:`.errors.translate`).
The requests themselves (:mod:`.operations`), the server's callbacks (:mod:`.callbacks`), watches
(:mod:`.watch`) and the blocking methods (:mod:`.sync`) are the parts this class is assembled from.

>>> conn = Connection(ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"]))
>>> conn
<Connection 'demo' stdio idle>
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..deadline import Deadline
from ..errors import AuthRequired, ConfigError, MCPKernelError, ServerCrashed, ServerError, ServerStartError
from ..models import ServerInfo, ServerSpec, ToolInfo
from ..paths import log_dir
from .callbacks import Callbacks
from .convert import client_info, server_info
from .errors import translate
from .operations import ServerOperations
from .process import ServerTree, find_tagged_child
from .serverlog import TAIL_LINES, ServerLog, safe_filename
from .sync import SyncFacade
from .timeouts import within
from .transports import open_transport
from .watch import Watching
from .wire import WireOperations

if TYPE_CHECKING:  # the SDK costs ~0.35 s to import; only pay for it when a server is used
    from mcp import Client

    from ..auth import SignIn, SignInMode
    from ..elicitation import Asker

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_TIMEOUT", "Connection"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 30.0
_BOUND_LOG_EVERY = 50  # requests between two checks of the log's size
T = TypeVar("T")


class Connection(ServerOperations, WireOperations, Watching, Callbacks, SyncFacade):
    """One connection to one MCP server.

    >>> conn = Connection(ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"]))

    For example::

        conn.connect().name
        # 'demo'
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
        # Why the last sign-in failed (the transport only logs it).
        self._auth_failure: Exception | None = None
        self._connect_asker: Asker | None = None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._log = ServerLog((logs or log_dir()) / f"{safe_filename(spec.name)}.log")
        self.info: ServerInfo | None = None
        # The owner task and what it owns.
        self._session: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._connect_lock: asyncio.Lock | None = None
        # Marks the server's process in its environment, so its process group can be found and stopped
        # whole at close (the SDK kills the group only when the server itself does not exit in time).
        self._tag = secrets.token_hex(8)
        self._tree: ServerTree | None = None  # a stdio server's processes, stopped at close
        # The request core.
        self._requests = 0
        self._garbled: set[Callable[[str], None]] = set()  # told of a reply that is not JSON-RPC
        self._askers: list[Any] = []  # the askers of calls in flight (legacy elicitation reaches them)
        self.in_flight = 0  # requests sent and not yet answered
        self._log_listeners: list[Callable[[Any], None]] = []  # told of each log record (as JSON)
        self._clock = Deadline()  # paused while a person answers (a question, a sign-in): requests follow it
        # Lists and watches (operations.py, watch.py).
        self.list_changes = 0  # counts the server's "my tools/resources/prompts changed" events
        self.changes_of: dict[str, int] = {}  # the same, by kind: tools, resources, prompts
        self._tools: list[ToolInfo] | None = None
        self._tools_expire: float | None = None  # when the tool list's ttlMs passes (None: no expiry)
        self._tools_ttl_ms: int | None = None  # the tool list's ttlMs (None: the server gave none)
        self._watchers: dict[str, list[Callable[[str], None]]] = {}  # resource URI -> who wants its updates
        self._watches: dict[str, asyncio.Task[None]] = {}  # resource URI -> the task following it
        self._subscribed: set[str] = set()  # URIs followed by resources/subscribe (older servers)
        # What roots/list answers. Empty by default on purpose: a server such as server-filesystem replaces
        # the directories it was started with by any non-empty roots a client sends.
        self.roots: list[Path] = []

    # ---- state -------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the server's process (or HTTP session) is up and the handshake is done."""
        return self._session is not None and self._owner is not None and not self._owner.done()

    @property
    def log_path(self) -> Path:
        """The server's log file: its stderr (stdio) and mcp-kernel's notes about it."""
        return self._log.path

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines this server wrote to stderr since it was last started ('' for HTTP).

        Bounded whatever the server wrote: the end of the file only, each line shortened.
        """
        return self._log.tail(lines)

    # ---- the owner task ----------------------------------------------------------------------
    async def aconnect(self) -> ServerInfo:
        """Start (or reuse) the connection and return the server's handshake info."""
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self.connected and self.info is not None:
                return self.info
            # ~6 ms to import: paid on the first connection, not at start-up
            from ..elicitation import current

            self._connect_asker = current()  # who signs in, should the server ask for it
            await self._astop()
            return await self._astart()

    async def _astart(self) -> ServerInfo:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Client] = loop.create_future()  # or the start's error
        self._closing = asyncio.Event()
        if self.spec.transport == "stdio":
            self._log.start(self.spec.describe())
        self._owner = loop.create_task(
            self._own(ready, self._closing),
            name=f"mcp-server:{self.spec.name}",
            context=contextvars.Context(),
        )
        self._denied = None
        try:
            # Not counting the time a person spends signing in (an OAuth server asks during the handshake).
            session = await self._within(asyncio.shield(ready), self.connect_timeout)
        except TimeoutError as exc:
            await self._astop()
            late = translate(exc, self.spec, timeout=self.connect_timeout)
            assert isinstance(late, ServerStartError)
            raise self._with_tail(late) from None
        except AuthRequired:
            await self._astop()
            raise
        except ServerStartError as exc:
            await self._astop()
            await asyncio.sleep(0.05)  # let the dying process flush stderr so its last words are quoted
            raise self._with_tail(exc) from None
        self._session = session
        self.info = server_info(session, self.spec.name)
        self._tools = None
        pid = find_tagged_child(self._tag) if self.spec.transport == "stdio" else None
        self._tree = ServerTree(pid) if pid is not None else None
        return self.info

    async def _own(self, ready: asyncio.Future[Client], closing: asyncio.Event) -> None:
        """The task that owns the transport and the negotiated client for their whole life.

        ``mode="auto"`` asks ``server/discover`` at 2026-07-28 first and falls back to the ``initialize``
        handshake (2025-11-25 and older) for servers that only speak those. Declaring elicitation,
        sampling and roots callbacks makes servers publish the tools that need them; declaring the MCP Apps
        extension (``io.modelcontextprotocol/ui`` with its HTML type, in both eras' capabilities) tells
        servers their tools' views are shown (in a notebook: mcp_kernel/apps/).
        """
        from mcp import Client  # the SDK: ~0.35 s to import, paid when the first server starts
        from mcp.client.extension import advertise  # with the SDK, for the same reason
        from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID  # loaded with the SDK, too

        from .tasks import AwaitTasks  # the SDK's client extension: imported with it, for the same reason

        try:
            transport = self._transport()
        except ConfigError as exc:
            # A token directory refused as unsafe: said as it is, not as a slow handshake.
            if not ready.done():
                ready.set_exception(exc)
            return
        client = Client(
            transport,
            mode="auto",
            cache=None,  # tools are cached here, per connection (client/operations.py); reads per cell, in the bridge
            client_info=client_info(),
            message_handler=self._on_message,
            elicitation_callback=self._on_elicit,
            sampling_callback=self._on_sampling,
            list_roots_callback=self._on_roots,
            logging_callback=self._on_log,
            log_level="info",
            extensions=[
                AwaitTasks(),  # a call the server answers with a task is awaited (tasks.py)
                advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]}),
            ],
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
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(self._translate(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            if not ready.done():
                ready.set_exception(self._translate(None))
            self._session = None

    def _transport(self) -> Any:
        auth = None
        if self.spec.transport != "stdio":
            self._auth_failure = None
            if self.spec.oauth:
                from ..auth import http_auth  # the SDK's OAuth: only for a server that needs sign-in

                auth = http_auth(self.spec, self._sign_in_for, failed=self._auth_failed)
        return open_transport(
            self.spec, tag=self._tag, errlog=self._log.file, auth=auth, on_response=self._on_response
        )

    async def _astop(self) -> None:
        owner, closing, live = self._owner, self._closing, self._session is not None
        self._owner, self._closing, self._session = None, None, None
        if owner is None:
            return
        tree, self._tree = self._tree, None
        if tree is not None:
            tree.remember()  # before the server is asked to exit: afterwards its children have no parent
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
        except BaseException:
            pass
        if tree is not None:
            await tree.stop()

    async def aclose(self) -> None:
        """Stop the server (or end the HTTP session) and release the log file."""
        await self._astop()
        self._log.close()

    # ---- the request core --------------------------------------------------------------------
    async def _request(self, send: Callable[[Client], Awaitable[Any]], what: str, timeout: float) -> Any:
        session = self._session
        if session is None:
            await self.aconnect()
            session = self._session
        assert session is not None
        self._requests += 1
        if self._requests % _BOUND_LOG_EVERY == 0:
            self._log.bound()
        self.in_flight += 1
        try:
            return await self._within(send(session), timeout, what)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            error = self._translate(exc, what, timeout)
            if error is exc:  # already ours: a garbled reply, a sign-in refused
                raise
            if isinstance(exc, TimeoutError):
                self._log.bound()
            elif isinstance(error, AuthRequired):
                # A sign-in that failed, or a 401/403 with no oauth configured.
                await self._astop()
            elif isinstance(error, ServerCrashed):
                await asyncio.sleep(0.05)  # let the dying process flush its stderr into the log
                self._log.bound()
                error = self._with_tail(error)
                await self._astop()
            raise error from error.__cause__  # a cause is kept only for a failure nothing foresaw
        finally:
            self.in_flight -= 1

    def _translate(
        self, exc: BaseException | None, during: str | None = None, timeout: float | None = None
    ) -> MCPKernelError:
        """:func:`.errors.translate` with what this connection knows of its server."""
        return translate(
            exc,
            self.spec,
            during=during,
            timeout=timeout,
            denied=self._denied,
            sign_in_failure=self._auth_failure,
            connected=self.connected,
            log_path=self.log_path,
        )

    def _with_tail(self, error: ServerError) -> ServerError:
        """``error`` again, quoting the last lines the server wrote to stderr."""
        return type(error)(str(error), server=self.spec.name, log_tail=self.log_tail())

    async def _within(self, coro: Awaitable[T], timeout: float, what: str | None = None) -> T:
        """``coro``'s result within ``timeout`` seconds, not counting a person's time on this connection's
        clock; with ``what`` (a request), cut short by a reply that is not JSON-RPC (see :func:`.timeouts.within`)."""
        return await within(
            coro, timeout, clock=self._clock, server=self.spec.name, what=what, garbled=self._garbled
        )

    def __repr__(self) -> str:
        state = "connected" if self.connected else "idle"
        return f"<Connection {self.spec.name!r} {self.spec.transport} {state}>"
