"""Names in generated code: TypeScript identifiers, type names, and names made unique within a server.

>>> camel("query_sales"), ts_identifier("query_sales"), ts_identifier("delete")
('QuerySales', 'querySales', 'delete_')
>>> unique(["get_sum", "GET_SUM", "get_sum"])
['get_sum', 'GET_SUM_2', 'get_sum_3']
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

TS_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "as",
        "implements",
        "interface",
        "let",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
        "any",
        "boolean",
        "constructor",
        "declare",
        "get",
        "module",
        "require",
        "number",
        "set",
        "string",
        "symbol",
        "type",
        "from",
        "of",
        "await",
        "async",
        "callTool",
        "unknown",
        "never",
        "object",
    ]
)


@functools.lru_cache(maxsize=8192)
def camel(ident: str) -> str:
    parts = [p for p in ident.split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "T"


def ts_identifier(ident: str) -> str:
    parts = [p for p in ident.split("_") if p]
    name = (parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])) if parts else "tool"
    return name + "_" if name in TS_RESERVED else name


def unique(names: Sequence[str]) -> list[str]:
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
