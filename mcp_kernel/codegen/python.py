"""The type model (:mod:`.types`) printed as Python type expressions, with named types left as placeholders.

A type expression is a string in which each named type (a TypedDict, or an enum that may become an alias)
is a placeholder ``"\\0<id>\\0"``. Ids index one interning table, so equal structures share an id across
tools and servers; names are chosen per server when the files are rendered (:mod:`.declarations`).

>>> from .types import Walker
>>> printer = PythonTypes(Interned())
>>> printer.top({"type": "array", "items": {"type": "string"}}, "tags", Walker({}))
'list[str]'
>>> printer.top({"enum": ["EU", "NA", None]}, "region", Walker({}))
'\\x000\\x00 | None'
>>> printer.table.structs[0].text
"Literal['EU', 'NA']"
"""

from __future__ import annotations

import marshal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .types import AllOf, ListOf, Literal, MapOf, Object, Primitive, Ref, Type, Union, Walker, dedupe

SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
PLACEHOLDER = re.compile("\0([0-9]+)\0")


@dataclass(frozen=True, slots=True)
class Struct:
    kind: str  # "typeddict" or "literal"
    text: str  # a literal's inline form, e.g. "Literal['EU', 'NA']"
    fields: tuple[tuple[str, str, bool], ...] = ()  # typeddict: (key, type expression, required)


@dataclass(frozen=True, slots=True)
class Use:
    """A named type a tool uses, with the name it suggests: ``local`` under the tool unless ``anchored``."""

    id: int
    local: str
    anchored: bool


class Interned:
    """Structures by id, and type expressions already printed for a schema (schemas repeat across tools)."""

    def __init__(self) -> None:
        self.ids: dict[Struct, int] = {}
        self.structs: list[Struct] = []
        self.converted: dict[tuple[bytes, str], tuple[str, tuple[Use, ...]]] = {}

    def intern(self, struct: Struct) -> int:
        found = self.ids.get(struct)
        if found is None:
            found = self.ids[struct] = len(self.structs)
            self.structs.append(struct)
        return found


class PythonTypes:
    """Prints one tool's types, recording the named types it meets in ``uses`` (in the order it meets them).

    A ``$ref`` is printed once per tool and its text reused, even from the output schema (whose pointers
    then mean the input schema's targets): what bindings have always said, kept byte for byte.
    """

    __slots__ = ("_active", "_refs", "_seen", "table", "uses")

    def __init__(self, table: Interned) -> None:
        self.table = table
        self.uses: list[Use] = []
        self._seen: set[int] = set()
        self._active: set[str] = set()
        self._refs: dict[str, str] = {}

    def _use(self, struct: Struct, local: str, anchored: bool) -> str:
        sid = self.table.intern(struct)
        if sid not in self._seen:
            self._seen.add(sid)
            self.uses.append(Use(sid, local, anchored))
        return f"\0{sid}\0"

    def top(self, schema: Any, local: str, walker: Walker) -> str:
        """The type of a parameter or a result, cached across tools by the schema's serialised form (schemas
        repeat: the same ``path`` string, the same result object), unless it holds a $ref into its root."""
        try:
            raw = marshal.dumps(schema)
        except ValueError:
            return self.print(walker.walk(schema), local)
        if b"$ref" in raw:
            return self.print(walker.walk(schema), local)
        found = self.table.converted.get((raw, local))
        if found is None:
            start = len(self.uses)
            text = self.print(walker.walk(schema), local)
            found = self.table.converted[(raw, local)] = (text, tuple(self.uses[start:]))
            return text
        text, uses = found
        for use in uses:
            if use.id not in self._seen:
                self._seen.add(use.id)
                self.uses.append(use)
        return text

    def print(self, node: Type, local: str, anchored: bool = False) -> str:
        """``node`` as a type expression; ``local`` (and ``anchored``) name the types it declares."""
        if isinstance(node, Primitive):
            return SCALARS[node.name]
        if isinstance(node, Ref):
            return self._ref(node)
        if isinstance(node, Literal):
            values = [v for v in node.values if v is not None]
            if not values:
                return "None"
            text = f"Literal[{', '.join(repr(v) for v in values)}]"
            lit = self._use(Struct("literal", text), local, anchored)
            return f"{lit} | None" if None in node.values else lit
        if isinstance(node, Union):
            parts = []
            for option in node.options:  # a loop, not a comprehension: one frame per level of nesting
                parts.append(self.print(option, local, anchored))
            return union(parts)
        if isinstance(node, AllOf):
            return self.print(node.member, local, anchored)
        if isinstance(node, ListOf):
            return f"list[{self.print(node.item, local + '_item', anchored)}]"
        if isinstance(node, Object):
            fields = []
            for f in node.fields:
                fields.append((f.key, self.print(f.type, f"{local}_{f.key}", anchored), f.required))
            return self._use(Struct("typeddict", "", tuple(fields)), local, anchored)
        if isinstance(node, MapOf):
            return f"dict[str, {self.print(node.value, local + '_value', anchored)}]"
        return "Any"

    def _ref(self, node: Ref) -> str:
        pointer = node.pointer
        if pointer in self._active:
            return "dict[str, Any]"  # recursive schema: stop here
        known = self._refs.get(pointer)
        if known is not None:
            return known
        target = node.target
        if target is None:
            return "Any"
        self._active.add(pointer)
        try:
            result = self.print(target, node.name, True)
        finally:
            self._active.discard(pointer)
        self._refs[pointer] = result
        return result


def union(parts: Sequence[str]) -> str:
    """Type expressions joined with ``|``, each member once; ``Any`` absorbs the rest."""
    flat = dedupe([p for part in parts for p in part.split(" | ")])
    if "Any" in flat:
        return "Any"
    return " | ".join(flat)


def substitute(text: str, names: dict[int, str]) -> str:
    """``text`` with each placeholder replaced by the name (or inline literal) chosen for it."""
    if "\0" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: names[int(m.group(1))], text)


def placeholders(text: str) -> list[int]:
    """The ids of the named types ``text`` mentions, in order."""
    return [int(m) for m in PLACEHOLDER.findall(text)] if "\0" in text else []
