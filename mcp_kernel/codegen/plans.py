"""One tool's plan: everything about its binding that does not depend on its neighbours, cached.

A plan is made once per tool definition (its key is the whole definition, serialised, so by its schema
hash and more) and kept in :data:`CACHE` with the views and texts rendered from it, which makes
regenerating an unchanged server cheap; :func:`clear_cache` drops it all.

>>> from mcp_kernel.models import ToolInfo
>>> [p] = plan_tools(CACHE, [ToolInfo(name="t", input_schema={"type": "object", "properties": {
...     "n": {"type": "integer", "default": 3}}})], ["t"])
>>> p.params
(Param(key='n', ident='n', type='int', required=False, default='3'),)
"""

from __future__ import annotations

import inspect
import marshal
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CodegenError
from ..models import ToolInfo
from ..names import python_identifier
from ..text import summary_line
from .manifest import canonical, tool_entry
from .names import unique
from .python import Interned, PythonTypes, Use, placeholders
from .text import DOC_WIDTH, clip, doc, informative, lead, lines, words
from .types import Walker, dedupe

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
MAX_PLANS = 20_000
MAX_SERVERS = 64


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    ident: str
    type: str
    required: bool
    default: str | None


@dataclass(frozen=True, slots=True)
class Plan:
    """One tool's binding before its server names the shared types: texts hold placeholders (:mod:`.python`)."""

    tool: ToolInfo
    func: str
    params: tuple[Param, ...]
    returns: str
    docstring: str  # escaped body of the binding's docstring
    summary: str  # first sentence, one line, unescaped
    call_extra: str  # ", {'class_': 'class'}, ('key',)" when names differ or a required parameter may be None
    uses: tuple[Use, ...]
    refs: tuple[int, ...]  # the named types the signature itself mentions, in order
    manifest: tuple[str, str]  # the tool's manifest line before and after its "files" entry
    rendered: dict[Any, Any] = field(
        default_factory=dict
    )  # views and texts, keyed by what else they depend on


class Cache:
    """Plans, their interned types and the files of recent servers; replaced as a whole by
    :func:`clear_cache` (they go together: a plan's types are ids in this cache's table)."""

    def __init__(self) -> None:
        self.types = Interned()
        self.plans: dict[bytes, Plan] = {}
        self.annotations: dict[
            tuple[Any, ...], str
        ] = {}  # annotations -> their JSON (tools share a few sets)
        self.servers: dict[tuple[Any, ...], tuple[list[Plan], dict[str, str]]] = {}
        self.lock = threading.Lock()


CACHE = Cache()


def clear_cache() -> None:
    """Forget every cached plan (the next :func:`generate` starts cold; its output is the same)."""
    global CACHE
    CACHE = Cache()


def current() -> Cache:
    """The cache in use, started over when it holds too many plans (rather than evicting some: plans,
    their interned types and servers go together)."""
    if len(CACHE.plans) > MAX_PLANS:
        clear_cache()
    return CACHE


def python_default(prop: dict[str, Any]) -> str | None:
    """A Python literal for a schema default that is a non-null scalar the parameter's type admits (else None:
    the parameter defaults to None and is left out of the call, so the server applies its own default)."""
    value = prop.get("default")
    if not isinstance(value, (str, bool, int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
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


def make(cache: Cache, tool: ToolInfo, func: str) -> Plan:
    """The plan of ``tool``, whose binding is named ``func``."""
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    keys = [k for k in props if k in required] + [k for k in props if k not in required]
    idents = unique([python_identifier(str(k), fallback="arg") for k in keys])
    conv = PythonTypes(cache.types)
    walker = Walker(schema)
    description = inspect.cleandoc(tool.description) if tool.description else tool.display_title
    first = lead(description)
    known = words(first) | words(tool.name) | {w for k in keys for w in words(str(k))}
    params = []
    args_doc = []
    for key, ident in zip(keys, idents, strict=True):
        prop = props[key] if isinstance(props[key], dict) else {}
        ptype = conv.top(prop, str(key), walker)
        is_required = key in required
        default = None if is_required else python_default(prop)
        if not is_required and default is None and ptype != "Any" and "None" not in ptype.split(" | "):
            ptype += " | None"
        params.append(Param(str(key), ident, ptype, is_required, default))
        described = prop.get("description") or prop.get("title") or ""
        described = " ".join(described.split()) if isinstance(described, str) else ""
        if described and informative(described, known):
            args_doc.append(
                f"        {ident}: "
                + "\n            ".join(
                    doc(line) for line in lines(clip(described), DOC_WIDTH - len(ident) - 10)
                )
                + "\n"
            )
    returns = "Any"
    if tool.output_schema:
        # $refs in the output schema resolve against it
        returns = conv.top(tool.output_schema, "result", Walker(tool.output_schema))
    docstring = "\n    ".join(doc(line) for line in lines(first, DOC_WIDTH - 4))
    if args_doc:
        docstring += "\n\n    Args:\n" + "".join(args_doc) + "    "
    renames = {p.ident: p.key for p in params if p.ident != p.key}
    keep = tuple(p.ident for p in params if p.required and (p.type == "Any" or "None" in p.type.split(" | ")))
    call_extra = ""
    if renames or keep:
        call_extra = f", {renames!r}" if renames else ", None"
        call_extra += f", {keep!r}" if keep else ""
    # encoded here, not further down the stack: how deep a schema may be is what it always was
    inputs, outputs = canonical(tool.input_schema), canonical(tool.output_schema)
    manifest = tool_entry(tool, inputs, outputs, cache.annotations)
    refs = tuple(dedupe([sid for text in [*(p.type for p in params), returns] for sid in placeholders(text)]))
    return Plan(
        tool=tool,
        func=func,
        params=tuple(params),
        returns=returns,
        docstring=docstring,
        summary=" ".join(summary_line(description).split()) or tool.name,
        call_extra=call_extra,
        uses=tuple(conv.uses),
        refs=refs,
        manifest=manifest,
    )


def key_of(tool: ToolInfo, func: str) -> bytes | None:
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


def plan_tools(cache: Cache, tools: Sequence[ToolInfo], funcs: Sequence[str]) -> list[Plan]:
    """Each tool's plan, from the cache or made (and kept)."""
    out = []
    for tool, func in zip(tools, funcs, strict=True):
        key = key_of(tool, func)
        plan = cache.plans.get(key) if key is not None else None
        if plan is None:
            with cache.lock:
                try:
                    plan = make(cache, tool, func)
                except RecursionError:
                    raise CodegenError(f"Tool {tool.name!r} has a schema too deep to generate.") from None
                if key is not None:
                    cache.plans[key] = plan
        out.append(plan)
    return out
