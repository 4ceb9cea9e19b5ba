"""Generating Python bindings for 10, 50 and 500 realistic tools: median ms per run, and growth.

Run: ``python benchmarks/bench_codegen.py``. Tools have several parameters (strings, enums, numbers with
defaults, a nested object, an array of objects) and an output schema, like real servers publish. The
Rust original reports 0.19 ms for 10 tools and 0.97 ms for 50.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import median_ms as _median_ms  # noqa: E402

from mcp_kernel.codegen import generate  # noqa: E402
from mcp_kernel.models import ServerInfo, ToolAnnotations, ToolInfo  # noqa: E402


def realistic_tool(i: int) -> ToolInfo:
    return ToolInfo(
        name=f"query_table_{i}",
        title=f"Query table {i}",
        description=f"Query rows of table {i} with filters.\n\nReturns matching rows and a total count.",
        input_schema={
            "type": "object",
            "properties": {
                "region": {"type": "string", "enum": ["EU", "NA", "APAC"], "description": "Region filter."},
                "since": {"type": "string", "description": "ISO date, inclusive."},
                "limit": {"type": "integer", "default": 100, "description": "Most rows."},
                "min_amount": {"anyOf": [{"type": "number"}, {"type": "null"}], "description": "Lower bound."},
                "sort": {"type": "object", "properties": {"field": {"type": "string"},
                                                          "descending": {"type": "boolean"}}},
                "columns": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["since"],
        },
        output_schema={
            "type": "object",
            "properties": {"rows": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "amount": {"type": "number"}}}}, "total": {"type": "integer"}},
            "required": ["rows", "total"],
        },
        annotations=ToolAnnotations(read_only=True, idempotent=True),
    )


def generation_ms(n_tools: int, runs: int) -> float:
    tools = [realistic_tool(i) for i in range(n_tools)]
    server = ServerInfo(name="bench", version="1")
    return _median_ms(lambda: generate(server, tools, server_name="bench"), runs, warmup=1)


def main() -> None:
    results = {n: generation_ms(n, runs) for n, runs in ((10, 300), (50, 100), (500, 15))}
    print(f"{'tools':>6} {'median ms':>10} {'ms/tool':>8}")
    for n, ms in results.items():
        print(f"{n:>6} {ms:10.3f} {ms / n:8.4f}")
    print(f"500/50 ratio: {results[500] / results[50]:.2f} (linear growth is 10.0)")
    print(f"vs the Rust original: 10 tools {results[10] / 0.19:.2f}x its 0.19 ms, 50 tools {results[50] / 0.97:.2f}x its 0.97 ms")


if __name__ == "__main__":
    main()
