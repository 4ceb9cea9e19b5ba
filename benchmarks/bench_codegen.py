"""Generating Python bindings for 10, 50 and 500 realistic tools: median ms per run, and growth.

Run: ``python benchmarks/bench_codegen.py``. Tools have several parameters (strings, enums, numbers with
defaults, a nested object, an array of objects) and an output schema, like real servers publish. The
Rust original reports 0.19 ms for 10 tools and 0.97 ms for 50.

Generation caches its work per tool (keyed by the tool's whole definition, so by its schema hash) and per
server, so three cases are timed:

- unchanged: the same server generated again (``%mcp generate`` twice, ``tokens`` after ``generate``);
- one changed: one tool's description differs each run, the others come from the cache;
- cold: the cache cleared before every run, so everything is converted and rendered.

Then the first generation in a new process (what each CLI command pays), 10 tools: with an empty cache
directory, where jinja2 compiles every template, and with the templates it compiled kept there.

The baseline, measured in the same run, is ``json.dumps`` of the tools as ``tools/list`` sends them: the
least work any generator does (reading every schema once).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from measure import median_ms

from mcp_kernel.codegen import clear_cache, generate
from mcp_kernel.models import ServerInfo, ToolAnnotations, ToolInfo

ORIGINAL_MS = {10: 0.19, 50: 0.97}  # the Rust original's published figures
TARGET_MS = {10: 0.2, 50: 1.0, 500: 10.0}  # issue #16


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
                "min_amount": {
                    "anyOf": [{"type": "number"}, {"type": "null"}],
                    "description": "Lower bound.",
                },
                "sort": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "descending": {"type": "boolean"}},
                },
                "columns": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["since"],
        },
        output_schema={
            "type": "object",
            "properties": {
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "amount": {"type": "number"}},
                    },
                },
                "total": {"type": "integer"},
            },
            "required": ["rows", "total"],
        },
        annotations=ToolAnnotations(read_only=True, idempotent=True),
    )


SERVER = ServerInfo(name="bench", version="1")


def wire_json(tools: list[ToolInfo]) -> str:
    """The baseline: the tool list as it crosses the wire, serialized once."""
    return json.dumps({"tools": [t.wire() for t in tools]})


def unchanged(tools: list[ToolInfo]) -> Callable[[], Any]:
    return lambda: generate(SERVER, tools, server_name="bench")


def one_changed(tools: list[ToolInfo]) -> Callable[[], Any]:
    runs = iter(range(10**9))

    def run() -> Any:
        changed = tools[0].model_copy(update={"description": f"Query rows, edit {next(runs)}."})
        return generate(SERVER, [changed, *tools[1:]], server_name="bench")

    return run


def cold(tools: list[ToolInfo]) -> Callable[[], Any]:
    def run() -> Any:
        clear_cache()
        return generate(SERVER, tools, server_name="bench")

    return run


FIRST = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); from bench_codegen import SERVER, realistic_tool; "
    "import mcp_kernel.config; from mcp_kernel.codegen import generate; tools = [realistic_tool(i) for i in "
    "range(10)]; t = time.perf_counter(); generate(SERVER, tools, server_name='bench'); "
    "print((time.perf_counter() - t) * 1000)"
)


def first_in_process(cache: str, runs: int = 5, *, keep: bool) -> float:
    """Median ms of the first generate in a fresh process (config imported first, as every caller has it)."""
    samples = []
    for i in range(runs):
        directory = cache if keep else f"{cache}/{i}"
        env = {**os.environ, "MCP_KERNEL_CACHE_DIR": directory}
        done = subprocess.run(
            [sys.executable, "-c", FIRST, str(Path(__file__).parent)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        samples.append(float(done.stdout))
    return statistics.median(samples)


def main() -> None:
    sizes = ((10, 300), (50, 100), (500, 15))
    baseline = {
        n: median_ms(partial(wire_json, [realistic_tool(i) for i in range(n)]), runs, warmup=1)
        for n, runs in sizes
    }
    cases = {"unchanged": unchanged, "one changed": one_changed, "cold": cold}
    results: dict[str, dict[int, float]] = {}
    for label, case in cases.items():
        results[label] = {
            n: median_ms(case([realistic_tool(i) for i in range(n)]), runs, warmup=1) for n, runs in sizes
        }
    print(f"{'case':<12} {'tools':>5} {'median ms':>10} {'ms/tool':>8} {'x json.dumps':>12} {'target ms':>9}")
    for label, by_n in results.items():
        for n, ms in by_n.items():
            print(f"{label:<12} {n:>5} {ms:10.3f} {ms / n:8.4f} {ms / baseline[n]:12.1f} {TARGET_MS[n]:9.1f}")
    for label, by_n in results.items():
        ratio = ", ".join(f"{n} tools {by_n[n] / ms:.2f}x its {ms} ms" for n, ms in ORIGINAL_MS.items())
        print(
            f"{label}: 500/50 ratio {by_n[500] / by_n[50]:.2f} (linear is 10.0); vs the Rust original: {ratio}"
        )
    with tempfile.TemporaryDirectory() as cache:
        compiling = first_in_process(cache, keep=False)
        first_in_process(cache, 1, keep=True)  # fills the cache
        kept = first_in_process(cache, keep=True)
    print(
        f"first generate in a new process, 10 tools: {compiling:.1f} ms compiling the templates, "
        f"{kept:.1f} ms with them compiled before (median of 5)"
    )


if __name__ == "__main__":
    main()
