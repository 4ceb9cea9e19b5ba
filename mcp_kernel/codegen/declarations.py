"""Names for the types a server's tools use, and what ``_types.py`` declares for them.

Types are interned across tools and servers (:mod:`.python`); a server's files name them: after the tool
and the place that first uses them, or the ``$defs`` entry they come from, never a name a binding, a
builtin or a reserved word takes.

>>> from mcp_kernel.models import ToolInfo
>>> from .plans import CACHE, plan_tools
>>> tools = [ToolInfo(name=n, output_schema={"type": "object", "properties": {"ok": {"type": "boolean"}}})
...     for n in ("a", "b")]
>>> names = name_types(CACHE.types, plan_tools(CACHE, tools, ["a", "b"]))
>>> [d.name for d in declarations(CACHE.types, names)]
['OkResult']
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..names import BUILTINS as _BUILTINS
from ..names import RESERVED as _RESERVED
from ..names import python_identifier
from .names import camel
from .plans import Plan
from .python import Interned, Struct, Use, substitute


@dataclass
class Names:
    """The names a server's files use for interned types, and which of them ``_types.py`` declares."""

    names: dict[int, str]  # id -> a name, or a literal's inline text
    declared: list[int]  # ids declared in _types.py, in dependency order
    declared_set: set[int] = field(default_factory=set)


def name_types(types: Interned, plans: Sequence[Plan]) -> Names:
    """A name for every type the tools use: one declared in ``_types.py``, unless it is a Literal only one
    tool uses (then inline, where the reader sees the choices)."""
    order: list[int] = []
    uses: dict[int, list[tuple[Use, str]]] = {}
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
        struct = types.structs[sid]
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
    return Names(names=names, declared=declared, declared_set=set(declared))


def _type_name(struct: Struct, users: list[tuple[Use, str]]) -> str:
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
    base = camel(python_identifier(hint, fallback="T"))
    return base + "Type" if base in _RESERVED or base in _BUILTINS else base


@dataclass(frozen=True, slots=True)
class Declaration:
    """One type ``_types.py`` declares: an alias of a Literal, or a TypedDict (class or functional form)."""

    name: str
    kind: str  # "alias", "class" or "functional"
    text: str  # alias: the Literal
    fields: tuple[tuple[str, str], ...]  # (key as written, type as written)


def declarations(types: Interned, server: Names) -> list[Declaration]:
    """What ``_types.py`` declares for a server, in dependency order."""
    # A class body may not use a key that shadows a name its own annotations need: use the functional form.
    shadowing = _BUILTINS | _RESERVED | {server.names[sid] for sid in server.declared}
    out = []
    for sid in server.declared:
        struct = types.structs[sid]
        name = server.names[sid]
        if struct.kind == "literal":
            out.append(Declaration(name=name, kind="alias", text=struct.text, fields=()))
            continue
        as_class = all(
            k.isidentifier() and not keyword.iskeyword(k) and not k.startswith("__") and k not in shadowing
            for k, _, _ in struct.fields
        )
        fields = tuple(
            (
                k if as_class else repr(k),
                substitute(t, server.names) if req else f"NotRequired[{substitute(t, server.names)}]",
            )
            for k, t, req in struct.fields
        )
        out.append(Declaration(name=name, kind="class" if as_class else "functional", text="", fields=fields))
    return out
