"""What a client asks of a server: its lists (tools, resources, prompts), tool calls, reads and completions.

:class:`ServerOperations` is the async half of :class:`~mcp_kernel.client.Connection`'s API; each method
connects if needed, sends through the connection's request core (``_request``: one timer, one error
translation) and converts the SDK's answer to mcp-kernel's models (:mod:`.convert`).

>>> sorted(m for m in vars(ServerOperations) if m.startswith("a"))[:3]
['acall_tool', 'acomplete', 'aget_prompt']
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from ..errors import (
    CapabilityNotOffered,
    PromptArgumentMissing,
    PromptNotFound,
    ResourceNotFound,
    ServerCrashed,
    ServerError,
    ServerTimeout,
    ToolCallError,
)
from ..models import (
    CallResult,
    Completion,
    PromptInfo,
    PromptList,
    PromptView,
    ResourceList,
    ResourceRead,
    ServerInfo,
    ServerSpec,
    ToolInfo,
)
from .convert import (
    cache_hint,
    prompt_info,
    prompt_message,
    resource_content,
    resource_info,
    template_info,
    template_matches,
    tool_info,
)

if TYPE_CHECKING:  # the SDK costs ~0.35 s to import; only pay for it when a server is used
    from mcp import Client

__all__ = ["MAX_PAGES", "ProgressCallback", "ServerOperations"]

MAX_PAGES = 1000

ProgressCallback = Callable[[float, float | None, str | None], None]


class ServerOperations:
    """The requests a :class:`~mcp_kernel.client.Connection` sends, as ``async`` methods run on the loop."""

    if TYPE_CHECKING:  # what the Connection these methods belong to provides
        spec: ServerSpec
        info: ServerInfo | None
        timeout: float
        list_changes: int
        _tools: list[ToolInfo] | None
        _tools_expire: float | None
        _tools_ttl_ms: int | None
        _askers: list[Any]

        @property
        def connected(self) -> bool: ...
        async def aconnect(self) -> ServerInfo: ...
        async def _request(
            self, send: Callable[[Client], Awaitable[Any]], what: str, timeout: float
        ) -> Any: ...

    async def alist_tools(self, *, refresh: bool = False) -> list[ToolInfo]:
        """Every tool the server publishes, following ``next_cursor`` to the last page.

        Kept until the server says its tools changed, or until the ``ttlMs`` it gave with the list passes
        (a list found different then counts as a change, so bindings are regenerated). A ``ttlMs`` of 0
        (2026-07-28) makes the list stale at once: every listing asks again (see :attr:`tools_stale`).
        """
        if self._tools is not None and not refresh and self.connected and not self.tools_stale:
            return self._tools
        info = await self.aconnect()
        tools: list[ToolInfo] = []
        cursor: str | None = None
        ttl_ms: int | None = None
        for _ in range(MAX_PAGES):

            def send(s: Client, c: str | None = cursor) -> Awaitable[Any]:  # this page's cursor, bound now
                return s.list_tools(cursor=c, cache_mode="refresh")

            page = await self._request(send, "tools/list", self.timeout)
            tools.extend(tool_info(t) for t in page.tools)
            hinted, _ = cache_hint(page, info.protocol_version)
            if hinted is not None:  # the freshness of the whole list is that of its least fresh page
                ttl_ms = hinted if ttl_ms is None else min(ttl_ms, hinted)
            cursor = page.next_cursor
            if not cursor:
                break
        else:
            raise ServerError(f"Server {self.spec.name!r} returned more than {MAX_PAGES} pages of tools.")
        if self.tools_stale and self._tools is not None and self._tools != tools:
            self.list_changes += 1
        # A positive ttlMs bounds how long the list is trusted; none: until the server says it changed.
        self._tools_expire = time.monotonic() + ttl_ms / 1000 if ttl_ms else None
        self._tools_ttl_ms = ttl_ms
        self._tools = tools
        return tools

    @property
    def tools_expired(self) -> bool:
        """Whether the positive ``ttlMs`` the server gave with its tool list has passed.

        A call's schema lookup lists again then; with a ``ttlMs`` of 0 it keeps the last list it has (a
        list per tool call would double every call), and each listing and each cell asks again instead.
        """
        return self._tools_expire is not None and time.monotonic() >= self._tools_expire

    @property
    def tools_ttl_ms(self) -> int | None:
        """The ``ttlMs`` the server gave with its last tool list (None: it gave none, as before 2026-07-28)."""
        return self._tools_ttl_ms

    @property
    def tools_stale(self) -> bool:
        """Whether a listing must ask the server again: its ``ttlMs`` passed, or was 0."""
        return self.tools_expired or self._tools_ttl_ms == 0

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

        report = progress  # the SDK's callback protocol names its first argument `progress`

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if report is not None:
                report(progress, total, message)

        from ..elicitation import current  # ~6 ms to import: paid on the first call, not at start-up

        asker = current()
        if asker is not None:
            self._askers.append(asker)
        from .tasks import reporting  # with the SDK, loaded by now

        started = time.perf_counter()
        try:
            with reporting(progress):  # a task the server answers with reports each poll here
                result = await self._request(
                    lambda s: s.call_tool(
                        tool, arguments or {}, progress_callback=on_progress if progress else None
                    ),
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
            content=[
                block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content
            ],
            is_error=bool(result.is_error),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _apaginate(
        self, fetch: Callable[[Client, str | None], Any], items: str, what: str
    ) -> list[Any]:
        """Every item of a paginated list request, following ``next_cursor`` to the last page."""
        await self.aconnect()
        found: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):

            def send(s: Client, c: str | None = cursor) -> Awaitable[Any]:  # this page's cursor, bound now
                return fetch(s, c)

            page = await self._request(send, what, self.timeout)
            found.extend(getattr(page, items))
            cursor = page.next_cursor
            if not cursor:
                return found
        raise ServerError(f"Server {self.spec.name!r} returned more than {MAX_PAGES} pages of {what}.")

    def _offers(self, capability: str) -> bool:
        return self.info is not None and capability in self.info.capabilities

    async def alist_resources(self) -> ResourceList:
        """Every resource and resource template the server publishes (empty when it has none)."""
        await self.aconnect()
        if not self._offers("resources"):
            return ResourceList(server=self.spec.name)
        resources = await self._apaginate(
            lambda s, c: s.list_resources(cursor=c), "resources", "resources/list"
        )
        templates = await self._apaginate(
            lambda s, c: s.list_resource_templates(cursor=c), "resource_templates", "resources/templates/list"
        )
        return ResourceList(
            server=self.spec.name,
            resources=[resource_info(r) for r in resources],
            templates=[template_info(t) for t in templates],
        )

    async def aread_resource(self, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource by URI: its text parts and its blobs (base64, with their decoded size).

        An unknown URI raises :class:`ResourceNotFound` listing what the server does publish.
        """
        await self.aconnect()
        started = time.perf_counter()
        try:
            result = await self._request(
                lambda s: s.read_resource(uri),
                f"resources/read {uri!r}",
                self.timeout if timeout is None else timeout,
            )
        except (ServerError, ToolCallError) as exc:
            raise await self._not_found(uri, exc) from None
        ttl_ms, scope = cache_hint(result, self.info.protocol_version if self.info else "")
        return ResourceRead(
            server=self.spec.name,
            uri=uri,
            contents=[resource_content(c) for c in result.contents],
            duration_ms=(time.perf_counter() - started) * 1000,
            ttl_ms=ttl_ms,
            cache_scope=scope,
        )

    async def _not_found(self, uri: str, exc: Exception) -> Exception:
        """What to raise for a read of ``uri`` that failed with ``exc``: a timeout or a crash as it is, a
        ``ResourceNotFound`` listing what the server publishes when ``uri`` is none of it, else ``exc``."""
        if isinstance(exc, (ServerTimeout, ServerCrashed)):
            return exc
        listing = (
            await self.alist_resources() if self._offers("resources") else ResourceList(server=self.spec.name)
        )
        known = {r.uri for r in listing.resources}
        if uri in known or any(template_matches(t.uri_template, uri) for t in listing.templates):
            return exc
        shown = ", ".join(sorted(known)[:8]) + (" ..." if len(known) > 8 else "")
        return ResourceNotFound(
            f"Server {self.spec.name!r} has no resource {uri!r} ({exc}). "
            + (f"It publishes: {shown}. " if known else "It publishes no resources. ")
            + f"List them with `%mcp resources {self.spec.name}`.",
            server=self.spec.name,
        )

    async def alist_prompts(self) -> PromptList:
        """Every prompt the server publishes (empty when it has none)."""
        await self.aconnect()
        if not self._offers("prompts"):
            return PromptList(server=self.spec.name)
        prompts = await self._apaginate(lambda s, c: s.list_prompts(cursor=c), "prompts", "prompts/list")
        return PromptList(server=self.spec.name, prompts=[prompt_info(p) for p in prompts])

    async def aget_prompt(self, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """One prompt filled in with ``arguments``; a missing required argument raises before anything is sent."""
        arguments = {k: str(v) for k, v in (arguments or {}).items()}
        prompt = await self._checked_prompt(name, arguments)
        result = await self._request(
            lambda s: s.get_prompt(name, arguments), f"prompts/get {name!r}", self.timeout
        )
        return PromptView(
            server=self.spec.name,
            prompt=name,
            arguments=arguments,
            description=result.description or prompt.description,
            messages=[prompt_message(m) for m in result.messages],
        )

    async def _checked_prompt(self, name: str, arguments: dict[str, str]) -> PromptInfo:
        """Prompt ``name`` as the server lists it; a ``PromptNotFound`` naming its prompts, or a
        ``PromptArgumentMissing`` naming what ``arguments`` lacks, before anything is sent."""
        listing = await self.alist_prompts()
        prompt = next((p for p in listing.prompts if p.name == name), None)
        if prompt is None:
            names = ", ".join(p.name for p in listing.prompts) or "none"
            raise PromptNotFound(
                f"Server {self.spec.name!r} has no prompt {name!r}. Its prompts: {names}. "
                f"List them with `%mcp prompts {self.spec.name}`.",
                server=self.spec.name,
            )
        missing = [a.name for a in prompt.arguments if a.required and a.name not in arguments]
        if missing:
            usage = " ".join(f"{a.name}=..." for a in prompt.arguments if a.required)
            raise PromptArgumentMissing(
                f"Prompt {name!r} of server {self.spec.name!r} needs the argument"
                f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}. "
                f"Give it as `%mcp prompt {self.spec.name} {name} {usage}`."
            )
        return prompt

    async def acomplete(
        self,
        ref: Literal["prompt", "resource"],
        name: str,
        argument: str,
        value: str = "",
        context: dict[str, str] | None = None,
    ) -> Completion:
        """Values the server suggests for ``argument`` of prompt (or resource template) ``name``, given what
        was typed so far (``value``) and the arguments already chosen (``context``)."""
        from mcp.types import PromptReference, ResourceTemplateReference  # the SDK: ~0.35 s, loaded by now

        await self.aconnect()
        if not self._offers("completions"):
            raise CapabilityNotOffered(
                f"Server {self.spec.name!r} does not suggest argument values (it declares no "
                "`completions` capability); type the value in full.",
                server=self.spec.name,
            )
        target: Any = (
            PromptReference(type="ref/prompt", name=name)
            if ref == "prompt"
            else ResourceTemplateReference(type="ref/resource", uri=name)
        )
        result = await self._request(
            lambda s: s.complete(target, {"name": argument, "value": value}, context or None),
            f"completion/complete for {argument!r} of {name!r}",
            self.timeout,
        )
        found = result.completion
        return Completion(
            server=self.spec.name,
            ref=ref,
            name=name,
            argument=argument,
            value=value,
            values=list(found.values),
            total=found.total,
            has_more=bool(found.has_more),
        )
