"""How a sandboxed cell looks: its result, the footer under it, and its value as a table or a repr.

>>> from mcp_kernel.models import ExecutionResult
>>> footer(ExecutionResult(duration_ms=2.5, fuel_used=1200, memory_limit_mb=256))
'[0 tool calls · 2.5 ms · 1,200 fuel · 256 MiB limit]'
"""

from __future__ import annotations

from typing import Any

from ..models import ExecutionResult
from ..records import records_of
from ..terminal import printable
from .dispatch import renders
from .formatting import records_text
from .templates import environment

__all__ = [
    "CALL_ROWS",
    "CellValue",
    "ExecutionFooter",
    "budget_text",
    "execution_html",
    "execution_text",
    "footer",
]

CALL_ROWS = 100  # calls listed under a cell; a loop of 1,000 calls lists its first ones and counts the rest


def execution_html(obj: ExecutionResult, handover: str | None = None) -> str:
    return (
        environment()
        .get_template("display/execution.html.j2")
        .render(
            obj=obj,
            shown=obj.calls[:CALL_ROWS],
            unlisted=max(0, len(obj.calls) - CALL_ROWS),
            handover=handover,
            budget=budget_text(obj),
        )
    )


@renders(ExecutionResult, html=execution_html)
def execution_text(obj: ExecutionResult) -> str:
    parts = []
    if obj.note:
        parts.append(obj.note)
    if obj.stdout:
        parts.append(obj.stdout.rstrip("\n"))
    if obj.stderr:
        parts.append(obj.stderr.rstrip("\n"))
    if obj.value_repr is not None:
        parts.append(obj.value_repr)
    if obj.error:
        parts.append(obj.error.traceback.rstrip() or f"{obj.error.type}: {obj.error.message}")
    parts.append(footer(obj))
    return "\n".join(parts)


def budget_text(obj: ExecutionResult) -> str:
    """The call budget as the footer says it (empty without one).

    >>> from mcp_kernel.models import CallBudgetReport
    >>> budget_text(ExecutionResult(budget=CallBudgetReport(max_calls=50, used=50, refused=1)))
    'budget: 50 of 50 calls, 1 refused'
    """
    budget = obj.budget
    if budget is None:
        return ""
    parts = [
        f"{budget.used} of {budget.max_calls} calls"
        if budget.max_calls is not None
        else f"{budget.used} calls"
    ]
    parts += [f"{tool} {used} of {cap}" for tool, (used, cap) in sorted(budget.per_tool.items())]
    return "budget: " + ", ".join(parts) + (f", {budget.refused} refused" if budget.refused else "")


def footer(obj: ExecutionResult) -> str:
    """The one-line summary under a sandboxed cell."""
    cached = sum(1 for c in obj.calls if c.cached)
    failed = sum(1 for c in obj.calls if c.error)
    calls = f"{len(obj.calls)} tool call{'' if len(obj.calls) == 1 else 's'}"
    if obj.calls:
        calls += f" ({cached} cached" + (f", {failed} failed" if failed else "") + ")"
    text = f"[{calls} · {obj.duration_ms:.1f} ms"
    if obj.stopped:  # what a stopped cell finished: calls done, time, the last call it made
        text = f"[stopped ({obj.stopped}) after {text[1:]}"
        if obj.calls:
            text += f" · last call {obj.calls[-1].server}.{obj.calls[-1].tool}"
    if obj.budget is not None:
        text += f" · {budget_text(obj)}"
    text += f" · {obj.fuel_used:,} fuel · {obj.memory_limit_mb} MiB limit"
    if obj.pii_replaced is not None:
        text += f" · {obj.pii_replaced} personal values replaced"
    if obj.tokens is not None and obj.tokens.calls:
        text += (
            f" · {obj.tokens.raw_result_tokens:,} result tokens stayed in the sandbox, "
            f"{obj.tokens.output_tokens:,} reached the notebook ({obj.tokens.savings_percent}% saved)"
        )
    return text + "]"


class ExecutionFooter:
    """The compact summary shown under a ``%%mcp_execute`` cell (its output was already streamed).

    ``handover`` is the line about a value brought into the notebook (``--out``), if any.
    """

    def __init__(
        self, result: ExecutionResult, *, with_error: bool = False, handover: str | None = None
    ) -> None:
        # In a notebook the error is raised right after the footer and shown once, by IPython.
        self.result = result if with_error else result.model_copy(update={"error": None})
        self.handover = handover

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        html = execution_html(self.result, self.handover)
        note = f"{self.result.note}\n" if self.result.note else ""
        extra = f"\n[{self.handover}]" if self.handover else ""
        return {"text/plain": printable(note + footer(self.result) + extra), "text/html": html}


class CellValue:
    """A sandboxed cell's value: a bounded table when it is records or columns, else its repr.

    >>> v = CellValue(ExecutionResult(value_json='{"n": [1, 2]}', value_repr="{'n': [1, 2]}"))
    >>> print(v._repr_mimebundle_()["text/plain"])
    2 rows × 1 column
    n
    1
    2
    """

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        shaped = records_of(self.result.value) if self.result.value_json is not None else None
        if shaped is None:  # plain text, as IPython shows a value: no HTML to replace the familiar repr
            return {"text/plain": printable(self.result.value_repr or "")}
        html = environment().get_template("display/cell_value.html.j2").render(shaped=shaped)
        return {"text/plain": printable(records_text(shaped)), "text/html": html}
