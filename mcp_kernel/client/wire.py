"""What a gateway forwards: a server's lists, reads and filled-in prompts as the wire has them.

``mcp-kernel serve`` passes upstream resources and prompts on to its own clients, so it needs them whole
(``_meta``, icons, annotations, images and blobs), not the summaries of :mod:`.operations`. Each method here
answers a :class:`Wire`: the result as JSON (camelCase, as sent), with the cache hint it carried. Nothing of
the SDK leaves the client package: JSON does.

>>> Wire({"resources": []}).ttl_ms is None
True
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ServerError, ToolCallError
from ..models import ServerInfo, ServerSpec
from .convert import cache_hint
from .operations import MAX_PAGES, ProgressCallback

if TYPE_CHECKING:  # the SDK costs ~0.35 s to import; only pay for it when a server is used
    from mcp import Client

__all__ = ["LISTS", "Wire", "WireOperations"]

ListMethod = Literal["resources/list", "resources/templates/list", "prompts/list"]

# Each list: the capability a server declares for it, the SDK's method, the wire key of its items.
LISTS: dict[str, tuple[str, str, str]] = {
    "resources/list": ("resources", "list_resources", "resources"),
    "resources/templates/list": ("resources", "list_resource_templates", "resourceTemplates"),
    "prompts/list": ("prompts", "list_prompts", "prompts"),
}


@dataclass(frozen=True)
class Wire:
    """One result as JSON, and the ``ttlMs``/``cacheScope`` it carried (None: none, as before 2026-07-28)."""

    body: dict[str, Any]
    ttl_ms: int | None = None
    cache_scope: Literal["public", "private"] | None = None


def _json(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json", by_alias=True, exclude_none=True))


class WireOperations:
    """The requests a gateway forwards, as ``async`` methods of a :class:`~mcp_kernel.client.Connection`."""

    if TYPE_CHECKING:  # what the Connection these methods belong to provides
        spec: ServerSpec
        info: ServerInfo | None
        timeout: float

        async def aconnect(self) -> ServerInfo: ...
        async def _request(
            self, send: Callable[[Client], Awaitable[Any]], what: str, timeout: float
        ) -> Any: ...
        async def _not_found(self, uri: str, exc: Exception) -> Exception: ...
        async def _checked_prompt(self, name: str, arguments: dict[str, str]) -> Any: ...

    async def awire_list(self, method: ListMethod) -> Wire:
        """Every item of one list, all pages (none when the server declares no such capability); the hint
        is the least fresh page's."""
        info = await self.aconnect()
        capability, call, key = LISTS[method]
        if capability not in info.capabilities:
            return Wire({key: []})
        items: list[Any] = []
        ttl_ms: int | None = None
        private = False
        cursor: str | None = None
        for _ in range(MAX_PAGES):

            def send(s: Client, c: str | None = cursor) -> Awaitable[Any]:  # this page's cursor, bound now
                return getattr(s, call)(cursor=c)

            result = await self._request(send, method, self.timeout)
            hinted, scope = cache_hint(result, info.protocol_version)
            page = _json(result)
            items.extend(page.get(key, []))
            if hinted is not None:
                ttl_ms = hinted if ttl_ms is None else min(ttl_ms, hinted)
                private = private or scope == "private"
            cursor = page.get("nextCursor")
            if not cursor:
                return Wire(
                    {key: items}, ttl_ms, None if ttl_ms is None else "private" if private else "public"
                )
        raise ServerError(f"Server {self.spec.name!r} returned more than {MAX_PAGES} pages of {method}.")

    async def awire_read(
        self, uri: str, *, progress: ProgressCallback | None = None, timeout: float | None = None
    ) -> Wire:
        """Read one resource whole (text and blobs, ``_meta``); an unknown URI raises ``ResourceNotFound``
        naming what the server publishes. ``progress`` hears the server's progress on this read."""
        from mcp import types  # the SDK: loaded by now

        info = await self.aconnect()
        request = types.ReadResourceRequest(params=types.ReadResourceRequestParams(uri=uri))
        try:
            result = await self._request(
                lambda s: s.session.send_request(
                    request, types.ReadResourceResult, progress_callback=_reporter(progress)
                ),
                f"resources/read {uri!r}",
                self.timeout if timeout is None else timeout,
            )
        except (ServerError, ToolCallError) as exc:
            raise await self._not_found(uri, exc) from None
        ttl_ms, scope = cache_hint(result, info.protocol_version)
        return Wire(_json(result), ttl_ms, scope)

    async def awire_prompt(
        self, name: str, arguments: dict[str, str] | None = None, *, progress: ProgressCallback | None = None
    ) -> Wire:
        """One prompt filled in, every message whole (images, embedded resources); an unknown prompt or a
        missing required argument raises before anything is sent (see :meth:`aget_prompt`)."""
        from mcp import types  # the SDK: loaded by now

        arguments = {k: str(v) for k, v in (arguments or {}).items()}
        await self._checked_prompt(name, arguments)
        from pydantic import TypeAdapter  # with the SDK, loaded by now

        request = types.GetPromptRequest(params=types.GetPromptRequestParams(name=name, arguments=arguments))
        either = TypeAdapter(types.GetPromptResult | types.InputRequiredResult)
        result = await self._request(
            lambda s: s.session.send_request(request, either, progress_callback=_reporter(progress)),
            f"prompts/get {name!r}",
            self.timeout,
        )
        if isinstance(result, types.InputRequiredResult):
            asked = sorted({each.method for each in (result.input_requests or {}).values()})
            raise ServerError(
                f"Server {self.spec.name!r} asks its client for input ({', '.join(asked) or 'input_required'}) "
                f"before it fills prompts/get {name!r}; its questions are passed on during tool calls, not "
                "yet during prompts/get. Get this prompt from a client connected to the server directly.",
                server=self.spec.name,
            )
        return Wire(_json(result))


def _reporter(progress: ProgressCallback | None) -> Any:
    """The SDK's progress callback around ``progress`` (None: no progress token is sent)."""
    if progress is None:
        return None
    report = progress

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        report(progress, total, message)

    return on_progress
