"""Following what changes on a server: one resource's updates, and its lists of tools, resources and prompts.

2026-07-28 servers are followed with ``subscriptions/listen`` streams; older ones send notifications
(``notifications/resources/updated``, ``notifications/*/list_changed``), which reach
``Callbacks._on_message`` and are handed here.

>>> [m for m in ("awatch", "_listen") if hasattr(Watching, m)]
['awatch', '_listen']
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import CapabilityNotOffered
from ..models import ServerInfo, ServerSpec, ToolInfo

if TYPE_CHECKING:  # the SDK costs ~0.35 s to import; only pay for it when a server is used
    from mcp import Client

__all__ = ["Watching"]

# The listen stream's events, by the kind of list each says changed.
_KINDS = {"ToolsListChanged": "tools", "ResourcesListChanged": "resources", "PromptsListChanged": "prompts"}


class Watching:
    """Resource watches and list-change events of a :class:`~mcp_kernel.client.Connection`."""

    if TYPE_CHECKING:  # what the Connection these methods belong to provides
        spec: ServerSpec
        info: ServerInfo | None
        list_changes: int
        changes_of: dict[str, int]
        _session: Client | None
        _tools: list[ToolInfo] | None
        _watchers: dict[str, list[Callable[[str], None]]]
        _watches: dict[str, asyncio.Task[None]]
        _subscribed: set[str]

        async def aconnect(self) -> ServerInfo: ...
        def _note(self, line: str) -> None: ...

    async def awatch(self, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Call ``on_update(uri)`` (on the loop thread; keep it short) each time the server says the resource
        at ``uri`` changed; the returned function stops watching. 2026-07-28 servers are followed with
        ``subscriptions/listen``, older ones with ``resources/subscribe`` and their update notifications."""
        await self.aconnect()
        resources = (self.info.capabilities.get("resources") if self.info else None) or {}
        if not resources.get("subscribe"):
            raise CapabilityNotOffered(
                f"Server {self.spec.name!r} does not offer resource subscriptions (no "
                "`resources.subscribe` capability); read the resource again instead.",
                server=self.spec.name,
            )
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
        from mcp.client.subscriptions import (
            ListenNotSupportedError,
            ResourceUpdated,
        )  # the SDK: loaded by now

        client = self._session
        if client is None:
            return
        try:
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                async for event in subscription:
                    if isinstance(event, ResourceUpdated):
                        self._resource_updated(event.uri)
        except ListenNotSupportedError:
            from mcp.shared.exceptions import MCPDeprecationWarning  # the SDK: loaded by now

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
        except Exception as exc:
            self._note(f"stopped following {uri}: {type(exc).__name__}: {exc}")

    def _resource_updated(self, uri: str) -> None:
        for on_update in list(self._watchers.get(uri, [])):
            try:
                on_update(uri)
            except Exception as exc:
                self._note(f"a watcher of {uri} failed: {type(exc).__name__}: {exc}")

    async def _listen(self, client: Any) -> None:
        """Follow the server's list changes (2026-07-28: ``subscriptions/listen``); older servers send
        ``notifications/*/list_changed`` instead, which ``_on_message`` sees."""
        from mcp.client.subscriptions import ListenNotSupportedError  # the SDK: loaded by now

        try:
            async with client.listen(
                tools_list_changed=True, resources_list_changed=True, prompts_list_changed=True
            ) as subscription:
                async for event in subscription:
                    self._lists_changed(_KINDS.get(type(event).__name__, "tools"))
        except ListenNotSupportedError:
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            return

    def _lists_changed(self, kind: str) -> None:
        """The server said its list of ``kind`` (tools, resources, prompts) changed."""
        self.changes_of[kind] = self.changes_of.get(kind, 0) + 1
        if kind == "tools":
            self._tools = None
        self.list_changes += 1
