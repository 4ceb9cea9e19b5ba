"""Many sandbox sessions in one process: handles, isolation, limits, idle expiry, memory accounting."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_kernel.errors import ExecuteLimit, SandboxError, SessionLimit, SessionNotFound
from mcp_kernel.sandbox import Engine, Sandbox, SandboxPolicy
from mcp_kernel.sandbox.instance import live_stores
from mcp_kernel.sandbox.sessions import SandboxSessions

pytestmark = pytest.mark.slow


@pytest.fixture()
def sessions(engine: Engine, tmp_path: Path) -> Iterator[SandboxSessions]:
    def factory(handle: str) -> Sandbox:
        return Sandbox(engine, workspace=tmp_path / handle, name=handle, remove_workspace=True)

    pool = SandboxSessions(factory, max_sessions=3, idle_timeout_s=None)
    yield pool
    pool.close_all()


def test_handles_are_unguessable_and_sessions_isolated(sessions: SandboxSessions, tmp_path: Path) -> None:
    a, b = sessions.open(), sessions.open()
    assert a != b and len(a) >= 24
    sessions.get(a).execute("secret = 'a'; open('mine.txt', 'w').write('a')")
    other = sessions.get(b).execute("'secret' in globals(), __import__('os').listdir('.')")
    assert other.value == [False, []], "no variables and no workspace files of another session"
    assert (tmp_path / a / "mine.txt").read_text() == "a"
    sessions.get(b).execute("import _mcp_runtime as rt\nrt.set_state('k', 'b')")
    assert sessions.get(a).execute("import _mcp_runtime as rt\nrt.get_state('k')").value is None


def test_a_forged_or_closed_handle_is_a_clear_error(sessions: SandboxSessions, tmp_path: Path) -> None:
    with pytest.raises(SessionNotFound, match="it was closed, or never existed"):
        sessions.get("forged-" + "x" * 100)
    handle = sessions.open()
    sessions.get(handle).execute("x = 1")
    assert (tmp_path / handle).is_dir()
    sessions.close(handle)
    with pytest.raises(SessionNotFound):
        sessions.get(handle)
    assert not (tmp_path / handle).exists(), "closing frees the workspace"


def test_past_the_limit_the_longest_idle_session_is_closed(sessions: SandboxSessions) -> None:
    first, second, third = sessions.open("first"), sessions.open("second"), sessions.open("third")
    for handle in (second, first, third):
        sessions.get(handle).execute("1")
        time.sleep(0.01)
    fourth = sessions.open()
    assert second not in sessions and {first, third, fourth} <= set(sessions.handles())
    sessions.evict = False
    with pytest.raises(SessionLimit, match="limit 3"):
        sessions.open()


def test_idle_sessions_expire(engine: Engine, tmp_path: Path) -> None:
    pool = SandboxSessions(
        lambda h: Sandbox(engine, workspace=tmp_path / h, name=h, remove_workspace=True), idle_timeout_s=0.2
    )
    try:
        handle = pool.open()
        pool.get(handle).execute("1")
        time.sleep(0.4)
        assert pool.expire() == [handle]
        with pytest.raises(SessionNotFound):
            pool.get(handle)
    finally:
        pool.close_all()


def test_memory_is_accounted_by_limits(engine: Engine, tmp_path: Path) -> None:
    pool = SandboxSessions(
        lambda h: Sandbox(engine, workspace=tmp_path / h, name=h, remove_workspace=True),
        memory_budget_mb=600,
        evict=False,
    )
    try:
        pool.open("a")
        pool.open("b")
        assert pool.memory_reserved_mb() == 512
        with pytest.raises(SessionLimit, match="memory budget 600 MiB"):
            pool.open("c")
        info = pool.info()
        assert [r.handle for r in info.sessions] == ["a", "b"] and info.memory_reserved_mb == 512
    finally:
        pool.close_all()


def test_closing_frees_the_store(sessions: SandboxSessions) -> None:
    before = live_stores()
    handle = sessions.open()
    sessions.get(handle).execute("1")
    assert live_stores() == before + 1
    sessions.close(handle)
    assert live_stores() == before


# ---- per-caller fairness: callers own their sessions; nobody's work is closed to make room for another's ----
@pytest.fixture()
def fair(engine: Engine, tmp_path: Path) -> Iterator[SandboxSessions]:
    def factory(handle: str) -> Sandbox:
        return Sandbox(engine, workspace=tmp_path / handle, name=handle, remove_workspace=True)

    pool = SandboxSessions(
        factory, max_sessions=4, idle_timeout_s=None, per_caller_sessions=3, per_caller_executes=2
    )
    yield pool
    pool.close_all()


def _keep_busy(pool: SandboxSessions, handle: str, owner: str) -> threading.Thread:
    """Run an endless cell in ``handle`` on a thread until the session is closed; return once it runs."""
    sandbox = pool.get(handle, owner=owner)

    def spin() -> None:
        with contextlib.suppress(SandboxError):
            sandbox.execute("while True: pass", SandboxPolicy(timeout_s=600))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    while not sandbox.busy:
        time.sleep(0.01)
    return thread


def test_a_callers_new_session_closes_only_its_own_oldest_idle_one(fair: SandboxSessions) -> None:
    theirs = fair.open(owner="bob")
    fair.get(theirs, owner="bob").execute("x = 'bob'")  # bob's is the longest idle of all
    mine = [fair.open(owner="alice") for _ in range(3)]
    for handle in mine:
        fair.get(handle, owner="alice").execute("1")
        time.sleep(0.01)
    newest = fair.open(owner="alice")  # alice is at her 3: her own oldest idle one makes room
    assert mine[0] not in fair and {*mine[1:], newest, theirs} <= set(fair.handles())
    with pytest.raises(SessionNotFound):
        fair.get(mine[0], owner="alice")
    assert fair.get(theirs, owner="bob").execute("x").value == "bob", "bob's session and variables live on"


def test_a_caller_whose_sessions_all_run_is_told_to_close_one(fair: SandboxSessions) -> None:
    mine = [fair.open(owner="alice") for _ in range(3)]
    for handle in mine:
        _keep_busy(fair, handle, "alice")
    with pytest.raises(SessionLimit, match="Too many sandbox sessions: you have 3 open") as refused:
        fair.open(owner="alice")
    assert refused.value.limit == "sessions"
    assert "execute with `close` true" in str(refused.value.worded_for("serve"))
    assert set(mine) <= set(fair.handles()), "nothing of hers was closed either"
    theirs = fair.open(owner="bob")  # others are not held up
    assert fair.get(theirs, owner="bob").execute("2 + 2").value == 4


def test_the_global_ceiling_refuses_rather_than_closing_anothers_session(fair: SandboxSessions) -> None:
    theirs = [fair.open(owner="bob") for _ in range(2)]
    for handle in theirs:
        fair.get(handle, owner="bob").execute("y = 1")  # idle: today's pool would have closed one
    mine = [fair.open(owner="alice") for _ in range(2)]
    for handle in mine:
        _keep_busy(fair, handle, "alice")
    with pytest.raises(SessionLimit, match="for all callers") as refused:
        fair.open(owner="alice")
    assert refused.value.limit == "sessions"
    assert all(fair.get(h, owner="bob").execute("y").value == 1 for h in theirs)
    with pytest.raises(SessionLimit, match="for all callers"):
        fair.open(owner="carol")  # a caller with nothing open is refused too, not given someone's session


def test_a_caller_runs_at_most_its_share_of_executes_at_once(fair: SandboxSessions) -> None:
    handle = fair.open(owner="alice")
    with fair.executing("alice"), fair.executing("alice"):
        with (
            pytest.raises(ExecuteLimit, match="already running 2 executes") as refused,
            fair.executing("alice"),
        ):
            pass
        assert "Wait for one of your executes" in str(refused.value.worded_for("serve"))
        with fair.executing("bob"):  # another caller is not held up
            assert fair.get(fair.open(owner="bob"), owner="bob").execute("3").value == 3
    with fair.executing("alice"):  # her slots came back
        assert fair.get(handle, owner="alice").execute("4").value == 4


def test_a_raised_memory_limit_counts_against_the_callers_budget(engine: Engine, tmp_path: Path) -> None:
    pool = SandboxSessions(
        lambda h: Sandbox(engine, workspace=tmp_path / h, name=h, remove_workspace=True),
        idle_timeout_s=None,
        per_caller_memory_mb=600,
    )
    try:
        mine = pool.open(owner="alice")
        pool.admit(mine, 400)
        pool.get(mine, owner="alice").execute("1", SandboxPolicy(memory_mb=400))
        assert pool.memory_reserved_mb() == 400, "wasm memory never shrinks: the raised limit stays reserved"
        with pytest.raises(SessionLimit, match="past the 600 MiB one caller may reserve"):
            pool.admit(mine, 700)
        theirs = pool.open(owner="bob")  # bob has his own budget
        pool.admit(theirs, 512)
    finally:
        pool.close_all()
