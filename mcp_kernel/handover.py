"""A sandboxed cell's value brought into the notebook's own Python (``%%mcp_execute --out NAME``).

Only JSON leaves the sandbox, so what arrives is plain Python (dicts, lists, numbers, strings) built from
the cell's ``value_json``, or a pandas DataFrame of it when asked for; never an object of the guest's.

>>> from mcp_kernel.models import ExecutionResult
>>> h = hand_over(ExecutionResult(value_json='[{"a": 1}, {"a": 2}]', value_repr="..."), "rows")
>>> h.value, h.describe()
([{'a': 1}, {'a': 2}], 'rows ← list of 2 items, 20 B crossed the sandbox boundary')
"""

from __future__ import annotations

import json
import keyword
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any, Literal

from .errors import HandoverError
from .models import ExecutionResult

__all__ = ["FORMS", "Handover", "check_form", "hand_over"]

Form = Literal["python", "dataframe"]
FORMS: tuple[Form, ...] = ("python", "dataframe")


@dataclass(frozen=True)
class Handover:
    """What crossed: the value under ``name``, in ``form``, and the bytes of JSON it was made from."""

    name: str
    form: Form
    value: Any
    bytes: int

    def describe(self) -> str:
        """One line for the cell's footer."""
        from .display import filesize  # the renderers: only for the footer

        return f"{self.name} ← {_shape(self.value)}, {filesize(self.bytes)} crossed the sandbox boundary"


def hand_over(result: ExecutionResult, name: str, form: Form = "python") -> Handover:
    """The cell's value as ``form``; :class:`HandoverError` when it cannot cross (not JSON, no pandas)."""
    if result.value_json is None:
        if result.value_repr is None:
            raise HandoverError(
                f"--out {name}: the cell has no value. End it with an expression (e.g. the "
                "variable's name) to bring that value into the notebook."
            )
        raise HandoverError(
            f"--out {name}: the cell's value is not JSON (only its repr left the sandbox). "
            "Return lists, dicts, strings and numbers, e.g. convert objects with vars() or str()."
        )
    value = json.loads(result.value_json)
    if form == "dataframe":
        value = _dataframe(value, name)
    return Handover(name, form, value, len(result.value_json.encode("utf-8")))


def check_form(name: str, form: Form = "python") -> None:
    """Refuse before the cell runs what could not be handed over after it: a bad name, no pandas."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise HandoverError(f"--out {name!r}: not a Python variable name.")
    if form == "dataframe" and find_spec("pandas") is None:
        _dataframe([], name)  # raises the missing-package error


def _dataframe(value: Any, name: str) -> Any:
    try:
        import pandas  # an optional extra: imported only when a DataFrame is asked for
    except ImportError:
        raise HandoverError(
            f"--out {name} --as dataframe needs pandas, which is not installed in the "
            "notebook's Python. Install it (pip install pandas, or pip install "
            "'mcp-kernel[dataframe]'), or leave out --as dataframe for plain Python."
        ) from None
    try:
        if isinstance(value, dict) and value and not any(isinstance(v, (list, dict)) for v in value.values()):
            return pandas.DataFrame([value])  # one record: one row
        return pandas.DataFrame(value)
    except (ValueError, TypeError) as exc:
        raise HandoverError(
            f"--out {name} --as dataframe: the value is not table-shaped ({exc}). Return a "
            "list of records or a dict of equal-length columns, or leave out --as dataframe."
        ) from None


def _shape(value: Any) -> str:
    rows = getattr(value, "shape", None)
    if rows is not None and type(value).__name__ == "DataFrame":
        return f"DataFrame of {rows[0]:,} rows × {rows[1]:,} columns"
    if isinstance(value, list):
        return f"list of {len(value):,} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"dict of {len(value):,} key{'' if len(value) == 1 else 's'}"
    return type(value).__name__
