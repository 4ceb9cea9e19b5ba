"""Approvals and budgets of ``mcp-kernel execute`` as a person at a terminal meets them: a real process under a
pseudo-terminal (pexpect) asks before each destructive call, "y" sends it and "n" refuses it into the code's
``except``; on a pipe nobody is asked and the call is denied saying why; ``--max-calls`` stops the loop at
its budget and the command exits 1. What reached the mailer is read from the file it records each message
in (its ``MAILER_OUTBOX``), what was allowed and by whom from ``mcp-kernel audit --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS

pytestmark = [pytest.mark.slow, pytest.mark.posix(reason="a pseudo-terminal (pexpect, pty)")]

ROOT = Path(__file__).resolve().parent.parent
CHOICES = "[y]es / [n]o / [a]ll later calls to it in this run (default no): "
SEND = """\
from servers.mailer import send_email
from _mcp_runtime import ToolCallError
for to in {recipients!r}:
    try:
        send_email(to=to, subject='q3')
        print('sent', to)
    except ToolCallError as exc:
        print('caught', to, '-', exc)
"""


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    """A directory with an mcp.json naming the mailer, which records what reaches it in outbox.jsonl."""
    mailer = {
        "command": sys.executable,
        "args": [str(SERVERS / "mailer.py")],
        "env": {"MAILER_OUTBOX": str(tmp_path / "outbox.jsonl")},
    }
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"mailer": mailer}}))
    return tmp_path


def environment(place: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a person is at this terminal
    return {
        **env,
        "MCP_KERNEL_DATA_DIR": str(place / "data"),
        "MCP_KERNEL_CONFIG_DIR": str(place / "config"),
    }


def execute_args(place: Path, code: str, *options: str) -> list[str]:
    (place / "job.py").write_text(code)
    return [
        "-m",
        "mcp_kernel",
        "execute",
        "--config",
        str(place / "mcp.json"),
        "--servers",
        "mailer",
        *options,
        str(place / "job.py"),
    ]


def at_terminal(place: Path, code: str, *options: str) -> Any:
    """``mcp-kernel execute`` on a pseudo-terminal: its stdin, stdout and stderr are the terminal."""
    import pexpect  # POSIX only: a module-level import would break collection on Windows

    return pexpect.spawn(
        sys.executable,
        execute_args(place, code, *options),
        cwd=str(ROOT),
        env=environment(place),
        encoding="utf-8",
        timeout=120,
    )


def ended(terminal: Any) -> tuple[str, int]:
    """What the terminal showed from here until the process ended, and its exit status."""
    shown = terminal.read()
    terminal.close()
    return shown.replace("\r\n", "\n"), terminal.exitstatus


def reached(place: Path) -> list[str]:
    """The recipients of the messages that reached the mailer, in order."""
    outbox = place / "outbox.jsonl"
    lines = outbox.read_text().splitlines() if outbox.exists() else []
    return [json.loads(line)["to"] for line in lines]


def audited(place: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "audit", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(place),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return list(json.loads(done.stdout)["entries"])


def test_at_a_terminal_yes_sends_and_no_refuses_into_the_codes_except(place: Path) -> None:
    terminal = at_terminal(
        place, SEND.format(recipients=["ann@example.org", "bob@example.org"]), "--approve", "destructive"
    )
    for answer, to, earlier in (("y", "ann@example.org", 0), ("n", "bob@example.org", 1)):
        terminal.expect_exact("mcp-kernel asks before a call: Allow mailer.send_email?")
        terminal.expect_exact(CHOICES)
        question = terminal.before.replace("\r\n", "\n")
        assert "(it says nothing about its effects; approve=destructive for this run)" in question
        assert f'Arguments: {{"body": "", "subject": "q3", "to": "{to}"}}' in question
        assert f"Calls to mailer.send_email earlier in this run: {earlier}." in question
        assert reached(place) == ["ann@example.org"][:earlier]  # the call waits for the answer
        terminal.sendline(answer)
    shown, status = ended(terminal)
    assert status == 0, shown
    assert "sent ann@example.org" in shown
    assert (
        "caught bob@example.org - mailer.send_email was not sent: approve=destructive for this run asks a person "
        "first, and the person declined. Nothing reached the server" in shown
    ), shown
    assert reached(place) == ["ann@example.org"]
    entries = audited(place)
    assert [(e["caller"], e["tool"], e["outcome"]) for e in entries] == [
        ("cli", "send_email", "ok"),
        ("cli", "send_email", "refused: approval"),
    ]
    assert entries[0]["rule"].endswith("approve=destructive for this run: approved by cli")
    assert "ann@example.org" not in json.dumps(entries)  # hashes of the arguments, never their values


def test_on_a_pipe_nobody_is_asked_and_the_call_is_denied_saying_why(place: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            *execute_args(place, SEND.format(recipients=["cy@example.org"]), "--approve", "destructive"),
        ],
        input="y\n",  # typed into a pipe: nobody is asked, so it answers nothing
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(place),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "asks before a call" not in done.stdout + done.stderr
    assert (
        "caught cy@example.org - mailer.send_email was not sent: approve=destructive for this run asks a person "
        "first, and it was denied: stdin is not a terminal" in done.stdout
    ), done.stdout
    assert reached(place) == []
    assert [e["outcome"] for e in audited(place)] == ["refused: approval"]


def test_max_calls_stops_the_loop_at_its_budget_and_exits_1(place: Path) -> None:
    code = (
        "from servers.mailer import send_email\n"
        "for i in range(5):\n"
        "    send_email(to=f'p{i}@example.org', subject='q3')\n"
        "    print('sent', i)\n"
    )
    shown, status = ended(at_terminal(place, code, "--max-calls", "2"))
    assert status == 1, shown  # README: a cell that raised exits 1
    assert "sent 1" in shown and "sent 2" not in shown
    assert (
        "ToolCallError: This run already made the 2 calls max_calls allows; this one (mailer.send_email) was "
        "not sent. Raise it (--max-calls" in shown
    ), shown
    assert "budget: 2 of 2 calls, 1 refused" in shown  # the footer
    assert reached(place) == ["p0@example.org", "p1@example.org"]
    assert [e["outcome"] for e in audited(place)] == ["ok", "ok", "refused: budget"]
