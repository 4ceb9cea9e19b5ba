"""Progress of `mcp-kernel call`: a stderr line per update on a pipe, one line redrawn on a terminal.

The notebook side (a display updated in place) is in ``tests/e2e/test_progress_in_kernel.py``.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

CALL = [sys.executable, "-m", "mcp_kernel", "call", "demo", "forecast_revenue", json.dumps({"months": 3})]


def test_progress_lines_on_stderr_of_a_pipe() -> None:
    done = subprocess.run(CALL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("demo.forecast_revenue:")]
    assert lines == [f"demo.forecast_revenue: {i}/3 ({i / 3:.0%}) - month {i} of 3" for i in (1, 2, 3)]
    assert "forecast" in done.stdout


def test_progress_redraws_one_line_on_a_terminal() -> None:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(CALL, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
        proc.communicate(timeout=120)
    finally:
        os.close(primary)
    assert proc.returncode == 0
    text = seen.decode()
    assert text.count("\r\x1b[2Kdemo.forecast_revenue:") == 3
    assert "3/3 (100%)" in text and text.rstrip("\r\n").endswith("month 3 of 3")
