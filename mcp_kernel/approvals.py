"""Approvals: a person says yes before a call that may change the world leaves the sandbox.

A guard of the bridge (sandbox/guards.py). Each call that would reach a server meets a rule,
``approve: always | destructive | never``:

- ``always``: every call asks;
- ``destructive``: a call asks unless its tool is annotated read-only or says ``destructiveHint: false``
  (MCP's defaults: a tool with no annotations counts as neither read-only nor harmless, so it asks);
- ``never``: no call asks.

The rule of a call is the most specific one given: ``server.tool``, then ``server``, then the run's default.
Rules come from the server's ``approve`` key in mcp.json, the settings ``approve`` / ``approve_tools`` and
the options (``--approve``, ``--approve-tool``); the run's default is ``never`` in the kernel and the CLI (a
person ran the code) and ``destructive`` for ``mcp-kernel serve`` (a model wrote it).

Asking waits inside the sandbox: the code is blocked in its call while the person decides, and that time is
not held against the cell's limit (the asker's clock is paused). The person sees server, tool, the arguments
(masked when PII masking is on) and how many calls to that tool the run made, and answers approve, deny or
approve every later call to that tool in this run. Denied, unanswered within ``approval_timeout_s`` or
nobody to ask: :class:`~mcp_kernel.errors.ApprovalDenied`, a ``ToolCallError`` the code may catch, and
nothing was sent. Questions are asked one at a time, so an approve-all also answers the calls waiting behind.

>>> rule_for({"demo": "destructive", "demo.list_regions": "never"}, "never", "demo", "send_report")
('destructive', 'approve=destructive for demo')
>>> from mcp_kernel.models import ToolAnnotations, ToolInfo
>>> asks("destructive", ToolInfo(name="list_regions", annotations=ToolAnnotations(read_only=True)))
False
>>> asks("destructive", ToolInfo(name="unannotated"))
True
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ApprovalDenied, Interrupted
from .limits import APPROVAL_MODES
from .runtime import INTERRUPT_SLICE, submit

if TYPE_CHECKING:
    from .models import ToolInfo
    from .questions import Answer, Question
    from .sandbox.guards import GuardedCall

__all__ = [
    "APPROVAL_TIMEOUT_S",
    "MODES",
    "Approvals",
    "asks",
    "checked_mode",
    "rule_for",
    "server_rules",
]

MODES = APPROVAL_MODES
APPROVAL_TIMEOUT_S = 300.0  # how long a question waits for the person before the call is denied
_SHOWN_CHARS = 2000  # the arguments as the person sees them, cut beyond this
_CHANGE = (
    "To change the rule: --approve-tool {call}=never (or =always) on the cell or command, the server's "
    '"approve" key in mcp.json, or the settings approve / approve_tools.'
)


def checked_mode(value: Any, where: str) -> str:
    """``value`` if it is a mode, else ``ValueError`` naming ``where`` and the modes.

    >>> checked_mode("sometimes", "approve")
    Traceback (most recent call last):
    ValueError: approve must be one of always, destructive, never; got 'sometimes'
    """
    if value not in MODES:
        raise ValueError(f"{where} must be one of {', '.join(MODES)}; got {value!r}")
    return str(value)


def server_rules(server: str, written: str | Mapping[str, str] | None) -> dict[str, str]:
    """A server's ``approve`` key of mcp.json as rules: ``"destructive"`` for every tool, or
    ``{"*": "destructive", "send_report": "always"}`` with per-tool overrides.

    >>> server_rules("demo", {"*": "never", "send_report": "always"})
    {'demo': 'never', 'demo.send_report': 'always'}
    """
    if written is None:
        return {}
    if isinstance(written, str):
        return {server: written}
    return {(server if tool == "*" else f"{server}.{tool}"): mode for tool, mode in written.items()}


def rule_for(rules: Mapping[str, str], default: str, server: str, tool: str) -> tuple[str, str]:
    """The mode for ``server.tool`` and where it comes from: the most specific rule given."""
    for key in (f"{server}.{tool}", server):
        if key in rules:
            return rules[key], f"approve={rules[key]} for {key}"
    return default, f"approve={default} for this run"


def asks(mode: str, info: ToolInfo) -> bool:
    """Whether a call to ``info``'s tool asks the person under ``mode``."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    hints = info.annotations
    return not hints.read_only and hints.destructive is not False


class Approvals:
    """The approval guard of one run (a cell, an execute): its rules, and what the person said so far."""

    name = "approval"

    def __init__(
        self,
        default: str = "never",
        rules: Mapping[str, str] | None = None,
        timeout: float = APPROVAL_TIMEOUT_S,
        *,
        run_wide: bool = True,
    ) -> None:
        self.default = default
        self.rules = dict(rules or {})
        self.timeout = timeout
        self.run_wide = run_wide  # approve-all is offered (False: each call is a run of its own)
        self.approved_all: set[str] = set()
        self.seen: dict[str, int] = {}  # calls per tool that met this guard in the run
        self._one_question = threading.Lock()  # the person sees one question at a time

    def check(self, call: GuardedCall) -> str | None:
        name = f"{call.server}.{call.tool}"
        mode, rule = rule_for(self.rules, self.default, call.server, call.tool)
        with self._one_question:
            earlier = self.seen.get(name, 0)
            self.seen[name] = earlier + 1
            if not asks(mode, call.info):
                return rule
            if name in self.approved_all:
                return f"{rule}: approved for the rest of the run by {call.caller}"
            answer = self._ask(call, _question(call, name, rule, earlier, self.run_wide, self.timeout))
            decision = (answer.content or {}).get("decision", "approve")
            if answer.action == "accept" and decision in ("approve", "approve-all"):
                if decision == "approve-all" and self.run_wide:
                    self.approved_all.add(name)
                    return f"{rule}: approved for the rest of the run by {call.caller}"
                return f"{rule}: approved by {call.caller}"
        why = _why(answer)
        raise ApprovalDenied(
            f"{name} was not sent: {rule} asks a person first, and {why}. Nothing reached the "
            f"server; the code may catch this ToolCallError. {_CHANGE.format(call=name)}",
            rule=rule,
            why=why,
            server=call.server,
            tool=call.tool,
        )

    def done(self, call: GuardedCall, outcome: str) -> None:
        pass  # the audit trail records who allowed each call (the rule this guard returned)

    def _ask(self, call: GuardedCall, question: Question) -> Answer:
        """The person's answer, waited for in the run's scope (a stop ends the wait) for ``timeout`` seconds
        of real time: a person who never answers denies."""
        from .questions import Answer  # ~3 ms to import: only once a call asks, not on every cell's path

        asker = call.asker
        if asker is None:
            return Answer("decline", reason="nobody is attached to this run to ask")
        asked = submit(asker.ask_async(question))
        ends = time.monotonic() + self.timeout
        answer: Answer | None = None
        while answer is None:
            try:
                answer = asked.result(timeout=max(0.0, min(INTERRUPT_SLICE * 4, ends - time.monotonic())))
            except concurrent.futures.CancelledError:
                answer = Answer("cancel", reason="the question was withdrawn")
            except concurrent.futures.TimeoutError:
                if time.monotonic() >= ends:
                    asked.cancel()
                    answer = Answer("cancel", reason=f"nobody answered within {self.timeout:g} s")
            scope = call.scope  # stopped meanwhile: whatever the answer, the run is over
            if scope is not None and (scope.reason is not None or scope.deadline.expired()):
                asked.cancel()
                raise Interrupted(f"the run was stopped while {call.server}.{call.tool} waited for approval.")
        return answer


def _question(
    call: GuardedCall, name: str, rule: str, earlier: int, run_wide: bool, timeout: float
) -> Question:
    """What the person is asked: the call, masked, and the choices (a form a client can show)."""
    from .questions import Question  # ~3 ms to import: only once a call asks

    shown = call.mask(json.dumps(call.params, ensure_ascii=False, sort_keys=True))
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + f"... ({len(shown):,} characters)"
    hints = call.info.annotations
    why = (
        "it is annotated destructive"
        if hints.destructive
        else "it says nothing about its effects"
        if hints.destructive is None and not hints.read_only
        else "the rule asks for every call"
    )
    message = (
        f"Allow {name}? It may change things outside the sandbox ({why}; {rule}).\n"
        f"Arguments: {shown}\n"
        f"Calls to {name} earlier in this run: {earlier}."
    )
    choices = ["approve", "deny", *(["approve-all"] if run_wide else [])]
    described = "approve: send this call; deny: refuse it" + (
        f"; approve-all: this call and every later call to {name} in this run" if run_wide else ""
    )
    schema = {
        "type": "object",
        "properties": {
            "decision": {"type": "string", "title": "Decision", "description": described, "enum": choices}
        },
        "required": ["decision"],
    }
    return Question(
        server=call.server, message=message, schema=schema, key="approval", approval=True, wait_s=timeout
    )


def _why(answer: Answer) -> str:
    if answer.reason:
        return f"it was denied: {answer.reason}"
    if answer.action == "accept":
        return "the person denied it"
    return "the person declined" if answer.action == "decline" else "the question was dismissed"
