"""How a server's tools look: their introspection, a search over them, one call's result and its progress.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import CallResult
>>> print(to_text(CallResult(server="demo", tool="count", structured={"n": 3}, duration_ms=4)))
demo.count: ok in 4 ms
{
  "n": 3
}
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ..apps.resource import view_uri
from ..models import CallResult, Introspection, SearchHit, SearchResults, ToolInfo
from ..names import server_id
from ..records import Records, records_of
from ..terminal import printable
from ..text import calls_text
from .dispatch import renders
from .formatting import one_line, records_text, table
from .templates import environment

__all__ = [
    "call_result_html",
    "call_result_text",
    "introspection_text",
    "progress_bundle",
    "search_results_text",
]


def _hints(tool: ToolInfo) -> str:
    a = tool.annotations
    names = [
        ("read-only", a.read_only),
        ("destructive", a.destructive),
        ("idempotent", a.idempotent),
        ("open-world", a.open_world),
        ("view", view_uri(tool) is not None),  # an MCP Apps view: `%mcp app` shows it
    ]
    return ",".join(n for n, v in names if v)


def _params(schema: dict[str, Any]) -> str:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    return ", ".join(f"{p}{'' if p in required else '?'}" for p in props)


def introspection_html(obj: Introspection) -> str:
    """The tools table, each tool with an MCP Apps view marked."""
    views = {tool.name for tool in obj.tools if view_uri(tool) is not None}
    return environment().get_template("display/introspection.html.j2").render(obj=obj, views=views)


@renders(Introspection, html=introspection_html)
def introspection_text(obj: Introspection) -> str:
    info = obj.server
    head = [
        f"{obj.server_name}: {info.name} {info.version}".rstrip() + f"  (protocol {info.protocol_version})",
        f"{len(obj.tools)} tools, listed in {obj.duration_ms:.0f} ms",
    ]
    if info.instructions:
        head.append("instructions: " + one_line(info.instructions, 100))
    rows = [
        [
            t.name,
            _params(t.input_schema),
            "yes" if t.output_schema else "",
            _hints(t),
            one_line(t.description),
        ]
        for t in obj.tools
    ]
    return "\n".join(head) + "\n\n" + table(["tool", "params", "output", "hints", "description"], rows)


def _summary(hit: SearchHit) -> str:
    """A hit's summary; a skill's says which servers it calls."""
    if hit.calls is None:
        return hit.summary or ""
    return f"{hit.summary or ''} ({calls_text(hit.calls)})".strip()


@renders(SearchResults, html="display/search.html.j2")
def search_results_text(obj: SearchResults) -> str:
    skills = sum(h.calls is not None for h in obj.hits)
    found_text = f"{obj.total - skills} tool(s) and {skills} skill(s)" if skills else f"{obj.total} tool(s)"
    head = f"{found_text} match {obj.query!r}" + (
        f" (showing {len(obj.hits)})" if obj.total > len(obj.hits) else ""
    )
    if obj.detail == "name":
        return "\n".join([head, *(f"{h.server}.{h.tool}" for h in obj.hits)])
    if obj.detail == "summary":
        return (
            head
            + "\n"
            + table(["server", "tool", "summary"], [[h.server, h.tool, _summary(h)] for h in obj.hits])
        )
    if obj.detail == "signature":  # grouped under the package to import from, as in the server's index
        found: dict[str, list[str]] = {}
        for h in obj.hits:
            package = "skills" if h.calls is not None else f"servers.{server_id(h.server)}"
            found.setdefault(package, []).append(h.signature or h.tool)
        return "\n".join([head, *("\n".join([f"{package}:", *lines]) for package, lines in found.items())])
    blocks = [head]
    for h in obj.hits:
        if h.calls is not None:  # a skill: how to import it
            blocks.append(
                f"\n{h.server}.{h.tool}: {_summary(h)}\n  {h.signature}\n  from skills.{h.tool} import {h.tool}"
            )
            continue
        blocks.append(
            f"\n{h.server}.{h.tool}: {h.summary}\n  input:  {json.dumps(h.input_schema)}"
            + (f"\n  output: {json.dumps(h.output_schema)}" if h.output_schema else "")
        )
    return "\n".join(blocks)


def _call_records(obj: CallResult) -> Records | None:
    """The call's structured result as a table, when it is table-shaped."""
    return records_of(obj.structured) if obj.structured is not None and not obj.is_error else None


def call_result_html(obj: CallResult) -> str:
    return (
        environment().get_template("display/call_result.html.j2").render(obj=obj, shaped=_call_records(obj))
    )


@renders(CallResult, html=call_result_html)
def call_result_text(obj: CallResult) -> str:
    status = "error" if obj.is_error else "ok"
    head = f"{obj.server}.{obj.tool}: {status} in {obj.duration_ms:.0f} ms"
    shaped = _call_records(obj)
    if shaped is not None:
        rest = (
            {k: v for k, v in obj.structured.items() if k != shaped.name}
            if isinstance(obj.structured, dict) and shaped.name
            else {}
        )
        return f"{head}\n{records_text(shaped, rest)}"
    body = json.dumps(obj.structured, indent=2) if obj.structured is not None else obj.text
    return f"{head}\n{body}"


def progress_bundle(
    server: str, tool: str, value: float, total: float | None, message: str | None
) -> dict[str, str]:
    """A display bundle for a tool call's progress, updated in place in a notebook (inline styles only)."""
    if total:
        share = max(0.0, min(1.0, value / total))
        amount = f"{value:g}/{total:g} ({share:.0%})"
        bar = (
            f'<progress value="{value:g}" max="{total:g}" style="width:12em;vertical-align:middle;'
            f'margin-right:0.5em"></progress>'
        )
    else:
        amount, bar = f"{value:g}", ""
    note = f" - {message}" if message else ""
    plain = printable(f"{server}.{tool}: {amount}{note}")
    html = (
        f'<div style="font-family:monospace;font-size:0.9em;color:#444">{bar}'
        f"<b>{escape(server)}.{escape(tool)}</b> {escape(amount)}{escape(note)}</div>"
    )
    return {"text/plain": plain, "text/html": html}
