"""Traces (mcp_kernel/traces.py): an execute and its tool calls as OpenTelemetry spans, with the SDK's exporters,
in-process and in a real ``serve`` over HTTP; and that nothing is traced, or imported, with tracing off."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, StatusCode, TraceFlags
from realservers import SERVERS, free_port, our_server, running
from test_serve import one_server_place

from mcp_kernel.session import Session

pytestmark = pytest.mark.slow

CALLER = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
THREE_CALLS = (
    "from servers.demo import list_regions, top_customers\n"
    "list_regions()\ntop_customers(n=2)\nlist_regions()\n"  # the third from the cache
)


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK's in-memory exporter behind this process's tracer provider (set once: the API allows no other)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()


@pytest.fixture(scope="module")
def session(spans: InMemorySpanExporter) -> Iterator[Session]:
    with Session() as s:
        s.add_server(our_server("traced"))
        s.generate("demo")
        s.generate("traced")
        yield s


def _named(spans: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name.startswith(prefix)]


def test_an_execute_with_three_calls_is_one_span_with_three_children_under_the_callers_trace(
    session: Session, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    caller = trace.set_span_in_context(trace.NonRecordingSpan(CALLER))
    with trace.get_tracer("test").start_as_current_span("agent", context=caller) as agent:
        result = session.execute(THREE_CALLS, session.policy(["demo"]))
    assert result.error is None, result.error
    [execute] = _named(spans, "execute")
    assert execute.parent is not None and execute.parent.span_id == agent.get_span_context().span_id
    assert execute.context.trace_id == CALLER.trace_id
    calls = [
        s for s in spans.get_finished_spans() if s.parent and s.parent.span_id == execute.context.span_id
    ]
    assert [c.name for c in calls] == [
        "tools/call demo.list_regions",
        "tools/call demo.top_customers",
        "tools/call demo.list_regions",
    ]
    first, second, third = (dict(c.attributes or {}) for c in calls)
    assert first["mcp_kernel.server"] == "demo" and first["gen_ai.tool.name"] == "list_regions"
    assert first["mcp.method.name"] == "tools/call" and first["gen_ai.operation.name"] == "execute_tool"
    assert [a["mcp_kernel.cache_hit"] for a in (first, second, third)] == [False, False, True]
    assert first["mcp_kernel.bytes_in"] == result.calls[0].bytes_in
    assert first["mcp_kernel.bytes_out"] == result.calls[0].bytes_out > 100
    assert second["mcp_kernel.duration_ms"] == result.calls[1].duration_ms
    assert all(c.status.status_code is StatusCode.UNSET for c in calls)
    # The SDK's span of each request that reached the server is a child of its call's span.
    sent = _named(spans, "MCP send tools/call")
    assert sorted(s.parent.span_id for s in sent if s.parent) == sorted(c.context.span_id for c in calls[:2])


def test_the_upstream_server_gets_the_calls_traceparent_and_a_failed_call_marks_its_span(
    session: Session, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    result = session.execute(
        "from servers.traced import trace_context, refuse\n"
        "got = trace_context()\n"
        "try:\n    refuse()\nexcept Exception as e:\n    print(type(e).__name__)\n"
        "got['traceparent']",
        session.policy(["traced"]),
    )
    assert result.error is None, result.error
    assert result.stdout == "ToolCallError\n"
    [execute] = _named(spans, "execute")
    [asked] = _named(spans, "tools/call traced.trace_context")
    [sent] = [s for s in _named(spans, "MCP send tools/call trace_context")]
    version, trace_id, parent_id, _flags = result.value.split("-")
    # What the server received names the SDK's span of that request, in the execute's trace.
    assert (version, int(trace_id, 16), int(parent_id, 16)) == (
        "00",
        execute.context.trace_id,
        sent.context.span_id,
    )
    assert sent.parent is not None and sent.parent.span_id == asked.context.span_id
    [refused] = _named(spans, "tools/call traced.refuse")
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes is not None and refused.attributes["error.type"] == "ToolCallError"
    assert "refused, as always" not in json.dumps(dict(refused.attributes))  # no server text in a span


def test_a_cell_that_raises_marks_its_execute_span(session: Session, spans: InMemorySpanExporter) -> None:
    spans.clear()
    result = session.execute("1 / 0", session.policy(["demo"]))
    assert result.error is not None
    [execute] = _named(spans, "execute")
    assert execute.status.status_code is StatusCode.ERROR
    assert execute.attributes is not None and execute.attributes["error.type"] == "ZeroDivisionError"


def _read_spans(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_serve_continues_the_traceparent_a_client_sends_in_meta(tmp_path: Path) -> None:
    """A real SDK client sends ``_meta.traceparent`` with ``execute`` to serve over HTTP; serve's spans (written by
    the SDK's console exporter in its own process) continue that trace, and the upstream server gets it too."""
    from mcp import Client

    place = one_server_place(tmp_path, "traced")
    spans_file = tmp_path / "spans.jsonl"
    port = free_port()
    # The traced server's tools carry no annotations: approvals (serve's default asks) are not this test's.
    argv = [
        sys.executable,
        str(SERVERS / "traced_serve.py"),
        "--config",
        place["config"],
        "--approve",
        "never",
    ]
    env = {**place["env"], "SPANS_FILE": str(spans_file)}

    async def agent() -> Any:
        # The caller's span is current too: the SDK's client injects its own span over ``meta`` when this process
        # records spans (the fixture above), a child in the same trace.
        with trace.use_span(trace.NonRecordingSpan(CALLER)):
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool(
                    "execute",
                    {"code": "from servers.traced import trace_context\ntrace_context()['traceparent']"},
                    meta={"traceparent": TRACEPARENT, "tracestate": "vendor=1"},
                )

    with running([*argv, "--http", f"127.0.0.1:{port}"], port, env=env, timeout=60):
        result = asyncio.run(agent())
    assert not result.is_error, result.content
    received = "\n".join(block.text for block in result.content if block.type == "text").strip("'")
    found = _read_spans(spans_file)
    by_id = {s["context"]["span_id"]: s for s in found}
    [execute] = [s for s in found if s["name"] == "execute"]
    assert execute["context"]["trace_id"] == "0x0af7651916cd43dd8448eb211c80319c"
    # execute -> the SDK's span of the request that asked for it -> the caller's (remote: not in serve's spans)
    served = by_id[execute["parent_id"]]
    assert served["name"] == "tools/call execute" and served["parent_id"] not in by_id
    assert served["context"]["trace_id"] == execute["context"]["trace_id"]
    [call] = [s for s in found if s["name"] == "tools/call traced.trace_context"]
    assert call["parent_id"] == execute["context"]["span_id"]
    assert received.split("-")[1] == "0af7651916cd43dd8448eb211c80319c", received


def test_with_tracing_off_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    """opentelemetry not installed (blocked): ``import mcp_kernel`` and a cell run, and nothing of it is imported
    (the ``mcp`` SDK needs it: a cell that calls a server loads it with the SDK)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'opentelemetry': raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import mcp_kernel\n"
        "from mcp_kernel.session import Session\n"
        "with Session() as s:\n"
        "    r = s.execute('sum(range(10))', s.policy([]))\n"
        "print(r.value, sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    env = {**os.environ, "MCP_KERNEL_CACHE_DIR": os.environ.get("MCP_KERNEL_CACHE_DIR", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "45 []"


def test_an_exposed_tool_call_carries_the_callers_trace_to_the_upstream_server(tmp_path: Path) -> None:
    """``--expose-tools``: a call of the upstream tool itself (not code) runs on a worker thread under the span
    of the request that asked for it, so the upstream server receives the caller's trace."""
    from mcp import Client

    place = one_server_place(tmp_path, "traced")
    port = free_port()
    argv = [
        sys.executable,
        str(SERVERS / "traced_serve.py"),
        "--config",
        place["config"],
        "--approve",
        "never",
    ]
    env = {**place["env"], "SPANS_FILE": str(tmp_path / "spans.jsonl")}

    async def agent() -> Any:
        with trace.use_span(trace.NonRecordingSpan(CALLER)):
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("traced__trace_context", {}, meta={"traceparent": TRACEPARENT})

    with running([*argv, "--expose-tools", "all", "--http", f"127.0.0.1:{port}"], port, env=env, timeout=60):
        result = asyncio.run(agent())
    assert not result.is_error, result.content
    received = json.dumps(result.structured_content or [b.text for b in result.content if b.type == "text"])
    assert "0af7651916cd43dd8448eb211c80319c" in received, received
