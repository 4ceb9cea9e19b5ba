"""What the Python templates render for one tool: its signature with the server's type names filled in.

A view depends on the tool's plan and on the names its server gave the types the plan mentions; it is
cached in the plan under those names.

>>> from mcp_kernel.models import ToolInfo
>>> from .declarations import name_types
>>> from .plans import CACHE, plan_tools
>>> [p] = plan_tools(CACHE, [ToolInfo(name="echo", input_schema={"type": "object", "properties": {
...     "text": {"type": "string"}}, "required": ["text"]})], ["echo"])
>>> index_line(view(p, name_types(CACHE.types, [p]))[1])
'def echo(*, text: str) -> Any: \"\"\"echo\"\"\"'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .declarations import Names
from .plans import Plan
from .python import PLACEHOLDER, placeholders, substitute
from .text import doc

INLINE_SIGNATURE = 120  # a def line up to this many characters stays on one line; longer ones are wrapped
_ANY = re.compile(r"\bAny\b")


@dataclass(frozen=True, slots=True)
class View:
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


def view(plan: Plan, server: Names) -> tuple[Any, View]:
    """What the templates need for one tool, and the key it is cached under in its plan."""
    key = tuple((sid, server.names[sid], sid in server.declared_set) for sid in plan.refs)
    view = plan.rendered.get(key)
    if view is None:
        view = plan.rendered[key] = _new_view(plan, server)
    return key, view


def _new_view(plan: Plan, server: Names) -> View:
    names = server.names
    declared = server.declared_set
    params = [
        f"{p.ident}: {substitute(p.type, names)}" + ("" if p.required else f" = {p.default or 'None'}")
        for p in plan.params
    ]
    returns = substitute(plan.returns, names)
    inline = ", ".join(["*", *params]) if params else ""
    signature = inline
    if len(plan.func) + len(inline) + len(returns) + 12 > INLINE_SIGNATURE:
        signature = _wrap(["*", *params])
    imported: list[str] = []
    typing_names: set[str] = set()
    for text in [*(p.type for p in plan.params), plan.returns]:
        if _ANY.search(PLACEHOLDER.sub("", text)):  # outside placeholders, a type is our own vocabulary
            typing_names.add("Any")
        for sid in placeholders(text):
            if sid in declared:
                if names[sid] not in imported:
                    imported.append(names[sid])
            else:
                typing_names.add("Literal")
    return View(
        func=plan.func,
        name=plan.tool.name,
        signature=signature,
        index_signature=inline,
        returns=returns,
        docstring=plan.docstring,
        summary=doc(plan.summary),
        call_extra=plan.call_extra,
        typing=", ".join(sorted(typing_names)),
        types=", ".join(sorted(imported)),
    )


def _wrap(params: list[str]) -> str:
    """Parameters filled into lines of at most about INLINE_SIGNATURE characters, one level indented: as
    readable with thirty parameters as with three, and cheaper to read than one parameter a line."""
    lines: list[str] = []
    line = ""
    for param in params:
        if line and len(line) + len(param) + 2 > INLINE_SIGNATURE - 4:
            lines.append(line)
            line = ""
        line = f"{line} {param}," if line else f"{param},"
    lines.append(line)
    return "\n" + "".join(f"    {line}\n" for line in lines)


def index_line(view: View) -> str:
    """The tool's line in ``servers/<id>/__init__.pyi``: name, typed signature, first sentence."""
    return f'def {view.func}({view.index_signature}) -> {view.returns}: """{view.summary}"""'
