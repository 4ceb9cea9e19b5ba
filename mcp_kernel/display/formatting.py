"""The text pieces every renderer is built from: aligned tables, file sizes, one-line previews, key/value sections.

>>> print(table(["tool", "calls"], [["query", 3]], right=[False, True]))
tool   calls
query      3
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from ..records import Records

__all__ = [
    "PREVIEW_CHARS",
    "TEXT_ROWS",
    "Sections",
    "filesize",
    "key_value_text",
    "one_line",
    "preview",
    "records_text",
    "table",
]

TEXT_ROWS = 30  # a terminal shows this many rows of a table-shaped value
PREVIEW_CHARS = 120

Sections = list[tuple[str, list[tuple[str, Any]]]]
"""Titled groups of key/value rows, as :func:`key_value_text` and the ``kv`` template show them."""


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] = ()) -> str:
    """A plain text table, left-aligned but for the columns marked in ``right`` (numbers).

    >>> print(table(["a", "b"], [[1, "xy"]]))
    a  b
    1  xy
    """
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    flags = [*right, *[False] * len(headers)]
    return "\n".join(
        "  ".join(
            c.rjust(w) if flags[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    )


def filesize(size: int) -> str:
    """Bytes in a short human form.

    >>> filesize(2048)
    '2.0 KiB'
    """
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def one_line(text: str, width: int = 60) -> str:
    """A description on one line, shortened at a word to ``width`` characters.

    >>> one_line("Query the\\n  sales table by region and month.", 30)
    'Query the sales table by…'
    """
    first = " ".join(text.split())
    return textwrap.shorten(first, width, placeholder="…") if first else ""


def preview(text: str | None, width: int = PREVIEW_CHARS) -> str:
    """A call's arguments or result on one bounded line (cut after masking, so no half value slips out).

    >>> preview('{"region": "EU",\\n "limit": 5}')
    '{"region": "EU", "limit": 5}'
    """
    if not text:
        return ""
    flat = " ".join(text[: width * 4].split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def records_text(shaped: Records, rest: dict[str, Any] | None = None) -> str:
    """A table-shaped value as text: its size, any fields beside the rows, then the head of the table.

    >>> from mcp_kernel.records import records_of
    >>> print(records_text(records_of([{"a": 1}, {"a": 20}])))
    2 rows × 1 column
     a
     1
    20
    """
    size = (
        f"{shaped.count:,} row{'' if shaped.count == 1 else 's'} × {len(shaped.columns)} "
        f"column{'' if len(shaped.columns) == 1 else 's'}"
    )
    extra = "".join(f"\n{k}: {v}" for k, v in (rest or {}).items())
    more = shaped.count - min(shaped.count, TEXT_ROWS)
    tail = f"\n… {more:,} more row{'' if more == 1 else 's'}" if more else ""
    return (
        f"{shaped.name + ': ' if shaped.name else ''}{size}{extra}\n"
        f"{table(shaped.columns, shaped.head(TEXT_ROWS), right=shaped.numeric)}{tail}"
    )


def key_value_text(title: str, sections: Sections) -> str:
    """Titled key/value sections as aligned text.

    >>> print(key_value_text("Sandbox policy", [("limits", [("memory", "256 MiB"), ("fuel", "off")])]))
    Sandbox policy
    <BLANKLINE>
    limits
      memory  256 MiB
      fuel    off
    """
    lines = [title] if title else []
    for name, rows in sections:
        if name:
            lines += ["", name]
        width = max((len(k) for k, _ in rows), default=0)
        lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines).strip("\n")
