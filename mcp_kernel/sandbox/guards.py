"""The guards of a bridge: rules every tool call that would reach a server passes, and is told the end of.

A call meets them after the bridge has checked its parameters (allowlist, size, schema, PII restored) and
the result cache missed, before it is paced and sent: a cache hit never reached a server, so no guard sees
it. Each guard's ``check`` allows the call (returning the rule that allowed it, or ``None``: no opinion) or
refuses it with a :class:`~mcp_kernel.errors.CallRefused` naming the guard; then nothing is sent. Every
guard's ``done`` is told how each call it saw ended: ``ok``, ``error: <kind>``, ``refused: <guard>`` or
``stopped: <kind>`` (the run stopped while a guard waited).

The guards, in order: the call budget (budget.py, ``max_calls``), approvals (approvals.py, ``approve: always |
destructive | never``: its ``check`` waits for a person's answer and returns ``"... approved by ..."`` or
raises ``ApprovalDenied``) and the audit trail (audit.py, which only watches and records who allowed each
call). A guard that waits does so in the call's ``scope`` and asks through its ``asker``.

>>> class Count:
...     name = "count"
...     def __init__(self): self.seen = []
...     def check(self, call): return "counted"
...     def done(self, call, outcome): self.seen.append(outcome)
>>> guard = Count()
>>> call = GuardedCall("demo", "send_report", ToolInfo(name="send_report"), {}, 2)
>>> admit((guard,), call); settle((guard,), call, "ok"); guard.seen, call.allowed_by
(['ok'], ['counted'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import CallRefused, MCPKernelError
from ..models import ToolInfo
from ..runtime import Scope

__all__ = ["Guard", "GuardedCall", "admit", "outcome_of", "settle"]


def _unmasked(text: str) -> str:
    return text


@dataclass(slots=True)
class GuardedCall:
    """One call as its guards see it. ``params`` are the checked params with personal data restored, as the
    server will get them: a guard may judge them, never keep or record them (the audit keeps a hash)."""

    server: str
    tool: str
    info: ToolInfo
    params: dict[str, Any]
    bytes_in: int
    caller: str = "notebook"
    allowed_by: list[str] = field(default_factory=list)
    asker: Any = (
        None  # who answers a person's questions for this call (an Asker or serve's Relay; None: nobody)
    )
    scope: Scope | None = None  # the run's: stopping it ends a guard's wait
    mask: Callable[[str], str] = _unmasked  # what a person is shown passes it (PII masking, when on)


class Guard(Protocol):
    """What a bridge asks of a guard; ``name`` is what a refusal and the audit call it."""

    name: str

    def check(self, call: GuardedCall) -> str | None: ...

    def done(self, call: GuardedCall, outcome: str) -> None: ...


def admit(guards: tuple[Guard, ...], call: GuardedCall) -> None:
    """Ask each guard in turn; on a refusal (or a stop while one waited), tell every guard (those before it
    counted the call) and raise."""
    for guard in guards:
        try:
            rule = guard.check(call)
        except MCPKernelError as exc:
            if isinstance(exc, CallRefused):
                call.allowed_by.append(f"refused by {exc.refused_by}")
            settle(
                guards,
                call,
                f"refused: {exc.guard}" if isinstance(exc, CallRefused) else f"stopped: {type(exc).__name__}",
            )
            raise
        if rule is not None:
            call.allowed_by.append(rule)


def settle(guards: tuple[Guard, ...], call: GuardedCall, outcome: str) -> None:
    """Tell every guard how ``call`` ended."""
    for guard in guards:
        guard.done(call, outcome)


def outcome_of(exc: MCPKernelError) -> str:
    """A failed call's outcome as guards are told it: the kind of error, never its text (which may quote
    the arguments)."""
    return f"error: {type(exc).__name__}"
