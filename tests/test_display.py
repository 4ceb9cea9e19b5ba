"""Result objects render as text and as valid, self-contained, escaped HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from mcp_kernel.display import bundle, to_html, to_text
from mcp_kernel.models import (
    AuditEntry,
    AuditReport,
    CallResult,
    Introspection,
    LogExcerpt,
    SearchHit,
    SearchResults,
    ServerEntry,
    ServerInfo,
    ServerList,
    ToolAnnotations,
    ToolInfo,
    ValidationReport,
    ValidationRow,
)

HOSTILE = '<script>alert("x")</script> & "quotes" </pre></details>'

VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source", "track", "embed"}


class StrictParser(HTMLParser):
    """Checks that tags nest and close properly and that no script or external resource appears."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "link", "img"}:
            self.problems.append(f"<{tag}> present")
        for name, value in attrs:
            if name.startswith("on") or (value and ("http://" in value or "https://" in value)):
                self.problems.append(f"{tag} {name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def check_html(html: str) -> None:
    parser = StrictParser()
    parser.feed(html)
    parser.close()
    assert not parser.problems, parser.problems
    assert not parser.stack, f"unclosed: {parser.stack}"


def hostile_tool() -> ToolInfo:
    return ToolInfo(
        name="evil<b>",
        title=HOSTILE,
        description=HOSTILE,
        input_schema={"type": "object", "properties": {HOSTILE: {"type": "string", "description": HOSTILE}}},
        output_schema={"type": "object", "description": HOSTILE},
        annotations=ToolAnnotations(read_only=True, destructive=True),
    )


OBJECTS = [
    Introspection(
        server_name=HOSTILE, server=ServerInfo(name=HOSTILE, instructions=HOSTILE), tools=[hostile_tool()]
    ),
    ServerList(
        servers=[ServerEntry(name=HOSTILE, transport="stdio", target=HOSTILE, connected=True, source=HOSTILE)]
    ),
    ValidationReport(rows=[ValidationRow(name=HOSTILE, ok=False, error=HOSTILE)]),
    SearchResults(
        query=HOSTILE,
        detail="full",
        total=1,
        hits=[SearchHit(server=HOSTILE, tool=HOSTILE, summary=HOSTILE, input_schema={"x": HOSTILE})],
    ),
    CallResult(server=HOSTILE, tool=HOSTILE, structured={"v": HOSTILE}),
    CallResult(server="s", tool="t", text=HOSTILE, is_error=True),
    LogExcerpt(server=HOSTILE, path=HOSTILE, text=HOSTILE),
]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_html_is_valid_and_escapes_hostile_text(obj: object) -> None:
    html = to_html(obj)
    check_html(html)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_bundle_has_exactly_text_and_html(obj: object) -> None:
    data = bundle(obj)
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/plain"] == to_text(obj)


def test_introspection_html_shows_schemas_in_details_and_hints_as_badges() -> None:
    tool = ToolInfo(
        name="query_sales",
        description="Query sales. More text here.",
        input_schema={"type": "object", "properties": {"region": {"type": "string"}}, "required": []},
        output_schema={"type": "object"},
        annotations=ToolAnnotations(read_only=True),
    )
    html = to_html(Introspection(server_name="demo", server=ServerInfo(name="demo"), tools=[tool]))
    assert "<details>" in html and "read-only" in html and "region?" in html


def test_text_table_lists_tools() -> None:
    text = to_text(
        Introspection(
            server_name="demo",
            server=ServerInfo(name="demo", version="1"),
            tools=[ToolInfo(name="a", description="Does A.")],
        )
    )
    assert "demo: demo 1" in text and "Does A." in text


# ---- readable untrusted: inline styles JupyterLab's sanitizer keeps -----------------------------------
# JupyterLab renders the outputs of an untrusted notebook (any notebook someone else saved) through its
# sanitizer (@jupyterlab/apputils Sanitizer): <style> and <svg> are removed, and each inline declaration is
# kept only if its property is allowed and its value matches that property's pattern. Below, for each
# property the templates use, a pattern no looser than JupyterLab's; tests/test_jupyterlab_render.py checks
# the outcome in a real JupyterLab.
import re  # noqa: E402

LENGTH = r"(0|[0-9]*\.?[0-9]+(px|em|rem|ex|pt|%))"
COLOR = (
    r"(#[0-9a-f]{3,8}|rgba?\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*(,\s*(0|1|0?\.[0-9]+)\s*)?\)|[a-z]+)"
)
KEPT_STYLES = {
    "line-height": r"normal|[0-9.]+",
    "margin": rf"{LENGTH}(\s+{LENGTH}){{0,3}}",
    "margin-left": LENGTH,
    "padding": rf"{LENGTH}(\s+{LENGTH}){{0,3}}",
    "font-size": LENGTH,
    "font-weight": r"normal|bold|[1-9]00",
    "font-family": r"[a-z -]+(,\s*[a-z -]+)*",
    "opacity": r"0?\.[0-9]+|0|1",
    "border-collapse": r"collapse|separate",
    "text-align": r"left|right|center|justify",
    "vertical-align": r"baseline|top|middle|bottom",
    "border-bottom": rf"{LENGTH}\s+solid\s+{COLOR}",
    "border": rf"{LENGTH}\s+solid\s+{COLOR}",
    "border-radius": LENGTH,
    "white-space": r"normal|pre|nowrap|pre-wrap|pre-line",
    "overflow-wrap": r"normal|break-word",
    "background-color": COLOR,
    "color": COLOR,
    "cursor": r"pointer|default",
    "display": r"inline|block|inline-block",
}


class StyleAudit(HTMLParser):
    """Collects what a sanitizer would drop: style/svg elements, class attributes, inline declarations."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.styled = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "svg", "script", "link"}:
            self.problems.append(f"<{tag}> (JupyterLab removes it from untrusted outputs)")
        for name, value in attrs:
            if name == "class":
                self.problems.append(f"<{tag} class={value!r}> (no stylesheet styles it when untrusted)")
            if name == "style":
                self.styled += 1
                for declaration in filter(None, (d.strip() for d in (value or "").split(";"))):
                    prop, _, val = (p.strip().lower() for p in declaration.partition(":"))
                    pattern = KEPT_STYLES.get(prop)
                    if pattern is None or not re.fullmatch(pattern, val):
                        self.problems.append(f"<{tag} style> {prop}: {val} (not kept by the sanitizer)")


def assert_safe_html(obj: object) -> None:
    """``obj``'s HTML is well formed, has no script, and keeps its look in an untrusted notebook."""
    html = to_html(obj)
    check_html(html)
    assert "<script>" not in html
    audit = StyleAudit()
    audit.feed(html)
    assert not audit.problems, audit.problems[:5]


def _token_report() -> object:
    from mcp_kernel.codegen import binding_paths, generate
    from mcp_kernel.tokens import upfront_vs_progressive

    evil = ToolInfo(name="evil", description=HOSTILE, input_schema={"type": "object"})
    files = generate(ServerInfo(name="x"), [evil], server_name="demo")
    return upfront_vs_progressive(
        {"demo": ([evil], files, binding_paths("demo", [evil]))}, read={"demo": ["evil"]}
    )


def _cell_tokens() -> object:
    from mcp_kernel.tokens import sandbox_savings

    return sandbox_savings(["[1, 2, 3]" * 100], "three")


def _customers(n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"c{i}",
            "name": f"Customer {i}",
            "email": f"c{i}@example.com",
            "spent": 1000.5 * i,
            "orders": i * 1000,
        }
        for i in range(n)
    ]


def samples() -> list[object]:
    """One realistic instance of every type the display registry renders (plus the cell footer)."""
    from mcp_kernel.commands import command_list
    from mcp_kernel.display import CellValue, ExecutionFooter
    from mcp_kernel.models import (
        AuthStatus,
        BridgeStats,
        CallRecord,
        Completion,
        DebugReport,
        DemoReport,
        ExecutionResult,
        FileView,
        GenerateReport,
        GuestError,
        KernelspecResult,
        Notice,
        PluginInfo,
        PluginList,
        PromptArgumentInfo,
        PromptInfo,
        PromptList,
        PromptMessageView,
        PromptView,
        ResourceContent,
        ResourceInfo,
        ResourceList,
        ResourceRead,
        ResourceTemplateInfo,
        SandboxSessionInfo,
        SandboxSessionList,
        ServerAdded,
        SessionStats,
        SettingRow,
        SettingsReport,
        SignInLink,
        Skill,
        SkillInfo,
        SkillList,
    )
    from mcp_kernel.sandbox.policy import SandboxPolicy
    from mcp_kernel.vfs import VirtualFS

    execution = ExecutionResult(
        stdout="3000 orders\n",
        error=GuestError(type="ValueError", message="bad", traceback="Traceback...\nValueError: bad"),
        note="session was reset",
        calls=[CallRecord(server="demo", tool="q", duration_ms=1.0, bytes_in=10, error="x")],
    )
    meta = {
        "server_id": "demo",
        "server_name": "demo",
        "server": {"name": "demo", "version": "1"},
        "tool_count": 8,
        "created": "2026-01-01T00:00:00+00:00",
        "mcp_kernel_version": "0.1.0",
        "generator_version": "1",
        "wasmtime_version": "50.0.1",
    }
    info = PluginInfo(metadata=meta, files=3, bytes=100, stale=True, changed_tools=["q"])
    skill = SkillInfo(
        name="rev",
        version=2,
        description="Revenue of a region.",
        signature="def rev(q: str) -> float",
        servers=["demo"],
        skills=[],
        saved_at="2026-12-07T21:00:00+00:00",
        size=52,
        checksum="0" * 64,
    )
    return [
        *OBJECTS,
        Introspection(
            server_name="demo",
            server=ServerInfo(name="demo"),
            tools=[
                hostile_tool(),
                ToolInfo(
                    name="q", annotations=ToolAnnotations(read_only=True, idempotent=True, open_world=True)
                ),
            ],
        ),
        ValidationReport(rows=[ValidationRow(name="demo", ok=True, tools=8)]),
        VirtualFS({"servers/demo/a.py": "x = 1", "skills/demo/SKILL.md": "# demo"}).tree(),
        execution,
        ExecutionFooter(execution),
        GenerateReport(
            server="demo",
            server_id="demo",
            tools=1,
            languages=["python"],
            files=["servers/demo/a.py"],
            bytes=5,
            out="/tmp/tree",
            plugin="demo",
        ),
        FileView(path="/mcp-tools/servers/demo/a.py", text=HOSTILE, size=5),
        SandboxPolicy(servers=("demo",)),
        SessionStats(
            bridge=BridgeStats(),
            cells=1,
            servers_connected=1,
            generated=["demo"],
            vfs_files=3,
            storage={"cache": "1 file"},
        ),
        info,
        PluginList(store="/tmp/store", plugins=[info], broken={"x": "checksum mismatch"}),
        SkillList(store="/tmp/skills", skills=[skill], versions={"rev": [1, 2]}, broken={"old": "checksum"}),
        Skill(**skill.model_dump(), source="def rev(q: str) -> float:\n    'Revenue.'\n    return 1.0\n"),
        DebugReport(
            python="3.11",
            platform="linux",
            versions={"mcp": "2.3"},
            paths={"config": "/c"},
            status={"tokenizer": "ok"},
        ),
        SettingsReport(
            file="/c/config.toml", rows=[SettingRow(name="timeout", value=30.0, source="default")]
        ),
        KernelspecResult(action="installed", name="mcp", path="/k", sandbox="built in 40.1 s"),
        ServerAdded(server_name=HOSTILE, server=ServerInfo(name=HOSTILE, version="1"), tools=[HOSTILE] * 10),
        ResourceList(
            server="demo",
            resources=[ResourceInfo(uri="note://" + HOSTILE, name=HOSTILE, mime_type="text/plain")],
            templates=[ResourceTemplateInfo(uri_template="note://{name}", description=HOSTILE)],
        ),
        ResourceRead(server="demo", uri="note://a", contents=[ResourceContent(uri="note://a", text=HOSTILE)]),
        PromptList(
            server="demo",
            prompts=[
                PromptInfo(
                    name="p", description=HOSTILE, arguments=[PromptArgumentInfo(name="city", required=True)]
                )
            ],
        ),
        PromptView(
            server="demo",
            prompt="p",
            arguments={"city": "Paris"},
            messages=[PromptMessageView(role="user", text=HOSTILE)],
        ),
        Completion(
            server="demo",
            ref="prompt",
            name="p",
            argument="city",
            value="Pa",
            values=[HOSTILE, "Paris"],
            has_more=True,
        ),
        _token_report(),
        _cell_tokens(),
        SandboxSessionList(
            sessions=[
                SandboxSessionInfo(handle="default", cells=3, idle_s=1.5, memory_limit_mb=256, busy=True)
            ],
            max_sessions=20,
            memory_reserved_mb=256,
        ),
        DemoReport(transport="stdio", introspection=OBJECTS[0], code="print(1)", execution=execution),
        SignInLink(server=HOSTILE, url="https://auth.example/authorize?state=" + HOSTILE),
        AuthStatus(
            server="web",
            configured=True,
            signed_in=True,
            action="login",
            grant="authorization_code",
            scope="read",
            expires_at=1.8e9,
            refreshable=True,
            client_id=HOSTILE,
            token_file="/d/oauth/web.json",
        ),
        AuthStatus(server="plain", configured=False, signed_in=False),
        Notice(text="exported plugin 'demo' to " + HOSTILE),
        command_list("%mcp", "magic"),
        ExecutionFooter(
            ExecutionResult(
                calls=[
                    CallRecord(
                        server="demo",
                        tool="q",
                        duration_ms=1.0,
                        bytes_in=10,
                        arguments='{"q": "' + HOSTILE + '"}',
                        result_text=HOSTILE,
                    )
                ]
            ),
            handover="df ← list of 2 items, 20 B crossed the sandbox boundary",
        ),
        CellValue(ExecutionResult(value_json=json.dumps(_customers(30)), value_repr="[...]")),
        AuditReport(
            entries=[
                AuditEntry(
                    time="2026-05-01T09:00:00+00:00",
                    caller=HOSTILE,
                    server=HOSTILE,
                    tool=HOSTILE,
                    args_hash="blake3:" + HOSTILE,
                    outcome=HOSTILE,
                    rule=HOSTILE,
                )
            ],
            matched=2,
        ),
    ]


TOKEN_TYPES: set[str] = set()  # every type has a sample now, the token charts included


def test_every_rendered_type_has_a_sample() -> None:
    from mcp_kernel.display import rendered_types

    covered = {type(obj) for obj in samples()}
    assert {cls.__name__ for cls in rendered_types() if cls not in covered} <= TOKEN_TYPES


@pytest.mark.parametrize("obj", samples(), ids=lambda o: type(o).__name__)
def test_html_is_readable_in_an_untrusted_notebook(obj: object) -> None:
    display_object = type(obj).__name__ in {"ExecutionFooter", "CellValue"}
    html = obj._repr_mimebundle_()["text/html"] if display_object else to_html(obj)  # type: ignore[attr-defined]
    audit = StyleAudit()
    audit.feed(html)
    assert not audit.problems, audit.problems[:5]
    assert audit.styled, "the look comes from inline styles"


def test_a_result_made_of_rows_is_shown_as_a_table() -> None:
    rows = CallResult(
        server="demo",
        tool="list_regions",
        structured={
            "regions": [
                {"region": "EU", "countries": ["France", "Spain"], "orders": 3},
                {"region": HOSTILE, "orders": 4},
            ]
        },
    )
    text = to_text(rows)
    assert "regions: 2 rows" in text and "France, Spain" in text and '"regions"' not in text
    html = to_html(rows)
    assert "<table" in html and "<script>" not in html and "as JSON" in html
    nested = CallResult(server="demo", tool="t", structured={"a": {"b": 1}})
    assert to_text(nested).endswith('{\n  "a": {\n    "b": 1\n  }\n}')


def test_a_cell_value_of_records_is_a_bounded_table_with_numbers_right_aligned() -> None:
    from mcp_kernel.display import CellValue
    from mcp_kernel.models import ExecutionResult
    from mcp_kernel.records import HEAD_ROWS, MAX_ROWS

    rows = _customers(MAX_ROWS + 7)
    data = CellValue(ExecutionResult(value_json=json.dumps(rows), value_repr=repr(rows)))._repr_mimebundle_()
    html, text = data["text/html"], data["text/plain"]
    check_html(html)
    assert f"{MAX_ROWS + 7:,} rows × 5 columns" in html and f"{MAX_ROWS + 7:,} rows × 5 columns" in text
    head, _, rest = html.partition("<details>")
    assert head.count("<tr>") == HEAD_ROWS + 1, "the head rows and the header, at once"
    assert f"{MAX_ROWS - HEAD_ROWS} more rows</summary>" in rest, "the rest up to the cap one click away"
    assert "7 more rows not shown" in html and "--out NAME" in html
    assert f"Customer {MAX_ROWS - 1}<" in html and f"Customer {MAX_ROWS}<" not in html
    assert (
        '<td style="text-align: right; vertical-align: top; padding: 3px 10px 3px 0; border-bottom: 1px solid '
        'rgba(128,128,128,0.3)">2,001.00</td>' in html
    ), "numbers formatted and right-aligned"
    assert "Customer 2" in text and "2,001.00" in text and "more rows" in text
    line = next(x for x in text.splitlines() if "Customer 2 " in x)
    assert line.endswith("2,001.00   2,000"), "numbers right-aligned in text too"


def test_a_cell_value_of_columns_is_a_table_and_other_values_stay_their_repr() -> None:
    from mcp_kernel.display import CellValue
    from mcp_kernel.models import ExecutionResult

    columns = {"region": ["EU", "US"], "total": [1234, 5.5]}
    data = CellValue(
        ExecutionResult(value_json=json.dumps(columns), value_repr=repr(columns))
    )._repr_mimebundle_()
    assert "2 rows × 2 columns" in data["text/plain"] and "1,234.00" in data["text/html"]
    for value in ([1, 2, 3], {"a": {"b": 1}}, "text", {"a": [1, 2], "b": [1]}):
        plain = CellValue(
            ExecutionResult(value_json=json.dumps(value), value_repr=repr(value))
        )._repr_mimebundle_()
        assert plain == {"text/plain": repr(value)}
    assert CellValue(ExecutionResult(value_repr="<object>"))._repr_mimebundle_() == {"text/plain": "<object>"}


def test_the_calls_section_shows_arguments_and_a_bounded_result_preview() -> None:
    from mcp_kernel.display import CALL_ROWS, PREVIEW_CHARS, ExecutionFooter
    from mcp_kernel.models import CallRecord, ExecutionResult

    calls = [
        CallRecord(
            server="demo",
            tool="get_customer",
            duration_ms=2.0,
            bytes_in=20,
            arguments=json.dumps({"customer_id": f"c{i}"}),
            result_text=json.dumps({"name": "x" * 5000}),
        )
        for i in range(CALL_ROWS + 5)
    ]
    calls.append(
        CallRecord(
            server="demo", tool="t", duration_ms=1.0, bytes_in=2, arguments="{}", error="ToolCallError: no"
        )
    )
    html = ExecutionFooter(ExecutionResult(calls=calls))._repr_mimebundle_()["text/html"]
    check_html(html)
    assert "{&#34;customer_id&#34;: &#34;c0&#34;}" in html, "what was asked"
    assert "{&#34;name&#34;: &#34;xxx" in html and "x" * PREVIEW_CHARS not in html, "what came back, bounded"
    assert "c99" in html and "c100&#34;" not in html and "6 more calls not listed" in html


def test_the_restart_note_is_readable_on_dark_themes() -> None:
    # Red text on JupyterLab's dark background measured 3.4:1; the note keeps the theme's text colour on a red tint.
    from mcp_kernel.display import ExecutionFooter
    from mcp_kernel.models import ExecutionResult

    html = ExecutionFooter(
        ExecutionResult(note="The session was restarted: variables were lost.")
    )._repr_mimebundle_()
    note = re.search(r'<div style="([^"]*)">The session was restarted', html["text/html"])
    assert note is not None and "color:" not in note.group(1).replace("background-color:", "")
    assert "border: 1px solid #d93025" in note.group(1)


def test_files_keep_their_lines_and_markdown_is_rendered() -> None:
    from mcp_kernel.display import bundle
    from mcp_kernel.models import FileView

    ts = bundle(
        FileView(
            path="/mcp-tools/servers/demo/get_customer.ts", text="export function getCustomer() {}", size=32
        )
    )
    assert "white-space: pre;" in ts["text/html"] and "break-word" not in ts["text/html"]  # no mid-word wraps
    skill = bundle(FileView(path="/mcp-tools/skills/demo/SKILL.md", text="# Demo\n\n- query", size=16))
    assert skill == {"text/plain": "# Demo\n\n- query", "text/markdown": "# Demo\n\n- query"}


def test_each_renderer_is_named_after_what_it_renders_and_lives_in_the_display_package() -> None:
    from mcp_kernel.display import rendered_types, to_html, to_text

    for cls in rendered_types():
        for generic in (to_text, to_html):
            impl = generic.dispatch(cls)
            assert impl.__name__ not in {"_", "<lambda>"}, (cls.__name__, generic.__name__, impl)
            assert impl.__module__.startswith("mcp_kernel.display."), (cls.__name__, impl.__module__)


def test_a_type_without_a_renderer_reads_as_its_json() -> None:
    from mcp_kernel.display import to_json
    from mcp_kernel.models import ServerSpec

    spec = ServerSpec(name="d", command="python")
    assert to_text(spec) == to_json(spec) == spec.model_dump_json(indent=2)
    assert to_text({"a": 1}) == '{\n  "a": 1\n}'
    assert to_text("tab\tkept, escape \x1b shown") == "tab\tkept, escape \\x1b shown"
    html = to_html("x<y")
    assert "<pre style=" in html and "x&lt;y" in html


def test_every_name_imported_from_display_exists() -> None:
    """What the rest of the package, the tests and the docs import from ``mcp_kernel.display`` is there."""
    import re
    from pathlib import Path

    import mcp_kernel.display as display

    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"from (?:mcp_kernel|\.\.?)\.?display import ([^\n(]+|\([^)]*\))")
    names: set[str] = set()
    for folder in ("mcp_kernel", "tests", "docs", "benchmarks", "notebooks"):
        for path in (root / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".ipynb"} and "display" not in path.parent.name:
                for found in pattern.findall(path.read_text(encoding="utf-8", errors="replace")):
                    names |= {part.split()[0] for part in found.strip("()").split(",") if part.split()}
    assert {"to_text", "bundle", "ExecutionFooter", "progress_bundle"} <= names
    assert not [n for n in sorted(names) if not hasattr(display, n)]
