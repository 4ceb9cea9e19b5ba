"""The transports a connection speaks over: stdio, streamable HTTP, and the legacy HTTP+SSE.

:func:`open_transport` builds the one a :class:`~mcp_kernel.models.ServerSpec` asks for, as the async
context manager of read and write streams that ``mcp.Client`` takes. Each SDK module is imported when
its transport is built: the SDK costs ~0.35 s to import, paid only once a server is used.

>>> MAX_SSE_EVENT_BYTES // (1024 * 1024)
64
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from ..models import ServerSpec
from .process import TAG_VARIABLE

__all__ = ["MAX_SSE_EVENT_BYTES", "Hook", "http_transport", "open_transport", "sse_transport"]

MAX_SSE_EVENT_BYTES = 64 * 1024 * 1024

Hook = Callable[[Any], Awaitable[None]]


def open_transport(spec: ServerSpec, *, tag: str, errlog: TextIO | None, auth: Any, on_response: Hook) -> Any:
    """The transport for ``spec``: a stdio server started with ``tag`` in its environment and its stderr in
    ``errlog``, or an HTTP one whose every response is shown to ``on_response`` (to see a 401/403)."""
    if spec.transport == "stdio":
        from mcp import StdioServerParameters  # the SDK: ~0.35 s, only once a server is used
        from mcp.client.stdio import stdio_client

        assert errlog is not None, "a stdio server's log is started before its transport opens"
        env = {**(spec.env or {}), TAG_VARIABLE: tag}
        params = StdioServerParameters(command=spec.command or "", args=spec.args, env=env, cwd=spec.cwd)
        return stdio_client(params, errlog=errlog)
    if spec.sse:
        return sse_transport(str(spec.url), spec.headers, auth, on_response)
    return http_transport(str(spec.url), spec.headers, auth, on_response)


def http_transport(url: str, headers: dict[str, str], auth: Any, on_response: Hook) -> Any:
    """Streamable HTTP, over an ``httpx2`` client that carries the headers, the auth and the response hook."""
    import httpx2  # with the SDK, only once a server is used
    from mcp.client.streamable_http import streamable_http_client

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        timeout = httpx2.Timeout(30.0, read=300.0)
        # The SDK's default 1 MiB SSE event cap refuses ordinary large tool results (a few thousand rows
        # sent as text and as structured content); keep a bound, but a generous one.
        async with (
            httpx2.AsyncClient(
                headers=headers or None, timeout=timeout, auth=auth, event_hooks={"response": [on_response]}
            ) as http,
            streamable_http_client(url, http_client=http, max_sse_event_size=MAX_SSE_EVENT_BYTES) as streams,
        ):
            yield streams[0], streams[1]

    return transport()


def sse_transport(url: str, headers: dict[str, str], auth: Any, on_response: Hook) -> Any:
    """The legacy HTTP+SSE transport (a GET event stream plus POSTs to the endpoint it names)."""
    import httpx2  # with the SDK, only once a server is used
    from mcp.client.sse import sse_client

    def client(headers: dict[str, str] | None = None, timeout: Any = None, auth: Any = None) -> Any:
        return httpx2.AsyncClient(
            headers=headers, timeout=timeout, auth=auth, event_hooks={"response": [on_response]}
        )

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        async with sse_client(
            url,
            headers=headers or None,
            timeout=30.0,
            sse_read_timeout=300.0,
            auth=auth,
            httpx_client_factory=client,
        ) as streams:
            yield streams[0], streams[1]

    return transport()
