"""JSON Schema -> a small type model: the one reading of a schema that both printers share.

:func:`walk` decides what a schema means (a literal, a union, a list, an object with fields, a mapping, a
primitive, a reference, or nothing known); :mod:`.python` and :mod:`.typescript` only decide how each
meaning is written. A ``$ref`` stays a :class:`Ref` naming its target in a table the walk fills, so a
recursive schema is a cycle through that table, never an infinite tree: each printer cuts cycles (and
applies its own depth rule) while it prints.

>>> node = Walker({}).walk({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
>>> node
Object(fields=(Field(key='n', type=Primitive(name='integer'), required=True),))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "UNKNOWN",
    "AllOf",
    "Field",
    "ListOf",
    "Literal",
    "MapOf",
    "Object",
    "Primitive",
    "Ref",
    "Type",
    "Union",
    "Unknown",
    "Walker",
    "dedupe",
]

PRIMITIVES = frozenset(["string", "integer", "number", "boolean", "null"])


@dataclass(frozen=True, slots=True)
class Unknown:
    """Nothing known about the value (not a schema, or no keyword this model reads)."""


UNKNOWN = Unknown()


@dataclass(frozen=True, slots=True)
class Primitive:
    """A JSON scalar: ``name`` is one of string, integer, number, boolean, null."""

    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """One of fixed values (``const`` or ``enum``), deduplicated in order; ``None`` stands for null."""

    values: tuple[str | int | bool | None, ...]


@dataclass(frozen=True, slots=True)
class Union:
    """One of several types (``anyOf``, ``oneOf``, or a list of ``type`` names), in schema order."""

    options: tuple[Type, ...]


@dataclass(frozen=True, slots=True)
class ListOf:
    """An array of ``item``."""

    item: Type


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    type: Type
    required: bool


@dataclass(frozen=True, slots=True)
class Object:
    """An object with named fields, in schema order."""

    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class MapOf:
    """An object with no declared fields: any keys, each value a ``value``."""

    value: Type


@dataclass(frozen=True, slots=True)
class AllOf:
    """``allOf`` with exactly one member: ``member`` is that schema, ``rest`` the schema's own keywords.

    The two printers have always read this differently (Python: the member, TypeScript: the rest, ignoring
    ``allOf``); both readings stay here so the generated files stay byte-identical.
    """

    member: Type
    rest: Type


@dataclass(frozen=True, slots=True)
class Ref:
    """A ``$ref``: its ``pointer``, the ``name`` its last segment suggests, and its target, looked up in
    ``table`` (None when the pointer does not resolve)."""

    pointer: str
    table: dict[str, Type] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.pointer.rsplit("/", 1)[-1]

    @property
    def target(self) -> Type | None:
        return self.table.get(self.pointer)


Type = Unknown | Primitive | Literal | Union | ListOf | Object | MapOf | AllOf | Ref


class Walker:
    """Walks schemas whose ``$ref``s resolve against ``root``; each target is walked once, into ``table``."""

    __slots__ = ("root", "table")

    def __init__(self, root: Any) -> None:
        self.root = root if isinstance(root, dict) else {}
        self.table: dict[str, Type] = {}

    def walk(self, schema: Any) -> Type:
        if not isinstance(schema, dict):
            return UNKNOWN
        pointer = schema.get("$ref")
        if isinstance(pointer, str):
            if pointer not in self.table:
                target = resolve(self.root, pointer)
                if target is not None:
                    self.table[pointer] = UNKNOWN  # while its own target is walked, a cycle finds it here
                    self.table[pointer] = self.walk(target)
            return Ref(pointer, self.table)
        if "const" in schema and is_literal(schema["const"]):
            return Literal((schema["const"],))
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(is_literal(v) for v in enum):
            return Literal(tuple(dedupe(enum)))
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return Union(self._each(options))
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return AllOf(self.walk(all_of[0]), self.walk(rest))
        kind = schema.get("type")
        if isinstance(kind, list):
            return Union(self._each([{**schema, "type": k} for k in kind]))
        if isinstance(kind, str) and kind in PRIMITIVES:
            return Primitive(kind)
        if kind == "array":
            return ListOf(self.walk(schema.get("items")))
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if isinstance(props, dict) and props:
                listed = schema.get("required")
                required = {k for k in listed if isinstance(k, str)} if isinstance(listed, list) else set()
                fields = []
                for k, v in props.items():  # a loop, not a comprehension: one frame per level of nesting
                    fields.append(Field(str(k), self.walk(v), k in required))
                return Object(tuple(fields))
            return MapOf(self.walk(schema.get("additionalProperties")))
        return UNKNOWN

    def _each(self, schemas: list[Any]) -> tuple[Type, ...]:
        out = []
        for schema in schemas:
            out.append(self.walk(schema))
        return tuple(out)


def resolve(root: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    """The schema a local JSON pointer (``#/$defs/Name``) names in ``root``, or None."""
    if not pointer.startswith("#/"):
        return None
    node: Any = root
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def is_literal(value: Any) -> bool:
    return value is None or (isinstance(value, (str, bool, int)) and not isinstance(value, float))


def dedupe(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
