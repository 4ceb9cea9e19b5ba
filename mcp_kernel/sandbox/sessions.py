"""The live sandbox sessions of one process: open, get, close, with limits, idle expiry and memory accounting.

The kernel keeps one session per notebook by default (``%mcp session new|list|close`` for more);
``mcp-kernel serve`` keeps one per agent session, reached through an unguessable handle. Each session has
its own guest instance (its own owner thread and store), its own workspace and its own bridge records;
they share the engine, the compiled component and the read-only bindings tree.

Memory is accounted by what each session may use: its memory limit. Limits are per caller (the session's
owner: serve's authenticated caller) under a global ceiling: ``per_caller_sessions`` and
``per_caller_memory_mb`` for each caller, ``max_sessions`` and ``memory_budget_mb`` for the process, and
``per_caller_executes`` cells running at once. Opening a session that would pass one first closes the
caller's own longest-idle session that is not running a cell (when ``evict`` is on), never another
caller's; when the caller has none left it gets :class:`~mcp_kernel.errors.SessionLimit`. Owner ``None``
(the kernel, or serve without authentication) is one caller whose limits are the global ones.

For example::

    sessions = SandboxSessions(lambda handle: Sandbox(name=handle), max_sessions=4)
    handle = sessions.open()
    sessions.get(handle).execute("1 + 1").value
    # 2
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator

from ..errors import ExecuteLimit, SessionLimit, SessionNotFound
from ..models import SandboxSessionInfo, SandboxSessionList
from .parking import ParkingLot
from .policy import SandboxPolicy
from .session import Sandbox

__all__ = ["DEFAULT_HANDLE", "SandboxSessions"]

log = logging.getLogger(__name__)
Prepare = Callable[[Sandbox], None] | None  # what open() does to a new sandbox before anyone can reach it

DEFAULT_HANDLE = "default"
FOREIGN_IDLE_S = 2.0  # another replica's session restored here is parked again this soon after use
OTHERS_IDLE_S = 5.0  # with parking, another caller's session makes room only when idle this long
ANY_OWNER = object()  # SandboxSessions.get without an owner check (the host's own use)


class SandboxSessions:
    """Sandbox sessions by handle; thread-safe. ``factory(handle)`` builds a new :class:`Sandbox`."""

    def __init__(
        self,
        factory: Callable[[str], Sandbox],
        *,
        max_sessions: int = 20,
        idle_timeout_s: float | None = 3600.0,
        memory_budget_mb: int | None = None,
        evict: bool = True,
        per_caller_sessions: int | None = None,
        per_caller_memory_mb: int | None = None,
        per_caller_executes: int | None = None,
        parking: ParkingLot | None = None,
        park_after_s: float | None = None,
        replica: str | None = None,
    ) -> None:
        self.factory = factory
        # Parking (serve): a session idle for ``park_after_s`` is written to ``parking`` and dropped from
        # memory, as is one closed to make room; its next use restores it (see parking.py). ``replica``
        # starts each new handle, so a request that reaches another replica is told where the session lives.
        self.parking = parking
        self.park_after_s = park_after_s
        self.replica = replica
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.memory_budget_mb = memory_budget_mb
        self.evict = evict
        self.per_caller_sessions = per_caller_sessions
        self.per_caller_memory_mb = per_caller_memory_mb
        self.running = RunningCells(per_caller_executes)
        self._sessions: dict[str, Sandbox | _Opening] = {}
        self._owners: dict[str, str | None] = {}  # who opened each session (serve's authenticated caller)
        self._lock = threading.Lock()

    # ---- open / get / close ----------------------------------------------------------------------
    def open(self, handle: str | None = None, owner: str | None = None, prepare: Prepare = None) -> str:
        """Start a session and return its handle (a new unguessable one unless ``handle`` is given); only
        ``owner`` (an authenticated caller, when there is one) may use it afterwards. ``prepare`` runs on the
        new sandbox before anyone else can reach it (a restore)."""
        handle = handle or ".".join(filter(None, [self.replica, secrets.token_urlsafe(18)]))
        self.expire()
        with self._lock:
            if handle in self._sessions:  # a restore that meets another one: as if it were not there yet
                raise (SessionNotFound if prepare else SessionLimit)(
                    f"A sandbox session named {_show(handle)} is already open (or being restored by another "
                    "call): pick another name or close it first, or try again."
                )
            victims = self._make_room_locked(owner)
            self._owners[handle] = owner
            self._sessions[handle] = placeholder = _Opening()
        self._retire(victims)
        sandbox = None
        try:
            sandbox = self.factory(handle)
            if prepare is not None:
                prepare(sandbox)
        except BaseException:
            with self._lock:
                self._sessions.pop(handle, None)
                self._owners.pop(handle, None)
            if sandbox is not None:
                sandbox.close()
            raise
        with self._lock:
            if self._sessions.get(handle) is placeholder:
                self._sessions[handle] = sandbox
                return handle
        sandbox.close()  # closed while it was being built
        raise SessionNotFound(f"Sandbox session {handle!r} was closed while it opened.")

    def get(self, handle: str, owner: str | object | None = ANY_OWNER) -> Sandbox:
        """The live session for ``handle``; raises ``SessionNotFound`` for a closed, expired or forged one,
        and, when ``owner`` is given, for one that another owner opened (the message does not tell these
        apart)."""
        self.expire()
        with self._lock:
            sandbox = self._sessions.get(handle)
        if sandbox is None and owner is not ANY_OWNER and self.parking is not None:
            sandbox = self._restore(handle, owner if isinstance(owner, str) else None)
        with self._lock:
            theirs = owner is not ANY_OWNER and self._owners.get(handle) != owner
        if sandbox is None or isinstance(sandbox, _Opening) or sandbox.closed or theirs:
            raise SessionNotFound(_not_found(handle, self.replica, self.idle_timeout_s))
        sandbox.last_used = time.monotonic()
        return sandbox

    def _restore(self, handle: str, owner: str | None) -> Sandbox | None:
        """``handle``'s parked session, open again (None: ``owner`` parked none). A limit refuses before the
        parcel is claimed; a failure puts it back: never a fresh session under its handle."""
        lot = self.parking
        if lot is None or not lot.holds(handle, owner):
            return None

        def restored(sandbox: Sandbox) -> None:
            parcel = lot.claim(handle, owner)
            if parcel is None:  # restored by another call or replica meanwhile
                raise SessionNotFound(_not_found(handle, self.replica, self.idle_timeout_s))
            try:
                parcel.apply(sandbox)
            except BaseException:
                lot.unclaim(parcel)
                raise

        self.open(handle, owner, prepare=restored)
        return self._sessions.get(handle)  # type: ignore[return-value]

    def owner(self, handle: str) -> str | None:
        """Who opened session ``handle`` (serve's authenticated caller; None: no one in particular)."""
        with self._lock:
            return self._owners.get(handle)

    def get_or_open(self, handle: str) -> Sandbox:
        """The session named ``handle``, opened if it is not live (the kernel's default session)."""
        try:
            return self.get(handle)
        except SessionNotFound:
            with contextlib.suppress(SessionLimit):  # opened by another thread meanwhile
                self.open(handle)
            return self.get(handle)

    def close(self, handle: str) -> None:
        """Close one session: its cell is stopped, its store closed, its memory freed (its parcel removed)."""
        with self._lock:
            sandbox = self._sessions.pop(handle, None)
            owner = self._owners.pop(handle, None)
        if self.parking is not None:
            self.parking.forget(handle, owner)
        if sandbox is None:
            raise SessionNotFound(f"No live sandbox session {_show(handle)} to close.")
        if not isinstance(sandbox, _Opening):
            sandbox.close()

    def close_all(self) -> None:
        with self._lock:
            sandboxes = list(self._sessions.values())
            self._sessions.clear()
            self._owners.clear()
        for sandbox in (s for s in sandboxes if isinstance(s, Sandbox)):
            sandbox.close()

    def park_all(self) -> int:
        """Park every idle session (serve stopping: a restarted serve resumes them); how many were parked."""
        return 0 if self.parking is None else len(self._drop_idle(0.0))

    # ---- limits ----------------------------------------------------------------------------------
    def expire(self) -> list[str]:
        """Close (with a lot: park) sessions idle past ``idle_timeout_s`` or ``park_after_s``; their handles."""
        limits = [self.idle_timeout_s] + ([self.park_after_s] if self.parking is not None else [])
        idle = min((limit for limit in limits if limit is not None), default=None)
        return [] if idle is None else self._drop_idle(idle)

    def _drop_idle(self, idle_s: float) -> list[str]:
        # Another replica's session, restored here while its own was down, is parked again soon after use,
        # so that its own replica, back, finds it in the lot.
        home = f"{self.replica}." if self.parking is not None and self.replica else ""
        now = time.monotonic()
        with self._lock:
            victims = [
                (h, self._owners.get(h), s)
                for h, s in self._sessions.items()
                if isinstance(s, Sandbox)
                and not s.busy
                and now - s.last_used >= (idle_s if h.startswith(home) else min(idle_s, FOREIGN_IDLE_S))
            ]
            for h, o, _ in victims:
                if self.parking is not None:
                    self.parking.expect(h, o)  # a restore meanwhile waits for it
                del self._sessions[h]
                self._owners.pop(h, None)
        self._retire(victims)
        return [h for h, _, _ in victims]

    def _retire(self, victims: list[tuple[str, str | None, Sandbox]]) -> None:
        """Park (when there is a lot) and close sessions already taken out of the table; a park that fails
        (a full or missing disk) is logged, and every one is closed all the same."""
        for handle, owner, sandbox in victims:
            try:
                if self.parking is not None:
                    self.parking.park(handle, owner, sandbox)
            except Exception as exc:
                log.warning("sandbox session %s was closed unparked: %s", _show(handle), exc)
            finally:
                sandbox.close()

    def memory_reserved_mb(self) -> int:
        """The memory the live sessions may use together (the sum of their limits)."""
        with self._lock:
            return self._reserved_locked()

    def _reserved_locked(self, handles: list[str] | None = None) -> int:
        """Memory limits of the live sessions (of ``handles`` only, when given); one still opening counts at the
        default, so two opening at once cannot both squeeze under a budget."""
        chosen = self._sessions.values() if handles is None else [self._sessions[h] for h in handles]
        return sum(_default_memory_mb() if isinstance(s, _Opening) else s.memory_limit_mb for s in chosen)

    def _make_room_locked(self, owner: str | None) -> list[tuple[str, str | None, Sandbox]]:
        """Take idle sessions out, oldest first, until one more of ``owner``'s fits: its own, never another
        caller's, which would lose that caller's work; with a parking lot, under the global limit, anyone's
        (parked, nothing is lost). The caller retires them (parked or closed) outside the lock."""
        victims = []
        while (limit := self._limit_passed_locked(owner)) is not None:
            anyone = limit == "global" and self.parking is not None
            now = time.monotonic()
            idle = sorted(
                (
                    (h, s)
                    for h, s in self._sessions.items()
                    if isinstance(s, Sandbox)
                    and not s.busy
                    and (
                        self._owners.get(h) == owner
                        or (anyone and now - s.last_used >= OTHERS_IDLE_S)  # not one about to run a cell
                    )
                ),
                key=lambda item: item[1].last_used,
            )
            if not self.evict or not idle:
                mine = sum(1 for h in self._sessions if self._owners.get(h) == owner)
                raise SessionLimit(_refusal(self, owner, limit, mine, len(self._sessions)), limit="sessions")
            handle, victim = idle[0]
            del self._sessions[handle]
            victims.append((handle, self._owners.pop(handle, None), victim))
            if self.parking is not None:
                self.parking.expect(handle, victims[-1][1])
        return victims

    def _limit_passed_locked(self, owner: str | None) -> str | None:
        """Which limit one more session of ``owner`` would pass: "caller", "global" or None."""
        new_mb = _default_memory_mb()
        if owner is not None:
            mine = [h for h in self._sessions if self._owners.get(h) == owner]
            if self.per_caller_sessions is not None and len(mine) + 1 > self.per_caller_sessions:
                return "caller"
            if (
                self.per_caller_memory_mb is not None
                and mine
                and self._reserved_locked(mine) + new_mb > self.per_caller_memory_mb
            ):
                return "caller"
        if len(self._sessions) + 1 > self.max_sessions:
            return "global"
        if (
            self.memory_budget_mb is not None
            and self._sessions
            and self._reserved_locked() + new_mb > self.memory_budget_mb
        ):
            return "global"
        return None

    def admit(self, handle: str, memory_mb: int) -> None:
        """Check that a cell of ``handle`` with a ``memory_mb`` limit keeps its owner and the process within their
        memory budgets (a raised limit stays reserved: wasm memory never shrinks); else ``SessionLimit``."""
        with self._lock:
            sandbox = self._sessions.get(handle)
            if sandbox is None or isinstance(sandbox, _Opening):
                return  # get() reports it
            owner = self._owners.get(handle)
            more = max(0, memory_mb - sandbox.memory_limit_mb)
            mine = [h for h in self._sessions if self._owners.get(h) == owner]
            if (
                owner is not None
                and self.per_caller_memory_mb is not None
                and self._reserved_locked(mine) + more > self.per_caller_memory_mb
            ):
                raise SessionLimit(
                    f"A {memory_mb} MiB memory limit would take your sessions past the "
                    f"{self.per_caller_memory_mb} MiB one caller may reserve (they reserve "
                    f"{self._reserved_locked(mine)} MiB now).",
                    limit="sessions",
                )
            if self.memory_budget_mb is not None and self._reserved_locked() + more > self.memory_budget_mb:
                raise SessionLimit(
                    f"A {memory_mb} MiB memory limit would take the sandbox sessions of all callers "
                    f"past their {self.memory_budget_mb} MiB budget.",
                    limit="sessions",
                )

    def executing(self, owner: str | None) -> contextlib.AbstractContextManager[None]:
        """Count one running cell of ``owner`` while the block lasts (see :class:`RunningCells`)."""
        return self.running.cell(owner)

    # ---- views -----------------------------------------------------------------------------------
    def handles(self) -> list[str]:
        with self._lock:
            return [h for h, s in self._sessions.items() if not isinstance(s, _Opening)]

    def __contains__(self, handle: object) -> bool:
        with self._lock:
            return handle in self._sessions

    def info(self) -> SandboxSessionList:
        """One row per live session: cells run, idle time, memory limit, whether a cell is running."""
        with self._lock:
            items = [(h, s) for h, s in self._sessions.items() if isinstance(s, Sandbox)]
        return _listing(items, self.max_sessions, self.memory_budget_mb)


class RunningCells:
    """Cells running (or waiting for answers) per caller, at most ``per_caller`` at once for each."""

    def __init__(self, per_caller: int | None) -> None:
        self.per_caller = per_caller
        self._running: dict[str | None, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def cell(self, owner: str | None) -> Iterator[None]:
        """Count one running cell of ``owner`` for as long as the block lasts; past ``per_caller`` it raises
        :class:`~mcp_kernel.errors.ExecuteLimit` at once (others' cells are never held up).

        For example::

            with sessions.executing("alice"):
                sessions.get(handle, owner="alice").execute("1")
        """
        with self._lock:
            running = self._running.get(owner, 0)
            if self.per_caller is not None and running >= self.per_caller:
                raise ExecuteLimit(
                    f"You are already running {running} executes at once, the most one caller may.",
                    limit="executes",
                )
            self._running[owner] = running + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[owner] -= 1
                if not self._running[owner]:
                    del self._running[owner]


class _Opening:
    """Holds a handle's place while its sandbox is built (outside the lock)."""


def _default_memory_mb() -> int:
    return SandboxPolicy.default().memory_mb


def _show(handle: str) -> str:
    """A handle as shown in errors: short, so a forged value is not echoed at length."""
    return repr(handle if len(handle) <= 40 else handle[:37] + "...")


def _not_found(handle: str, replica: str | None, idle_timeout_s: float | None) -> str:
    elsewhere = handle.partition(".")[0] if "." in handle else None
    if replica is not None and elsewhere not in (None, replica):
        return (
            f"Sandbox session {_show(handle)} was opened on replica {_show(str(elsewhere))}, and this is "
            f"{replica!r}; it was not parked where this replica can restore it. Route every request of a "
            "session to one replica (on the Mcp-Param-Session header, docs/deploy.md), or open a new session."
        )
    idle = f", expired after {idle_timeout_s:g} s idle" if idle_timeout_s else ""
    return f"No live sandbox session {_show(handle)}: it was closed{idle}, or never existed. Open a new one."


def _refusal(sessions: SandboxSessions, owner: str | None, limit: str, mine: int, total: int) -> str:
    """Why one more session of ``owner`` (who has ``mine`` of the ``total`` open) is refused."""
    if owner is not None and limit == "caller":
        budget = (
            f" or {sessions.per_caller_memory_mb} MiB" if sessions.per_caller_memory_mb is not None else ""
        )
        return (
            f"Too many sandbox sessions: you have {mine} open, the most one caller may have "
            f"({sessions.per_caller_sessions} sessions{budget}), and each is running code."
        )
    if owner is not None:
        # The ceiling of the whole process: refused, since making room would close someone else's work.
        return (
            f"The server holds its most sandbox sessions for all callers ({sessions.max_sessions}"
            + (f", {sessions.memory_budget_mb} MiB" if sessions.memory_budget_mb is not None else "")
            + f"); none of your {mine} is idle to make room, and others' sessions are never closed for "
            "you. Try again later."
        )
    return (
        f"{total} sandbox sessions are open (limit {sessions.max_sessions}"
        + (f", memory budget {sessions.memory_budget_mb} MiB" if sessions.memory_budget_mb else "")
        + (") and each is running code." if sessions.evict else ").")
    )


def _listing(
    items: list[tuple[str, Sandbox]], max_sessions: int, budget_mb: int | None
) -> SandboxSessionList:
    now = time.monotonic()
    rows = [
        SandboxSessionInfo(
            handle=h,
            cells=s.cells,
            idle_s=round(now - s.last_used, 1),
            memory_limit_mb=s.memory_limit_mb,
            busy=s.busy,
        )
        for h, s in items
    ]
    return SandboxSessionList(
        sessions=rows,
        max_sessions=max_sessions,
        memory_reserved_mb=sum(r.memory_limit_mb for r in rows),
        memory_budget_mb=budget_mb,
    )
