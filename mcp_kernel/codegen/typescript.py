"""The type model (:mod:`.types`) printed as TypeScript: nested objects inline, recursive $refs cut short.

>>> from .types import Walker
>>> schema = {"type": "object", "properties": {"tags": {"type": "array", "items": {"enum": ["a", None]}}}}
>>> typescript(Walker(schema).walk(schema))
'{ "tags"?: Array<"a" | null>; }'
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from ..errors import CodegenError
from .names import camel, ts_identifier
from .plans import Plan
from .text import tsdoc
from .types import AllOf, ListOf, Literal, MapOf, Object, Primitive, Ref, Type, Union, Walker, dedupe

SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}
MAX_DEPTH = 12  # deeper than this, a type is `unknown`

_json_str = json.encoder.encode_basestring_ascii  # json.dumps(a str), without the encoder's set-up per call


def typescript(node: Type, active: set[str] | None = None, depth: int = 0) -> str:
    """``node`` as a TypeScript type expression (``active``: the $refs being printed, to cut cycles)."""
    if depth > MAX_DEPTH:
        return "unknown"
    if active is None:
        active = set()
    if isinstance(node, Primitive):
        return SCALARS[node.name]
    if isinstance(node, Ref):
        target = node.target
        if target is None or node.pointer in active:
            return "Record<string, unknown>" if target is not None else "unknown"
        active.add(node.pointer)
        try:
            return typescript(target, active, depth + 1)
        finally:
            active.discard(node.pointer)
    if isinstance(node, Literal):
        return " | ".join(json.dumps(v) for v in node.values)
    if isinstance(node, Union):
        return " | ".join(dedupe([f"({typescript(o, active, depth + 1)})" for o in node.options]))
    if isinstance(node, AllOf):
        return typescript(node.rest, active, depth)  # TypeScript bindings have always read past allOf
    if isinstance(node, ListOf):
        return f"Array<{typescript(node.item, active, depth + 1)}>"
    if isinstance(node, Object):
        members = [
            f"{_json_str(f.key)}{'' if f.required else '?'}: {typescript(f.type, active, depth + 1)};"
            for f in node.fields
        ]
        return "{ " + " ".join(members) + " }"
    if isinstance(node, MapOf):
        return f"Record<string, {typescript(node.value, active, depth + 1)}>"
    return "unknown"


def _schema_type(schema: Any, tool: str) -> str:
    try:
        return typescript(Walker(schema).walk(schema))
    except RecursionError:
        raise CodegenError(f"Tool {tool!r} has a schema too deep to generate.") from None


def ts_view(plan: Plan) -> dict[str, Any]:
    """What the TypeScript template needs for one tool (made on first use: most callers want Python only)."""
    view = plan.rendered.get("ts")
    if view is None:
        tool = plan.tool
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        params = _schema_type(schema, tool.name)
        if not params.startswith("{"):
            params = (
                "{ }" if params in ("unknown", "Record<string, unknown>") else "{ [key: string]: unknown }"
            )
        result = None
        if isinstance(tool.output_schema, dict) and tool.output_schema:
            result = _schema_type(tool.output_schema, tool.name)
        view = plan.rendered["ts"] = {
            "name": tool.name,
            "params_type": camel(plan.func) + "Params",
            "result_type": camel(plan.func) + "Result",
            "params_ts": params,
            "result_ts": result,
            "ts_func": ts_identifier(plan.func),
            "any_required": any(q.required for q in plan.params),
            "tsdoc": tsdoc(inspect.cleandoc(tool.description or tool.display_title)),
        }
    return view
