"""Approvals at a real Jupyter frontend: a sandboxed cell's call that needs a person's yes is asked through the
stdin channel (the question on stdout, the choice as an ``input_request``); approve sends it once, deny sends
nothing and the cell's code catches the ``ToolCallError``, approve-all lasts the cell, read-only tools never
ask, a question nobody answers is denied and the kernel goes on, the person's time is off the cell's clock,
and a frontend without stdin gets a denial saying so. What reached the mailer is read from its outbox, asked
outside the sandbox (where no rule guards)."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator

import pytest
from kernel_driver import KernelDriver, Reply, running_kernel
from realservers import SERVERS

pytestmark = pytest.mark.slow

CHOICES = "[y]es / [n]o / [a]ll later calls to it in this run (default no): "
SEND = """\
%%mcp_execute --servers mailer {options}
from servers.mailer import send_email
from _mcp_runtime import ToolCallError
for i in range({n}):
    try:
        send_email(to=f'{tag}{{i}}@example.org', subject='q3')
        print('sent', i)
    except ToolCallError as exc:
        print('refused', i, type(exc).__name__, exc)
"""


@pytest.fixture(scope="module")
def kernel(kernelspec: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelDriver]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a person is at this frontend
    env["MCP_KERNEL_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))  # the audit trail, not the user's
    with running_kernel(kernelspec, env) as driver:
        for line in (f"%mcp add mailer -- {sys.executable} {SERVERS / 'mailer.py'}", "%mcp generate mailer"):
            reply, _ = driver.converse(line)
            assert reply.status == "ok", reply.stdout + reply.stderr
        yield driver


def outbox(kernel: KernelDriver) -> list[str]:
    """The recipients of every message that reached the mailer, in order."""
    reply, prompts = kernel.converse(
        "r = %mcp call mailer outbox\nprint([m['to'] for m in r.value['result']])"
    )
    assert reply.status == "ok" and prompts == [], reply.stdout + reply.stderr  # never asked: not sandboxed
    return list(ast.literal_eval(reply.stdout.strip().splitlines()[-1]))


def send(
    kernel: KernelDriver,
    tag: str,
    answers: list[str | None],
    n: int = 1,
    options: str = "--approve destructive",
    *,
    allow_stdin: bool = True,
    delay: float = 0.0,
    timeout: float = 120,
) -> tuple[Reply, list[str], list[str]]:
    """Run a cell that sends ``n`` e-mails to ``{tag}{i}@example.org`` answering ``answers``; returns the
    reply, the prompts and the recipients that reached the server meanwhile."""
    before = outbox(kernel)
    cell = SEND.format(options=options, n=n, tag=tag)
    reply, prompts = kernel.converse(cell, answers, allow_stdin=allow_stdin, delay=delay, timeout=timeout)
    after = outbox(kernel)
    assert after[: len(before)] == before
    return reply, prompts, after[len(before) :]


def test_approve_sends_the_call_once_and_the_person_saw_server_tool_and_arguments(
    kernel: KernelDriver,
) -> None:
    reply, prompts, reached = send(kernel, "yes", ["y"])
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [CHOICES]
    assert reached == ["yes0@example.org"]
    assert "sent 0" in reply.stdout
    assert "mcp-kernel asks before a call: Allow mailer.send_email?" in reply.stdout, reply.stdout
    assert '"to": "yes0@example.org"' in reply.stdout and '"subject": "q3"' in reply.stdout
    assert "it says nothing about its effects; approve=destructive" in reply.stdout


def test_deny_sends_nothing_and_the_code_catches_a_tool_call_error(kernel: KernelDriver) -> None:
    reply, prompts, reached = send(kernel, "no", ["n"])
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [CHOICES] and reached == []
    assert "refused 0 ToolCallError mailer.send_email was not sent" in reply.stdout, reply.stdout
    assert "the person declined. Nothing reached the server" in reply.stdout


def test_approve_all_answers_one_question_for_the_cell_and_the_next_cell_asks_again(
    kernel: KernelDriver,
) -> None:
    reply, prompts, reached = send(kernel, "all", ["a"], n=3)
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [CHOICES]
    assert reached == ["all0@example.org", "all1@example.org", "all2@example.org"]
    reply, prompts, reached = send(kernel, "next", ["n"])
    assert prompts == [CHOICES] and reached == []
    assert "refused 0 ToolCallError" in reply.stdout


def test_a_read_only_tool_never_asks(kernel: KernelDriver) -> None:
    reply, prompts = kernel.converse(
        "%%mcp_execute --servers demo --approve destructive\n"
        "from servers.demo import list_regions\n"
        "print('regions', len(list_regions()['regions']))"
    )
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [] and "regions 5" in reply.stdout
    assert "asks before a call" not in reply.stdout


def test_by_default_a_kernel_cell_never_asks(kernel: KernelDriver) -> None:
    reply, prompts, reached = send(kernel, "default", [], options="")
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [] and reached == ["default0@example.org"]


def test_a_question_nobody_answers_is_denied_and_the_kernel_goes_on(kernel: KernelDriver) -> None:
    reply, _ = kernel.converse("%config MCPKernel.approval_timeout = 2")
    assert reply.status == "ok", reply.stdout + reply.stderr
    try:
        # The input_request is never answered: only the kernel's own clock (SIGALRM in the read) ends it.
        reply, prompts, reached = send(kernel, "late", [None], timeout=60)
    finally:
        kernel.converse("%config MCPKernel.approval_timeout = 300")
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [CHOICES] and reached == []
    assert "No answer in time: the call is denied." in reply.stdout, reply.stdout
    assert "refused 0 ToolCallError" in reply.stdout and "nobody answered within 2 s" in reply.stdout
    assert kernel.km.is_alive()
    reply, _ = kernel.converse("print(6 * 7)")
    assert reply.status == "ok" and reply.stdout.strip() == "42"


def test_the_person_s_time_is_not_held_against_the_cell_s_limit(kernel: KernelDriver) -> None:
    # The person answers 4 s after the question: twice the cell's 2 s limit, which must not run meanwhile.
    reply, prompts, reached = send(
        kernel, "slow", ["y"], options="--timeout 2 --approve destructive", delay=4.0
    )
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [CHOICES] and reached == ["slow0@example.org"]
    assert "sent 0" in reply.stdout


def test_a_frontend_without_stdin_gets_a_denial_saying_so(kernel: KernelDriver) -> None:
    reply, prompts, reached = send(kernel, "nostdin", [], allow_stdin=False)
    assert reply.status == "ok", reply.stdout + reply.stderr
    assert prompts == [] and reached == []
    assert "refused 0 ToolCallError" in reply.stdout
    assert "this frontend does not allow input" in reply.stdout, reply.stdout
    assert "asks before a call" not in reply.stdout  # no question shown that nobody could answer
