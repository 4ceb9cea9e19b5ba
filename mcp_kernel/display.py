"""How result objects look: readable text for terminals (and ``text/plain``) and HTML for notebooks.

Every command returns a value (a pydantic model from :mod:`mcp_kernel.models`); the CLI prints
:func:`to_text` of it, ``--json`` prints :func:`to_json`, and the notebook shows :func:`bundle` of it.

The data never depends on this module: models carry no display code. Instead this module keeps one
registry, type -> :class:`Renderer`, filled by the ``@renders(...)`` declarations below, and
:func:`register_formatters` hands it to IPython (``for_type``), which is how notebooks find it.

>>> from mcp_kernel.models import ValidationReport, ValidationRow
>>> print(to_text(ValidationReport(rows=[ValidationRow(name="demo", ok=True, tools=8)])))
server  ok  tools  protocol  time   error
demo    ok  8                0 ms
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from .models import (
    AuthStatus,
    CallResult,
    CellTokens,
    CommandList,
    Completion,
    DebugReport,
    DemoReport,
    ExecutionResult,
    FileView,
    GenerateReport,
    Introspection,
    KernelspecResult,
    LogExcerpt,
    Notice,
    PluginInfo,
    PluginList,
    PromptList,
    PromptView,
    ResourceList,
    ResourceRead,
    SandboxSessionList,
    SearchResults,
    ServerAdded,
    ServerList,
    ServerTokens,
    SessionStats,
    SettingsReport,
    SignInLink,
    TokenReport,
    ToolInfo,
    ValidationReport,
)
from .names import server_id
from .records import Records, records_of
from .sandbox.policy import ZONEINFO_DIR
from .terminal import printable
from .vfs import TreeNode

__all__ = [
    "CellValue",
    "ExecutionFooter",
    "bundle",
    "records_text",
    "register_formatters",
    "renders",
    "table",
    "to_html",
    "to_json",
    "to_text",
]

_env: Any = None
T = TypeVar("T")


@dataclass(frozen=True)
class Renderer:
    """How one type looks: ``text`` for terminals, ``html`` for notebooks (None: the text in a ``<pre>``)."""

    text: Callable[[Any], str]
    html: Callable[[Any], str] | None = None


_RENDERERS: dict[type, Renderer] = {}


def renders(
    cls: type, html: str | Callable[[Any], str] | None = None
) -> Callable[[Callable[[T], str]], Callable[[T], str]]:
    """Register the decorated function as the text of ``cls``; ``html`` is a template name or a function."""

    def register(text: Callable[[T], str]) -> Callable[[T], str]:
        render_html = _template_renderer(html) if isinstance(html, str) else html
        _RENDERERS[cls] = Renderer(text=text, html=render_html)
        return text

    return register


def _template_renderer(name: str) -> Callable[[Any], str]:
    return lambda obj: _environment().get_template(name).render(obj=obj)


def _renderer(obj: Any) -> Renderer | None:
    for cls in type(obj).__mro__:
        if cls in _RENDERERS:
            return _RENDERERS[cls]
    return None


def _environment() -> Any:
    """The jinja2 environment for HTML: autoescape on, templates from the package, built once."""
    global _env
    if _env is None:
        import jinja2

        from .text import summary_line

        _env = jinja2.Environment(
            loader=jinja2.PackageLoader("mcp_kernel", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
        _env.filters["summary"] = summary_line
        _env.filters["filesize"] = filesize
        _env.filters["preview"] = preview
    return _env


Sections = list[tuple[str, list[tuple[str, Any]]]]


def _sections(cls: type, sections: Callable[[Any], tuple[str, Sections]]) -> None:
    """Register a type shown as titled key/value tables (text and HTML from one function)."""
    _RENDERERS[cls] = Renderer(
        text=lambda obj: _kv_text(*sections(obj)),
        html=lambda obj: _kv_html(*sections(obj)),
    )


def _kv_text(title: str, sections: Sections) -> str:
    lines = [title] if title else []
    for name, rows in sections:
        if name:
            lines += ["", name]
        width = max((len(k) for k, _ in rows), default=0)
        lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines).strip("\n")


def _kv_html(title: str, sections: Sections) -> str:
    return _environment().get_template("display/kv.html.j2").render(title=title, sections=sections)


def _token_html(obj: TokenReport) -> str:
    from .tokens import largest_tools

    bars = [
        (label, s.upfront, s.progressive, s.search_path)
        if s is not None
        else (label, obj.upfront, obj.progressive, obj.search_path)
        for label, s in _token_rows(obj)
    ]
    top = max([v for b in bars for v in b[1:]] + [1])
    return (
        _environment()
        .get_template("display/tokens.html.j2")
        .render(obj=obj, rows=_token_rows(obj), bars=bars, top=top, largest=largest_tools(obj, 10))
    )


def to_html(obj: Any) -> str:
    """Self-contained HTML for a result object (no scripts, no stylesheets: inline styles only)."""
    renderer = _renderer(obj)
    if renderer is not None and renderer.html is not None:
        return renderer.html(obj)
    return _environment().get_template("display/text.html.j2").render(text=to_text(obj), title=None)


def bundle(obj: Any) -> dict[str, str]:
    """The notebook mime bundle: ``text/plain`` and ``text/html`` only (a JSON entry would hide the HTML);
    a Markdown file is ``text/markdown`` instead of HTML, so the frontend renders it (and sanitises it)."""
    if isinstance(obj, FileView) and obj.path.lower().endswith((".md", ".markdown")):
        return {"text/plain": to_text(obj), "text/markdown": obj.text}
    return {"text/plain": to_text(obj), "text/html": to_html(obj)}


def register_formatters(shell: Any) -> None:
    """Teach an IPython shell to display every registered type (and any other result model) as a bundle.

    Called when the extension loads (``%load_ext mcp_kernel``, or the MCP kernel at start).
    """
    from .models import _Model
    from .plugins import Plugin
    from .sandbox.policy import SandboxPolicy

    formatter = shell.display_formatter.mimebundle_formatter
    for cls in {*_RENDERERS, _Model, Plugin, SandboxPolicy}:
        formatter.for_type(cls, bundle)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] = ()) -> str:
    """A plain text table, left-aligned but for the columns marked in ``right`` (numbers).

    >>> print(table(["a", "b"], [[1, "xy"]]))
    a  b
    1  xy
    """
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    flags = [*right, *[False] * len(headers)]
    return "\n".join(
        "  ".join(
            c.rjust(w) if flags[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    )


def filesize(size: int) -> str:
    """Bytes in a short human form.

    >>> filesize(2048)
    '2.0 KiB'
    """
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def to_json(obj: Any) -> str:
    """Machine-readable JSON for ``--json``."""
    if isinstance(obj, BaseModel):
        return obj.model_dump_json(indent=2)
    return json.dumps(obj, indent=2, default=str)


def to_text(obj: Any) -> str:
    """Readable text for a result object; control characters from servers shown as escapes, not obeyed."""
    renderer = _renderer(obj)
    if renderer is not None:
        return printable(renderer.text(obj))
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, BaseModel):
        return obj.model_dump_json(indent=2)
    return json.dumps(obj, indent=2, default=str)


def _flags(tool: ToolInfo) -> str:
    a = tool.annotations
    names = [
        ("read-only", a.read_only),
        ("destructive", a.destructive),
        ("idempotent", a.idempotent),
        ("open-world", a.open_world),
    ]
    return ",".join(n for n, v in names if v)


def _params(schema: dict[str, Any]) -> str:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    return ", ".join(f"{p}{'' if p in required else '?'}" for p in props)


def _one_line(text: str, width: int = 60) -> str:
    first = " ".join(text.split())
    return textwrap.shorten(first, width, placeholder="…") if first else ""


@renders(TreeNode, html="display/tree.html.j2")
def _(obj: TreeNode) -> str:
    lines: list[str] = []

    def walk(node: TreeNode, prefix: str, last: bool, top: bool) -> None:
        label = node.name + ("/" if node.kind == "dir" else f"  ({filesize(node.size)})")
        lines.append(label if top else f"{prefix}{'└── ' if last else '├── '}{label}")
        child_prefix = "" if top else prefix + ("    " if last else "│   ")
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False)

    walk(obj, "", True, True)
    return "\n".join(lines)


@renders(Introspection, html="display/introspection.html.j2")
def _(obj: Introspection) -> str:
    info = obj.server
    head = [
        f"{obj.server_name}: {info.name} {info.version}".rstrip() + f"  (protocol {info.protocol_version})",
        f"{len(obj.tools)} tools, listed in {obj.duration_ms:.0f} ms",
    ]
    if info.instructions:
        head.append("instructions: " + _one_line(info.instructions, 100))
    rows = [
        [
            t.name,
            _params(t.input_schema),
            "yes" if t.output_schema else "",
            _flags(t),
            _one_line(t.description),
        ]
        for t in obj.tools
    ]
    return "\n".join(head) + "\n\n" + table(["tool", "params", "output", "hints", "description"], rows)


@renders(SignInLink, html="display/sign_in.html.j2")
def _(obj: SignInLink) -> str:
    return f"Server {obj.server!r} needs you to sign in. Open this link:\n  {obj.url}"


def _auth_sections(obj: AuthStatus) -> tuple[str, Sections]:
    import datetime as dt

    done = {"login": "signed in to", "logout": "signed out of", "status": "sign-in of"}[obj.action]
    if not obj.configured:
        return f"{done} {obj.server!r}", [("", [("oauth", "not configured (no oauth block in mcp.json)")])]
    expires = (
        dt.datetime.fromtimestamp(obj.expires_at).isoformat(timespec="seconds")
        if obj.expires_at is not None
        else ""
    )
    rows = [
        ("signed in", "yes" if obj.signed_in else "no"),
        ("grant", obj.grant or ""),
        ("scope", obj.scope or ""),
        ("token expires", expires),
        ("refreshable", "yes" if obj.refreshable else "no"),
        ("client id", obj.client_id or ""),
        ("token file", obj.token_file or ""),
    ]
    return f"{done} {obj.server!r}", [("", [(k, v) for k, v in rows if v != ""])]


_sections(AuthStatus, _auth_sections)


@renders(ServerList, html="display/server_list.html.j2")
def _(obj: ServerList) -> str:
    rows = [
        [s.name, s.transport, "yes" if s.connected else "no", s.source or "", s.target] for s in obj.servers
    ]
    return table(["server", "transport", "connected", "from", "command / url"], rows)


@renders(ValidationReport, html="display/validation.html.j2")
def _(obj: ValidationReport) -> str:
    rows = [
        [
            r.name,
            "ok" if r.ok else "FAIL",
            r.tools if r.ok else "",
            r.protocol_version,
            f"{r.duration_ms:.0f} ms",
            r.error.splitlines()[0] if r.error else "",
        ]
        for r in obj.rows
    ]
    return table(["server", "ok", "tools", "protocol", "time", "error"], rows)


def records_text(shaped: Records, rest: dict[str, Any] | None = None) -> str:
    """A table-shaped value as text: its size, any fields beside the rows, then the head of the table.

    >>> print(records_text(records_of([{"a": 1}, {"a": 20}])))
    2 rows × 1 column
     a
     1
    20
    """
    size = (
        f"{shaped.count:,} row{'' if shaped.count == 1 else 's'} × {len(shaped.columns)} "
        f"column{'' if len(shaped.columns) == 1 else 's'}"
    )
    extra = "".join(f"\n{k}: {v}" for k, v in (rest or {}).items())
    more = shaped.count - min(shaped.count, TEXT_ROWS)
    tail = f"\n… {more:,} more row{'' if more == 1 else 's'}" if more else ""
    return (
        f"{shaped.name + ': ' if shaped.name else ''}{size}{extra}\n"
        f"{table(shaped.columns, shaped.head(TEXT_ROWS), right=shaped.numeric)}{tail}"
    )


TEXT_ROWS = 30  # a terminal shows this many rows of a table-shaped value


def _call_shape(obj: CallResult) -> Records | None:
    return records_of(obj.structured) if obj.structured is not None and not obj.is_error else None


def _call_html(obj: CallResult) -> str:
    return _environment().get_template("display/call_result.html.j2").render(obj=obj, shaped=_call_shape(obj))


@renders(CallResult, html=_call_html)
def _(obj: CallResult) -> str:
    status = "error" if obj.is_error else "ok"
    head = f"{obj.server}.{obj.tool}: {status} in {obj.duration_ms:.0f} ms"
    shaped = _call_shape(obj)
    if shaped is not None:
        rest = (
            {k: v for k, v in obj.structured.items() if k != shaped.name}
            if isinstance(obj.structured, dict) and shaped.name
            else {}
        )
        return f"{head}\n{records_text(shaped, rest)}"
    body = json.dumps(obj.structured, indent=2) if obj.structured is not None else obj.text
    return f"{head}\n{body}"


@renders(DemoReport)
def _(obj: DemoReport) -> str:
    import textwrap as _tw

    parts = [
        f"== 1. Introspect the bundled demo server (over {obj.transport})",
        to_text(obj.introspection),
        "",
        "== 2. Generate typed bindings into the progressive file tree",
        to_text(obj.generated).splitlines()[0],
        to_text(obj.tree),
        "",
        "== 3. Run code in the WebAssembly sandbox; it calls two tools through the bridge",
        _tw.indent(obj.code.rstrip(), "    "),
        "-- output:",
        to_text(obj.execution),
        "",
        "== 4. Tokens: every tool definition up front vs reading only the two bindings used",
        to_text(obj.tokens).split("\n\nlargest")[0],
        "",
        to_text(obj.execution.tokens) if obj.execution and obj.execution.tokens else "",
        "",
        f"Done in {obj.duration_ms / 1000:.1f} s.",
    ]
    return "\n".join(parts)


@renders(SearchResults, html="display/search.html.j2")
def _(obj: SearchResults) -> str:
    head = f"{obj.total} tool(s) match {obj.query!r}" + (
        f" (showing {len(obj.hits)})" if obj.total > len(obj.hits) else ""
    )
    if obj.detail == "name":
        return "\n".join([head, *(f"{h.server}.{h.tool}" for h in obj.hits)])
    if obj.detail == "summary":
        return (
            head
            + "\n"
            + table(["server", "tool", "summary"], [[h.server, h.tool, h.summary] for h in obj.hits])
        )
    if obj.detail == "signature":  # grouped under the package to import from, as in the server's index
        found: dict[str, list[str]] = {}
        for h in obj.hits:
            found.setdefault(h.server, []).append(h.signature or h.tool)
        return "\n".join(
            [head, *("\n".join([f"servers.{server_id(server)}:", *lines]) for server, lines in found.items())]
        )
    blocks = [head]
    for h in obj.hits:
        blocks.append(
            f"\n{h.server}.{h.tool}: {h.summary}\n  input:  {json.dumps(h.input_schema)}"
            + (f"\n  output: {json.dumps(h.output_schema)}" if h.output_schema else "")
        )
    return "\n".join(blocks)


@renders(LogExcerpt)
def _(obj: LogExcerpt) -> str:
    return f"{obj.server}: {obj.path}\n{obj.text or '(empty)'}"


@renders(ServerAdded, "display/server_added.html.j2")
def _(obj: ServerAdded) -> str:
    names = ", ".join(obj.tools[:8]) + (f", … ({len(obj.tools) - 8} more)" if len(obj.tools) > 8 else "")
    plural = "" if len(obj.tools) == 1 else "s"
    return (
        f"added {obj.server_name}: {obj.server.name} {obj.server.version}".rstrip()
        + f" - {len(obj.tools)} tool{plural}"
        + (f": {names}" if names else "")
        + f"\n`%mcp introspect {obj.server_name}` shows their parameters and schemas"
    )


@renders(KernelspecResult)
def _(obj: KernelspecResult) -> str:
    line = f"{obj.action} kernelspec {obj.name!r} at {obj.path}"
    return line + (f"\nsandbox component: {obj.sandbox}" if obj.sandbox else "")


def _debug_sections(obj: DebugReport) -> tuple[str, Sections]:
    return "mcp-kernel debug", [
        ("", [("python", obj.python), ("platform", obj.platform)]),
        ("versions", list(obj.versions.items())),
        ("paths", list(obj.paths.items())),
        ("status", list(obj.status.items())),
    ]


_sections(DebugReport, _debug_sections)


@renders(SettingsReport)
def _(obj: SettingsReport) -> str:
    if obj.written or not obj.rows:
        return "\n".join(f"wrote {path}" for path in obj.written) or "nothing written (files exist; --force)"
    return table(
        ["setting", "value", "from", "meaning"], [[r.name, r.value, r.source, r.help] for r in obj.rows]
    )


@renders(GenerateReport, html="display/generate.html.j2")
def _(obj: GenerateReport) -> str:
    head = (
        f"generated {obj.tools} tool bindings for {obj.server} ({', '.join(obj.languages)}): "
        f"{len(obj.files)} files, {filesize(obj.bytes)} in {obj.duration_ms:.1f} ms"
    )
    extra = [f"written to {obj.out}"] if obj.out else []
    extra += [f"saved as plugin {obj.plugin}"] if obj.plugin else []
    return "\n".join([head, *extra, *(f"  /mcp-tools/{f}" for f in obj.files)])


@renders(FileView, html="display/file.html.j2")
def _(obj: FileView) -> str:
    return obj.text


def _policy_sections(obj: Any) -> tuple[str, Sections]:
    rows = [
        ("servers", ", ".join(obj.servers) or "none (deny by default)"),
        ("memory", f"{obj.memory_mb} MiB"),
        ("wall clock", f"{obj.timeout_s:g} s"),
        ("fuel", f"{obj.fuel:,} instructions"),
        ("output", filesize(obj.output_limit_bytes)),
        ("tool params", f"at most {filesize(obj.max_param_bytes)} per call"),
        ("rate limit", f"{obj.rate_limit:g} calls/s per tool" if obj.rate_limit else "off"),
        ("tool timeout", f"{obj.tool_timeout_s:g} s"),
        (
            "result cache",
            f"on (read-only/idempotent tools, reused for {obj.cache_ttl_s:g} s)" if obj.cache else "off",
        ),
        ("state", f"at most {filesize(obj.state_limit_bytes)}"),
        ("/workspace", f"at most {obj.disk_mb} MiB"),
        ("personal data", "replaced by placeholders on the way out" if obj.tokenize_pii else "passed as is"),
    ]
    grants = [
        ("network", "none"),
        ("environment", "empty"),
        ("/mcp-tools", "generated bindings, read-only"),
        ("/workspace", "this session's scratch directory, read-write"),
        *([("/zoneinfo", "the host's time-zone database, read-only")] if ZONEINFO_DIR.is_dir() else []),
        ("other host files", "none"),
    ]
    return "Sandbox policy", [("limits", rows), ("what the cell can reach", grants)]


def _stats_sections(obj: Any) -> tuple[str, Sections]:
    b = obj.bridge
    sections: Sections = [
        (
            "bridge",
            [
                ("calls", b.calls),
                ("errors", b.errors),
                ("cache hits", b.cache_hits),
                ("latency p50 / p95", f"{b.latency_p50_ms:.1f} / {b.latency_p95_ms:.1f} ms"),
                ("bytes in / out", f"{filesize(b.bytes_in)} / {filesize(b.bytes_out)}"),
                ("cache", f"{b.cache_entries} entries, {filesize(b.cache_bytes)}"),
            ],
        ),
        (
            "session",
            [
                ("cells run", obj.cells),
                ("servers connected", obj.servers_connected),
                ("bindings generated", ", ".join(obj.generated) or "none"),
                ("files in /mcp-tools", obj.vfs_files),
                *((k, f"{v:.2f} s") for k, v in obj.engine_timings.items()),
            ],
        ),
    ]
    if obj.storage:
        sections.append(("on disk", list(obj.storage.items())))
    return "mcp-kernel stats", sections


def _execution_html(obj: ExecutionResult, handover: str | None = None) -> str:
    return (
        _environment()
        .get_template("display/execution.html.j2")
        .render(
            obj=obj,
            shown=obj.calls[:CALL_ROWS],
            unlisted=max(0, len(obj.calls) - CALL_ROWS),
            handover=handover,
        )
    )


@renders(ExecutionResult, html=_execution_html)
def _execution_text(obj: ExecutionResult) -> str:
    parts = []
    if obj.note:
        parts.append(obj.note)
    if obj.stdout:
        parts.append(obj.stdout.rstrip("\n"))
    if obj.stderr:
        parts.append(obj.stderr.rstrip("\n"))
    if obj.value_repr is not None:
        parts.append(obj.value_repr)
    if obj.error:
        parts.append(obj.error.traceback.rstrip() or f"{obj.error.type}: {obj.error.message}")
    parts.append(footer(obj))
    return "\n".join(parts)


def footer(obj: ExecutionResult) -> str:
    """The one-line summary under a sandboxed cell."""
    cached = sum(1 for c in obj.calls if c.cached)
    failed = sum(1 for c in obj.calls if c.error)
    calls = f"{len(obj.calls)} tool call{'' if len(obj.calls) == 1 else 's'}"
    if obj.calls:
        calls += f" ({cached} cached" + (f", {failed} failed" if failed else "") + ")"
    text = f"[{calls} · {obj.duration_ms:.1f} ms"
    if obj.stopped:  # what a stopped cell finished: calls done, time, the last call it made
        text = f"[stopped ({obj.stopped}) after {text[1:]}"
        if obj.calls:
            text += f" · last call {obj.calls[-1].server}.{obj.calls[-1].tool}"
    text += f" · {obj.fuel_used:,} fuel · {obj.memory_limit_mb} MiB limit"
    if obj.pii_replaced is not None:
        text += f" · {obj.pii_replaced} personal values replaced"
    if obj.tokens is not None and obj.tokens.calls:
        text += (
            f" · {obj.tokens.raw_result_tokens:,} result tokens stayed in the sandbox, "
            f"{obj.tokens.output_tokens:,} reached the notebook ({obj.tokens.savings_percent}% saved)"
        )
    return text + "]"


CALL_ROWS = 100  # calls listed under a cell; a loop of 1,000 calls lists its first ones and counts the rest
PREVIEW_CHARS = 120


def preview(text: str | None, width: int = PREVIEW_CHARS) -> str:
    """A call's arguments or result on one bounded line (cut after masking, so no half value slips out).

    >>> preview('{"region": "EU",\\n "limit": 5}')
    '{"region": "EU", "limit": 5}'
    """
    if not text:
        return ""
    flat = " ".join(text[: width * 4].split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class ExecutionFooter:
    """The compact summary shown under a ``%%mcp_execute`` cell (its output was already streamed).

    ``handover`` is the line about a value brought into the notebook (``--out``), if any.
    """

    def __init__(
        self, result: ExecutionResult, *, with_error: bool = False, handover: str | None = None
    ) -> None:
        # In a notebook the error is raised right after the footer and shown once, by IPython.
        self.result = result if with_error else result.model_copy(update={"error": None})
        self.handover = handover

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        html = _execution_html(self.result, self.handover)
        note = f"{self.result.note}\n" if self.result.note else ""
        extra = f"\n[{self.handover}]" if self.handover else ""
        return {"text/plain": printable(note + footer(self.result) + extra), "text/html": html}


class CellValue:
    """A sandboxed cell's value: a bounded table when it is records or columns, else its repr.

    >>> from mcp_kernel.models import ExecutionResult
    >>> v = CellValue(ExecutionResult(value_json='{"n": [1, 2]}', value_repr="{'n': [1, 2]}"))
    >>> print(v._repr_mimebundle_()["text/plain"])
    2 rows × 1 column
    n
    1
    2
    """

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        shaped = records_of(self.result.value) if self.result.value_json is not None else None
        if shaped is None:  # plain text, as IPython shows a value: no HTML to replace the familiar repr
            return {"text/plain": printable(self.result.value_repr or "")}
        html = _environment().get_template("display/cell_value.html.j2").render(shaped=shaped)
        return {"text/plain": printable(records_text(shaped)), "text/html": html}


@renders(Notice, html="display/notice.html.j2")
def _(obj: Notice) -> str:
    return obj.text


@renders(CommandList, html="display/commands.html.j2")
def _(obj: CommandList) -> str:
    body = table(["command", "what it does"], [[f"{obj.prog} {c.name}", c.summary] for c in obj.commands])
    return body + (f"\n\n{obj.hint}" if obj.hint else "")


def _register_sandbox() -> None:
    from .sandbox.policy import SandboxPolicy

    _sections(SandboxPolicy, _policy_sections)
    _sections(SessionStats, _stats_sections)


_register_sandbox()


def _token_rows(obj: TokenReport) -> list[tuple[str, ServerTokens | None]]:
    rows: list[tuple[str, ServerTokens | None]] = [(s.server, s) for s in obj.servers]
    return rows + [("total", None)] if len(obj.servers) > 1 or obj.listing_head or obj.search_head else rows


@renders(TokenReport, html=_token_html)
def _(obj: TokenReport) -> str:
    from .tokens import largest_tools

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
def _(obj: CellTokens) -> str:
    return (
        f"Stayed in the sandbox: {obj.savings_percent}% - {obj.calls} tool call(s) returned "
        f"{obj.raw_result_tokens:,} tokens ({filesize(obj.raw_result_bytes)}); the cell printed and returned "
        f"{obj.output_tokens:,} ({obj.encoding})"
    )


def _plugin_sections(obj: PluginInfo) -> tuple[str, Sections]:
    meta = obj.metadata
    stale = {
        None: "unknown (server not checked)",
        True: "STALE: the live server's schemas changed",
        False: "up to date with the live server",
    }[obj.stale]
    rows = [
        ("server", f"{meta['server_name']} ({meta['server'].get('name')} {meta['server'].get('version')})"),
        ("tools", meta["tool_count"]),
        ("files", f"{obj.files}, {filesize(obj.bytes)}"),
        ("created", meta["created"]),
        ("mcp-kernel", meta["mcp_kernel_version"]),
        ("generator", meta["generator_version"]),
        ("wasmtime", meta["wasmtime_version"]),
        ("status", stale),
    ]
    if obj.changed_tools:
        rows.append(("changed tools", ", ".join(obj.changed_tools)))
    return f"plugin {meta['server_id']}", [("", rows)]


def _plugin_list_sections(obj: PluginList) -> tuple[str, Sections]:
    rows = [
        (
            p.metadata["server_id"],
            f"{p.metadata['tool_count']} tools, {filesize(p.bytes)}, created {p.metadata['created']}",
        )
        for p in obj.plugins
    ]
    rows += [(name, f"BROKEN: {error}") for name, error in obj.broken.items()]
    return f"plugins in {obj.store}", [
        ("", rows or [("(none)", "save one with generate SERVER --save-plugin")])
    ]


_sections(PluginInfo, _plugin_sections)
_sections(PluginList, _plugin_list_sections)


def _sandbox_sessions_sections(obj: SandboxSessionList) -> tuple[str, Sections]:
    rows = [
        (
            r.handle,
            f"{r.cells} cells, idle {r.idle_s:g} s, memory limit {r.memory_limit_mb} MiB"
            + (", running a cell" if r.busy else ""),
        )
        for r in obj.sessions
    ]
    budget = f" of {obj.memory_budget_mb} MiB" if obj.memory_budget_mb else ""
    title = (
        f"sandbox sessions: {len(obj.sessions)} of at most {obj.max_sessions}, "
        f"{obj.memory_reserved_mb} MiB reserved{budget}"
    )
    return title, [("", rows or [("(none)", "one opens with the first %%mcp_execute cell")])]


_sections(SandboxSessionList, _sandbox_sessions_sections)


# ---- resources and prompts --------------------------------------------------------------------------------
@renders(ResourceList, html="display/resources.html.j2")
def _(obj: ResourceList) -> str:
    if not obj.resources and not obj.templates:
        return f"{obj.server}: no resources"
    lines = [f"{obj.server}: {len(obj.resources)} resources, {len(obj.templates)} templates"]
    if obj.resources:
        lines += [
            "",
            table(
                ["uri", "name", "type", "description"],
                [[r.uri, r.name, r.mime_type or "", _one_line(r.description)] for r in obj.resources],
            ),
        ]
    if obj.templates:
        lines += [
            "",
            table(
                ["template", "name", "type", "description"],
                [
                    [t.uri_template, t.name, t.mime_type or "", _one_line(t.description)]
                    for t in obj.templates
                ],
            ),
        ]
    return "\n".join(lines)


def content_body(content: Any) -> str:
    """How one resource part reads: pretty JSON, the text, or a blob's size and type."""
    if content.is_binary:
        return f"[binary: {filesize(content.size)}, {content.mime_type or 'unknown type'}]"
    parsed = content.parsed
    if parsed is not None and isinstance(parsed, (dict, list)):
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return content.text or ""


@renders(ResourceRead, html="display/resource.html.j2")
def _(obj: ResourceRead) -> str:
    parts = [
        f"{obj.server} {obj.uri}: {len(obj.contents)} part{'s' if len(obj.contents) != 1 else ''} "
        f"in {obj.duration_ms:.0f} ms"
    ]
    for content in obj.contents:
        head = f"--- {content.uri} ({content.mime_type or 'no type'}, {filesize(content.size)})"
        parts += [head, content_body(content)]
    return "\n".join(parts)


@renders(PromptList, html="display/prompts.html.j2")
def _(obj: PromptList) -> str:
    if not obj.prompts:
        return f"{obj.server}: no prompts"
    rows = [
        [
            p.name,
            " ".join(f"{a.name}{'' if a.required else '?'}" for a in p.arguments),
            _one_line(p.description),
        ]
        for p in obj.prompts
    ]
    return f"{obj.server}: {len(obj.prompts)} prompts (? = optional)\n" + table(
        ["prompt", "arguments", "description"], rows
    )


@renders(Completion)
def _(obj: Completion) -> str:
    head = f"{obj.server} {obj.name} {obj.argument}" + (f"={obj.value!r}" if obj.value else "")
    if not obj.values:
        return f"{head}: no suggestions"
    more = " (more: type more of the value)" if obj.has_more else ""
    return f"{head}: {len(obj.values)} suggestion(s){more}\n" + "\n".join(f"  {v}" for v in obj.values)


@renders(PromptView, html="display/prompt.html.j2")
def _(obj: PromptView) -> str:
    lines = [f"{obj.server}.{obj.prompt}" + (f": {obj.description}" if obj.description else "")]
    for message in obj.messages:
        lines += ["", f"[{message.role}]", textwrap.indent(message.text, "  ")]
    return "\n".join(lines)


def progress_bundle(
    server: str, tool: str, value: float, total: float | None, message: str | None
) -> dict[str, str]:
    """A display bundle for a tool call's progress, updated in place in a notebook (inline styles only)."""
    from html import escape

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
