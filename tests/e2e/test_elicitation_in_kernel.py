"""A server's question reaches the person at a Jupyter frontend through the stdin channel, field by field."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel
from realservers import SERVERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kc(kernelspec: str) -> Iterator[object]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a person is at this frontend
    km, client = start_new_kernel(kernel_name=kernelspec, startup_timeout=60, env=env)
    try:
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=False)


def run(kc: object, code: str, answers: list[str], allow_stdin: bool = True) -> tuple[str, list[str], dict]:
    """Execute ``code``, answer each ``input_request`` in turn; return stdout+stderr, the prompts, the reply."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    prompts: list[str] = []
    pending = list(answers)
    while True:
        try:
            req = kc.get_stdin_msg(timeout=0.2)
        except Empty:
            req = None
        if req is not None and req["msg_type"] == "input_request":
            prompts.append(req["content"]["prompt"])
            kc.input(pending.pop(0) if pending else "!cancel")
            continue
        try:
            reply = kc.get_shell_msg(timeout=0.2)
        except Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    text = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text.append(msg["content"]["text"])
        if msg["msg_type"] in ("execute_result", "display_data"):
            text.append(msg["content"]["data"].get("text/plain", ""))
        if msg["msg_type"] == "error":
            text.append("\n".join(msg["content"]["traceback"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return "".join(text), prompts, reply["content"]


def test_the_person_answers_through_the_stdin_channel(kc: object) -> None:
    out, _, reply = run(kc, f"%mcp add library -- {sys.executable} {SERVERS / 'library.py'}", [])
    assert reply["status"] == "ok", out
    out, prompts, reply = run(kc, "r = %mcp call library book\nprint(r.value)", ["y", "Kim", "4", "n"])
    assert reply["status"] == "ok", out
    assert "{'action': 'accept', 'booking': {'name': 'Kim', 'nights': 4, 'breakfast': False}}" in out
    assert [p.strip() for p in prompts][1:] == ["name:", "nights:", "breakfast:"]
    assert "Who is booking" in out


def test_the_person_declines(kc: object) -> None:
    out, _, reply = run(kc, "r = %mcp call library book\nprint(r.value)", ["d"])
    assert reply["status"] == "ok" and "decline" in out


def test_a_frontend_without_stdin_gets_a_decline_with_the_reason(kc: object) -> None:
    out, prompts, reply = run(kc, "r = %mcp call library book\nprint(r.value)", [], allow_stdin=False)
    assert reply["status"] == "ok", out
    assert prompts == []
    assert "{'action': 'decline'}" in out and "does not allow input" in out


def test_a_sandboxed_cell_declines_and_says_how_to_answer(kc: object) -> None:
    out, prompts, _reply = run(
        kc, "%%mcp_execute --servers library\nfrom servers.library import book\nprint(book())", []
    )
    assert prompts == []
    assert "{'action': 'decline'}" in out, out
    assert "--interactive" in out, out


def test_an_interactive_sandboxed_cell_asks_the_person(kc: object) -> None:
    code = (
        "%%mcp_execute --servers library --interactive --timeout 5\n"
        "from servers.library import book\nprint(book())\nprint(book())"
    )
    out, prompts, reply = run(kc, code, ["y", "Ola", "2", "y", "d"])
    assert reply["status"] == "ok", out
    assert "{'action': 'accept', 'booking': {'name': 'Ola', 'nights': 2, 'breakfast': True}}" in out, out
    assert "{'action': 'decline'}" in out, out
    assert [p.strip() for p in prompts][1:4] == ["name:", "nights:", "breakfast:"]
