"""Tools whose schemas use $ref/$defs, anyOf, oneOf, enums, nested objects, arrays and defaults."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lowlevel import serve

ADDRESS = {
    "type": "object",
    "description": "A postal address.",
    "properties": {
        "street": {"type": "string"},
        "city": {"type": "string"},
        "country": {"type": "string", "enum": ["DE", "FR", "US"]},
    },
    "required": ["city"],
}

TOOLS = [
    {
        "name": "create-order",
        "title": "Create an order",
        "description": "Create an order for a customer.",
        "inputSchema": {
            "type": "object",
            "$defs": {
                "Address": ADDRESS,
                "Item": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                    "required": ["sku", "qty"],
                },
            },
            "properties": {
                "customer": {"type": "string", "description": "Customer id."},
                "items": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/Item"},
                    "description": "What to order.",
                },
                "ship_to": {"$ref": "#/$defs/Address"},
                "priority": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                "gift": {"type": "boolean", "default": False},
            },
            "required": ["customer", "items"],
        },
        "outputSchema": {
            "type": "object",
            "properties": {"tool": {"type": "string"}, "arguments": {"type": "object"}},
            "required": ["tool", "arguments"],
        },
        "annotations": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False},
    },
    {
        "name": "lookup",
        "description": "Look something up by id or by name.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "key": {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]},
                "limit": {"type": "number", "default": 10.5},
                "tags": {"type": "array", "items": {"type": "string"}},
                "filters": {"type": "object", "additionalProperties": {"type": "string"}},
                "nested": {
                    "type": "object",
                    "properties": {
                        "deep": {"type": "object", "properties": {"value": {"type": ["integer", "null"]}}}
                    },
                },
            },
            "required": ["key"],
        },
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "tree",
        "description": "A recursive schema.",
        "inputSchema": {
            "type": "object",
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    },
                }
            },
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "required": ["root"],
        },
    },
]

if __name__ == "__main__":
    serve("schemas", TOOLS)
