"""Many sandbox sessions in one process: handles, isolation, limits, idle expiry, memory accounting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_kernel.errors import SessionLimit, SessionNotFound
from mcp_kernel.sandbox import Engine, Sandbox
from mcp_kernel.sandbox.instance import live_stores
from mcp_kernel.sandbox.sessions import SandboxSessions


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
    with pytest.raises(SessionNotFound, match="closed, expired"):
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
    pool = SandboxSessions(lambda h: Sandbox(engine, workspace=tmp_path / h, name=h, remove_workspace=True),
                           idle_timeout_s=0.2)
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
    pool = SandboxSessions(lambda h: Sandbox(engine, workspace=tmp_path / h, name=h, remove_workspace=True),
                           memory_budget_mb=600, evict=False)
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
