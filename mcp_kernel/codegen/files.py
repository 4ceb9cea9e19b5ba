"""Every generated file for one server: the bindings, their index and types, manifest and skill.

>>> from mcp_kernel.models import ServerInfo, ToolInfo
>>> sorted(generate(ServerInfo(name="demo"), [ToolInfo(name="echo")], server_name="demo"))[:3]
['_mcp_runtime.pyi', 'servers/__init__.py', 'servers/demo/__init__.py']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import CodegenError
from ..models import ResourceList, ServerInfo, ToolInfo
from ..names import python_identifier, server_id
from ..text import summary_line
from .declarations import declarations, name_types
from .manifest import manifest
from .names import unique
from .plans import MAX_SERVERS, Cache, Plan, current, plan_tools
from .python import Interned
from .render import cached_renders, render_each, static, template
from .text import doc, md_inline
from .typescript import ts_view
from .views import View, index_line, view

SHARED_PATHS = ("servers/__init__.py",)  # written by every server's generation, identical
LANGUAGES = ("python", "typescript")


def binding_paths(server_name: str, tools: Sequence[ToolInfo]) -> dict[str, str]:
    """tool name -> path of its Python binding, as :func:`generate` names them."""
    sid = server_id(server_name)
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = unique([python_identifier(t.name) for t in ordered])
    return {t.name: f"servers/{sid}/{f}.py" for t, f in zip(ordered, funcs, strict=True)}


def _ordered_plans(tools: Sequence[ToolInfo], server_name: str) -> tuple[Cache, list[Plan]]:
    if len({t.name for t in tools}) != len(tools):
        raise CodegenError(f"Server {server_name!r} publishes two tools with the same name; cannot generate.")
    cache = current()
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = unique([python_identifier(t.name) for t in ordered])
    try:
        return cache, plan_tools(cache, ordered, funcs)
    except CodegenError as exc:
        raise CodegenError(f"{exc} (server {server_name!r})") from None


def _prepare(tools: Sequence[ToolInfo], server_name: str) -> tuple[list[Plan], list[tuple[Any, View]]]:
    cache, ordered = _ordered_plans(tools, server_name)
    names = name_types(cache.types, ordered)
    return ordered, [view(p, names) for p in ordered]


def index_lines(server_name: str, tools: Sequence[ToolInfo]) -> dict[str, str]:
    """tool name -> its line in ``servers/<id>/__init__.pyi``: name, typed signature, first sentence.

    >>> from mcp_kernel.models import ToolInfo
    >>> index_lines("demo", [ToolInfo(name="echo", description="Say it back. Twice.",
    ...     input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})])
    {'echo': 'def echo(*, text: str) -> Any: \"\"\"Say it back.\"\"\"'}
    """
    ordered, views = _prepare(tools, server_name)
    return {p.tool.name: index_line(v) for p, (_, v) in zip(ordered, views, strict=True)}


def generate(
    server: ServerInfo,
    tools: Sequence[ToolInfo],
    *,
    server_name: str,
    languages: Sequence[str] = ("python",),
) -> dict[str, str]:
    """Every generated file for one server, as ``{path relative to /mcp-tools: text}``."""
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        raise CodegenError(f"Unknown language(s) {unknown}; choose from {', '.join(LANGUAGES)}.")
    cache, ordered = _ordered_plans(tools, server_name)
    # The same server with the same tools (the same cached plans) and options gives the same files.
    key = (server_name, tuple(sorted(set(languages))), server.model_dump_json(), tuple(map(id, ordered)))
    cached = cache.servers.get(key)
    if cached is not None:
        return dict(cached[1])
    files = _generate(server, cache.types, ordered, server_name, languages)
    if len(cache.servers) >= MAX_SERVERS:
        cache.servers.pop(next(iter(cache.servers)))
    cache.servers[key] = (ordered, files)  # the plans stay alive with the entry, so their ids stay theirs
    return dict(files)


def _generate(
    server: ServerInfo, types: Interned, plans: list[Plan], server_name: str, languages: Sequence[str]
) -> dict[str, str]:
    names = name_types(types, plans)
    keyed = [view(p, names) for p in plans]
    views = [v for _, v in keyed]
    sid = server_id(server_name)
    files: dict[str, str] = {}
    if "python" in languages:
        for _, rendered, text in cached_renders("python/tool.py.j2", plans, keyed, server_name):
            files[f"servers/{sid}/{rendered.func}.py"] = text
        files["_mcp_runtime.pyi"] = static("python/runtime.pyi.j2")
        files[SHARED_PATHS[0]] = static("python/servers.py.j2")
        # per server, not shared: a server's directory (and a plugin saved from it) then stands on its own
        files[f"servers/{sid}/_call.py"] = static("python/call.py.j2")
        files[f"servers/{sid}/__init__.py"] = template("python/package.py.j2").render(
            views=views, server_name_doc=doc(server_name)
        )
        typing_names = sorted({n for v in views for n in v.typing.split(", ") if n})
        files[f"servers/{sid}/__init__.pyi"] = template("python/index.pyi.j2").render(
            lines=[index_line(v) for v in views],
            typing=", ".join(typing_names),
            types=", ".join(sorted({n for v in views for n in v.types.split(", ") if n})),
            server_name_doc=doc(server_name),
        )
        declared = declarations(types, names)
        files[f"servers/{sid}/_types.py"] = template("python/types.py.j2").render(
            declarations=declared,
            exports=repr(["Any", "Literal", "call", *(d.name for d in declared)]),
            server_name_doc=doc(server_name),
        )
    if "typescript" in languages:
        ts_views = [ts_view(p) for p in plans]
        for plan, text in zip(
            plans, render_each("typescript/tool.ts.j2", ts_views, server_name=server_name), strict=True
        ):
            files[f"servers/{sid}/{plan.func}.ts"] = text
        files["runtime.d.ts"] = static("typescript/runtime.d.ts.j2")
    entries = [(p.func, p.manifest) for p in plans]
    files[f"servers/{sid}/manifest.json"] = manifest(server, entries, server_name, sid, languages)
    files[f"skills/{sid}/SKILL.md"] = _skill(server, plans, server_name, sid)
    return dict(sorted(files.items()))


def _skill(server: ServerInfo, plans: Sequence[Plan], server_name: str, sid: str) -> str:
    summaries: list[dict[str, Any]] = [
        {"func": p.func, "module": p.func, "summary": p.summary, "tool": p.tool} for p in plans
    ]
    groups: list[dict[str, Any]] = [
        {
            "title": "Look things up (read-only)",
            "tools": [s for s in summaries if s["tool"].annotations.read_only],
        },
        {
            "title": "Change things (check before calling)",
            "tools": [
                s
                for s in summaries
                if s["tool"].annotations.destructive and not s["tool"].annotations.read_only
            ],
        },
    ]
    grouped = {id(s) for g in groups for s in g["tools"]}
    groups.append({"title": "Other tools", "tools": [s for s in summaries if id(s) not in grouped]})
    groups = [g for g in groups if g["tools"]]
    title = server.title or server.name or server_name
    description = (
        f"Work with the {title} MCP server ({len(summaries)} tools) by writing Python that calls its "
        f"generated bindings. Use when a task needs: " + "; ".join(s["summary"] for s in summaries[:8])
    )[:1024]
    example = next((s for g in groups for s in g["tools"]), None)
    call = ""
    if example is not None:
        plan = next(p for p in plans if p.func == example["func"])
        call = ", ".join(f"{p.ident}=..." for p in plan.params if p.required)
    return template("skill/SKILL.md.j2").render(
        skill_name=re.sub(r"[^a-z0-9-]+", "-", sid.lower().replace("_", "-")).strip("-")[:64] or "mcp-server",
        description=description,
        server_title=title,
        server_name=server_name,
        server_version=server.version,
        server_id=sid,
        instructions=server.instructions or "",
        groups=groups,
        example={"func": example["func"] if example else "tool", "call": call},
    )


def resource_index(server_name: str, listing: ResourceList) -> dict[str, str]:
    """``servers/<id>/RESOURCES.md``: one line per resource and resource template (uri, name, MIME type,
    first sentence), or nothing for a server that publishes none. Every fact stays in ``%mcp resources``.

    >>> from mcp_kernel.models import ResourceInfo
    >>> print(resource_index("demo", ResourceList(server="demo", resources=[ResourceInfo(uri="sales://schema",
    ...     name="schema", mime_type="text/markdown", description="Columns of the sales data. One a line.")]))
    ...     ["servers/demo/RESOURCES.md"].splitlines()[-1])
    - `sales://schema` (text/markdown): Columns of the sales data.
    """
    entries = [(r.uri, r.name, r.mime_type, r.description or r.title or "") for r in listing.resources]
    entries += [
        (t.uri_template, t.name, t.mime_type, t.description or t.title or "") for t in listing.templates
    ]
    if not entries:
        return {}
    lines = []
    for uri, name, mime, text in entries:
        line = f"- `{md_inline(uri).replace('`', '%60')}`"
        if name and name not in uri:  # a name the uri already says (``.../features.md``) is left out
            line += f" {md_inline(name)}"
        if mime:
            line += f" ({md_inline(mime)})"
        first = md_inline(summary_line(text))
        lines.append(f"{line}: {first}" if first else line)
    text = template("resources/RESOURCES.md.j2").render(server_name=server_name, lines=lines)
    return {f"servers/{server_id(server_name)}/RESOURCES.md": text}
