"""What the guest's imports reach on the host, for the cell running now: tool calls, output, state, snapshot.

Each host import of the WIT world (``call-tool``, ``start-call`` and ``wait-calls``, ``read-resource``,
``show-view``, ``log``, ``get-state`` and ``set-state``, ``keep-snapshot``) and the store's epoch callback land in a
:class:`GuestImports`, on the owner thread of its sandbox session. None raises into the guest: a failure
is answered with its kind and message (:func:`~mcp_kernel.sandbox.hosterrors.encode`), and once the cell
was stopped every import says why, so the guest unwinds.

>>> imports = GuestImports("example", workspace=Path("."))
>>> imports.call_tool("demo", "echo", "{}")     # no cell is running
'-error\\tSandboxError: the cell was stopped (close).'
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from ..errors import MCPKernelError, PolicyViolation, SandboxError
from ..runtime import Scope
from .cell import Cell
from .hosterrors import encode, stopped
from .policy import SandboxPolicy
from .snapshot import Snapshot

__all__ = [
    "MAX_CALLS_IN_FLIGHT",
    "PER_SERVER_CONCURRENCY",
    "UNWIND_GRACE_S",
    "GuestImports",
    "HostHandler",
    "StateStore",
    "workspace_bytes",
]

log = logging.getLogger(__name__)

# How long a stopped guest may take to unwind (it gets KeyboardInterrupt from a waiting tool call)
# before the epoch callback traps it.
UNWIND_GRACE_S = 0.25
_MAX_LOG_LINE = 10_000
# Concurrent tool calls (asyncio.gather in a cell): at most this many in flight per cell (the guest queues
# more), and per server at once.
MAX_CALLS_IN_FLIGHT = 256
PER_SERVER_CONCURRENCY = 32
_FOREVER_MS = 0xFFFFFFFF
# How often (in epoch ticks of 10 ms) a running cell's workspace is measured against its disk limit: every
# 20 ms, since a writer fills the page cache at gigabytes a second (a scan of a small workspace costs
# microseconds; at every 100 ms a starved ticker let a loop of 1 MiB writes pass 8 MiB by 230 MB).
_DISK_CHECK_TICKS = 2


class HostHandler(Protocol):
    """What the guest's ``call-tool`` reaches: the bridge, or anything with this method.

    ``scope`` bounds the call: stopping the cell stops it (see :class:`~mcp_kernel.runtime.Scope`).
    """

    def call_tool(self, server: str, tool: str, params_json: str, scope: Scope | None = None) -> str: ...


class StateStore:
    """The per-session key/value store behind ``get-state``/``set-state``: JSON values, bounded in size."""

    def __init__(self, limit_bytes: int = 1 << 20) -> None:
        self.limit_bytes = limit_bytes
        self._values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value_json: str) -> None:
        json.loads(value_json)  # the guest sends JSON; refuse anything else
        size = sum(len(k) + len(v) for k, v in self._values.items() if k != key) + len(key) + len(value_json)
        if size > self.limit_bytes:
            raise SandboxError(
                f"State is limited to {self.limit_bytes:,} bytes per session; this value would "
                f"make it {size:,}."
            )
        self._values[key] = value_json

    def clear(self) -> None:
        self._values.clear()

    def dump(self) -> dict[str, str]:
        """Every key and its JSON text (a parked session keeps them)."""
        return dict(self._values)


class _NoTools:
    def call_tool(self, server: str, tool: str, params_json: str, scope: Scope | None = None) -> str:
        raise SandboxError("This sandbox has no tool bridge: no server was granted to it.")


class GuestImports:
    """The host side of one sandbox session's imports; ``cell`` is the cell running now (None between cells).

    Tools are reached through ``host`` (the bridge); ``state`` and ``snapshot`` are the session's.
    """

    def __init__(
        self,
        name: str,
        *,
        workspace: Path,
        host: HostHandler | None = None,
        state: StateStore | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        self.name = name
        self.workspace = workspace
        self.host: HostHandler = host or _NoTools()
        self.state = state if state is not None else StateStore()
        self.snapshot = snapshot if snapshot is not None else Snapshot()
        self.cell: Cell | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots: dict[str, threading.Semaphore] = {}
        self._slots_lock = threading.Lock()
        self._call_ids = 0

    # ---- tools -----------------------------------------------------------------------------------------
    def call_tool(self, server: str, tool: str, params_json: str) -> str:
        """The ``call-tool`` import: ``"+"`` and the result's JSON, or ``"-"`` and why it failed (:func:`encode`)."""
        cell = self.cell
        if cell is None or cell.stop_reason is not None:
            return "-" + encode(_stopped(cell))
        try:
            return "+" + self.host.call_tool(server, tool, params_json, cell.scope)
        except BaseException as exc:
            if cell.stop_reason is not None:
                return "-" + encode(_stopped(cell))
            if not isinstance(exc, MCPKernelError):
                log.exception("host error in call-tool %s.%s", server, tool)
            return "-" + encode(exc)

    def read_resource(self, server: str, uri: str) -> Any:
        """The guest's ``read-resource``: through the host's bridge when it can read resources."""
        from wasmtime.component import Variant  # wasmtime loads with the first instance, not on import

        cell = self.cell
        if cell is None or cell.stop_reason is not None:
            return Variant("err", encode(_stopped(cell)))
        reader = getattr(self.host, "read_resource", None)
        if reader is None:
            return Variant("err", encode(SandboxError("this sandbox's host cannot read resources.")))
        try:
            return Variant("ok", reader(server, uri, cell.scope))
        except BaseException as exc:
            if cell.stop_reason is not None:
                return Variant("err", encode(_stopped(cell)))
            if not isinstance(exc, MCPKernelError):
                log.exception("host error in read-resource %s %s", server, uri)
            return Variant("err", encode(exc))

    def show_view(self, server: str, tool: str, params_json: str) -> str | None:
        """The guest's ``show-view``: ask for the view of one of the cell's calls (``None``), or why not.

        ``result<_, string>`` has cases of different types, so wasmtime-py takes them untagged.
        """
        cell = self.cell
        if cell is None or cell.stop_reason is not None:
            return encode(_stopped(cell))
        views = getattr(self.host, "views", None)
        if views is None:
            return encode(SandboxError("this sandbox's host does not show views."))
        try:
            views.show(server, tool, params_json)
        except BaseException as exc:
            if not isinstance(exc, MCPKernelError):
                log.exception("host error in show-view %s.%s", server, tool)
            return encode(exc)
        return None

    def start_call(self, server: str, tool: str, params_json: str) -> int | str:
        """Start a tool call that runs while the guest goes on (its event loop awaits it); its id.

        ``result<u64, string>`` has cases of different types, so wasmtime-py takes them untagged: an int
        is ``ok`` (the id), a string is ``err``.
        """
        cell = self.cell
        if cell is None or cell.stop_reason is not None:
            return encode(_stopped(cell))
        if len(cell.calls) >= MAX_CALLS_IN_FLIGHT:
            return encode(
                PolicyViolation(
                    f"at most {MAX_CALLS_IN_FLIGHT} tool calls may be in flight at once in "
                    "a cell; await some before starting more."
                )
            )
        self._call_ids += 1
        cell.calls[self._call_ids] = self._executor().submit(
            self._concurrent_call, cell, server, tool, params_json
        )
        return self._call_ids

    def _concurrent_call(self, cell: Cell, server: str, tool: str, params_json: str) -> str:
        with self._slots_for(server):
            if cell.stop_reason is not None:
                raise _stopped(cell)
            return self.host.call_tool(server, tool, params_json, cell.scope)

    def _slots_for(self, server: str) -> threading.Semaphore:
        with self._slots_lock:
            return self._slots.setdefault(server, threading.Semaphore(PER_SERVER_CONCURRENCY))

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=32, thread_name_prefix=f"mcp-kernel-calls:{self.name}"
            )
        return self._pool

    def wait_calls(self, ids: list[int], timeout_ms: int) -> str:
        """Block (the owner thread, not wasm) until one of ``ids`` finishes, ``timeout_ms`` pass or the cell
        is stopped; answer ``{"done": [[id, ok, text], ...], "stopped": reason or null}``."""
        cell = self.cell
        if cell is None:
            return json.dumps({"done": [], "stopped": "close"})
        end = None if timeout_ms == _FOREVER_MS else time.monotonic() + timeout_ms / 1000
        futures = {i: cell.calls[i] for i in ids if i in cell.calls}
        while True:
            if cell.stop_reason is None and cell.scope.deadline.expired():
                cell.stop("timeout")
            done = [(i, f) for i, f in futures.items() if f.done()]
            if done or cell.stop_reason is not None:
                answers = []
                for call_id, future in done:
                    cell.calls.pop(call_id, None)
                    answers.append([call_id, *_outcome(future)])
                return json.dumps({"done": answers, "stopped": cell.stop_reason}, ensure_ascii=True)
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return json.dumps({"done": [], "stopped": None})
            slice_ = 0.05 if left is None else min(0.05, left)
            if futures:
                concurrent.futures.wait(
                    list(futures.values()), timeout=slice_, return_when=concurrent.futures.FIRST_COMPLETED
                )
            else:
                cell.stopped_event.wait(slice_)

    # ---- output, state, snapshot -------------------------------------------------------------------------
    def log(self, level: str, message: str) -> str:
        """The ``log`` import: ``""``, or why the cell was stopped (the guest raises KeyboardInterrupt there)."""
        cell = self.cell
        if cell is None:
            return ""
        if cell.stop_reason is None and cell.scope.deadline.expired():
            # a printing loop meets its time limit here, inside Python, keeping its variables
            cell.stop("timeout")
        if cell.stop_reason is not None:
            return cell.stop_reason if cell.stop_reason in ("interrupt", "timeout") else ""
        if level not in ("stdout", "stderr"):
            message = message[:_MAX_LOG_LINE]  # a log line is kept short: only what is kept counts
        size = len(message.encode("utf-8", "replace"))
        if cell.out_bytes + size > cell.policy.output_limit_bytes:
            # The cap is the host's: a cell that rewrote its own budget in the guest still ends here.
            cell.stop("output")
            return ""
        cell.out_bytes += size
        if level in ("stdout", "stderr"):
            cell.emit(level, message)
            return ""
        cell.logs.append((level[:20], message))
        return ""

    def get_state(self, key: str) -> str | None:
        return self.state.get(key)

    def set_state(self, key: str, value_json: str) -> str | None:
        # result<_, string> has cases that differ in type, so wasmtime-py takes them untagged:
        # None is `ok`, a string is `err`.
        try:
            self.state.set(key, value_json)
        except (SandboxError, ValueError) as exc:
            return str(exc)
        return None

    def keep_snapshot(self, update_json: str) -> str:
        """The ``keep-snapshot`` import: stage the cell's changed variables; ``""``, or why they were not taken."""
        cell = self.cell
        if cell is None or cell.stop_reason is not None:
            return "the cell was stopped"
        try:
            cell.snapshot = self.snapshot.parse(update_json)
        except SandboxError as exc:
            return str(exc) or "refused"
        return ""

    # ---- time and disk ---------------------------------------------------------------------------------
    def on_epoch(self) -> bool:
        """Called by wasmtime every tick while the guest runs: go on (True) or trap now (False)."""
        cell = self.cell
        if cell is None:
            return True
        now = time.monotonic()
        if cell.stop_reason is None and cell.scope.deadline.expired():
            cell.stop("timeout")
        cell.ticks += 1
        if cell.stop_reason is None and cell.ticks % _DISK_CHECK_TICKS == 0 and self.over_disk(cell.policy):
            cell.stop("disk")
        if cell.stop_reason is None:
            return True
        return cell.stop_reason not in ("output", "close", "disk") and now - cell.stopped_at < UNWIND_GRACE_S

    def over_disk(self, policy: SandboxPolicy) -> bool:
        """Whether the workspace holds more than the policy's disk limit."""
        return workspace_bytes(self.workspace, stop_above=policy.disk_mb << 20) > policy.disk_mb << 20

    def close(self) -> None:
        """Let go of the threads of concurrent calls (those still running are cancelled with their cell)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def workspace_bytes(path: Path, stop_above: int | None = None) -> int:
    """Bytes held by the files under ``path`` (symlinks not followed); stops counting past ``stop_above``."""
    total = 0
    pending = [path]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
        if stop_above is not None and total > stop_above:
            break
    return total


def _outcome(future: concurrent.futures.Future[str]) -> tuple[bool, str]:
    """(ok, text) of a finished concurrent call: its JSON, or its error as call-tool would give it."""
    try:
        return True, future.result()
    except BaseException as exc:
        if not isinstance(exc, MCPKernelError):
            log.exception("host error in a concurrent tool call")
        return False, encode(exc)


def _stopped(cell: Cell | None) -> MCPKernelError:
    """What a host import meets once ``cell`` was stopped (or when no cell runs)."""
    return stopped(cell.stop_reason if cell is not None else None)
