"""Traces: an execute and its tool calls as OpenTelemetry spans, once a tracer provider is set.

The ``mcp`` SDK depends on ``opentelemetry-api`` and already makes a span of each request it sends or serves,
carrying the W3C trace context (``traceparent``, ``tracestate``) in the request's ``_meta`` (SEP-414, MCP
2026-07-28): serve's ``execute`` runs under the span of the request that asked for it, so a caller's
``traceparent`` continues there. This module adds what only mcp-kernel knows: one span per execute (a notebook
cell, ``mcp-kernel execute``, serve's ``execute``) and, under it, one span per tool call or resource read of its
code. While a call's request is made its span is the current one, so the SDK's span of that request
(``MCP send tools/call``) is its child and the ``traceparent`` the upstream server receives belongs to this
trace.

A call's span follows the OpenTelemetry conventions for MCP where they name something (``mcp.method.name``,
``gen_ai.operation.name`` = ``execute_tool``, ``gen_ai.tool.name``, ``mcp.resource.uri`` is not sent: a URI can
name personal data; ``error.type``); what they do not name is under ``mcp_kernel.``: ``mcp_kernel.server``,
``mcp_kernel.duration_ms`` (the whole call as the bridge timed it: checks, cache, rate limit, server),
``mcp_kernel.cache_hit``, ``mcp_kernel.bytes_in``, ``mcp_kernel.bytes_out``. No argument or result values, and
no error messages (they quote what servers said): only the error's type.

Tracing is on when a tracer provider is set: ``opentelemetry-instrument`` (opentelemetry-distro) sets one from
the standard ``OTEL_*`` variables, an application may set its own. Off (the API's default), this module
imports nothing and wraps nothing.

For example::

    trace = ExecuteTrace("default")  # records only when tracing is on
    bridge.acall, bridge.on_call = trace.caller(servers.acall), trace.recording(on_call)
    with trace:
        result = box.execute(code, policy)
        trace.outcome(result)
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from .models import CallRecord, ExecutionResult

__all__ = ["ExecuteTrace", "carried", "tracing"]

T = TypeVar("T")
_SCOPE = "mcp-kernel"
ToolCaller = Callable[..., Coroutine[Any, Any, Any]]


def tracing() -> bool:
    """Whether spans are recorded: opentelemetry is loaded and a tracer provider other than the API's default
    (a proxy that records nothing) is set. Setting one imports opentelemetry, so until then this imports nothing."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return False
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def carried(work: Callable[[], T]) -> Callable[[], T]:
    """``work``, to run on another thread in the trace context current here (a span's children stay its own).

    For example: ``workers.submit(carried(work))`` on serve's loop, inside the span of the request.
    """
    if not tracing():
        return work
    from opentelemetry import context  # loaded: tracing() found it

    here = context.get_current()

    def run() -> T:
        token = context.attach(here)
        try:
            return work()
        finally:
            context.detach(token)

    return run


class ExecuteTrace:
    """The span of one execute and its calls' spans, children of it (nothing at all when tracing is off)."""

    def __init__(self, sandbox: str, name: str = "execute") -> None:
        self.span: Span | None = None
        self._calls: dict[int, Span] = {}  # per thread: the span of the call it has waiting at a server
        self._lock = threading.Lock()
        if tracing():
            from opentelemetry import trace  # loaded: tracing() found it

            self._tracer = trace.get_tracer(_SCOPE)
            self.span = self._tracer.start_span(name, attributes={"mcp_kernel.sandbox": sandbox})

    def caller(self, acall: ToolCaller) -> ToolCaller:
        """``acall`` (server, tool, arguments, timeout, progress) with each call a span under this execute's,
        current while the request is made; ``acall`` itself when tracing is off."""
        if self.span is None:
            return acall

        def traced(server: str, tool: str, arguments: Any, timeout: float, progress: Any = None) -> Any:
            span = self._child(server, tool)
            with self._lock:  # the bridge calls on the guest's thread and tells of the call's end there
                stale = self._calls.pop(threading.get_ident(), None)
                self._calls[threading.get_ident()] = span
            if stale is not None:  # a call whose end was never told (an error outside the bridge's records)
                stale.end()
            return _current(span, acall(server, tool, arguments, timeout, progress))

        return traced

    def recording(self, on_call: Callable[[CallRecord], None] | None) -> Callable[[CallRecord], None] | None:
        """``on_call``, after ending the span of the call each record tells of; ``on_call`` when tracing is off."""
        if self.span is None:
            return on_call

        def record(call: CallRecord) -> None:
            self.ended(call)
            if on_call is not None:
                on_call(call)

        return record

    def ended(self, call: CallRecord) -> None:
        """End the span of the call ``call`` records: the one made when its request started, or, for a call
        that never reached a server (a cache hit, a refusal), one made now and dated back by its duration."""
        with self._lock:
            span = self._calls.pop(threading.get_ident(), None)
        if span is None:
            span = self._child(call.server, call.tool, time.time_ns() - int(call.duration_ms * 1e6))
        span.set_attributes(
            {
                "mcp_kernel.duration_ms": call.duration_ms,
                "mcp_kernel.cache_hit": call.cached,
                "mcp_kernel.bytes_in": call.bytes_in,
                "mcp_kernel.bytes_out": call.bytes_out,
            }
        )
        if call.error is not None:
            _failed(span, call.error.partition(":")[0])
        span.end()

    def outcome(self, result: ExecutionResult) -> None:
        """Mark the execute failed if its code raised (the exception's type; not its message)."""
        if self.span is not None and result.error is not None:
            _failed(self.span, result.error.type)

    def __enter__(self) -> ExecuteTrace:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.span is None:
            return
        with self._lock:
            left, self._calls = list(self._calls.values()), {}
        for span in left:
            span.end()
        if kind is not None:
            _failed(self.span, kind.__name__)
        self.span.end()

    def _child(self, server: str, tool: str, start_time: int | None = None) -> Span:
        from opentelemetry import trace  # loaded: tracing() found it

        read = tool == "resources/read"
        attributes: dict[str, Any] = {
            "mcp.method.name": tool if read else "tools/call",
            "mcp_kernel.server": server,
        }
        if not read:
            attributes |= {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool}
        assert self.span is not None
        return self._tracer.start_span(
            f"{tool} {server}" if read else f"tools/call {server}.{tool}",
            context=trace.set_span_in_context(self.span),
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
            start_time=start_time,
        )


async def _current(span: Span, request: Coroutine[Any, Any, T]) -> T:
    """``request``, awaited with ``span`` the current span (the SDK carries it on in the request's ``_meta``)."""
    from opentelemetry import context, trace  # loaded: tracing() found it

    token = context.attach(trace.set_span_in_context(span))
    try:
        return await request
    finally:
        context.detach(token)


def _failed(span: Span, kind: str) -> None:
    from opentelemetry.trace import StatusCode  # loaded: tracing() found it

    span.set_attribute("error.type", kind)
    span.set_status(StatusCode.ERROR)
