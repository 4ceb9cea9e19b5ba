"""Stress: 4 threads x 200 cells across 20 sandbox sessions, with random interrupts and closes.

No crash, no store touched from a thread that does not own it (each store checks its owner on every use
and raises OwnershipError, which would surface here), no store or workspace left behind.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import threading
from pathlib import Path

import pytest

from mcp_kernel.errors import Interrupted, SandboxError, SessionNotFound
from mcp_kernel.runtime import Scope
from mcp_kernel.sandbox import Engine, Sandbox
from mcp_kernel.sandbox.instance import live_stores
from mcp_kernel.sandbox.owner import OwnershipError
from mcp_kernel.sandbox.sessions import SandboxSessions

pytestmark = pytest.mark.slow

SESSIONS = 20
THREADS = 4
CELLS = 200
CELL_CODE = [
    "x = sum(range(1000))\nx",
    "from _mcp_runtime import call_tool\n[call_tool('s', 'nap', {'ms': 5})['ok'] for _ in range(3)]",
    "for _ in range(20000):\n    pass\n'looped'",
    "import _mcp_runtime as rt\nrt.set_state('k', [1, 2])\nrt.get_state('k')",
    "print('line')\n1",
]


class NappingHost:
    """A host whose calls wait on the loop thread, so interrupts land while a call is in flight."""

    def call_tool(self, server: str, tool: str, params_json: str, scope: Scope | None = None) -> str:
        ms = json.loads(params_json).get("ms", 5)
        (scope or Scope()).run(asyncio.sleep(ms / 1000), timeout=5)
        return json.dumps({"ok": True})


def test_many_threads_many_sessions_random_interrupts_and_closes(engine: Engine, tmp_path: Path) -> None:
    host = NappingHost()
    stores_before = live_stores()
    (tmp_path / "ws").mkdir()

    def factory(handle: str) -> Sandbox:
        workspace = tempfile.mkdtemp(prefix=handle, dir=tmp_path / "ws")
        return Sandbox(engine, host=host, workspace=workspace, name=handle, remove_workspace=True)

    sessions = SandboxSessions(factory, max_sessions=SESSIONS, idle_timeout_s=None)
    handles = [sessions.open(f"s{i}") for i in range(SESSIONS)]
    rng = random.Random(1234)
    unexpected: list[BaseException] = []
    outcomes = {"ok": 0, "interrupted": 0, "closed": 0}
    lock = threading.Lock()
    done = threading.Event()

    def worker(seed: int) -> None:
        local = random.Random(seed)
        for _ in range(CELLS):
            handle = local.choice(handles)
            try:
                try:
                    sandbox = sessions.get(handle)
                except SessionNotFound:
                    sessions.get_or_open(handle)
                    continue
                result = sandbox.execute(local.choice(CELL_CODE))
                kind = "ok" if result.error is None else "interrupted"
            except Interrupted:
                kind = "interrupted"
            except SessionNotFound:
                kind = "closed"
            except SandboxError as exc:
                if "closed" not in str(exc) and "stopped" not in str(exc):
                    unexpected.append(exc)
                kind = "closed"
            except BaseException as exc:
                unexpected.append(exc)
                continue
            with lock:
                outcomes[kind] += 1

    def chaos() -> None:
        while not done.wait(0.003):
            handle = rng.choice(handles)
            try:
                if rng.random() < 0.05:
                    sessions.close(handle)
                else:
                    sessions.get(handle).interrupt()
            except SessionNotFound:
                pass
            except BaseException as exc:
                unexpected.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    agitator = threading.Thread(target=chaos)
    agitator.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    done.set()
    agitator.join(10)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not unexpected, unexpected[:3]
    assert not any(isinstance(e, OwnershipError) for e in unexpected)
    print(outcomes)
    assert outcomes["ok"] > 100 and outcomes["interrupted"] > 0, outcomes
    sessions.close_all()
    assert live_stores() == stores_before, "every store was closed by its owner"
    assert not any((tmp_path / "ws").iterdir()), "every workspace was removed"
