"""Bindings, manifests and skills generated from tool schemas (jinja2 templates in ``templates/``).

For one server this produces, as ``{vfs path: text}``::

    _mcp_runtime.pyi                         declares the runtime for type checkers (the sandbox provides it)
    servers/__init__.py
    servers/<server_id>/__init__.py          re-exports every tool function
    servers/<server_id>/_call.py             call(): the one helper every binding's body calls
    servers/<server_id>/__init__.pyi         the index: one line per tool (typed signature, first sentence)
    servers/<server_id>/<tool>.py            one typed, keyword-only function per tool; its body is one call
    servers/<server_id>/_types.py            result and nested argument types, declared once per server, and
                                             call(): what every binding star-imports
    servers/<server_id>/<tool>.ts            TypeScript binding (with languages=("python", "typescript"))
    runtime.d.ts                             declares callTool() for the TypeScript bindings
    servers/<server_id>/manifest.json        server info, every tool's full schemas and their blake3 hash
    servers/<server_id>/RESOURCES.md         one line per resource and template (by :func:`resource_index`)
    skills/<server_id>/SKILL.md              a Claude Code skill for the server

A binding is what a model reads before it calls a tool, so it carries the interface and nothing else: the
signature, the first sentences of the description, the ``Args`` that say more than their name, one import
line (``from ._types import *``) and one line of body, ``return call(server, tool, locals())``. Types
shared by several tools (a result shape, an enum) are declared once in ``_types.py``; the complete schemas
stay in the manifest.

Every binding reaches one host entry point, ``_mcp_runtime.call_tool(server, tool, params)``: the sandbox
guest provides that module, and on the host :func:`host_runtime` does. Schema text is untrusted: it only
ever lands inside escaped docstrings, ``repr()`` literals or JSON strings, never in code or a comment.

Output is deterministic: the same input gives byte-identical files. Work is cached per tool, keyed by the
tool's full definition (so by its schema hash and more), which makes regenerating an unchanged server cheap;
:func:`clear_cache` drops it.

>>> from mcp_kernel.models import ServerInfo, ToolInfo
>>> files = generate(ServerInfo(name="demo"), [ToolInfo(name="get-sum", input_schema={"type": "object",
...     "properties": {"a": {"type": "number"}}, "required": ["a"]})], server_name="demo")
>>> print(files["servers/demo/get_sum.py"].split("\\n\\n\\n")[1], end="")
def get_sum(*, a: float) -> Any:
    \"\"\"get-sum\"\"\"
    return call('demo', 'get-sum', locals())
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import keyword
import marshal
import math
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import blake3
import jinja2

from .errors import CodegenError, ToolCallError
from .models import ResourceList, ServerInfo, ToolInfo
from .names import BUILTINS as _BUILTINS
from .names import RESERVED as _RESERVED
from .names import python_identifier, server_id
from .text import summary_line

__all__ = [
    "GENERATOR_VERSION",
    "LANGUAGES",
    "SHARED_PATHS",
    "binding_paths",
    "clear_cache",
    "generate",
    "host_runtime",
    "index_lines",
    "python_identifier",
    "resource_index",
    "schema_hash",
    "server_id",
]

GENERATOR_VERSION = "2"
SHARED_PATHS = ("servers/__init__.py",)  # written by every server's generation, identical
LANGUAGES = ("python", "typescript")
RUNTIME_MODULE = "_mcp_runtime"

_TS_RESERVED = frozenset(
    ["break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "as", "implements", "interface", "let", "package", "private", "protected", "public", "static", "yield", "any", "boolean", "constructor", "declare", "get", "module", "require", "number", "set", "string", "symbol", "type", "from", "of", "await", "async", "callTool", "unknown", "never", "object"]
)
_PY_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
_TS_SCALARS = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "null": "null",
}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
_INLINE_SIGNATURE = 120  # a def line up to this many characters stays on one line; longer ones are wrapped
_DOC_WIDTH = 116  # docstring lines stay within about this many columns
_LEAD_CHARS = 160  # a docstring keeps the description's first sentences up to about this length
_MAX_DOC = 400  # no single sentence or argument description longer than this lands in a binding


# ---- names ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)
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


def _tsdoc(text: str) -> str:
    """Text safe inside a /** */ comment: no way to close it, no control characters."""
    cleaned = "".join(
        ch if ch == "\n" or (ord(ch) >= 32 and ch not in "\u2028\u2029\x7f") else f"\\u{ord(ch):04x}"
        for ch in text.strip()
    )
    cleaned = cleaned.replace("*/", "*\\/").replace("/*", "/\\*")
    return "\n * ".join(line.rstrip() for line in cleaned.split("\n"))


def _md(text: str) -> str:
    """Untrusted text for the skill's Markdown body: no raw HTML, no fence breaking."""
    return text.replace("\0", "").replace("<", "&lt;").replace("```", "'''").strip()


# Encoders made once: json.dumps with any non-default option builds a new encoder on every call.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_sorted_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def schema_hash(tool: ToolInfo) -> str:
    """blake3 of a tool's canonical input and output schemas: changes when the contract changes."""
    return _hash(_canonical(tool.input_schema), _canonical(tool.output_schema))


def _hash(input_json: str, output_json: str) -> str:
    """:func:`schema_hash` from the two schemas already in canonical form (``_canonical([a, b])``)."""
    return blake3.blake3(f"[{input_json},{output_json}]".encode()).hexdigest()


# ---- the words a binding keeps ------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Words that say nothing about a parameter beyond its name and type.
_FILLER = frozenset(
    ["a", "an", "the", "of", "to", "for", "in", "on", "at", "by", "with", "from", "this", "that", "these", "is", "are", "be", "it", "its", "if", "or", "and", "any", "given", "specified", "provided", "optional", "required", "value", "values", "parameter", "param", "argument", "arg", "input", "field", "name", "only", "string", "str", "number", "integer", "int", "float", "boolean", "bool", "object", "array", "list"]
)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DOC else text[: _MAX_DOC - 1].rstrip() + "…"


def lead(text: str, limit: int = _LEAD_CHARS) -> str:
    """The first sentences of a description's first paragraph, up to about ``limit`` characters, on one line.

    >>> lead("Read a file. Handles every encoding under the sun and a few more besides.", 30)
    'Read a file.'
    """
    paragraph = " ".join(_PARAGRAPH.split(text.strip(), maxsplit=1)[0].split())
    sentences = _SENTENCE_END.split(paragraph)
    out = sentences[0]
    for sentence in sentences[1:]:
        if len(out) + 1 + len(sentence) > limit:
            break
        out += " " + sentence
    return _clip(out)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_CAMEL_BOUNDARY.sub(" ", text).lower()))


def _lines(text: str, width: int) -> list[str]:
    """``text`` (one line, single-spaced) broken at spaces into lines of at most ``width`` characters (at
    least 40; a longer word stands alone): what ``textwrap.wrap(text, width, break_long_words=False,
    break_on_hyphens=False)`` gives for such text, at a quarter of its cost.

    >>> _lines("aaa bbb ccc", 7)
    ['aaa bbb ccc']
    """
    if len(text) <= width:
        return [text]
    width = max(width, 40)
    words = text.split(" ")
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _informative(description: str, known: set[str]) -> bool:
    """Whether a parameter's description says anything that the tool's parameter names and its first
    sentences (``known`` words) do not: ``path: The path.`` does not, nor ``region: Only orders from
    this region.`` on a tool that queries orders."""
    return any(w not in known and w not in _FILLER for w in _WORD.findall(description.lower()))


# ---- schemas -> types -------------------------------------------------------------------------------------
# A type expression is a string in which each named type (a TypedDict, or an enum that may become an alias)
# is a placeholder "\0<id>\0". Ids index one interning table, so equal structures share an id across tools
# and servers; names are chosen per server when the files are rendered.
_PLACEHOLDER = re.compile("\0([0-9]+)\0")
_ANY = re.compile(r"\bAny\b")


@dataclass(frozen=True, slots=True)
class _Struct:
    kind: str  # "typeddict" or "literal"
    text: str  # a literal's inline form, e.g. "Literal['EU', 'NA']"
    fields: tuple[tuple[str, str, bool], ...] = ()  # typeddict: (key, type expression, required)


@dataclass(frozen=True, slots=True)
class _Use:
    """A named type a tool uses, with the name it suggests: ``local`` under the tool unless ``anchored``."""

    id: int
    local: str
    anchored: bool


class _Interned:
    """Structures by id, shared by every cached plan; replaced as a whole by :func:`clear_cache`."""

    def __init__(self) -> None:
        self.ids: dict[_Struct, int] = {}
        self.structs: list[_Struct] = []
        self.plans: dict[bytes, _Plan] = {}
        self.converted: dict[tuple[bytes, str], tuple[str, tuple[_Use, ...]]] = {}
        self.annotations: dict[
            tuple[Any, ...], str
        ] = {}  # annotations -> their JSON (tools share a few sets)
        self.servers: dict[tuple[Any, ...], tuple[list[_Plan], dict[str, str]]] = {}
        self.lock = threading.Lock()

    def intern(self, struct: _Struct) -> int:
        found = self.ids.get(struct)
        if found is None:
            found = self.ids[struct] = len(self.structs)
            self.structs.append(struct)
        return found


class _Converter:
    """Turns one tool's JSON schemas into Python type expressions, recording the named types it meets."""

    __slots__ = ("_active", "_refs", "_seen", "root", "table", "uses")

    def __init__(self, table: _Interned, root: Any) -> None:
        self.table = table
        self.root = root if isinstance(root, dict) else {}
        self.uses: list[_Use] = []
        self._seen: set[int] = set()
        self._active: set[str] = set()
        self._refs: dict[str, str] = {}

    def resolve(self, ref: str) -> dict[str, Any] | None:
        return _resolve(self.root, ref)

    def _use(self, struct: _Struct, local: str, anchored: bool) -> str:
        sid = self.table.intern(struct)
        if sid not in self._seen:
            self._seen.add(sid)
            self.uses.append(_Use(sid, local, anchored))
        return f"\0{sid}\0"

    def top(self, schema: Any, local: str) -> str:
        """``py`` for a parameter or a result, cached across tools by the schema's serialised form (schemas
        repeat: the same ``path`` string, the same result object), unless it holds a $ref into its root."""
        try:
            raw = marshal.dumps(schema)
        except ValueError:
            return self.py(schema, local)
        if b"$ref" in raw:
            return self.py(schema, local)
        found = self.table.converted.get((raw, local))
        if found is None:
            start = len(self.uses)
            text = self.py(schema, local)
            found = self.table.converted[(raw, local)] = (text, tuple(self.uses[start:]))
            return text
        text, uses = found
        for use in uses:
            if use.id not in self._seen:
                self._seen.add(use.id)
                self.uses.append(use)
        return text

    def py(self, schema: Any, local: str, anchored: bool = False) -> str:
        if not isinstance(schema, dict):
            return "Any"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in self._active:
                return "dict[str, Any]"  # recursive schema: stop here
            known = self._refs.get(ref)
            if known is not None:
                return known
            target = self.resolve(ref)
            if target is None:
                return "Any"
            self._active.add(ref)
            try:
                result = self.py(target, ref.rsplit("/", 1)[-1], True)
            finally:
                self._active.discard(ref)
            self._refs[ref] = result
            return result
        if "const" in schema and _is_literal(schema["const"]):
            if schema["const"] is None:
                return "None"
            return self._use(_Struct("literal", f"Literal[{schema['const']!r}]"), local, anchored)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(_is_literal(v) for v in enum):
            values = _dedupe([v for v in enum if v is not None])
            if not values:
                return "None"
            lit = self._use(
                _Struct("literal", f"Literal[{', '.join(repr(v) for v in values)}]"), local, anchored
            )
            return f"{lit} | None" if None in enum else lit
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return _union([self.py(s, local, anchored) for s in options])
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return self.py(all_of[0], local, anchored)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union([self.py({**schema, "type": k}, local, anchored) for k in kind])
        scalar = _PY_SCALARS.get(kind) if isinstance(kind, str) else None
        if scalar is not None:
            return scalar
        if kind == "array":
            items = schema.get("items")
            return f"list[{self.py(items, local + '_item', anchored) if isinstance(items, dict) else 'Any'}]"
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if isinstance(props, dict) and props:
                required = schema.get("required")
                required = set(required) if isinstance(required, list) else set()
                fields = tuple(
                    (str(k), self.py(v, f"{local}_{k}", anchored), k in required) for k, v in props.items()
                )
                return self._use(_Struct("typeddict", "", fields), local, anchored)
            extra = schema.get("additionalProperties")
            return f"dict[str, {self.py(extra, local + '_value', anchored) if isinstance(extra, dict) else 'Any'}]"
        return "Any"


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any] | None:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _ts(root: dict[str, Any], schema: Any, active: set[str], depth: int = 0) -> str:
    """A TypeScript type expression for ``schema`` (nested objects inline, recursive $refs cut short)."""
    if not isinstance(schema, dict) or depth > 12:
        return "unknown"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(root, ref)
        if target is None or ref in active:
            return "Record<string, unknown>" if target is not None else "unknown"
        active.add(ref)
        try:
            return _ts(root, target, active, depth + 1)
        finally:
            active.discard(ref)
    if "const" in schema and _is_literal(schema["const"]):
        return json.dumps(schema["const"])
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(_is_literal(v) for v in enum):
        return " | ".join(json.dumps(v) for v in _dedupe(enum))
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return " | ".join(_dedupe([f"({_ts(root, s, active, depth + 1)})" for s in options]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_dedupe([f"({_ts(root, {**schema, 'type': k}, active, depth + 1)})" for k in kind]))
    if isinstance(kind, str) and kind in _TS_SCALARS:
        return _TS_SCALARS[kind]
    if kind == "array":
        return f"Array<{_ts(root, schema.get('items'), active, depth + 1)}>"
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            required = schema.get("required")
            required = set(required) if isinstance(required, list) else set()
            members = [
                f"{_json_str(str(k))}{'' if k in required else '?'}: {_ts(root, v, active, depth + 1)};"
                for k, v in props.items()
            ]
            return "{ " + " ".join(members) + " }"
        extra = schema.get("additionalProperties")
        return (
            f"Record<string, {_ts(root, extra, active, depth + 1) if isinstance(extra, dict) else 'unknown'}>"
        )
    return "unknown"


_json_str = json.encoder.encode_basestring_ascii  # json.dumps(a str), without the encoder's set-up per call


def _is_literal(value: Any) -> bool:
    return value is None or (isinstance(value, (str, bool, int)) and not isinstance(value, float))


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


def _default(prop: dict[str, Any]) -> str | None:
    """A Python literal for a schema default that is a non-null scalar the parameter's type admits (else None:
    the parameter defaults to None and is left out of the call, so the server applies its own default)."""
    value = prop.get("default")
    if (
        not isinstance(value, (str, bool, int, float))
        or (isinstance(value, float)
        and not math.isfinite(value))
    ):
        return None
    kind = prop.get("type")
    if (
        isinstance(kind, str)
        and kind in _PY_TYPES
        and (not isinstance(value, _PY_TYPES[kind]) or isinstance(value, bool) != (kind == "boolean"))
    ):
        return None
    if isinstance(prop.get("enum"), list) and value not in prop["enum"]:
        return None
    if "const" in prop and value != prop["const"]:
        return None
    return repr(value)


# ---- one tool's plan: everything about a binding that does not depend on its neighbours -------------------
@dataclass(frozen=True, slots=True)
class _Param:
    key: str
    ident: str
    type: str
    required: bool
    default: str | None


@dataclass(frozen=True, slots=True)
class _Plan:
    tool: ToolInfo
    func: str
    params: tuple[_Param, ...]
    returns: str
    docstring: str  # escaped body of the binding's docstring
    summary: str  # first sentence, one line, unescaped
    call_extra: str  # ", {'class_': 'class'}, ('key',)" when names differ or a required parameter may be None
    uses: tuple[_Use, ...]
    refs: tuple[int, ...]  # the named types the signature itself mentions, in order
    manifest: tuple[str, str]  # the tool's manifest line before and after its "files" entry
    rendered: dict[Any, Any] = field(
        default_factory=dict
    )  # views and texts, keyed by what else they depend on


def _plan(table: _Interned, tool: ToolInfo, func: str) -> _Plan:
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    keys = [k for k in props if k in required] + [k for k in props if k not in required]
    idents = _unique([python_identifier(str(k), fallback="arg") for k in keys])
    conv = _Converter(table, schema)
    description = inspect.cleandoc(tool.description) if tool.description else tool.display_title
    first = lead(description)
    known = _words(first) | _words(tool.name) | {w for k in keys for w in _words(str(k))}
    params = []
    args_doc = []
    for key, ident in zip(keys, idents, strict=True):
        prop = props[key] if isinstance(props[key], dict) else {}
        ptype = conv.top(prop, str(key))
        is_required = key in required
        default = None if is_required else _default(prop)
        if not is_required and default is None and ptype != "Any" and "None" not in ptype.split(" | "):
            ptype += " | None"
        params.append(_Param(str(key), ident, ptype, is_required, default))
        described = prop.get("description") or prop.get("title") or ""
        described = " ".join(described.split()) if isinstance(described, str) else ""
        if described and _informative(described, known):
            args_doc.append(
                f"        {ident}: "
                + "\n            ".join(
                    _doc(line) for line in _lines(_clip(described), _DOC_WIDTH - len(ident) - 10)
                )
                + "\n"
            )
    returns = "Any"
    if tool.output_schema:
        conv.root = tool.output_schema  # $refs in the output schema resolve against it
        returns = conv.top(tool.output_schema, "result")
    docstring = "\n    ".join(_doc(line) for line in _lines(first, _DOC_WIDTH - 4))
    if args_doc:
        docstring += "\n\n    Args:\n" + "".join(args_doc) + "    "
    renames = {p.ident: p.key for p in params if p.ident != p.key}
    keep = tuple(p.ident for p in params if p.required and (p.type == "Any" or "None" in p.type.split(" | ")))
    call_extra = ""
    if renames or keep:
        call_extra = f", {renames!r}" if renames else ", None"
        call_extra += f", {keep!r}" if keep else ""
    # The manifest line is the tool's entry with sorted keys and "files" (which depends on the server's id)
    # spliced in between "description" and "input_schema", where sorting puts it. The schemas are written
    # in their canonical form, the one serialisation that their hash is also made from.
    ann = tool.annotations
    ann_key = (ann.title, ann.read_only, ann.destructive, ann.idempotent, ann.open_world)
    ann_json = table.annotations.get(ann_key)
    if ann_json is None:
        ann_json = table.annotations[ann_key] = _sorted_json(ann.model_dump(mode="json", exclude_none=True))
    before = f'{{"annotations": {ann_json}, "description": {_sorted_json(tool.description)}'
    inputs, outputs = _canonical(tool.input_schema), _canonical(tool.output_schema)
    after = (
        f'"input_schema": {inputs}, "name": {_sorted_json(tool.name)}, "output_schema": {outputs}, '
        f'"schema_hash": "{_hash(inputs, outputs)}", "title": {_sorted_json(tool.title)}}}'
    )
    refs = tuple(_dedupe([sid for text in [*(p.type for p in params), returns] for sid in _refs(text)]))
    return _Plan(
        tool=tool,
        func=func,
        params=tuple(params),
        returns=returns,
        docstring=docstring,
        summary=" ".join(summary_line(description).split()) or tool.name,
        call_extra=call_extra,
        uses=tuple(conv.uses),
        refs=refs,
        manifest=(before, after),
    )


def _ts_view(plan: _Plan) -> dict[str, Any]:
    """What the TypeScript template needs for one tool (made on first use: most callers want Python only)."""
    view = plan.rendered.get("ts")
    if view is None:
        tool = plan.tool
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        params = _ts(schema, schema, set())
        if not params.startswith("{"):
            params = (
                "{ }" if params in ("unknown", "Record<string, unknown>") else "{ [key: string]: unknown }"
            )
        result = None
        if isinstance(tool.output_schema, dict) and tool.output_schema:
            result = _ts(tool.output_schema, tool.output_schema, set())
        view = plan.rendered["ts"] = {
            "name": tool.name,
            "params_type": _camel(plan.func) + "Params",
            "result_type": _camel(plan.func) + "Result",
            "params_ts": params,
            "result_ts": result,
            "ts_func": _ts_identifier(plan.func),
            "any_required": any(q.required for q in plan.params),
            "tsdoc": _tsdoc(inspect.cleandoc(tool.description or tool.display_title)),
        }
    return view


def _key(tool: ToolInfo, func: str) -> bytes | None:
    """The cache key of a tool's plan: its whole definition, serialised (None if it holds non-JSON values)."""
    ann = tool.annotations
    try:
        return marshal.dumps(
            (
                func,
                tool.name,
                tool.title,
                tool.description,
                tool.input_schema,
                tool.output_schema,
                ann.title,
                ann.read_only,
                ann.destructive,
                ann.idempotent,
                ann.open_world,
            )
        )
    except ValueError:
        return None


_TABLE = _Interned()
_MAX_PLANS = 20_000
_MAX_SERVERS = 64


def clear_cache() -> None:
    """Forget every cached plan (the next :func:`generate` starts cold; its output is the same)."""
    global _TABLE
    _TABLE = _Interned()


def _plans(table: _Interned, tools: Sequence[ToolInfo], funcs: Sequence[str]) -> list[_Plan]:
    out = []
    for tool, func in zip(tools, funcs, strict=True):
        key = _key(tool, func)
        plan = table.plans.get(key) if key is not None else None
        if plan is None:
            with table.lock:
                try:
                    plan = _plan(table, tool, func)
                except RecursionError:
                    raise CodegenError(f"Tool {tool.name!r} has a schema too deep to generate.") from None
                if key is not None:
                    table.plans[key] = plan
        out.append(plan)
    return out


# ---- one server: names for the shared types, then the files ----------------------------------------------------
@dataclass
class _Server:
    """The names a server's files use for interned types, and which of them ``_types.py`` declares."""

    names: dict[int, str]  # id -> a name, or a literal's inline text
    declared: list[int]  # ids declared in _types.py, in dependency order
    declared_set: set[int] = field(default_factory=set)


def _name_types(table: _Interned, plans: Sequence[_Plan]) -> _Server:
    order: list[int] = []
    uses: dict[int, list[tuple[_Use, str]]] = {}
    for plan in plans:
        for use in plan.uses:
            seen = uses.get(use.id)
            if seen is None:
                order.append(use.id)
                uses[use.id] = [(use, plan.func)]
            elif seen[-1][1] != plan.func:
                seen.append((use, plan.func))
    taken = set(_RESERVED) | _BUILTINS | {p.func for p in plans}
    names: dict[int, str] = {}
    declared: list[int] = []
    for sid in order:
        struct = table.structs[sid]
        users = uses[sid]
        if struct.kind == "literal" and len(users) < 2:
            names[sid] = struct.text  # used by one tool: inline, where a reader sees the choices
            continue
        name = base = _type_name(struct, users)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        names[sid] = name
        declared.append(sid)
    return _Server(names=names, declared=declared, declared_set=set(declared))


def _type_name(struct: _Struct, users: list[tuple[_Use, str]]) -> str:
    first, func = users[0]
    if len(users) == 1:
        hint = first.local if first.anchored else f"{func}_{first.local}"
    else:
        anchored = [u for u, _ in users if u.anchored]
        locals_ = {u.local for u, _ in users}
        if anchored:
            hint = anchored[0].local
        elif len(locals_) == 1 and first.local != "result":
            hint = first.local
        elif struct.kind == "typeddict":
            hint = "_".join(k for k, _, _ in struct.fields[:2]) + (
                "_result" if first.local == "result" else ""
            )
        else:
            hint = first.local
    base = _camel(python_identifier(hint, fallback="T"))
    return base + "Type" if base in _RESERVED or base in _BUILTINS else base


def _wrap(params: list[str]) -> str:
    """Parameters filled into lines of at most about _INLINE_SIGNATURE characters, one level indented: as
    readable with thirty parameters as with three, and cheaper to read than one parameter a line."""
    lines: list[str] = []
    line = ""
    for param in params:
        if line and len(line) + len(param) + 2 > _INLINE_SIGNATURE - 4:
            lines.append(line)
            line = ""
        line = f"{line} {param}," if line else f"{param},"
    lines.append(line)
    return "\n" + "".join(f"    {line}\n" for line in lines)


def _sub(text: str, names: dict[int, str]) -> str:
    if "\0" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: names[int(m.group(1))], text)


def _refs(text: str) -> list[int]:
    return [int(m) for m in _PLACEHOLDER.findall(text)] if "\0" in text else []


@dataclass(frozen=True, slots=True)
class _View:
    """What the templates render for one tool."""

    func: str
    name: str
    signature: str  # parameters, one line or one per line
    index_signature: str  # parameters, one line
    returns: str
    docstring: str
    summary: str
    call_extra: str
    typing: str  # "Any, Literal" or ""
    types: str  # names imported from _types, or ""


def _view(plan: _Plan, server: _Server) -> tuple[Any, _View]:
    """What the templates need for one tool, and the key it is cached under in its plan."""
    key = tuple((sid, server.names[sid], sid in server.declared_set) for sid in plan.refs)
    view = plan.rendered.get(key)
    if view is None:
        view = plan.rendered[key] = _new_view(plan, server)
    return key, view


def _new_view(plan: _Plan, server: _Server) -> _View:
    names = server.names
    declared = server.declared_set
    params = [
        f"{p.ident}: {_sub(p.type, names)}" + ("" if p.required else f" = {p.default or 'None'}")
        for p in plan.params
    ]
    returns = _sub(plan.returns, names)
    inline = ", ".join(["*", *params]) if params else ""
    signature = inline
    if len(plan.func) + len(inline) + len(returns) + 12 > _INLINE_SIGNATURE:
        signature = _wrap(["*", *params])
    imported: list[str] = []
    typing_names: set[str] = set()
    for text in [*(p.type for p in plan.params), plan.returns]:
        if _ANY.search(_PLACEHOLDER.sub("", text)):  # outside placeholders, a type is our own vocabulary
            typing_names.add("Any")
        for sid in _refs(text):
            if sid in declared:
                if names[sid] not in imported:
                    imported.append(names[sid])
            else:
                typing_names.add("Literal")
    return _View(
        func=plan.func,
        name=plan.tool.name,
        signature=signature,
        index_signature=inline,
        returns=returns,
        docstring=plan.docstring,
        summary=_doc(plan.summary),
        call_extra=plan.call_extra,
        typing=", ".join(sorted(typing_names)),
        types=", ".join(sorted(imported)),
    )


@dataclass(frozen=True, slots=True)
class _TypeDecl:
    name: str
    kind: str  # "alias", "class" or "functional"
    text: str  # alias: the Literal
    fields: tuple[tuple[str, str], ...]  # (key as written, type as written)


def _declarations(table: _Interned, server: _Server) -> list[_TypeDecl]:
    # A class body may not use a key that shadows a name its own annotations need: use the functional form.
    shadowing = _BUILTINS | _RESERVED | {server.names[sid] for sid in server.declared}
    out = []
    for sid in server.declared:
        struct = table.structs[sid]
        name = server.names[sid]
        if struct.kind == "literal":
            out.append(_TypeDecl(name=name, kind="alias", text=struct.text, fields=()))
            continue
        as_class = all(
            k.isidentifier() and not keyword.iskeyword(k) and not k.startswith("__") and k not in shadowing
            for k, _, _ in struct.fields
        )
        fields = tuple(
            (
                k if as_class else repr(k),
                _sub(t, server.names) if req else f"NotRequired[{_sub(t, server.names)}]",
            )
            for k, t, req in struct.fields
        )
        out.append(_TypeDecl(name=name, kind="class" if as_class else "functional", text="", fields=fields))
    return out


# ---- jinja2 -------------------------------------------------------------------------------------------------
_OPTIONS: dict[str, Any] = {
    "autoescape": False,  # code, not HTML: every untrusted value goes through an explicit filter below
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "auto_reload": False,
}


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled once and kept in the user cache directory, so a new process (every CLI command)
    skips parsing and compiling them; jinja2 compiles a template again when its source changed."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a full or read-only cache: compiled again next time
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    from .paths import cache_dir

    # compiled code depends on the jinja2 version and the options too, which the cache's own keys do not hold
    tag = blake3.blake3(repr([jinja2.__version__, sorted(_OPTIONS.items())]).encode()).hexdigest()[:12]
    directory = cache_dir() / f"templates-{tag}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return _CompiledTemplates(str(directory))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mcp_kernel", "templates"),
        bytecode_cache=_compiled_templates(),
        **_OPTIONS,
    )
    env.filters["pystr"] = repr
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.filters["md"] = _md
    return env


_TEMPLATES: dict[str, jinja2.Template] = {}
_SEPARATOR = "\0"  # between the bindings one render produces; escaped wherever schema text can reach


def _template(name: str) -> jinja2.Template:
    template = _TEMPLATES.get(name)
    if template is None:
        template = _TEMPLATES[name] = _environment().get_template(name)
    return template


@functools.cache
def _static(name: str) -> str:
    return _template(name).render()


def _cached_renders(
    name: str, plans: Sequence[_Plan], keyed: Sequence[tuple[Any, _View]], server_name: str
) -> list[tuple[_Plan, _View, str]]:
    """Each tool's binding: from its plan's cache, else rendered (all misses in one template call)."""
    texts: list[str | None] = [
        p.rendered.get((name, key, server_name)) for p, (key, _) in zip(plans, keyed, strict=True)
    ]
    missing = [i for i, text in enumerate(texts) if text is None]
    if missing:
        rendered = _render_each(name, [keyed[i][1] for i in missing], server_name=server_name)
        for i, text in zip(missing, rendered, strict=True):
            texts[i] = plans[i].rendered[(name, keyed[i][0], server_name)] = text
    return [(p, v, t) for p, (_, v), t in zip(plans, keyed, texts, strict=True) if t is not None]


def _render_each(name: str, views: Sequence[Any], **context: Any) -> list[str]:
    """Render ``name`` once for every view in one pass (one template call per server, not per tool)."""
    if not views:
        return []
    parts = _template(name).render(views=views, sep=_SEPARATOR, **context).split(_SEPARATOR)
    return parts[:-1]


def binding_paths(server_name: str, tools: Sequence[ToolInfo]) -> dict[str, str]:
    """tool name -> path of its Python binding, as :func:`generate` names them."""
    sid = server_id(server_name)
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = _unique([python_identifier(t.name) for t in ordered])
    return {t.name: f"servers/{sid}/{f}.py" for t, f in zip(ordered, funcs, strict=True)}


def _ordered_plans(tools: Sequence[ToolInfo], server_name: str) -> tuple[_Interned, list[_Plan]]:
    if len({t.name for t in tools}) != len(tools):
        raise CodegenError(f"Server {server_name!r} publishes two tools with the same name; cannot generate.")
    if len(_TABLE.plans) > _MAX_PLANS:
        clear_cache()  # start over rather than evict: plans, their interned types and servers go together
    table = _TABLE
    ordered = sorted(tools, key=lambda t: t.name)
    funcs = _unique([python_identifier(t.name) for t in ordered])
    try:
        return table, _plans(table, ordered, funcs)
    except CodegenError as exc:
        raise CodegenError(f"{exc} (server {server_name!r})") from None


def _prepare(
    tools: Sequence[ToolInfo], server_name: str
) -> tuple[_Interned, list[_Plan], _Server, list[tuple[Any, _View]]]:
    table, plans = _ordered_plans(tools, server_name)
    server = _name_types(table, plans)
    return table, plans, server, [_view(p, server) for p in plans]


def index_lines(server_name: str, tools: Sequence[ToolInfo]) -> dict[str, str]:
    """tool name -> its line in ``servers/<id>/__init__.pyi``: name, typed signature, first sentence.

    >>> from mcp_kernel.models import ToolInfo
    >>> index_lines("demo", [ToolInfo(name="echo", description="Say it back. Twice.",
    ...     input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})])
    {'echo': 'def echo(*, text: str) -> Any: \"\"\"Say it back.\"\"\"'}
    """
    _, plans, _, views = _prepare(tools, server_name)
    return {p.tool.name: _index_line(v) for p, (_, v) in zip(plans, views, strict=True)}


def _index_line(view: _View) -> str:
    return f'def {view.func}({view.index_signature}) -> {view.returns}: """{view.summary}"""'


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
    table, plans = _ordered_plans(tools, server_name)
    # The same server with the same tools (the same cached plans) and options gives the same files.
    key = (server_name, tuple(sorted(set(languages))), server.model_dump_json(), tuple(map(id, plans)))
    cached = table.servers.get(key)
    if cached is not None:
        return dict(cached[1])
    files = _generate(server, table, plans, server_name, languages)
    if len(table.servers) >= _MAX_SERVERS:
        table.servers.pop(next(iter(table.servers)))
    table.servers[key] = (plans, files)  # the plans stay alive with the entry, so their ids stay theirs
    return dict(files)


def _generate(
    server: ServerInfo, table: _Interned, plans: list[_Plan], server_name: str, languages: Sequence[str]
) -> dict[str, str]:
    names = _name_types(table, plans)
    keyed = [_view(p, names) for p in plans]
    views = [v for _, v in keyed]
    sid = server_id(server_name)
    files: dict[str, str] = {}
    if "python" in languages:
        for plan, view, text in _cached_renders("python/tool.py.j2", plans, keyed, server_name):
            files[f"servers/{sid}/{view.func}.py"] = text
        files["_mcp_runtime.pyi"] = _static("python/runtime.pyi.j2")
        files[SHARED_PATHS[0]] = _static("python/servers.py.j2")
        # per server, not shared: a server's directory (and a plugin saved from it) then stands on its own
        files[f"servers/{sid}/_call.py"] = _static("python/call.py.j2")
        files[f"servers/{sid}/__init__.py"] = _template("python/package.py.j2").render(
            views=views, server_name_doc=_doc(server_name)
        )
        typing_names = sorted({n for v in views for n in v.typing.split(", ") if n})
        files[f"servers/{sid}/__init__.pyi"] = _template("python/index.pyi.j2").render(
            lines=[_index_line(v) for v in views],
            typing=", ".join(typing_names),
            types=", ".join(sorted({n for v in views for n in v.types.split(", ") if n})),
            server_name_doc=_doc(server_name),
        )
        declarations = _declarations(table, names)
        files[f"servers/{sid}/_types.py"] = _template("python/types.py.j2").render(
            declarations=declarations,
            exports=repr(["Any", "Literal", "call", *(d.name for d in declarations)]),
            server_name_doc=_doc(server_name),
        )
    if "typescript" in languages:
        ts_views = [_ts_view(p) for p in plans]
        for plan, text in zip(
            plans, _render_each("typescript/tool.ts.j2", ts_views, server_name=server_name), strict=True
        ):
            files[f"servers/{sid}/{plan.func}.ts"] = text
        files["runtime.d.ts"] = _static("typescript/runtime.d.ts.j2")
    files[f"servers/{sid}/manifest.json"] = _manifest(server, plans, server_name, sid, languages)
    files[f"skills/{sid}/SKILL.md"] = _skill(server, plans, server_name, sid)
    return dict(sorted(files.items()))


def _manifest(
    server: ServerInfo, plans: Sequence[_Plan], server_name: str, sid: str, languages: Sequence[str]
) -> str:
    from .versions import own as own_version

    langs = sorted(languages)
    data = {
        "server_id": sid,
        "server_name": server_name,
        "server": server.model_dump(mode="json"),
        "generator": {"name": "mcp-kernel", "version": own_version(), "format": GENERATOR_VERSION},
        "languages": langs,
    }
    # One tool per line: readable, diff-friendly, and cheap: the JSON of each tool is made once per plan.
    lines = []
    for plan in plans:
        paths = ", ".join(
            f'"{lang}": "servers/{sid}/{plan.func}.{"py" if lang == "python" else "ts"}"' for lang in langs
        )  # identifiers and fixed words: nothing to escape
        lines.append(f'{plan.manifest[0]}, "files": {{{paths}}}, {plan.manifest[1]}')
    head = json.dumps(data, sort_keys=True, ensure_ascii=False)[:-1]
    return f'{head}, "tools": [\n' + ",\n".join(lines) + "\n]}\n"


def _skill(server: ServerInfo, plans: Sequence[_Plan], server_name: str, sid: str) -> str:
    summaries = [{"func": p.func, "module": p.func, "summary": p.summary, "tool": p.tool} for p in plans]
    groups = [
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
        line = f"- `{_md_inline(uri).replace('`', '%60')}`"
        if name and name not in uri:  # a name the uri already says (``.../features.md``) is left out
            line += f" {_md_inline(name)}"
        if mime:
            line += f" ({_md_inline(mime)})"
        first = _md_inline(summary_line(text))
        lines.append(f"{line}: {first}" if first else line)
    text = _template("resources/RESOURCES.md.j2").render(server_name=server_name, lines=lines)
    return {f"servers/{server_id(server_name)}/RESOURCES.md": text}


def _md_inline(text: str) -> str:
    """Untrusted text on one Markdown line."""
    return " ".join(_md(text).split())


# ---- the host side of _mcp_runtime ---------------------------------------------------------------------------
@contextlib.contextmanager
def host_runtime(call: Callable[[str, str, dict[str, Any]], Any]) -> Iterator[types.ModuleType]:
    """Provide ``_mcp_runtime`` on the host so generated bindings run in plain Python.

    >>> with host_runtime(lambda server, tool, params: session.call(server, tool, params).value):  # doctest: +SKIP
    ...     from servers.demo import list_regions
    ...     list_regions()
    """
    module = types.ModuleType(RUNTIME_MODULE, "Host-side runtime for generated MCP bindings.")

    async def call_async(server: str, tool: str, params: dict[str, Any]) -> Any:
        import asyncio

        return await asyncio.to_thread(call, server, tool, params)

    module.call_tool = call  # type: ignore[attr-defined]
    module.call_tool_async = call_async  # type: ignore[attr-defined]
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
