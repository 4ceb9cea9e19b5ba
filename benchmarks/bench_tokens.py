"""Token savings and the time of the token analysis for 100 tools (tokenizer warm).

Run: ``python benchmarks/bench_tokens.py``. Prints what a task reading two of 100 realistic tools costs up
front, on the listing path and on the search path. The time baseline is the minimum any analysis must do:
one tokenizer pass over the tools/list JSON; the analysis adds per-tool definitions, bindings, index lines
and the listings.
"""

from __future__ import annotations

from bench_codegen import realistic_tool
from measure import median_ms

from mcp_kernel.codegen import binding_paths, generate
from mcp_kernel.models import ServerInfo
from mcp_kernel.tokens import tokenizer, tools_list_json, upfront_vs_progressive


def main() -> None:
    tools = [realistic_tool(i) for i in range(100)]
    files = generate(ServerInfo(name="bench"), tools, server_name="bench")
    data = {"bench": (tools, files, binding_paths("bench", tools))}
    read = {"bench": [tools[0].name, tools[1].name]}
    counter = tokenizer()
    baseline = median_ms(lambda: counter.count(tools_list_json(tools)), 50, warmup=3)
    analysis = median_ms(lambda: upfront_vs_progressive(data, read=read), 50, warmup=3)
    report = upfront_vs_progressive(data, read=read)
    [row] = report.servers
    print(f"tokenizer: {counter.label}")
    print(
        f"100 tools: analysis {analysis:.2f} ms, tools/list count alone {baseline:.2f} ms, ratio {analysis / baseline:.1f}"
    )
    print(
        f"100 tools, 2 read: {report.upfront:,} tokens up front -> listing path {report.progressive:,} "
        f"({report.savings_percent}% saved), search path {report.search_path:,} ({report.search_savings_percent}% saved)"
    )
    print(
        f"  listing {report.listing_head + row.listing:,} + bindings {row.bindings_read:,}; "
        f"search answer {report.search_head + row.search:,} + bindings {row.bindings_read:,}"
    )


if __name__ == "__main__":
    main()
