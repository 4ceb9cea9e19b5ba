"""A stdio server's process group, stopped at close (mcp_kernel/client/process.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import psutil
import pytest

from mcp_kernel.client.process import stop_group


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
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
