"""The bridge's guards with real servers and a real sandbox: call budgets (a cell allowed 50 calls stops the
51st, per-tool budgets) and the audit trail (one line per side-effecting call, none for read-only ones, no
argument value ever, two processes appending at once, rotation, the `audit` command's table and filters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from realservers import mailer_session, own_data_dir, sent

from mcp_kernel.audit import AUDIT_FILE, AuditTrail, read_audit
from mcp_kernel.session import Session

CANARY = "canary-7f3e9b21-do-not-record"


data = pytest.fixture(own_data_dir)
session = pytest.fixture(scope="module", name="session")(mailer_session)


@pytest.mark.slow
def test_a_cell_allowed_50_calls_stops_the_51st_with_the_first_50_delivered(
    session: Session, data: Path
) -> None:
    before = sent(session)
    policy = session.policy(["mailer"], max_calls=50)
    result = session.execute(
        "from servers.mailer import send_email\n"
        "from _mcp_runtime import ToolCallError\n"
        "done = 0\n"
        "try:\n"
        "    for i in range(60):\n"
        "        send_email(to=f'a{i}@example.org', subject='hi')\n"
        "        done += 1\n"
        "except ToolCallError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "done",
        policy,
    )
    assert result.value == 50
    assert sent(session) - before == 50
    assert "max_calls" in result.stdout and "--max-calls" in result.stdout, result.stdout
    assert result.budget is not None and (result.budget.used, result.budget.refused) == (50, 1)
    from mcp_kernel.display import footer

    assert "budget: 50 of 50 calls, 1 refused" in footer(result)
    lines = read_audit(data / "audit").entries
    assert [e.outcome for e in lines].count("ok") == 50
    assert lines[-1].outcome == "refused: budget" and lines[-1].tool == "send_email"
    assert lines[-1].rule.endswith("refused by max_calls")
    assert (
        lines[0].rule == "servers allowlist, max_calls 1/50, approve=never for this run"
        and lines[0].caller == "notebook"
    )


@pytest.mark.slow
def test_a_per_tool_budget_stops_that_tool_only(session: Session, data: Path) -> None:
    before = sent(session)
    policy = session.policy(["mailer"], max_calls_per_tool={"mailer.send_sms": 2})
    result = session.execute(
        "from servers.mailer import send_email, send_sms\n"
        "for i in range(3):\n"
        "    send_email(to='b@example.org', subject=str(i))\n"
        "send_sms(phone='+15550000001', text='1')\n"
        "send_sms(phone='+15550000002', text='2')\n"
        "send_sms(phone='+15550000003', text='3')\n",
        policy,
    )
    assert result.error is not None and "max_calls_per_tool" in result.error.message
    assert "mailer.send_sms" in result.error.message
    assert sent(session) - before == 5
    assert result.budget is not None and result.budget.per_tool == {"mailer.send_sms": (2, 2)}


@pytest.mark.slow
def test_the_audit_has_a_line_per_side_effecting_call_and_never_an_argument_value(
    session: Session, data: Path
) -> None:
    policy = session.policy(["demo", "mailer"])
    result = session.execute(
        "from servers.mailer import send_email\n"
        "from servers.demo import get_customer\n"
        "get_customer(customer_id='C0001')\n"
        "get_customer(customer_id='C0002')\n"
        f"send_email(to='c@example.org', subject={CANARY!r}, body={CANARY!r})\n",
        policy,
    )
    assert result.error is None, result.error
    entries = read_audit(data / "audit").entries
    assert [(e.server, e.tool, e.outcome) for e in entries] == [
        ("mailer", "send_email", "ok")
    ]  # no read-only
    assert entries[0].args_hash.startswith("blake3:") and entries[0].args_bytes > 2 * len(CANARY)
    for path in (data / "audit").iterdir():
        assert CANARY not in path.read_text(encoding="utf-8", errors="replace"), path
    assert oct((data / "audit" / AUDIT_FILE).stat().st_mode & 0o777) == "0o600"


@pytest.mark.slow
def test_a_failed_call_is_recorded_with_its_kind_not_its_text(session: Session, data: Path) -> None:
    session.execute(
        "from servers.mailer import send_email\n"
        "from _mcp_runtime import ToolCallError\n"
        "try:\n"
        f"    send_email(to=1, subject={CANARY!r})\n"
        "except ToolCallError:\n"
        "    pass\n",
        session.policy(["mailer"]),
    )
    # refused by the schema check before any guard: not a call that could reach the server
    assert read_audit(data / "audit").entries == []


WRITER = """
import sys
from pathlib import Path
from mcp_kernel.audit import AuditTrail
trail = AuditTrail(Path(sys.argv[1]), max_bytes=1 << 30)
for i in range(400):
    trail.append({"time": "2026-05-01T09:00:00+00:00", "caller": sys.argv[2], "server": "s",
                  "tool": "t", "outcome": "ok", "rule": "x" * 300, "args_bytes": i})
"""


def test_two_processes_appending_at_once_neither_interleave_nor_lose_lines(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name], env=env)
        for name in ("p1", "p2")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    lines = (tmp_path / AUDIT_FILE).read_text().splitlines()
    assert len(lines) == 800
    parsed = [json.loads(line) for line in lines]  # a torn or interleaved line would not parse
    for name in ("p1", "p2"):
        assert sorted(p["args_bytes"] for p in parsed if p["caller"] == name) == list(range(400))


def test_the_trail_rotates_by_size_and_keeps_five_old_files(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path, max_bytes=1000)
    for i in range(200):
        trail.append(
            {
                "time": "2026-05-01T09:00:00+00:00",
                "server": "s",
                "tool": "t",
                "outcome": "ok",
                "args_bytes": i,
            }
        )
    names = sorted(p.name for p in tmp_path.glob(f"{AUDIT_FILE}*"))
    assert names == [AUDIT_FILE, *(f"{AUDIT_FILE}.{n}" for n in range(1, 6))]
    assert all(p.stat().st_size <= 1000 for p in tmp_path.glob(f"{AUDIT_FILE}*"))
    kept = [e.args_bytes for e in read_audit(tmp_path).entries]
    assert kept == sorted(kept) and kept[-1] == 199  # oldest first, the newest kept


def test_the_audit_command_shows_a_table_and_filters(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit")
    rows = [
        ("2026-05-01T09:00:00+00:00", "alice", "demo", "send_report", "ok"),
        ("2026-05-02T09:00:00+00:00", "bob", "mailer", "send_email", "error: ToolCallError"),
        ("2026-05-03T09:00:00+00:00", "notebook", "mailer", "send_email", "refused: budget"),
    ]
    for time, caller, server, tool, outcome in rows:
        trail.append({"time": time, "caller": caller, "server": server, "tool": tool, "outcome": outcome})
    env = {**os.environ, "MCP_KERNEL_DATA_DIR": str(tmp_path), "COLUMNS": "200"}

    def audit(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mcp_kernel", "audit", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    everything = audit()
    assert everything.splitlines()[0].split()[:5] == ["time", "caller", "server", "tool", "outcome"]
    assert all(caller in everything for caller in ("alice", "bob", "notebook"))
    assert "alice" not in audit("--server", "mailer") and "bob" in audit("--server", "mailer")
    assert "send_report" in audit("--tool", "send_report") and "bob" not in audit("--tool", "send_report")
    assert "bob" in audit("--caller", "bob") and "alice" not in audit("--caller", "bob")
    refused = audit("--outcome", "refused")
    assert "notebook" in refused and "bob" not in refused and "alice" not in refused
    assert "alice" not in audit("--since", "2026-05-02") and "bob" in audit("--since", "2026-05-02")
    assert "the last 1 of 3" in audit("--limit", "1")
