"""A stdio server's process tree, stopped at close (mcp_kernel/client/process.py): its group where there
are process groups, the children psutil saw where there are none (Windows)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

import psutil
import pytest

from mcp_kernel.client import process
from mcp_kernel.client.process import ServerTree, stop_group


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


@pytest.mark.posix(reason="stops a process group with os.killpg")
def test_a_groups_orphans_are_stopped_at_once_without_waiting_for_init_to_reap_them() -> None:
    """Why stop_group polls for non-zombie members instead of ``psutil.wait_procs`` (see its docstring)."""
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & exit 0"], start_new_session=True)
    leader.wait()  # the leader is gone: its children are orphans, out of its tree but still in its group
    orphans = [p for p in psutil.process_iter() if p.pid != leader.pid and _pgid(p.pid) == leader.pid]
    assert len(orphans) == 2
    started = time.monotonic()
    asyncio.run(stop_group(leader.pid, grace=5.0))
    assert time.monotonic() - started < 1.5, "it returned once the orphans were dead, not after the grace"
    for orphan in orphans:
        try:
            assert orphan.status() == psutil.STATUS_ZOMBIE, "stopped, waiting only for a reaper"
        except psutil.NoSuchProcess:
            continue


def test_without_process_groups_the_children_seen_while_the_server_ran_are_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows' path, here by taking os.killpg away from process.py (a Windows runner has none)."""
    if hasattr(process.os, "killpg"):
        monkeypatch.delattr(process.os, "killpg")
    code = "import subprocess, sys, time; [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']) for _ in range(2)]; time.sleep(60)"
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        parent = psutil.Process(server.pid)
        while len(parent.children()) < 2:
            time.sleep(0.02)  # the server is starting its children
        children = parent.children()
        tree = ServerTree(server.pid)
        tree.remember()
        server.kill()  # the server is gone first: its children are orphans, found only through remember()
        server.wait()
        asyncio.run(tree.stop(grace=5.0))
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                assert child.status() == psutil.STATUS_ZOMBIE, "stopped, waiting only for a reaper"
    finally:
        server.kill()
        server.wait()
