"""A run's call budget: at most ``max_calls`` calls that reach a server, in all and per tool.

A guard of the bridge (guards.py): the first N calls are sent, the call past a budget is refused with
:class:`~mcp_kernel.errors.BudgetExceeded` (a ``ToolCallError`` the code may catch), naming the budget and how
to raise it. A call counts once all its guards allowed it, whatever its outcome: it reached the server. A cache
hit does not count (it reached no server; only read-only or idempotent tools are cached). A run is one
cell or one ``execute``; the bridge gets a fresh budget with each cell's policy.

>>> from mcp_kernel.models import ToolInfo
>>> budget = CallBudget(2, {"demo.send_report": 1})
>>> call = GuardedCall("demo", "send_report", ToolInfo(name="send_report"), {}, 2)
>>> budget.check(call)
'max_calls 1/2'
>>> budget.check(call)
Traceback (most recent call last):
mcp_kernel.errors.BudgetExceeded: This run already made the 1 call to demo.send_report that max_calls_per_tool allows; ...
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ..errors import BudgetExceeded
from ..models import CallBudgetReport
from .guards import GuardedCall

__all__ = ["CallBudget"]

_RAISE = (
    "Raise it (--max-calls / --max-calls-per-tool on %%mcp_execute or `mcp-kernel execute`, the settings "
    "max_calls / max_calls_per_tool; for serve, its operator's --max-calls), or "
    "make fewer calls: one call that takes a list, or a cached read-only tool."
)


class CallBudget:
    """Counts a run's calls against ``max_calls`` (None: no cap) and ``per_tool`` ({"server.tool": N})."""

    name = "budget"

    def __init__(self, max_calls: int | None = None, per_tool: Mapping[str, int] | None = None) -> None:
        self.max_calls = max_calls
        self.per_tool = dict(per_tool or {})
        self.used = 0
        self.by_tool: dict[str, int] = {}
        self.refused = 0
        self._lock = threading.Lock()  # a cell's gathered calls are checked from several threads

    def check(self, call: GuardedCall) -> str | None:
        tool = f"{call.server}.{call.tool}"
        with self._lock:
            cap = self.per_tool.get(tool)
            if cap is not None and self.by_tool.get(tool, 0) >= cap:
                self.refused += 1
                raise BudgetExceeded(
                    f"This run already made the {cap} call{'s' * (cap != 1)} to {tool} that "
                    f"max_calls_per_tool allows; this one was not sent. {_RAISE}",
                    budget=f"max_calls_per_tool[{tool}]",
                    server=call.server,
                    tool=call.tool,
                )
            if self.max_calls is not None and self.used >= self.max_calls:
                self.refused += 1
                raise BudgetExceeded(
                    f"This run already made the {self.max_calls} calls max_calls allows; this one "
                    f"({tool}) was not sent. {_RAISE}",
                    budget="max_calls",
                    server=call.server,
                    tool=call.tool,
                )
            self.used += 1
            self.by_tool[tool] = self.by_tool.get(tool, 0) + 1
            return None if self.max_calls is None else f"max_calls {self.used}/{self.max_calls}"

    def done(self, call: GuardedCall, outcome: str) -> None:
        """A call counts once every guard allowed it (it reached the server, whatever came back): one a later
        guard refused (a person denied it) is given back."""
        if outcome.startswith(("refused: ", "stopped: ")) and outcome != "refused: budget":
            tool = f"{call.server}.{call.tool}"
            with self._lock:
                self.used -= 1
                self.by_tool[tool] -= 1

    def report(self) -> CallBudgetReport:
        with self._lock:
            return CallBudgetReport(
                max_calls=self.max_calls,
                used=self.used,
                refused=self.refused,
                per_tool={t: (self.by_tool.get(t, 0), cap) for t, cap in self.per_tool.items()},
            )
