"""Generated files for hard schemas, pinned byte for byte against tests/golden/codegen/.

The schemas cover what a schema walker can read differently: nested objects, anyOf/oneOf, enums with null
and with 1/True, $ref/$defs (shared, recursive, mutually recursive, unresolvable, escaped), allOf with one
member, arrays of objects, nullable types, additionalProperties, reserved words and unicode names, nesting
deeper than the TypeScript printer follows, and an output schema whose $defs reuse the input's names.
A change to any generated file shows here as a diff. When the change is meant, regenerate with
``CODEGEN_GOLDEN=update pytest tests/test_codegen_golden.py`` and review the diff of the golden files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcp_kernel.codegen import clear_cache, generate
from mcp_kernel.models import ServerInfo, ToolAnnotations, ToolInfo
from mcp_kernel.versions import own

GOLDEN = Path(__file__).parent / "golden" / "codegen"  # each file as <path>.txt, out of the linters' way


def nest(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for i in range(levels):
        schema = {"type": "object", "properties": {f"l{i}": schema}, "required": [f"l{i}"]}
    return schema


ITEM = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["sku"],
}

TOOLS = [
    ToolInfo(
        name="create-order",
        title="Create an order",
        description="Create an order for a customer.\n\nThe second paragraph is not kept in the binding.",
        input_schema={
            "type": "object",
            "$defs": {
                "Address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "country": {"enum": ["DE", "FR", None]}},
                    "required": ["city"],
                },
                "Node": {
                    "type": "object",
                    "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                },
                "a/b": {"type": "integer"},
            },
            "properties": {
                "customer": {"type": "string", "description": "Customer id in the billing system."},
                "items": {"type": "array", "items": ITEM},
                "ship_to": {"$ref": "#/$defs/Address"},
                "bill_to": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]},
                "tree": {"$ref": "#/$defs/Node"},
                "escaped": {"$ref": "#/$defs/a~1b"},
                "missing": {"$ref": "#/$defs/Nowhere"},
                "priority": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
                "flags": {"enum": [1, True, 0, False, None]},
                "gift": {"type": "boolean", "default": False},
            },
            "required": ["customer", "items"],
        },
        output_schema={
            "type": "object",
            "$defs": {"Address": {"type": "integer"}},
            "properties": {"id": {"type": "string"}, "at": {"$ref": "#/$defs/Address"}},
            "required": ["id"],
        },
        annotations=ToolAnnotations(destructive=True),
    ),
    ToolInfo(
        name="class",
        description="Reserved words everywhere.",
        input_schema={
            "type": "object",
            "properties": {
                "class": {"type": "string"},
                "from": {"type": "integer"},
                "list": {"type": "array", "items": {"type": "string"}},
                "type": {"type": ["string", "null"]},
                "café": {"type": "number"},
                "日本": {"type": "string", "description": "A name that is no identifier in ASCII."},
                "options": {
                    "type": "object",
                    "properties": {"class": {"type": "boolean"}, "__init__": {"type": "string"}},
                },
            },
            "required": ["class"],
        },
        annotations=ToolAnnotations(read_only=True),
    ),
    ToolInfo(
        name="lookup",
        description="Look a key up.",
        input_schema={
            "type": "object",
            "properties": {
                "key": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "any": {"anyOf": [{"type": "string"}, {}]},
                "limit": {"type": "number", "default": 10.5},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "additionalProperties": ITEM},
                "free": {"type": "object"},
                "mode": {"allOf": [{"enum": ["fast", "safe"]}], "default": "fast"},
                "both": {"allOf": [{"type": "integer"}], "type": "string"},
                "const": {"const": "v1"},
                "deep": nest(14),
            },
        },
        output_schema={"type": "array", "items": ITEM},
        annotations=ToolAnnotations(read_only=True, idempotent=True),
    ),
    ToolInfo(
        name="mutual",
        description="Types that refer to each other.",
        input_schema={
            "type": "object",
            "$defs": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
            },
            "properties": {"p": {"$ref": "#/$defs/A"}, "q": {"$ref": "#/$defs/B"}},
        },
        output_schema={"type": "object", "properties": {"items": {"type": "array", "items": ITEM}}},
    ),
]


def generated() -> dict[str, str]:
    clear_cache()
    files = generate(
        ServerInfo(name="golden", version="1"),
        TOOLS,
        server_name="golden",
        languages=("python", "typescript"),
    )
    # the manifest names the package's version, which changes with every release
    return {
        path: text.replace(f'"version": "{own()}"', '"version": "VERSION"') for path, text in files.items()
    }


def test_generated_files_are_the_golden_ones() -> None:
    files = generated()
    if os.environ.get("CODEGEN_GOLDEN") == "update":
        for path, text in files.items():
            (GOLDEN / f"{path}.txt").parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / f"{path}.txt").write_text(text, encoding="utf-8", newline="")
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.txt")}
    assert on_disk == {f"{path}.txt" for path in files}, "the golden files are exactly the generated ones"
    for path, text in files.items():
        assert (GOLDEN / f"{path}.txt").read_bytes().decode("utf-8") == text, path
