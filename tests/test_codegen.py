"""Generated bindings: they compile, import, match their schemas, call real servers, and resist hostile text."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import node_bin

from mcp_kernel.codegen import (
    binding_paths,
    clear_cache,
    generate,
    host_runtime,
    index_lines,
    python_identifier,
    resource_index,
    schema_hash,
    server_id,
)
from mcp_kernel.errors import CodegenError
from mcp_kernel.models import (
    ResourceInfo,
    ResourceList,
    ResourceTemplateInfo,
    ServerInfo,
    ServerSpec,
    ToolAnnotations,
    ToolInfo,
)
from mcp_kernel.session import Session
from mcp_kernel.vfs import VirtualFS

sys.path.insert(0, str(Path(__file__).parent / "servers"))
from schemas import TOOLS as SCHEMA_TOOLS


def tool_infos(raw: list[dict]) -> list[ToolInfo]:
    return [
        ToolInfo(
            name=t["name"],
            title=t.get("title"),
            description=t.get("description", ""),
            input_schema=t["inputSchema"],
            output_schema=t.get("outputSchema"),
        )
        for t in raw
    ]


@pytest.fixture()
def importer(tmp_path: Path) -> Iterator:
    """Materialise generated files and import them as the `servers` package, cleaning up afterwards."""
    added: list[str] = []

    def load(files: dict[str, str], module: str):
        root = tmp_path / f"tree{len(added)}"
        VirtualFS(files).materialize(root)
        sys.path.insert(0, str(root))
        added.append(str(root))
        for name in [m for m in sys.modules if m == "servers" or m.startswith("servers.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        return importlib.import_module(module)

    yield load
    for path in added:
        sys.path.remove(path)
    for name in [m for m in sys.modules if m == "servers" or m.startswith("servers.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session() as s:
        yield s


# ---- names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get-sum", "get_sum"),
        ("a.b.c", "a_b_c"),
        ("2fa", "tool_2fa"),
        ("class", "class_"),
        ("list", "list_"),
        ("type", "type_"),
        ("", "tool"),
        ("---", "tool"),
        ("café au lait", "cafe_au_lait"),
        ("match", "match_"),
        ("call_tool", "call_tool_"),
        ("日本", "tool"),
    ],
)
def test_python_identifier(name: str, expected: str) -> None:
    ident = python_identifier(name)
    assert ident == expected
    assert ident.isidentifier()


def test_server_ids_are_safe_directory_names() -> None:
    assert server_id("sales-db") == "sales_db"
    assert server_id("My Server") == "my_server"
    assert server_id("..") == "server"


def test_colliding_tool_names_get_distinct_deterministic_names() -> None:
    tools = [ToolInfo(name=n) for n in ["get-sum", "get_sum", "get.sum", "GET_SUM"]]
    paths = binding_paths("s", tools)
    assert len(set(paths.values())) == 4
    assert paths == binding_paths("s", list(reversed(tools)))
    files = generate(ServerInfo(name="s"), tools, server_name="s")
    assert set(paths.values()) <= set(files)


# ---- structure and signatures --------------------------------------------------------------------------
def test_signatures_match_the_schemas(importer) -> None:
    files = generate(ServerInfo(name="schemas"), tool_infos(SCHEMA_TOOLS), server_name="schemas")
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    module = importer(files, "servers.schemas")
    sig = inspect.signature(module.create_order)
    params = sig.parameters
    assert list(params) == ["customer", "items", "ship_to", "priority", "note", "gift"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert params["customer"].default is inspect.Parameter.empty and params["customer"].annotation is str
    assert params["priority"].default == "normal"
    assert typing.get_args(params["priority"].annotation) == ("low", "normal", "high")
    assert params["gift"].default is False and params["gift"].annotation is bool
    assert params["note"].default is None
    items = typing.get_args(params["items"].annotation)[0]
    assert typing.is_typeddict(items) and items.__required_keys__ == {"sku", "qty"}
    address = typing.get_args(params["ship_to"].annotation)[0]
    assert typing.is_typeddict(address) and address.__required_keys__ == {"city"}
    result = sig.return_annotation
    assert typing.is_typeddict(result) and result.__required_keys__ == {"tool", "arguments"}
    lookup = inspect.signature(module.lookup).parameters
    assert set(typing.get_args(lookup["key"].annotation)) == {int, str}
    assert lookup["limit"].default == 10.5
    tree = inspect.signature(module.tree).parameters["root"].annotation
    assert typing.is_typeddict(tree), "a recursive $ref stops at one level instead of recursing forever"
    assert "Create an order for a customer." in module.create_order.__doc__
    assert "customer: Customer id." in module.create_order.__doc__


def test_calls_send_the_right_params_and_omit_unset_ones(importer) -> None:
    files = generate(ServerInfo(name="schemas"), tool_infos(SCHEMA_TOOLS), server_name="schemas")
    module = importer(files, "servers.schemas")
    sent = []
    with host_runtime(lambda server, tool, params: sent.append((server, tool, params)) or {"ok": True}):
        assert module.create_order(customer="c1", items=[{"sku": "A", "qty": 1}]) == {"ok": True}
        module.lookup(key=7, tags=["x"])
    assert sent[0] == (
        "schemas",
        "create-order",
        {"customer": "c1", "items": [{"sku": "A", "qty": 1}], "priority": "normal", "gift": False},
    )
    assert sent[1] == ("schemas", "lookup", {"key": 7, "limit": 10.5, "tags": ["x"]})


def test_a_wrong_call_is_a_type_error_before_anything_is_sent(importer) -> None:
    files = generate(ServerInfo(name="schemas"), tool_infos(SCHEMA_TOOLS), server_name="schemas")
    module = importer(files, "servers.schemas")
    sent = []
    with host_runtime(lambda *args: sent.append(args)):
        with pytest.raises(TypeError, match="customer"):
            module.create_order(items=[])
        with pytest.raises(TypeError, match="colour"):
            module.create_order(customer="c", items=[], colour="red")
        with pytest.raises(TypeError):
            module.create_order("c", [])  # keyword-only
    assert sent == []


def test_output_is_deterministic() -> None:
    tools = tool_infos(SCHEMA_TOOLS)
    first = generate(ServerInfo(name="x"), tools, server_name="x", languages=("python", "typescript"))
    second = generate(
        ServerInfo(name="x"), list(reversed(tools)), server_name="x", languages=("python", "typescript")
    )
    assert first == second


def test_manifest_has_a_schema_hash_per_tool() -> None:
    tools = tool_infos(SCHEMA_TOOLS)
    manifest = json.loads(
        generate(ServerInfo(name="x", version="2"), tools, server_name="x")["servers/x/manifest.json"]
    )
    assert manifest["server"]["version"] == "2"
    assert manifest["generator"]["format"] == "2"
    hashes = {t["name"]: t["schema_hash"] for t in manifest["tools"]}
    assert hashes == {t.name: schema_hash(t) for t in tools}
    assert len(set(hashes.values())) == len(tools)
    # every fact of the schemas stays reachable, however lean the bindings are
    assert {t["name"]: (t["input_schema"], t["output_schema"]) for t in manifest["tools"]} == {
        t.name: (t.input_schema, t.output_schema) for t in tools
    }


def test_skill_has_front_matter_and_groups() -> None:
    tools = [
        ToolInfo(name="read-it", description="Read a thing.", annotations=ToolAnnotations(read_only=True)),
        ToolInfo(name="drop-it", description="Drop a thing.", annotations=ToolAnnotations(destructive=True)),
    ]
    skill = generate(ServerInfo(name="Things"), tools, server_name="my-things")["skills/my_things/SKILL.md"]
    front, body = skill.split("---\n")[1], skill.split("---\n", 2)[2]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert fields["name"] == "my-things"
    assert json.loads(fields["description"]).startswith("Work with the Things MCP server")
    assert "## Look things up (read-only)" in body and "## Change things" in body
    assert "from servers.my_things import read_it" in body


def test_unknown_language_and_duplicate_tools_are_codegen_errors() -> None:
    with pytest.raises(CodegenError, match="cobol"):
        generate(ServerInfo(name="x"), [], server_name="x", languages=("cobol",))
    with pytest.raises(CodegenError, match="same name"):
        generate(ServerInfo(name="x"), [ToolInfo(name="a"), ToolInfo(name="a")], server_name="x")


# ---- hostile text ----------------------------------------------------------------------------------------
HOSTILE = [
    '"""; import os; os.system("echo pwned") #',
    "'''; raise SystemExit('pwned') #",
    "*/ throw new Error('pwned'); /*",
    "trailing backslash \\",
    "\\x00 \\N{BULLET} \\u2028 literal escapes",
    "line\r\nbreak\rcarriage",
    "nul\0byte",
    "sep\u2028line\u2029para\x85nel",
    "${process.exit(1)} `backtick` </script><script>alert(1)</script>",
    '"',
    '""',
    'ends with quote"',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_descriptions_and_names_stay_inert(text: str, importer) -> None:
    tool = ToolInfo(
        name=f"evil{text}",
        title=text,
        description=text,
        input_schema={
            "type": "object",
            "properties": {
                text: {"type": "string", "description": text, "default": text, "enum": [text, "b"]},
                "other": {"type": "object", "properties": {text: {"type": "integer"}}, "description": text},
            },
            "required": ["other"],
        },
        output_schema={"type": "object", "properties": {text: {"type": "string"}}},
    )
    files = generate(
        ServerInfo(name=text, instructions=text),
        [tool],
        server_name="evil-srv",
        languages=("python", "typescript"),
    )
    for path, code in files.items():
        if path.endswith((".py", ".pyi")):
            tree = ast.parse(code)
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
            names = {c.func.id for c in calls if isinstance(c.func, ast.Name)}
            fixed = {"ParamSpec", "ContextVar", "TypeVar", "binding"} if path.endswith("/_call.py") else set()
            assert names <= {"TypedDict", "call_tool", "call", "locals", *fixed}, f"{path} calls {names}"
    module = importer(files, "servers.evil_srv")
    func = next(getattr(module, n) for n in module.__all__)
    sent = []
    with host_runtime(lambda server, tool_name, params: sent.append((server, tool_name, params))):
        func(other={})
    assert sent[0][0] == "evil-srv" and sent[0][1] == f"evil{text}"
    assert sent[0][2]["other"] == {}
    for segment in re.split(r"[\r\n\u2028\u2029\x85]+", text):
        assert segment.strip() in func.__doc__, "the description survives, escaped but intact"


@pytest.mark.slow
def test_hostile_typescript_compiles(tmp_path: Path) -> None:
    tools = [
        ToolInfo(
            name=f"t{i}{text}",
            description=text,
            input_schema={"type": "object", "properties": {text: {"type": "string", "enum": [text]}}},
        )
        for i, text in enumerate(HOSTILE)
    ]
    files = generate(ServerInfo(name="x"), tools, server_name="x", languages=("typescript",))
    tsc_check(files, tmp_path)


# ---- TypeScript ------------------------------------------------------------------------------------------
def tsc_check(files: dict[str, str], root: Path) -> None:
    VirtualFS(files).materialize(root / "tree")
    (root / "tree" / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "es2022",
                    "module": "es2022",
                    "moduleResolution": "bundler",
                },
                "include": ["**/*.ts"],
            }
        )
    )
    out = subprocess.run(
        [node_bin("tsc"), "-p", str(root / "tree")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_typescript_bindings_type_check_strict(tmp_path: Path) -> None:
    files = generate(
        ServerInfo(name="schemas"),
        tool_infos(SCHEMA_TOOLS),
        server_name="schemas",
        languages=("python", "typescript"),
    )
    assert (
        "export async function createOrder(params: CreateOrderParams)"
        in files["servers/schemas/create_order.ts"]
    )
    tsc_check(files, tmp_path)


# ---- against real servers --------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_bindings_call_the_real_server(session: Session, importer, tmp_path: Path) -> None:
    report = session.introspect("demo")
    files = generate(report.server, report.tools, server_name="demo", languages=("python", "typescript"))
    tsc_check(files, tmp_path)
    module = importer(files, "servers.demo")
    assert set(module.__all__) == {t.name for t in report.tools} | {"aio"}
    with host_runtime(lambda server, tool, params: session.call(server, tool, params).value):
        page = module.query_sales(region="EU", limit=3)
        assert page == session.call("demo", "query_sales", {"region": "EU", "limit": 3}).value
        assert len(page["rows"]) == 3 and all(r["region"] == "EU" for r in page["rows"])
        totals = module.aggregate_sales(group_by="region")
        assert {g["key"] for g in totals["groups"]} == {"EU", "NA", "APAC", "LATAM", "MEA"}


@pytest.mark.slow
def test_everything_and_filesystem_bindings_call_the_real_servers(importer, tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir()
    (root / "a.txt").write_text("alpha")
    with Session() as session:
        session.add_server(
            ServerSpec(name="everything", command=node_bin("mcp-server-everything"), args=["stdio"])
        )
        session.add_server(
            ServerSpec(name="files", command=node_bin("mcp-server-filesystem"), args=[str(root)])
        )
        files: dict[str, str] = {}
        for name in ("everything", "files"):
            report = session.introspect(name)
            files.update(
                generate(report.server, report.tools, server_name=name, languages=("python", "typescript"))
            )
        tsc_check(files, tmp_path)
        everything = importer(files, "servers.everything")
        fs = importlib.import_module("servers.files")
        with host_runtime(lambda server, tool, params: session.call(server, tool, params).value):
            assert everything.echo(message="hi") == "Echo: hi"
            assert "5" in str(everything.get_sum(a=2, b=3))
            structured = everything.get_structured_content(location="New York")
            assert "temperature" in structured
            listing = fs.list_directory(path=str(root))
            assert "a.txt" in json.dumps(listing)
            assert "alpha" in json.dumps(fs.read_text_file(path=str(root / "a.txt")))
        sig = inspect.signature(everything.get_sum).parameters
        assert sig["a"].annotation is float and sig["a"].default is inspect.Parameter.empty


# ---- the lean shape ------------------------------------------------------------------------------------------
def test_a_binding_is_the_interface_and_one_call() -> None:
    files = generate(ServerInfo(name="schemas"), tool_infos(SCHEMA_TOOLS), server_name="schemas")
    for func in ("create_order", "lookup", "tree"):
        tree = ast.parse(files[f"servers/schemas/{func}.py"])
        [definition] = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        docstring, body = definition.body
        assert isinstance(docstring, ast.Expr) and isinstance(body, ast.Return)
        assert ast.unparse(body.value).startswith("call('schemas', ") and ast.unparse(body.value).endswith(
            "locals())"
        )
        [imported] = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
        assert ast.unparse(imported) == "from ._types import *", "one import: the server's types and call()"
        assert all(isinstance(n, (ast.ImportFrom, ast.FunctionDef)) for n in tree.body)
    text = files["servers/schemas/create_order.py"]
    assert "(no description)" not in text and "ship_to:" not in text.split('"""')[1], (
        "undocumented Args are left out"
    )
    assert "class Address(TypedDict)" in files["servers/schemas/_types.py"]


def test_types_shared_by_tools_are_declared_once() -> None:
    content = {"type": "object", "properties": {"content": {"type": "string"}}, "required": ["content"]}
    mode = {"type": "string", "enum": ["fast", "safe"]}
    tools = [
        ToolInfo(name=n, input_schema={"type": "object", "properties": {"mode": mode}}, output_schema=content)
        for n in ("read", "write", "move")
    ]
    tools.append(
        ToolInfo(
            name="only",
            input_schema={
                "type": "object",
                "properties": {"colour": {"type": "string", "enum": ["red", "blue"]}},
            },
        )
    )
    files = generate(ServerInfo(name="s"), tools, server_name="s")
    types_py = files["servers/s/_types.py"]
    assert types_py.count("(TypedDict)") == 1 and "class ContentResult(TypedDict):" in types_py
    assert "Mode = Literal['fast', 'safe']" in types_py
    for name in ("read", "write", "move"):
        assert f"def {name}(*, mode: Mode | None = None) -> ContentResult:" in files[f"servers/s/{name}.py"]
    # an enum one tool uses stays inline, where its reader sees the choices
    assert "colour: Literal['red', 'blue'] | None = None" in files["servers/s/only.py"]


def test_the_index_has_one_line_per_tool() -> None:
    tools = tool_infos(SCHEMA_TOOLS)
    files = generate(ServerInfo(name="x"), tools, server_name="x")
    lines = index_lines("x", tools)
    defs = [line for line in files["servers/x/__init__.pyi"].splitlines() if line.startswith("def ")]
    assert defs == [lines[t.name] for t in sorted(tools, key=lambda t: t.name)]
    assert lines["create-order"].startswith("def create_order(*, customer: str, items: list[Item],")
    assert lines["create-order"].endswith(' -> CreateOrderResult: """Create an order for a customer."""')
    ast.parse(files["servers/x/__init__.pyi"])


def test_a_tool_with_thirty_parameters_stays_readable(importer) -> None:
    props = {
        f"option_{i}": {"type": "integer" if i % 2 else "string", "description": f"Setting number {i}."}
        for i in range(30)
    }
    tool = ToolInfo(
        name="configure",
        description="Configure everything. " + "Details. " * 40,
        input_schema={"type": "object", "properties": props, "required": ["option_0"]},
    )
    text = generate(ServerInfo(name="s"), [tool], server_name="s")["servers/s/configure.py"]
    assert max(len(line) for line in text.splitlines()) <= 120
    assert '"""Configure everything. Details.' in text and "Details. " * 30 not in " ".join(text.split())
    module = importer(generate(ServerInfo(name="s"), [tool], server_name="s"), "servers.s")
    assert list(inspect.signature(module.configure).parameters) == list(props)
    assert all(f"option_{i}: Setting number {i}." in module.configure.__doc__ for i in range(30))


def test_output_is_byte_identical_cold_and_warm() -> None:
    tools = tool_infos(SCHEMA_TOOLS)
    warm = [
        generate(ServerInfo(name="x"), tools, server_name="x", languages=("python", "typescript"))
        for _ in range(2)
    ]
    clear_cache()
    cold = generate(
        ServerInfo(name="x"),
        [t.model_copy(deep=True) for t in tools],
        server_name="x",
        languages=("python", "typescript"),
    )
    assert warm[0] == warm[1] == cold
    one_changed = generate(
        ServerInfo(name="x"),
        [tools[0].model_copy(update={"description": "Other."}), *tools[1:]],
        server_name="x",
        languages=("python", "typescript"),
    )
    assert {p for p in cold if cold[p] != one_changed[p]} == {
        "servers/x/create_order.py",
        "servers/x/create_order.ts",
        "servers/x/__init__.pyi",
        "servers/x/manifest.json",
        "skills/x/SKILL.md",
    }
    # generating the same server again hands out a copy: changing it changes nothing cached
    warm[0]["servers/x/lookup.py"] = "changed"
    assert generate(ServerInfo(name="x"), tools, server_name="x", languages=("python", "typescript")) == cold


@pytest.mark.slow
def test_docstring_lines_break_as_textwrap_does() -> None:
    """Bindings wrap long sentences with a greedy loop of their own (a quarter of textwrap's cost); the lines
    must be the ones textwrap gives, so output stays byte-identical to what it was."""
    import random
    import textwrap

    from mcp_kernel.codegen import _lines

    rng = random.Random(16)
    for _ in range(3000):
        text = " ".join(
            "".join(rng.choice("ab-é…") for _ in range(rng.choice([1, 3, 8, 45, 130])))
            for _ in range(rng.randint(1, 30))
        )
        width = rng.randint(20, 130)
        expected = (
            [text]
            if len(text) <= width
            else textwrap.wrap(text, max(width, 40), break_long_words=False, break_on_hyphens=False)
        )
        assert _lines(text, width) == expected, (text, width)


def test_schema_defaults_that_do_not_fit_the_type_are_left_to_the_server(importer) -> None:
    tool = ToolInfo(
        name="t",
        input_schema={
            "type": "object",
            "properties": {
                "n": {"type": "integer", "default": "ten"},
                "m": {"type": "string", "enum": ["a", "b"], "default": "c"},
                "x": {"type": "number", "default": float("nan")},
                "flag": {"type": "integer", "default": True},
            },
        },
    )
    module = importer(generate(ServerInfo(name="s"), [tool], server_name="s"), "servers.s")
    assert all(p.default is None for p in inspect.signature(module.t).parameters.values())


# ---- the resource index ---------------------------------------------------------------------------------------
def test_the_resource_index_has_one_line_per_resource_and_template() -> None:
    listing = ResourceList(
        server="lib",
        resources=[
            ResourceInfo(
                uri="note://welcome",
                name="welcome",
                mime_type="text/plain",
                description="A plain-text note.\nSecond line with more.",
            ),
            ResourceInfo(uri="docs://a.md", name="Guide", title="The guide"),
        ],
        templates=[
            ResourceTemplateInfo(uri_template="note://shelf/{name}", name="shelf", description="One shelf.")
        ],
    )
    [(path, text)] = resource_index("my-lib", listing).items()
    assert path == "servers/my_lib/RESOURCES.md"
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert lines == [
        "- `note://welcome` (text/plain): A plain-text note.",
        "- `docs://a.md` Guide: The guide",
        "- `note://shelf/{name}`: One shelf.",
    ], "a name the uri already says is left out"
    assert "read_resource('my-lib', uri)" in text
    assert resource_index("lib", ResourceList(server="lib")) == {}, "no resources, no file"


def test_hostile_resource_text_stays_on_its_line_and_inert() -> None:
    listing = ResourceList(
        server="x",
        resources=[
            ResourceInfo(
                uri="x://a`b\n# injected",
                name="<script>alert(1)</script>",
                mime_type="text/plain\n- fake",
                description="```\n<img src=x onerror=alert(1)>",
            )
        ],
    )
    text = resource_index("x", listing)["servers/x/RESOURCES.md"]
    [line] = [line for line in text.splitlines() if line.startswith("- ")]
    assert "<" not in text and "```" not in text and "# injected" in line and "`b" not in line
    assert len(text.splitlines()) == 4, "head, blank, help line and the one resource line"


@pytest.mark.slow
def test_compiled_templates_are_kept_between_processes(tmp_path: Path) -> None:
    """A new process (every CLI command) loads the templates jinja2 compiled before instead of compiling
    them again; the files are the same, and a cache directory that cannot be written is no error."""
    script = (
        "import json, sys; from mcp_kernel.codegen import generate; from mcp_kernel.models import ServerInfo, "
        "ToolInfo; print(json.dumps(generate(ServerInfo(name='s'), [ToolInfo(name='t', description='Do it.')], "
        "server_name='s', languages=('python', 'typescript'))))"
    )

    def run(cache: Path) -> dict[str, str]:
        env = {**os.environ, "MCP_KERNEL_CACHE_DIR": str(cache)}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    first = run(tmp_path / "cache")
    [compiled] = (tmp_path / "cache").glob("templates-*")
    written = {p.name: p.stat().st_mtime_ns for p in compiled.iterdir()}
    assert len(written) >= 8, "every template the run used is kept"
    assert run(tmp_path / "cache") == first
    assert {p.name: p.stat().st_mtime_ns for p in compiled.iterdir()} == written, "loaded, not compiled again"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    assert run(blocked) == first
