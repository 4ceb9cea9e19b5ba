"""One cell on its way through a sandbox session's owner, and how its end reads: a result or an error.

A :class:`Cell` carries the code, its policy, the output printed so far and why the host stopped it (an
interrupt, its time limit, its output cap, its disk limit, a close). When the guest answers,
:func:`read_answer` checks the answer and :meth:`Cell.result` builds the
:class:`~mcp_kernel.models.ExecutionResult`; a cell that broke a limit or trapped gets the error of
:func:`limit_error`, :func:`stopped_error` or :func:`trap_error`, which carries that result.

>>> cell = Cell("x = 1", SandboxPolicy.default(), None)
>>> cell.stop("timeout")
>>> stopped_error(cell, "default", None).limit
'timeout'
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..deadline import Deadline
from ..errors import (
    FuelExhausted,
    Interrupted,
    MCPKernelError,
    OutputTooLarge,
    SandboxError,
    SandboxOutOfMemory,
    SandboxTimeout,
    WorkspaceFull,
)
from ..models import ExecutionResult, GuestError
from ..runtime import Scope
from .hosterrors import MAX_TEXT
from .policy import SandboxPolicy
from .snapshot import SnapshotInfo, SnapshotUpdate

__all__ = [
    "Cell",
    "OutputCallback",
    "coming_back",
    "limit_error",
    "read_answer",
    "stopped_error",
    "trap_error",
]

log = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], None]


class Cell:
    """One cell: its code and limits, its output so far, and why it was stopped (``stop_reason``)."""

    def __init__(
        self,
        code: str,
        policy: SandboxPolicy,
        on_output: OutputCallback | None,
        reload: list[str] | None = None,
        person: Deadline | None = None,
    ) -> None:
        self.code, self.policy, self.on_output = code, policy, on_output
        self.reload = reload or []
        self.name: str | None = None
        self.created = time.monotonic()
        self.started = 0.0
        # The cell's limit follows the clock of the person who answers its servers' questions (``person``).
        self.scope = Scope(Deadline(follows=person))
        self.stopped_event = threading.Event()
        self.stop_reason: str | None = None
        self.stopped_at = 0.0
        self.out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.out_bytes = 0
        self.logs: list[tuple[str, str]] = []
        self.ticks = 0
        self.calls: dict[int, concurrent.futures.Future[str]] = {}
        self.snapshot: SnapshotUpdate | None = None  # applied only if the cell's instance survives it

    def begin(self) -> None:
        self.started = time.monotonic()
        self.scope.deadline.start(self.policy.timeout_s)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stopped_at = reason, time.monotonic()
        self.scope.stop(self.stop_reason)
        self.stopped_event.set()

    def elapsed(self) -> float:
        return time.monotonic() - (self.started or self.created)

    def emit(self, stream: str, text: str) -> None:
        """Keep ``text`` as printed to ``stream`` and hand it to the caller's ``on_output`` (whose failure is ignored)."""
        self.out[stream].append(text)
        if self.on_output is not None:
            try:
                self.on_output(stream, text)
            except Exception:
                log.debug("output callback failed", exc_info=True)

    def result(
        self,
        fuel_used: int,
        answer: dict[str, Any] | None = None,
        *,
        note: str | None = None,
        trapped: str | None = None,
    ) -> ExecutionResult:
        """What the cell did: its output, time and fuel, with the guest's ``answer`` (see :func:`read_answer`);
        a cell that ``trapped`` (how it stopped: "fuel", "memory", "trap" or a stop reason) has no answer."""
        error = answer["error"] if answer is not None else None
        # Built without validation: every field is the host's own or was checked by read_answer, and the first
        # cell of a process does not pay ~70 ms for building the model's validator. Every field is given:
        # model_construct inspects a default factory's signature each time (~0.2 ms for calls' list).
        return ExecutionResult.model_construct(
            stdout="".join(self.out["stdout"]),
            stderr="".join(self.out["stderr"]),
            value_repr=answer["value_repr"] if answer is not None else None,
            value_json=answer["value_json"] if answer is not None else None,
            error=GuestError.model_construct(**error) if error else None,
            duration_ms=self.elapsed() * 1000,
            fuel_used=fuel_used if trapped is None else max(fuel_used, 0),
            memory_limit_mb=self.policy.memory_mb,
            session_reset=note is not None or trapped is not None,
            note=note,
            calls=[],
            tokens=None,
            pii_replaced=None,
            stopped=self.stop_reason if trapped is None else trapped,
            views=[],
        )


def read_answer(text: str) -> dict[str, Any] | None:
    """The guest's answer to a cell with each field of the type the host expects (None: it is no answer).

    >>> read_answer('{"value_repr": "2", "value_json": "2", "error": null, "truncated": false}')["value_repr"]
    '2'
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    texts = {key: data.get(key) for key in ("value_repr", "value_json")}
    if any(value is not None and not isinstance(value, str) for value in texts.values()):
        return None
    error = data.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("type"), str):
            return None
        error = {key: str(error.get(key, ""))[: MAX_TEXT * 5] for key in ("type", "message", "traceback")}
    restored, failed = data.get("restored") or [], data.get("not_restored") or {}
    if not isinstance(restored, list) or not isinstance(failed, dict):
        return None
    return {
        **texts,
        "error": error,
        "truncated": data.get("truncated") is True,
        "restored": [str(name) for name in restored],
        "not_restored": {str(k): str(v) for k, v in failed.items()},
    }


def limit_error(
    cell: Cell, name: str, result: ExecutionResult, answer: dict[str, Any]
) -> MCPKernelError | None:
    """The error for a cell that answered but broke a limit on the way (None: it ended well)."""
    if cell.stop_reason is not None:
        return stopped_error(cell, name, result)
    if answer["truncated"]:
        return OutputTooLarge(
            f"The cell printed more than {cell.policy.output_limit_bytes:,} bytes and was stopped. "
            "Print a summary instead of raw data.",
            result=result,
        )
    error = answer["error"]
    if error and error["type"] == "MemoryError":
        return SandboxOutOfMemory(
            f"The cell ran out of its {cell.policy.memory_mb} MiB memory limit (MemoryError).",
            result=result,
            limit="memory",
        )
    return None


def stopped_error(cell: Cell, name: str, result: ExecutionResult | None) -> MCPKernelError:
    """The error for a cell the host stopped (the guest unwound, or never started)."""
    kept = "" if result is None else " Variables are kept."
    policy = cell.policy
    if cell.stop_reason == "timeout":
        return SandboxTimeout(
            f"The cell ran past its {policy.timeout_s:g} s time limit and was stopped; its "
            f"tool calls in flight were cancelled.{kept}",
            result=result,
            limit="timeout",
        )
    if cell.stop_reason == "output":
        return OutputTooLarge(
            f"The cell sent more than {policy.output_limit_bytes:,} bytes of output and was "
            "stopped. Print a summary instead of raw data.",
            result=result,
        )
    if cell.stop_reason == "disk":
        return WorkspaceFull(
            f"The cell wrote more than {policy.disk_mb} MiB to /workspace and was stopped; the "
            "files are kept.",
            result=result,
            limit="disk",
        )
    if cell.stop_reason == "close":
        return SandboxError(f"Sandbox session {name!r} was closed while the cell ran.", result=result)
    return Interrupted(
        f"the cell was stopped after {cell.elapsed():.1f} s; tool calls in flight were cancelled.{kept}",
        result=result,
    )


def trap_error(
    cell: Cell, name: str, exc: BaseException, fuel_left: int, kept: SnapshotInfo
) -> MCPKernelError:
    """The error for a cell whose guest trapped (its instance is gone); ``error.result`` says what it had done."""
    # wasmtime-py exposes trap codes only for core-module traps (Trap.trap_code), not for errors from
    # component calls; so the host classifies by what it knows itself: why it stopped the guest,
    # and how much fuel is left.
    error = _trap_error(cell, name, exc, fuel_left, kept)
    error.result = cell.result(cell.policy.fuel - fuel_left, trapped=_stop_kind(error, cell))  # type: ignore[attr-defined]
    return error


def _trap_error(
    cell: Cell, name: str, exc: BaseException, fuel_left: int, kept: SnapshotInfo
) -> MCPKernelError:
    policy = cell.policy
    restarted = f" The sandbox was restarted; {coming_back(kept)}"
    if cell.stop_reason is not None:
        error = stopped_error(cell, name, None)
        if isinstance(error, SandboxError):
            return type(error)(f"{error.reason.rstrip('.')}.{restarted}", limit=error.limit)
        return type(error)(f"{str(error).rstrip('.')}.{restarted}")
    if fuel_left == 0:
        return FuelExhausted(
            f"The cell used its whole instruction budget ({policy.fuel:,} fuel) and was stopped.{restarted}",
            limit="fuel",
        )
    cause = _trap_cause(exc)
    if "stack" in cause:
        return SandboxError(
            f"The cell overflowed the sandbox's call stack (too deep recursion in native "
            f"code) and was stopped.{restarted}"
        )
    if "memory" in cause or "allocation" in cause:
        return SandboxOutOfMemory(
            f"The cell ran past its {policy.memory_mb} MiB memory limit and was stopped.{restarted}",
            limit="memory",
        )
    return SandboxError(f"The sandbox stopped the cell: {cause or type(exc).__name__}.{restarted}")


def coming_back(info: SnapshotInfo) -> str:
    """What the next cell gets back after a restart, as the end of a sentence."""
    if not info.kept and not info.not_kept:
        return "no variables had been kept."
    text = f"the next cell gets back the variables of the last cell that ended well ({', '.join(info.kept) or 'none'})"
    if info.not_kept:
        text += "; could not be kept: " + ", ".join(sorted(info.not_kept))
    return text + "."


def _stop_kind(error: MCPKernelError, cell: Cell) -> str:
    if cell.stop_reason is not None:
        return cell.stop_reason
    kinds: dict[type[MCPKernelError], str] = {FuelExhausted: "fuel", SandboxOutOfMemory: "memory"}
    return kinds.get(type(error), "trap")


def _trap_cause(exc: BaseException) -> str:
    """The ``Caused by`` part of a wasmtime error (after the wasm backtrace), lower-cased."""
    text = str(exc)
    return (
        text.rsplit("Caused by:", 1)[-1].strip().lower()
        if "Caused by:" in text
        else text.splitlines()[0].lower()
    )
