"""``mcp-kernel serve`` with an OpenTelemetry SDK tracer provider whose spans go to ``$SPANS_FILE``, one JSON
object a line, as each ends (the SDK's console exporter, given the file); the arguments are serve's."""

from __future__ import annotations

import json
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from mcp_kernel.cli import main

spans = open(os.environ["SPANS_FILE"], "a", encoding="utf-8")  # noqa: SIM115 (open while serve runs)
provider = TracerProvider()
provider.add_span_processor(
    SimpleSpanProcessor(
        ConsoleSpanExporter(out=spans, formatter=lambda span: json.dumps(json.loads(span.to_json())) + "\n")
    )
)
trace.set_tracer_provider(provider)
sys.exit(main(["serve", *sys.argv[1:]]))
