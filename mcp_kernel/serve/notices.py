"""What serve tells its clients unasked: its log records and the tree resources that changed.

:func:`add_notice_methods` gives the SDK's server the 2025-era method a client uses to choose the records
it hears (``logging/setLevel``; subscriptions are following.py's); :func:`watch_tree` follows the servers'
tool changes into the tree and tells the subscribers; :func:`log_request` sends a run's record on its
request's stream (:func:`send_record`, any record: an upstream's too, as :func:`records_relayed` does while
a request to that server runs). Who hears what is kept in :class:`~mcp_kernel.serve.audience.Audience`.

For example::

    add_notice_methods(MCPServer("mcp-kernel"), Audience(bus=None))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
from mcp.server.connection import allowed_log_levels
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import Context
from mcp.types import (
    EmptyResult,
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    SetLevelRequestParams,
)

from ..errors import MCPKernelError
from ..masking import Mask
from .audience import Audience
from .codemode import CodeMode
from .eras import stateless
from .hints import update_tree_hint

__all__ = [
    "WATCH_INTERVAL_S",
    "add_notice_methods",
    "announce_list_changes",
    "log_request",
    "records_relayed",
    "send_record",
    "watch_tree",
]

WATCH_INTERVAL_S = 1.0  # how often serve looks for servers whose tools changed


def add_notice_methods(server: Any, audience: Audience) -> None:
    """``logging/setLevel`` for 2025-era clients, and the middleware that remembers their connections (the
    SDK's ``MCPServer`` has no decorator for this method)."""

    async def remember(ctx: Any, call_next: Any) -> Any:
        if not stateless(ctx.protocol_version):
            audience.seen(Audience.key(ctx.request), ctx.session)
        return await call_next(ctx)

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        audience.set_level(Audience.key(ctx.request), params.level)
        return EmptyResult()

    server.middleware.append(remember)
    lowlevel = server._lowlevel_server  # private: where the SDK keeps its method table (no public decorator)
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)


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
    if ctx is not None:
        await send_record(ctx.request_context, audience, level, mask(audience.record(level, message)))


async def send_record(
    context: Any, audience: Audience, level: LoggingLevel, note: LoggingMessageNotification
) -> None:
    """Send a log record (``note``, masked already) on the stream of the request whose low-level
    ``context`` this is, if its client hears ``level`` (see :func:`log_request`)."""
    if stateless(context.protocol_version):
        if level not in allowed_log_levels(context.protocol_version, context.meta):
            return
    elif not audience.wants(Audience.key(context.request), level):
        return
    with contextlib.suppress(Exception):  # a client that went away misses the record
        await context.session.send_notification(note, related_request_id=context.request_id)


@contextlib.asynccontextmanager
async def records_relayed(
    context: Any, audience: Audience, conn: Any, logger: str, mask: Mask
) -> AsyncIterator[None]:
    """While a request to ``conn``'s server runs: the server's log records (``logger`` when they name none)
    relayed through ``mask`` to the request whose low-level ``context`` this is, at the level its client
    hears. A record is the request's only while it is the one request in flight on that connection (records
    carry no request id); otherwise it stays in the server's log only."""
    loop = asyncio.get_running_loop()

    def heard(params: dict[str, Any]) -> None:  # on the session's loop
        if conn.in_flight != 1:
            return
        level = params.get("level", "info")
        note = LoggingMessageNotification(
            params=LoggingMessageNotificationParams(
                level=level, logger=params.get("logger") or logger, data=params.get("data")
            )
        )
        asyncio.run_coroutine_threadsafe(send_record(context, audience, level, mask(note)), loop)

    conn._log_listeners.append(heard)
    try:
        yield
    finally:
        conn._log_listeners.remove(heard)


def announce_list_changes(server: Any, kinds: set[str]) -> None:
    """Say in serve's capabilities that its lists of ``kinds`` (``tools``, ``prompts``, ``resources``) change
    (2025 clients read ``listChanged`` there; 2026 ones learn it from ``subscriptions/listen``). The SDK reads
    the flags from the options its runner asks for, so the default it builds them from is given here."""
    lowlevel = server._lowlevel_server  # private: where the SDK builds the initialize result's options
    options = lowlevel.create_initialization_options

    def with_list_changed(notification_options: Any = None, *args: Any, **kwargs: Any) -> Any:
        given = notification_options or NotificationOptions()
        for kind in kinds:
            setattr(given, f"{kind}_changed", True)
        return options(given, *args, **kwargs)

    lowlevel.create_initialization_options = with_list_changed
