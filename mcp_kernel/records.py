"""Table-shaped values: rows of records or a dict of columns, as a bounded table with numbers formatted.

One shape test serves every place a value may be a table: a tool's structured result (``%mcp call``) and a
sandboxed cell's value (``%%mcp_execute``). The look (text and HTML) lives in :mod:`mcp_kernel.display`.

>>> t = records_of([{"name": "Ana", "spent": 1234.5}, {"name": "Bo", "spent": 20}])
>>> t.columns, t.numeric, t.formatted(t.rows)
(['name', 'spent'], [False, True], [['Ana', '1,234.50'], ['Bo', '20.00']])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["HEAD_ROWS", "MAX_COLUMNS", "MAX_ROWS", "Records", "records_of"]

HEAD_ROWS = 20  # shown at once; the rest up to MAX_ROWS one click away, so a page of 100,000 rows stays light
MAX_ROWS = 500
MAX_COLUMNS = 12
_SCALAR = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Records:
    """A table: ``name`` is the field that held the rows ("" for a bare list), ``rows`` hold raw values."""

    name: str
    columns: list[str]
    rows: list[list[Any]]
    numeric: list[bool]

    @property
    def count(self) -> int:
        return len(self.rows)

    def formatted(self, rows: list[list[Any]]) -> list[list[str]]:
        """``rows`` as text: numbers with thousands separators (a column's floats share their decimals)."""
        places = [_places(self.rows, i) if n else 0 for i, n in enumerate(self.numeric)]
        return [[_cell(v, places[i]) for i, v in enumerate(row)] for row in rows]

    def head(self, n: int = HEAD_ROWS) -> list[list[str]]:
        return self.formatted(self.rows[:n])

    def more(self, n: int = HEAD_ROWS, cap: int = MAX_ROWS) -> list[list[str]]:
        """The rows after the head, up to ``cap`` in all (what a click shows)."""
        return self.formatted(self.rows[n:cap])

    def hidden(self, cap: int = MAX_ROWS) -> int:
        """Rows past ``cap``: not rendered at all (the value itself holds them)."""
        return max(0, self.count - cap)


def records_of(value: Any) -> Records | None:
    """``value`` as a table, or None when it is not table-shaped.

    A table is a list of flat objects (alone, or as an object's one list field next to scalars such as a
    count), or a dict of columns (lists of scalars of one length). Nested objects or more than
    ``MAX_COLUMNS`` columns are not a table: they read better as JSON.
    """
    name, rows = "", value
    if isinstance(value, dict) and value:
        columns = _columns_of(value)
        if columns is not None:
            return columns
        lists = [(k, v) for k, v in value.items() if isinstance(v, list)]
        if len(lists) != 1 or any(not isinstance(v, _SCALAR) for k, v in value.items() if k != lists[0][0]):
            return None
        name, rows = lists[0]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return None
    columns_: list[str] = []
    for row in rows:
        columns_ += [k for k in row if k not in columns_]
    if len(columns_) > MAX_COLUMNS or any(isinstance(r.get(c), dict) for r in rows for c in columns_):
        return None
    cells = [[_flat(r.get(c)) for c in columns_] for r in rows]
    return Records(name, [str(c) for c in columns_], cells, _numeric(cells, len(columns_)))


def _columns_of(value: dict[Any, Any]) -> Records | None:
    """A dict of columns (``{"region": [...], "total": [...]}``) as rows; None when it is not one."""
    lists = list(value.values())
    if not all(isinstance(v, list) and v and all(isinstance(x, _SCALAR) for x in v) for v in lists):
        return None
    if len({len(v) for v in lists}) != 1 or len(lists) > MAX_COLUMNS:
        return None
    cells = [list(row) for row in zip(*lists, strict=True)]
    return Records("", [str(k) for k in value], cells, _numeric(cells, len(lists)))


def _flat(v: Any) -> Any:
    if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
        return ", ".join(str(x) for x in v)
    return v if isinstance(v, _SCALAR) else json.dumps(v, ensure_ascii=False)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numeric(cells: list[list[Any]], width: int) -> list[bool]:
    """Columns whose values are all numbers (blanks allowed): those are right-aligned."""
    return [
        any(_is_number(r[i]) for r in cells) and all(_is_number(r[i]) or r[i] is None for r in cells)
        for i in range(width)
    ]


def _places(rows: list[list[Any]], i: int) -> int:
    """Decimals a float column needs to show its values (at least 2, at most 4); 0 for whole numbers."""
    floats = [r[i] for r in rows if isinstance(r[i], float)]
    if not floats:
        return 0
    needed = max(len(repr(f).partition(".")[2]) if "e" not in repr(f) else 4 for f in floats)
    return min(max(needed, 2), 4)


def _cell(v: Any, places: int) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):  # in a column of floats a whole number shows the same decimals, so points line up
        return f"{v:,.{places}f}" if places else f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.{places}f}" if v == v and abs(v) != float("inf") else str(v)
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
