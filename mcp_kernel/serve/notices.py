"""What serve tells its clients unasked: its log records and the tree resources that changed.

:func:`add_notice_methods` gives the SDK's server the 2025-era methods a client uses to choose what it hears
(``logging/setLevel``, ``resources/(un)subscribe``); :func:`watch_tree` follows the servers' tool changes
into the tree and tells the subscribers; :func:`log_request` sends a run's record on its request's stream.
Who hears what is kept in :class:`~mcp_kernel.serve.audience.Audience`.

For example::

    add_notice_methods(MCPServer("mcp-kernel"), Audience(bus=None))
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
from mcp.server.connection import allowed_log_levels
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    EmptyResult,
    LoggingLevel,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from ..errors import MCPKernelError
from ..masking import Mask
from .audience import Audience
from .codemode import TEMPLATE, CodeMode
from .eras import stateless
from .hints import update_tree_hint

__all__ = ["WATCH_INTERVAL_S", "add_notice_methods", "log_request", "watch_tree"]

WATCH_INTERVAL_S = 1.0  # how often serve looks for servers whose tools changed


def add_notice_methods(server: Any, audience: Audience) -> None:
    """``logging/setLevel`` and ``resources/(un)subscribe`` for 2025-era clients, and the middleware that
    remembers their connections (the SDK's ``MCPServer`` has no decorator for these methods)."""

    async def remember(ctx: Any, call_next: Any) -> Any:
        if not stateless(ctx.protocol_version):
            audience.seen(Audience.key(ctx.request), ctx.session)
        return await call_next(ctx)

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        audience.set_level(Audience.key(ctx.request), params.level)
        return EmptyResult()

    def tree_uri(uri: str) -> str:
        if not uri.startswith("mcp-tools://"):
            raise MCPError(
                INVALID_PARAMS,
                f"serve's resources are its tool tree ({TEMPLATE}); {uri!r} is not "
                "one of them. Subscribe to e.g. mcp-tools://servers/<server>/<tool>.py.",
            )
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


async def watch_tree(
    mode: CodeMode, audience: Audience, interval: float = WATCH_INTERVAL_S, server: Any = None
) -> None:
    """Follow the servers' tool changes into the tree: regenerate, log it, tell the subscribers, and keep
    ``server``'s cache hint for tree files within the upstream lists' ``ttlMs`` (hints.py)."""
    while True:
        await anyio.sleep(interval)
        try:
            moved, uris = await anyio.to_thread.run_sync(mode.changes)
        except MCPKernelError as exc:
            await audience.log("error", mode.mask(None)(f"could not follow a server's tool changes: {exc}"))
            continue
        if server is not None:
            update_tree_hint(server, mode.upstream_ttls())
        for name in moved:
            await audience.log("notice", f"server {name} changed its tools; its bindings were regenerated")
        for uri in uris:
            await audience.updated(uri)


async def log_request(
    ctx: Context | None, audience: Audience, level: LoggingLevel, message: str, *, mask: Mask
) -> None:
    """Send serve's log record on the request's own stream: to a 2025 client if it hears ``level`` (its
    ``logging/setLevel``), to a 2026 client if this request asked for ``level`` or lower (its ``_meta``).
    The record passes ``mask``, the one of the run it tells about."""
    if ctx is None:
        return
    context = ctx.request_context
    if stateless(context.protocol_version):
        if level not in allowed_log_levels(context.protocol_version, context.meta):
            return
    elif not audience.wants(Audience.key(context.request), level):
        return
    with contextlib.suppress(Exception):  # a client that went away misses the record
        await context.session.send_notification(
            mask(audience.record(level, message)), related_request_id=ctx.request_id
        )
