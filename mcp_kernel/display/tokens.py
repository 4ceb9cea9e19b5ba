"""How token savings look: the report comparing every tool definition up front with reading only the bindings
used (a bar chart in HTML), and what stayed in the sandbox during one cell.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import CellTokens
>>> print(to_text(CellTokens(encoding="o200k_base", exact=True, calls=1, raw_result_tokens=900, raw_result_bytes=2048, output_tokens=9)))
Stayed in the sandbox: 99.0% - 1 tool call(s) returned 900 tokens (2.0 KiB); the cell printed and returned 9 (o200k_base)
"""

from __future__ import annotations

from ..models import CellTokens, ServerTokens, TokenReport
from .dispatch import renders
from .formatting import filesize, table
from .templates import environment

__all__ = ["cell_tokens_text", "token_report_html", "token_report_text"]


def _token_rows(obj: TokenReport) -> list[tuple[str, ServerTokens | None]]:
    """One row per server, and a total row (None) when there is more than one server or a shared head."""
    rows: list[tuple[str, ServerTokens | None]] = [(s.server, s) for s in obj.servers]
    return [*rows, ("total", None)] if len(obj.servers) > 1 or obj.listing_head or obj.search_head else rows


def token_report_html(obj: TokenReport) -> str:
    from ..tokens import (
        largest_tools,
    )  # here: mcp_kernel.tokens loads codegen and jinja2, which a plain table never needs

    bars = [
        (label, s.upfront, s.progressive, s.search_path)
        if s is not None
        else (label, obj.upfront, obj.progressive, obj.search_path)
        for label, s in _token_rows(obj)
    ]
    top = max([v for b in bars for v in b[1:]] + [1])
    return (
        environment()
        .get_template("display/tokens.html.j2")
        .render(obj=obj, rows=_token_rows(obj), bars=bars, top=top, largest=largest_tools(obj, 10))
    )


@renders(TokenReport, html=token_report_html)
def token_report_text(obj: TokenReport) -> str:
    from ..tokens import (
        largest_tools,
    )  # here: mcp_kernel.tokens loads codegen and jinja2, which a plain table never needs

    if obj.task_defined:
        head = (
            f"Token savings: listing path {obj.savings_percent}%, search path {obj.search_savings_percent}% "
            f"({obj.upfront:,} tokens up front -> {obj.progressive:,} listing path, {obj.search_path:,} search "
            f"path), counted with {obj.encoding}"
        )
        note = (
            "up front = every tool definition (tools/list); listing path = listing servers/ and each used "
            "server's directory + the bindings read;\nsearch path = one search answer at signature detail + "
            "the same bindings"
        )
    else:
        head = (
            f"Token savings: {obj.savings_percent}% ({obj.upfront:,} tokens up front -> {obj.progressive:,} "
            f"listing every directory), counted with {obj.encoding}"
        )
        note = "no task given: nothing read but the listings; see per-tool costs"
    rows = []
    for label, s in _token_rows(obj):
        if s is None:
            cells = [
                label,
                sum(x.tools for x in obj.servers),
                f"{obj.upfront:,}",
                f"{obj.listing_head + sum(x.listing for x in obj.servers):,}",
                f"{obj.search_head + sum(x.search for x in obj.servers):,}",
                f"{sum(x.bindings_read for x in obj.servers):,}",
                f"{obj.progressive:,}",
                f"{obj.search_path:,}",
                f"{obj.savings_percent}%",
                f"{obj.search_savings_percent}%",
            ]
        else:
            cells = [
                label,
                s.tools,
                f"{s.upfront:,}",
                f"{s.listing:,}",
                f"{s.search:,}",
                f"{s.bindings_read:,}",
                f"{s.progressive:,}",
                f"{s.search_path:,}",
                f"{s.savings_percent}%",
                f"{s.search_savings_percent}%",
            ]
        rows.append(cells if obj.task_defined else [*cells[:4], cells[6], cells[8]])
    headers = [
        "server",
        "tools",
        "up front",
        "listing",
        "search",
        "bindings read",
        "listing path",
        "search path",
        "saved (listing)",
        "saved (search)",
    ]
    body = table(headers if obj.task_defined else [*headers[:4], headers[6], headers[8]], rows)
    largest = table(
        ["largest tool definitions", "tokens", "binding tokens", "signature tokens"],
        [
            [f"{t.server}.{t.tool}", f"{t.definition:,}", f"{t.binding:,}", f"{t.signature:,}"]
            for t in largest_tools(obj, 5)
        ],
    )
    return f"{head}\n{note}\n\n{body}\n\n{largest}"


@renders(CellTokens, html="display/cell_tokens.html.j2")
def cell_tokens_text(obj: CellTokens) -> str:
    return (
        f"Stayed in the sandbox: {obj.savings_percent}% - {obj.calls} tool call(s) returned "
        f"{obj.raw_result_tokens:,} tokens ({filesize(obj.raw_result_bytes)}); the cell printed and returned "
        f"{obj.output_tokens:,} ({obj.encoding})"
    )
