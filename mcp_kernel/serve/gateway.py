"""serve as a gateway: what is not a tool passes on from every server serve fronts.

Upstream resources, resource templates and prompts join serve's own lists under the names of
:class:`~mcp_kernel.serve.namespace.Namespace`; a read, a ``prompts/get`` or a completion goes back to
the server the name came from, and nowhere else (a server serve does not front is never reached). The
answers come back whole (``_meta``, blobs, images, embedded resources, renamed), through the caller's PII
mask (binary data stays as it is); the server's log records and progress during the request go to that
request. Subscriptions and list changes are :mod:`~mcp_kernel.serve.following`'s.

The SDK's ``MCPServer`` lists only what was registered with its decorators, once: it has no hook for lists
computed per request. So :func:`add_gateway` puts its handlers in the low-level server's method table
(``add_request_handler``, as notices.py does) and calls the ``MCPServer``'s own ones for serve's tree.

For example::

    add_gateway(server, mode, audience, Namespace(mode.live))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import anyio
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    PromptReference,
    ReadResourceRequestParams,
    ReadResourceResult,
    ResourceTemplateReference,
)

from .. import runtime
from ..client import Connection
from ..client.sync import GRACE
from ..client.wire import Wire
from ..errors import (
    CapabilityNotOffered,
    MCPKernelError,
    PromptArgumentMissing,
    PromptNotFound,
    ResourceNotFound,
    ServerTimeout,
    UsageError,
)
from ..masking import Mask
from ..names import server_id
from .audience import Audience
from .callers import current_caller
from .codemode import TEMPLATE, CodeMode
from .following import Following
from .hints import list_hint, read_hint
from .masks import wire_masked
from .namespace import Namespace
from .notices import records_relayed

__all__ = ["MAX_COMPLETIONS", "Gateway", "add_gateway"]

MAX_COMPLETIONS = 100  # the protocol's cap on completion values
TREE = "mcp-tools://"
ENVELOPE = frozenset({"ttlMs", "cacheScope", "resultType", "nextCursor"})  # the upstream's, not passed on
SERVER_INFO = "io.modelcontextprotocol/serverInfo"  # the upstream's stamp in `_meta` (serve stamps its own)
# Each list method's items, under this key of its result.
LIST_KEYS = {
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
    "prompts/list": "prompts",
}
# What a client asked that is its own fault: said as invalid params, not as serve failing.
REFUSALS = (UsageError, ResourceNotFound, PromptNotFound, CapabilityNotOffered)


def add_gateway(server: Any, mode: CodeMode, audience: Audience, namespace: Namespace) -> Gateway:
    """Serve ``mode``'s live servers' resources, templates, prompts and completions through ``server``."""
    gateway = Gateway(server, mode, audience, namespace)
    lowlevel = server._lowlevel_server  # private: where the SDK keeps its method table (no public decorator)
    for method, params, handler in (
        ("resources/list", PaginatedRequestParams, gateway.list_resources),
        ("resources/templates/list", PaginatedRequestParams, gateway.list_templates),
        ("resources/read", ReadResourceRequestParams, gateway.read),
        ("prompts/list", PaginatedRequestParams, gateway.list_prompts),
        ("prompts/get", GetPromptRequestParams, gateway.get_prompt),
        ("completion/complete", CompleteRequestParams, gateway.complete),
    ):
        lowlevel.add_request_handler(method, params, handler)
    gateway.following.register(lowlevel)
    return gateway


class Gateway:
    """The handlers of serve's resources/*, prompts/* and completion/complete over ``mode.live``."""

    def __init__(self, server: Any, mode: CodeMode, audience: Audience, namespace: Namespace) -> None:
        self.mode = mode
        self.audience = audience
        self.namespace = namespace
        lowlevel = server._lowlevel_server
        # The MCPServer's own handlers, for serve's tree (its one template and its reads).
        self.own = {
            method: lowlevel.get_request_handler(method).handler
            for method in ("resources/list", "resources/templates/list", "resources/read", "prompts/list")
        }
        self.following = Following(self)

    # ---- the way to an upstream server ---------------------------------------------------------
    def mask(self) -> Mask:
        """The calling caller's own mask (with ``--tokenize-pii``; else one that changes nothing), the one
        its exposed tool calls use too (CodeMode.caller_mask)."""
        return self.mode.caller_mask(current_caller())

    def origin_of_uri(self, public: str) -> tuple[str, str]:
        """The live server and its own URI behind ``public`` (already unmasked)."""
        return self._live(*self.namespace.uri_origin(public))

    def _live(self, server: str, name: str) -> tuple[str, str]:
        if server not in self.mode.live:  # the namespace knows only live servers: a guard, not a route
            raise UsageError(f"server {server!r} is not available through serve.")
        return server, name

    async def upstream(self, server: str, work: Callable[[Connection], Coroutine[Any, Any, Any]]) -> Any:
        """``work(connection)`` run on the session's loop, where the connections live; bounded by the
        server's timeouts (settings) however the server behaves, and cancelled with the request."""
        conn = self.mode.session.connection(server)
        wait = conn.connect_timeout + 3 * conn.timeout + GRACE
        try:
            with anyio.fail_after(wait):
                return await asyncio.wrap_future(runtime.submit(work(conn)))
        except TimeoutError:
            raise ServerTimeout(
                f"Server {server!r} did not answer within {wait:g} s.", server=server
            ) from None

    @contextlib.asynccontextmanager
    async def relaying(self, ctx: Any, server: str, mask: Mask) -> AsyncIterator[Any]:
        """While a request to ``server`` runs: its progress reporter, and the server's log records relayed
        to this request (:func:`~mcp_kernel.serve.notices.records_relayed`)."""
        loop = asyncio.get_running_loop()
        conn = self.mode.session.connection(server)

        def progress(value: float, total: float | None, message: str | None) -> None:  # on the session's loop
            coro = ctx.session.report_progress(value, total, mask(message))
            asyncio.run_coroutine_threadsafe(coro, loop)

        async with records_relayed(ctx, self.audience, conn, server_id(server), mask):
            yield progress

    # ---- lists ---------------------------------------------------------------------------------
    async def _gather(self, method: Any, key: str, rename: Callable[[str, dict[str, Any]], None]) -> Any:
        """Every live server's items of one list, renamed; a server that fails is left out (and logged)."""
        wanted = "prompts" if method == "prompts/list" else "resources"
        servers = [s for s in self.mode.live if self._offers(s, wanted)]

        def listing(conn: Connection) -> Coroutine[Any, Any, Wire]:
            return conn.awire_list(method)

        answers = await asyncio.gather(*(self.upstream(s, listing) for s in servers), return_exceptions=True)
        items: list[dict[str, Any]] = []
        wires: list[Wire] = []
        for server, answer in zip(servers, answers, strict=True):
            if isinstance(answer, BaseException):
                text = f"{method} of server {server!r} left out: {type(answer).__name__}: {answer}"
                await self.audience.log("warning", self.mask()(text))
                continue
            wires.append(answer)
            for item in answer.body.get(key, []):
                rename(server, item)
                items.append(item)
        hint = list_hint(
            wires, fronting=bool(servers), complete=len(wires) == len(servers), private=self.mode.tokenize_pii
        )
        return items, hint

    def _offers(self, server: str, capability: str) -> bool:
        info = self.mode.session.connection(server).info
        return info is None or capability in info.capabilities

    async def list_resources(self, ctx: Any, params: Any) -> ListResourcesResult:
        def rename(server: str, item: dict[str, Any]) -> None:
            item["uri"] = self.namespace.uri(server, item["uri"])

        return ListResourcesResult.model_validate(await self._listed(ctx, params, "resources/list", rename))

    async def list_templates(self, ctx: Any, params: Any) -> ListResourceTemplatesResult:
        def rename(server: str, item: dict[str, Any]) -> None:
            item["uriTemplate"] = self.namespace.uri(server, item["uriTemplate"])

        listed = await self._listed(ctx, params, "resources/templates/list", rename)
        return ListResourceTemplatesResult.model_validate(listed)

    async def list_prompts(self, ctx: Any, params: Any) -> ListPromptsResult:
        def rename(server: str, item: dict[str, Any]) -> None:
            item["name"] = self.namespace.name(server, item["name"])

        return ListPromptsResult.model_validate(await self._listed(ctx, params, "prompts/list", rename))

    async def _listed(
        self, ctx: Any, params: Any, method: str, rename: Callable[[str, dict[str, Any]], None]
    ) -> dict[str, Any]:
        """serve's own items of ``method``'s list, then every live server's, renamed and masked, with the hint."""
        key = LIST_KEYS[method]
        own = await self.own[method](ctx, params)
        items, hint = await self._gather(method, key, rename)
        mine = own.model_dump(mode="json", by_alias=True, exclude_none=True)[key]
        return {key: mine + wire_masked(items, self.mask()), **hint}

    # ---- a read, a prompt, a completion --------------------------------------------------------
    async def read(self, ctx: Any, params: ReadResourceRequestParams) -> Any:
        mask = self.mask()
        public = mask.restore(str(params.uri))
        if public.startswith(TREE):
            return await self.own["resources/read"](ctx, params)
        with refused(f"resource {str(params.uri)!r}", mask, uri=str(params.uri)):
            server, uri = self.origin_of_uri(public)
            async with self.relaying(ctx, server, mask) as progress:
                wire = await self.upstream(server, lambda c: c.awire_read(uri, progress=progress))
        body = _unwrapped(wire.body)
        for content in body.get("contents", []):
            content["uri"] = self.namespace.uri(server, content["uri"])
        hint = read_hint(wire, private=self.mode.tokenize_pii)
        return ReadResourceResult.model_validate({**wire_masked(body, mask), **hint})

    async def get_prompt(self, ctx: Any, params: GetPromptRequestParams) -> GetPromptResult:
        mask = self.mask()
        with refused(f"prompt {params.name!r}", mask):
            server, name = self._live(*self.namespace.name_origin(mask.restore(params.name)))
            arguments = mask.restore(dict(params.arguments or {}))
            async with self.relaying(ctx, server, mask) as progress:
                wire = await self.upstream(
                    server, lambda c: c.awire_prompt(name, arguments, progress=progress)
                )
        body = _unwrapped(wire.body)
        for message in body.get("messages", []):
            message["content"] = self.namespace.block(server, message.get("content", {}))
        return GetPromptResult.model_validate(wire_masked(body, mask))

    async def complete(self, ctx: Any, params: CompleteRequestParams) -> CompleteResult:
        """Upstream prompts' arguments and templates' variables, from their server; the ``path`` of serve's
        tree template one step at a time, from the tree as it is now."""
        ref, argument, mask = params.ref, params.argument, self.mask()
        if isinstance(ref, ResourceTemplateReference) and ref.uri == TEMPLATE:
            if argument.name != "path":
                raise MCPError(INVALID_PARAMS, f"{TEMPLATE} has one variable to complete: `path`.")
            values = await anyio.to_thread.run_sync(self.mode.complete, argument.value)
            return _completion(values, len(values), len(values) > MAX_COMPLETIONS)
        what = f"prompt {ref.name!r}" if isinstance(ref, PromptReference) else f"template {ref.uri!r}"
        with refused(f"completion of {argument.name!r} for {what}", mask):
            if isinstance(ref, PromptReference):
                kind, (server, name) = (
                    "prompt",
                    self._live(*self.namespace.name_origin(mask.restore(ref.name))),
                )
            else:
                kind, (server, name) = "resource", self.origin_of_uri(mask.restore(ref.uri))
            context = mask.restore(dict(params.context.arguments or {})) if params.context else None
            value = mask.restore(argument.value)
            found = await self.upstream(
                server,
                lambda c: c.acomplete(kind, name, argument.name, value, context),  # type: ignore[arg-type]
            )
        return _completion(mask(list(found.values)), found.total, found.has_more)


def _unwrapped(body: dict[str, Any]) -> dict[str, Any]:
    """An upstream result without its envelope: serve sets its own hint, and stamps its own server info."""
    body = {k: v for k, v in body.items() if k not in ENVELOPE}
    meta = {k: v for k, v in body.pop("_meta", {}).items() if k != SERVER_INFO}
    return {**body, "_meta": meta} if meta else body


def _completion(values: list[str], total: int | None, has_more: bool) -> CompleteResult:
    return CompleteResult(
        completion=Completion(
            values=values[:MAX_COMPLETIONS], total=total, has_more=has_more or len(values) > MAX_COMPLETIONS
        )
    )


@contextlib.contextmanager
def refused(what: str, mask: Mask, uri: str | None = None) -> Any:
    """Turn what goes wrong with ``what`` into a typed protocol error naming it: the caller's fault as
    invalid params, a server's (timeout, crash, error) as an internal error; the text through ``mask``.
    A resource that is not there carries its ``uri`` (as the client sent it) in the error's data (SEP-2164)."""
    try:
        yield
    except MCPKernelError as exc:
        code = INVALID_PARAMS if isinstance(exc, REFUSALS) else INTERNAL_ERROR
        advice = ""
        if isinstance(exc, ResourceNotFound):
            advice = " See resources/list and resources/templates/list for what serve offers."
        elif isinstance(exc, (PromptNotFound, PromptArgumentMissing)):
            advice = " See prompts/list for the prompts and their arguments."
        first = str(exc).split(" List them with ")[0]  # the kernel's advice (`%mcp ...`) is not serve's
        data = {"uri": uri} if uri is not None and isinstance(exc, (ResourceNotFound, UsageError)) else None
        raise MCPError(code, mask(f"{what}: {type(exc).__name__}: {first}{advice}"), data) from None
