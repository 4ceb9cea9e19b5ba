"""README's promise, with real processes: success exits 0, an expected failure 1, a usage error 2, Ctrl-C 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_kernel", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_a_cell_that_raises_exits_1_and_shows_its_traceback(tmp_path: Path) -> None:
    job = tmp_path / "job.py"
    job.write_text("print('before')\nraise ValueError('no such region')\n")
    out = run("execute", str(job))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "before" in out.stdout and "ValueError: no such region" in out.stdout
    fine = run("execute", "-", stdin="print(6 * 7)\n")
    assert fine.returncode == 0 and "42" in fine.stdout


def test_a_tool_error_result_exits_1_and_a_good_call_0() -> None:
    failed = run("call", "demo", "get_customer", '{"customer_id": "nobody"}')
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "No customer with id 'nobody'" in failed.stdout
    assert run("call", "demo", "get_customer", '{"customer_id": "nobody"}', "--json").returncode == 1
    assert run("call", "demo", "list_regions").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["introspect"],
        ["frobnicate"],
        ["call", "demo", "list_regions", "[1]"],
        ["execute", "-", "--memory", "lots"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2 and out.stderr.startswith("error: "), out.stderr


def test_expected_failures_exit_1() -> None:
    out = run("introspect", "nosuch")
    assert out.returncode == 1 and out.stderr.startswith("error: ") and "Traceback" not in out.stderr


def test_ctrl_c_while_a_cell_runs_exits_130(tmp_path: Path) -> None:
    """Ctrl-C stops `mcp-kernel execute` as it stops any command: one line on stderr and 130, as shells report it."""
    # The sandbox's /workspace is a directory under the session's temp dir: the file the cell writes there
    # says it is running (the command prints the cell's output only at its end).
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_kernel", "execute", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        with proc.stdin as stdin:  # type: ignore[union-attr]
            stdin.write("open('/workspace/started', 'w').write('yes')\nimport time\ntime.sleep(600)\n")
        end = time.monotonic() + 240
        while not list(tmp_path.glob("mcp-kernel-session-*/workspaces/*/started")):
            assert proc.poll() is None, "the command ended before the cell started"
            assert time.monotonic() < end, "the cell did not start"
            time.sleep(0.05)
        masks = signal_masks(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    # Seen once beside two CPU hogs (the cell ran to its time limit): say how SIGINT stood if it comes back.
    assert proc.returncode == 130, (
        f"{out}{err}\nthe command's {masks}; ours: {signal.getsignal(signal.SIGINT)}"
    )
    assert "Traceback" not in err, err


def signal_masks(pid: int) -> str:
    """How process ``pid`` stood towards signals (Linux's /proc: ignored, blocked, caught), for a failure message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "signal masks: unknown on this platform"
    return "signal masks: " + ", ".join(
        line for line in lines if line.startswith(("SigIgn", "SigBlk", "SigCgt"))
    )
