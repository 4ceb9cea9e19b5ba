"""What serve follows on its upstream servers for its clients: the resources they subscribed to, and the
servers' prompt and resource lists.

A 2025 client subscribes with ``resources/subscribe`` (kept per connection in
:class:`~mcp_kernel.serve.audience.Audience`), a 2026-07-28 one names URIs on a ``subscriptions/listen``
stream. Either way an upstream URI is followed upstream once (the connection shares one subscription per
URI however many follow it), and its update goes, under the name the client used, only to the callers who
asked for it. Every ``WATCH_INTERVAL_S`` serve looks for upstream list changes and says
``notifications/prompts/list_changed`` or ``resources/list_changed`` to everyone, and drops what nobody
follows any more (a forgotten connection's subscriptions).

For example::

    following = Following(gateway); following.register(server._lowlevel_server)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Protocol

import anyio
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    EmptyResult,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    UnsubscribeRequestParams,
)

from ..client import Connection
from ..errors import MCPKernelError
from ..masking import Mask
from .audience import Audience
from .callers import current_caller
from .codemode import TEMPLATE, CodeMode
from .notices import WATCH_INTERVAL_S

__all__ = ["Following"]

log = logging.getLogger(__name__)

TREE = "mcp-tools://"
LISTS = ("prompts", "resources")  # the upstream lists whose changes serve passes on
Interest = tuple[str | None, str]  # (the caller, the URI as that caller names it)
Follow = tuple[str, str, str]  # (the server, its own URI, the URI as the callers name it)


class Gateway(Protocol):
    """What following needs of :class:`~mcp_kernel.serve.gateway.Gateway` (named here, not imported: the
    gateway holds a ``Following``)."""

    mode: CodeMode
    audience: Audience

    def mask(self) -> Mask: ...
    def origin_of_uri(self, public: str) -> tuple[str, str]: ...
    async def upstream(self, server: str, work: Callable[[Connection], Coroutine[Any, Any, Any]]) -> Any: ...


class Following:
    """Upstream subscriptions on behalf of serve's callers, and the watch for upstream list changes."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.audience = gateway.audience
        self._origins: dict[Interest, tuple[str, str]] = {}  # where each interest's URI leads
        self._listening: Counter[Interest] = Counter()  # 2026 listen streams open, by what they name
        self._follows: dict[Follow, Callable[[], None]] = {}  # what is followed upstream, and its stop

    def register(self, lowlevel: Any) -> None:
        """``resources/(un)subscribe`` (2025), ``subscriptions/listen`` wrapped (2026), and the watch, which
        runs while the server does (in its lifespan)."""
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, self.subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self.unsubscribe)
        listen = lowlevel.get_request_handler("subscriptions/listen")
        if listen is not None:

            async def listening(ctx: Any, params: SubscriptionsListenRequestParams) -> Any:
                async with self.listening(params.notifications.resource_subscriptions or []):
                    return await listen.handler(ctx, params)

            lowlevel.add_request_handler("subscriptions/listen", SubscriptionsListenRequestParams, listening)
        inner = lowlevel.lifespan

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[Any]:
            async with inner(app) as state, anyio.create_task_group() as tasks:
                tasks.start_soon(self.watch)
                yield state
                tasks.cancel_scope.cancel()

        lowlevel.lifespan = lifespan

    def _interest(self, public: str) -> Interest:
        """The calling caller's interest in ``public``, and where it leads (a ``UsageError`` if nowhere)."""
        interest = (current_caller(), public)
        if not public.startswith(TREE):
            self._origins[interest] = self.gateway.origin_of_uri(self.gateway.mask().restore(public))
        return interest

    # ---- 2025: resources/subscribe -------------------------------------------------------------
    async def subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        public = str(params.uri)
        try:
            interest = self._interest(public)
            if not public.startswith(TREE):
                await self._follow(interest)
        except MCPKernelError as exc:
            raise MCPError(
                INVALID_PARAMS,
                self.gateway.mask()(
                    f"cannot subscribe to {public!r}: {type(exc).__name__}: {exc} (serve's own resources "
                    f"are its tool tree, {TEMPLATE}; the rest are its upstream servers', see resources/list)"
                ),
            ) from None
        self.audience.subscribe(Audience.key(ctx.request), public)
        return EmptyResult()

    async def unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        self.audience.unsubscribe(Audience.key(ctx.request), str(params.uri))
        self._drop_unwanted()
        return EmptyResult()

    # ---- 2026: subscriptions/listen ------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def listening(self, uris: list[str]) -> AsyncIterator[None]:
        """While a listen stream naming ``uris`` is open, they are followed upstream. A URI that leads
        nowhere is honoured and never fires, as the protocol has it."""
        interests = []
        for public in uris:
            if public.startswith(TREE):
                continue
            try:
                interest = self._interest(public)
                await self._follow(interest)
            except MCPKernelError as exc:
                log.warning("a listen stream names %s, which serve cannot follow: %s", public, exc)
                continue
            interests.append(interest)
            self._listening[interest] += 1
        try:
            yield
        finally:
            self._listening.subtract(interests)
            self._drop_unwanted()

    # ---- the upstream side ---------------------------------------------------------------------
    async def _follow(self, interest: Interest) -> None:
        server, uri = self._origins[interest]
        key = (server, uri, interest[1])
        if key in self._follows:
            return
        loop = asyncio.get_running_loop()

        def updated(_: str) -> None:  # on the session's loop
            callers = {c for (c, public), origin in self._wanted().items() if (*origin, public) == key}
            asyncio.run_coroutine_threadsafe(self.audience.updated(key[2], callers), loop)

        self._follows[key] = await self.gateway.upstream(server, lambda c: c.awatch(uri, updated))

    def _wanted(self) -> dict[Interest, tuple[str, str]]:
        """Every interest someone still has in an upstream URI, and where it leads."""
        wanted = self.audience.subscriptions() | {i for i, n in self._listening.items() if n > 0}
        return {i: self._origins[i] for i in wanted if i in self._origins}

    def _drop_unwanted(self) -> None:
        wanted = self._wanted()
        for interest in [i for i in self._origins if i not in wanted]:
            del self._origins[interest]
        followed = {(*origin, interest[1]) for interest, origin in wanted.items()}
        for key in [k for k in self._follows if k not in followed]:
            self._follows.pop(key)()

    async def watch(self, interval: float = WATCH_INTERVAL_S) -> None:
        """Pass upstream prompt and resource list changes on; drop what nobody follows any more."""
        session, live = self.gateway.mode.session, self.gateway.mode.live
        seen = {server: dict(session.connection(server).changes_of) for server in live}
        while True:
            await anyio.sleep(interval)
            self._drop_unwanted()
            moved: set[str] = set()
            for server in live:
                counts = dict(session.connection(server).changes_of)
                moved |= {kind for kind in LISTS if counts.get(kind, 0) != seen[server].get(kind, 0)}
                seen[server] = counts
            if moved:
                await self.audience.lists_changed(moved)
