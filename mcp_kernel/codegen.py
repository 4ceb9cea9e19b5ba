"""Bindings, manifests and skills generated from tool schemas (jinja2 templates in ``templates/``).

For one server this produces, as ``{vfs path: text}``::

    servers/__init__.py
    servers/<server_id>/__init__.py          re-exports every tool function
    servers/<server_id>/<tool>.py            one typed, keyword-only function per tool
    servers/<server_id>/<tool>.ts            TypeScript binding (with languages=("python", "typescript"))
    runtime.d.ts                             declares callTool() for the TypeScript bindings
    servers/<server_id>/manifest.json        server info, tools, blake3 hash of each tool's schemas
    skills/<server_id>/SKILL.md              a Claude Code skill for the server

Every Python binding calls one host entry point, ``_mcp_runtime.call_tool(server, tool, params)``: the
sandbox guest provides that module, and on the host :func:`host_runtime` does. Schema text is untrusted:
it only ever lands inside escaped docstrings, ``repr()`` literals or JSON strings, never in code or a
comment. Output is deterministic: the same input gives byte-identical files.

>>> from mcp_kernel.models import ServerInfo, ToolInfo
>>> files = generate(ServerInfo(name="demo"), [ToolInfo(name="get-sum", input_schema={"type": "object",
...     "properties": {"a": {"type": "number"}}, "required": ["a"]})], server_name="demo")
>>> "def get_sum(" in files["servers/demo/get_sum.py"]
True
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import keyword
import re
import sys
import types
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import blake3
import jinja2

from .errors import CodegenError, ToolCallError
from .models import ServerInfo, ToolInfo
from .registry import summary_line

__all__ = ["GENERATOR_VERSION", "generate", "python_identifier", "server_id", "host_runtime", "schema_hash",
           "binding_paths", "LANGUAGES"]

GENERATOR_VERSION = "1"
LANGUAGES = ("python", "typescript")
RUNTIME_MODULE = "_mcp_runtime"

_BUILTINS = frozenset(dir(__import__("builtins")))
_RESERVED = frozenset({"call_tool", "Any", "Literal", "NotRequired", "TypedDict", "_mcp_params"})
_TS_RESERVED = frozenset("""break case catch class const continue debugger default delete do else enum export extends
false finally for function if import in instanceof new null return super switch this throw true try typeof var void
while with as implements interface let package private protected public static yield any boolean constructor declare
get module require number set string symbol type from of await async callTool unknown never object""".split())
_PY_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
_TS_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}


# ---- names ----------------------------------------------------------------------------------------------
def _ascii_words(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", folded)).strip("_")


@functools.lru_cache(maxsize=8192)
def python_identifier(name: str, *, fallback: str = "tool") -> str:
    """A valid, non-shadowing Python identifier for ``name``.

    >>> [python_identifier(n) for n in ["get-sum", "2fa.check", "class", "list", ""]]
    ['get_sum', 'tool_2fa_check', 'class_', 'list_', 'tool']
    """
    ident = _ascii_words(name) or fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in _BUILTINS or ident in _RESERVED:
        ident += "_"
    return ident


def server_id(name: str) -> str:
    """The directory name of a server in the tree: ``sales-db`` -> ``sales_db``."""
    return python_identifier(name, fallback="server").lower()


def _camel(ident: str) -> str:
    parts = [p for p in ident.split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "T"


def _ts_identifier(ident: str) -> str:
    parts = [p for p in ident.split("_") if p]
    name = (parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])) if parts else "tool"
    return name + "_" if name in _TS_RESERVED else name


def _unique(names: Sequence[str]) -> list[str]:
    """Make names unique, in order, by appending _2, _3, ... (case-insensitively, for file systems)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


# ---- escaping ---------------------------------------------------------------------------------------------
_DOC_ESCAPES = {"\\": "\\\\", '"': '\\"', "\r": "\\r", "\t": "    "}
_DOC_SPECIAL = re.compile('[\\\\"\r\t\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]')


def _doc_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _DOC_ESCAPES:
        return _DOC_ESCAPES[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"


def _doc(text: str) -> str:
    """Text safe inside a triple-quoted (non-raw) docstring: every quote, backslash and control escaped.

    >>> print(_doc('say "hi" \\ bye'))
    say \\"hi\\" \\\\ bye
    """
    return _DOC_SPECIAL.sub(_doc_char, text)


def _indent_doc(text: str, indent: str) -> str:
    lines = _doc(text.strip()).split("\n")
    return ("\n" + indent).join(line.rstrip() for line in lines)


def _tsdoc(text: str) -> str:
    """Text safe inside a /** */ comment: no way to close it, no control characters."""
    cleaned = "".join(ch if ch == "\n" or (ord(ch) >= 32 and ch not in "\u2028\u2029\x7f") else f"\\u{ord(ch):04x}"
                      for ch in text.strip())
    cleaned = cleaned.replace("*/", "*\\/").replace("/*", "/\\*")
    return "\n * ".join(line.rstrip() for line in cleaned.split("\n"))


def _md(text: str) -> str:
    """Untrusted text for the skill's Markdown body: no raw HTML, no fence breaking."""
    return text.replace("\0", "").replace("<", "&lt;").replace("```", "'''").strip()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def schema_hash(tool: ToolInfo) -> str:
    """blake3 of a tool's canonical input and output schemas: changes when the contract changes."""
    return blake3.blake3(_canonical([tool.input_schema, tool.output_schema]).encode()).hexdigest()


# ---- schemas -> types -------------------------------------------------------------------------------------
@dataclass
class _Field:
    key: str
    type: str
    required: bool


@dataclass
class _TypedDict:
    name: str
    fields: list[_Field]


@dataclass
class _Types:
    """Turns JSON schemas into Python and TypeScript type expressions, collecting TypedDicts on the way."""

    root: dict[str, Any]
    typeddicts: list[_TypedDict] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    _active_refs: set[str] = field(default_factory=set)
    _ref_names: dict[str, str] = field(default_factory=dict)

    def resolve(self, ref: str) -> dict[str, Any] | None:
        if not ref.startswith("#/"):
            return None
        node: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, dict) else None

    def _class_name(self, hint: str) -> str:
        base = _camel(python_identifier(hint, fallback="T"))
        if base in _RESERVED or base in _BUILTINS:
            base += "Type"
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name

    def py(self, schema: Any, hint: str) -> str:
        if not isinstance(schema, dict):
            return "Any"
        if "$ref" in schema and isinstance(schema["$ref"], str):
            ref = schema["$ref"]
            if ref in self._active_refs:
                return "dict[str, Any]"  # recursive schema: stop here
            if ref in self._ref_names:
                return self._ref_names[ref]
            target = self.resolve(ref)
            if target is None:
                return "Any"
            self._active_refs.add(ref)
            try:
                result = self.py(target, ref.rsplit("/", 1)[-1])
            finally:
                self._active_refs.discard(ref)
            self._ref_names[ref] = result
            return result
        if "const" in schema and _is_literal(schema["const"]):
            return f"Literal[{_py_literal(schema['const'])}]"
        if isinstance(schema.get("enum"), list) and schema["enum"] and all(_is_literal(v) for v in schema["enum"]):
            values = [v for v in schema["enum"] if v is not None]
            lit = f"Literal[{', '.join(_py_literal(v) for v in _dedupe(values))}]" if values else "None"
            return f"{lit} | None" if values and None in schema["enum"] else lit
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return _union([self.py(s, hint) for s in schema[key]])
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            return self.py(schema["allOf"][0], hint)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union([self.py({**schema, "type": k}, hint) for k in kind])
        if kind in _PY_SCALARS:
            return _PY_SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            return f"list[{self.py(items, hint + '_item') if isinstance(items, dict) else 'Any'}]"
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if isinstance(props, dict) and props:
                return self._typeddict(schema, props, hint)
            extra = schema.get("additionalProperties")
            return f"dict[str, {self.py(extra, hint + '_value') if isinstance(extra, dict) else 'Any'}]"
        return "Any"

    def _typeddict(self, schema: dict[str, Any], props: dict[str, Any], hint: str) -> str:
        name = self._class_name(hint)
        required = set(schema.get("required") or [])
        fields = [_Field(key=str(k), type=self.py(v, f"{hint}_{k}"), required=k in required)
                  for k, v in props.items()]
        self.typeddicts.append(_TypedDict(name=name, fields=fields))
        return name

    def ts(self, schema: Any, depth: int = 0) -> str:
        if not isinstance(schema, dict) or depth > 12:
            return "unknown"
        if "$ref" in schema and isinstance(schema["$ref"], str):
            ref = schema["$ref"]
            target = self.resolve(ref)
            if target is None or ref in self._active_refs:
                return "Record<string, unknown>" if target is not None else "unknown"
            self._active_refs.add(ref)
            try:
                return self.ts(target, depth + 1)
            finally:
                self._active_refs.discard(ref)
        if "const" in schema and _is_literal(schema["const"]):
            return json.dumps(schema["const"])
        if isinstance(schema.get("enum"), list) and schema["enum"] and all(_is_literal(v) for v in schema["enum"]):
            return " | ".join(json.dumps(v) for v in _dedupe(schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return " | ".join(_dedupe([f"({self.ts(s, depth + 1)})" for s in schema[key]]))
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(_dedupe([f"({self.ts({**schema, 'type': k}, depth + 1)})" for k in kind]))
        if kind in _TS_SCALARS:
            return _TS_SCALARS[kind]
        if kind == "array":
            return f"Array<{self.ts(schema.get('items'), depth + 1)}>"
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if isinstance(props, dict) and props:
                required = set(schema.get("required") or [])
                members = [f"{json.dumps(str(k))}{'' if k in required else '?'}: {self.ts(v, depth + 1)};"
                           for k, v in props.items()]
                return "{ " + " ".join(members) + " }"
            extra = schema.get("additionalProperties")
            return f"Record<string, {self.ts(extra, depth + 1) if isinstance(extra, dict) else 'unknown'}>"
        return "unknown"


def _is_literal(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int)) and not isinstance(value, float)


def _py_literal(value: Any) -> str:
    return repr(value)


def _dedupe(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _union(parts: Sequence[str]) -> str:
    flat = _dedupe([p for part in parts for p in part.split(" | ")])
    if "Any" in flat:
        return "Any"
    return " | ".join(flat)


def _json_default(value: Any) -> str | None:
    """A Python literal for a schema default that is a non-null scalar (else None: the parameter defaults to
    None and is left out of the call, so the server applies its own default)."""
    if isinstance(value, (str, bool, int, float)):
        return repr(value)
    return None


# ---- the model the templates render ------------------------------------------------------------------------
def _tool_model(tool: ToolInfo, func: str, types_py: _Types) -> dict[str, Any]:
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or [])
    keys = [k for k in props if k in required] + [k for k in props if k not in required]
    idents = _unique([python_identifier(str(k), fallback="arg") for k in keys])
    params = []
    for key, ident in zip(keys, idents, strict=True):
        prop = props[key] if isinstance(props[key], dict) else {}
        ptype = types_py.py(prop, f"{func}_{key}")
        is_required = key in required
        default = _json_default(prop.get("default"))
        if not is_required and default is None:
            ptype = ptype if ptype == "Any" or "None" in ptype.split(" | ") else f"{ptype} | None"
        description = prop.get("description") or prop.get("title") or ""
        params.append(types.SimpleNamespace(
            key=str(key), ident=ident, type=ptype, required=is_required,
            default=default if default is not None else "None",
            always=default is not None,
            doc=_indent_doc(str(description) or "(no description)", " " * 12),
        ))
    description = inspect.cleandoc(tool.description or tool.display_title)
    return {
        "name": tool.name,
        "func": func,
        "params": params,
        "returns": "Any",
        "doc": _indent_doc(description, "    "),
        "summary": summary_line(description) or tool.name,
        "summary_doc": _doc(" ".join((summary_line(description) or tool.name).split())),
        "name_doc": _doc(tool.name),
        "required_keys": tuple(p.key for p in params if p.required),
    }


def _ts_model(tool: ToolInfo, func: str) -> dict[str, Any]:
    types_ts = _Types(root=tool.input_schema if isinstance(tool.input_schema, dict) else {})
    params_ts = types_ts.ts(tool.input_schema)
    if not params_ts.startswith("{"):
        params_ts = "{ }" if params_ts in ("unknown", "Record<string, unknown>") else "{ [key: string]: unknown }"
    result_ts = None
    if isinstance(tool.output_schema, dict) and tool.output_schema:
        result_ts = _Types(root=tool.output_schema).ts(tool.output_schema)
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    return {
        "name": tool.name,
        "params_type": _camel(func) + "Params",
        "result_type": _camel(func) + "Result",
        "params_ts": params_ts,
        "result_ts": result_ts,
        "ts_func": _ts_identifier(func),
        "any_required": bool(schema.get("required")),
        "tsdoc": _tsdoc(inspect.cleandoc(tool.description or tool.display_title)),
    }


# ---- jinja2 -------------------------------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mcp_kernel", "templates"),
        autoescape=False,  # code, not HTML: every untrusted value goes through an explicit filter below
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["pystr"] = repr
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.filters["md"] = _md
    return env


_ENV = _environment()
_TEMPLATES: dict[str, jinja2.Template] = {}


def _template(name: str) -> jinja2.Template:
    template = _TEMPLATES.get(name)
    if template is None:
        template = _TEMPLATES[name] = _ENV.get_template(name)
    return template


def binding_paths(server_name: str, tools: Sequence[ToolInfo]) -> dict[str, str]:
    """tool name -> path of its Python binding, as :func:`generate` names them."""
    sid = server_id(server_name)
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = _unique([python_identifier(t.name) for t in ordered])
    return {t.name: f"servers/{sid}/{f}.py" for t, f in zip(ordered, funcs, strict=True)}


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
    if len({t.name for t in tools}) != len(tools):
        raise CodegenError(f"Server {server_name!r} publishes two tools with the same name; cannot generate.")
    sid = server_id(server_name)
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = _unique([python_identifier(t.name) for t in ordered])
    files: dict[str, str] = {}
    summaries = []
    for tool, func in zip(ordered, funcs, strict=True):
        types_py = _Types(root=tool.input_schema if isinstance(tool.input_schema, dict) else {}, taken={func})
        try:
            model = _tool_model(tool, func, types_py)
            if tool.output_schema:
                types_py.root = tool.output_schema  # $refs in the output schema resolve against it
                model["returns"] = types_py.py(tool.output_schema, f"{func}_result")
            view = types.SimpleNamespace(**model)
        except RecursionError:
            raise CodegenError(f"Tool {tool.name!r} of {server_name!r} has a schema too deep to generate.") from None
        summaries.append({"func": func, "module": func, "summary": model["summary"], "tool": tool})
        if "python" in languages:
            files[f"servers/{sid}/{func}.py"] = _template("python/tool.py.j2").render(
                tool=view, typeddicts=types_py.typeddicts, server_name=server_name, server_name_doc=_doc(server_name))
        if "typescript" in languages:
            files[f"servers/{sid}/{func}.ts"] = _template("typescript/tool.ts.j2").render(
                tool=_ts_model(tool, func), server_name=server_name)
    if "python" in languages:
        files["servers/__init__.py"] = _template("python/servers.py.j2").render()
        files[f"servers/{sid}/__init__.py"] = _template("python/package.py.j2").render(
            tools=summaries, server_name=server_name)
    if "typescript" in languages:
        files["runtime.d.ts"] = _template("typescript/runtime.d.ts.j2").render()
    files[f"servers/{sid}/manifest.json"] = _manifest(server, ordered, funcs, server_name, sid, languages)
    files[f"skills/{sid}/SKILL.md"] = _skill(server, summaries, server_name, sid)
    return dict(sorted(files.items()))


def _manifest(server: ServerInfo, tools: Sequence[ToolInfo], funcs: Sequence[str], server_name: str, sid: str,
              languages: Sequence[str]) -> str:
    from importlib import metadata

    try:
        version = metadata.version("mcp-kernel")
    except metadata.PackageNotFoundError:
        version = "0.1.0"
    data = {
        "server_id": sid,
        "server_name": server_name,
        "server": server.model_dump(mode="json"),
        "generator": {"name": "mcp-kernel", "version": version, "format": GENERATOR_VERSION},
        "languages": sorted(languages),
        "tools": [
            {
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "annotations": t.annotations.model_dump(mode="json", exclude_none=True),
                "files": {lang: f"servers/{sid}/{f}.{'py' if lang == 'python' else 'ts'}" for lang in sorted(languages)},
                "schema_hash": schema_hash(t),
            }
            for t, f in zip(tools, funcs, strict=True)
        ],
    }
    # One tool per line: readable, diff-friendly, and cheap to produce with the C JSON encoder.
    tools_json = ",\n".join(json.dumps(t, sort_keys=True, ensure_ascii=False) for t in data.pop("tools"))
    head = json.dumps(data, sort_keys=True, ensure_ascii=False)[:-1]
    return f'{head}, "tools": [\n{tools_json}\n]}}\n'


def _skill(server: ServerInfo, summaries: list[dict[str, Any]], server_name: str, sid: str) -> str:
    groups = [
        {"title": "Look things up (read-only)", "tools": [s for s in summaries if s["tool"].annotations.read_only]},
        {"title": "Change things (check before calling)",
         "tools": [s for s in summaries if s["tool"].annotations.destructive and not s["tool"].annotations.read_only]},
    ]
    grouped = {id(s) for g in groups for s in g["tools"]}
    groups.append({"title": "Other tools", "tools": [s for s in summaries if id(s) not in grouped]})
    groups = [g for g in groups if g["tools"]]
    title = server.title or server.name or server_name
    description = (f"Work with the {title} MCP server ({len(summaries)} tools) by writing Python that calls its "
                   f"generated bindings. Use when a task needs: "
                   + "; ".join(s["summary"] for s in summaries[:8]))[:1024]
    example = next((s for g in groups for s in g["tools"]), None)
    call = ""
    if example is not None:
        schema = example["tool"].input_schema if isinstance(example["tool"].input_schema, dict) else {}
        req = [k for k in (schema.get("required") or []) if isinstance(k, str)]
        call = ", ".join(f"{python_identifier(k, fallback='arg')}=..." for k in req)
    return _template("skill/SKILL.md.j2").render(
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


# ---- the host side of _mcp_runtime ---------------------------------------------------------------------------
@contextlib.contextmanager
def host_runtime(call: Callable[[str, str, dict[str, Any]], Any]) -> Iterator[types.ModuleType]:
    """Provide ``_mcp_runtime`` on the host so generated bindings run in plain Python.

    >>> with host_runtime(lambda server, tool, params: session.call(server, tool, params).value):  # doctest: +SKIP
    ...     from servers.demo import list_regions
    ...     list_regions()
    """
    module = types.ModuleType(RUNTIME_MODULE, "Host-side runtime for generated MCP bindings.")
    module.call_tool = call  # type: ignore[attr-defined]
    module.ToolCallError = ToolCallError  # type: ignore[attr-defined]
    previous = sys.modules.get(RUNTIME_MODULE)
    sys.modules[RUNTIME_MODULE] = module
    try:
        yield module
    finally:
        if previous is None:
            sys.modules.pop(RUNTIME_MODULE, None)
        else:
            sys.modules[RUNTIME_MODULE] = previous
