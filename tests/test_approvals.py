"""Approvals with real servers and a real sandbox: a call that needs a person's yes waits in the sandbox
while an :class:`~mcp_kernel.elicitation.Asker` asks (here its ``read`` is a script standing in for the
person at a terminal); approve sends it once, deny sends nothing and the code catches a ``ToolCallError``,
approve-all covers the rest of that cell only, read-only tools never ask, an unanswered question becomes a
denial, and the time a person takes is not held against the cell's limit. Also: where the rules come from."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from realservers import mailer_session, own_data_dir, sent

from mcp_kernel.approvals import asks, rule_for, server_rules
from mcp_kernel.audit import read_audit
from mcp_kernel.config import ServerConfig
from mcp_kernel.elicitation import Asker
from mcp_kernel.errors import ConfigError, UsageError
from mcp_kernel.models import ToolAnnotations, ToolInfo
from mcp_kernel.session import Session

SEND = (
    "from servers.mailer import send_email\n"
    "from _mcp_runtime import ToolCallError\n"
    "outcomes = []\n"
    "for i in range({n}):\n"
    "    try:\n"
    "        send_email(to=f'p{{i}}@example.org', subject='q3')\n"
    "        outcomes.append('sent')\n"
    "    except ToolCallError as exc:\n"
    "        outcomes.append(type(exc).__name__ + ': ' + str(exc))\n"
    "outcomes"
)


data = pytest.fixture(own_data_dir)
session = pytest.fixture(scope="module", name="session")(mailer_session)


def person(*answers: str, delay: float = 0.0) -> tuple[Asker, list[str], list[str]]:
    """An asker whose person types ``answers`` in turn (after ``delay`` seconds each); the prompts and the
    text shown to them are kept."""
    prompts: list[str] = []
    shown: list[str] = []
    left = list(answers)

    def read(prompt: str) -> str:
        prompts.append(prompt)
        time.sleep(delay)
        return left.pop(0) if left else ""

    return Asker(read, shown.append), prompts, shown


def run(session: Session, code: str, asker: Asker | None, **limits: object) -> list[str]:
    policy = session.policy(["mailer", "demo"], approve="destructive", **limits)  # type: ignore[arg-type]
    result = session.execute(code, policy, asker=asker)
    assert result.error is None, result.error
    return json.loads(result.value_json or "null")


@pytest.mark.slow
def test_approved_calls_reach_the_server_once_each_and_are_audited(session: Session, data: Path) -> None:
    before = sent(session)
    asker, prompts, shown = person("y", "yes")
    assert run(session, SEND.format(n=2), asker) == ["sent", "sent"]
    assert sent(session) - before == 2
    assert len(prompts) == 2 and "[a]ll later calls" in prompts[0]
    question = shown[0]
    assert "Allow mailer.send_email?" in question and '"to": "p0@example.org"' in question
    assert "it says nothing about its effects; approve=destructive for this run" in question
    assert "Calls to mailer.send_email earlier in this run: 1." in shown[1]
    entries = read_audit(data / "audit").entries
    assert [e.outcome for e in entries] == ["ok", "ok"]
    assert entries[0].rule.endswith("approve=destructive for this run: approved by notebook")


@pytest.mark.slow
def test_a_denied_call_never_reaches_the_server_and_the_code_can_catch_it(
    session: Session, data: Path
) -> None:
    before = sent(session)
    asker, prompts, _ = person("n", "")  # a no, then an empty answer: no too
    outcomes = run(session, SEND.format(n=2), asker)
    assert sent(session) - before == 0
    assert len(prompts) == 2
    for outcome in outcomes:
        assert outcome.startswith(
            "ToolCallError: mailer.send_email was not sent: approve=destructive for this run"
        )
        assert "Nothing reached the server" in outcome and "--approve-tool mailer.send_email=never" in outcome
    entries = read_audit(data / "audit").entries
    assert [e.outcome for e in entries] == ["refused: approval"] * 2
    assert entries[0].rule.endswith("refused by approve=destructive for this run (the person declined)")


@pytest.mark.slow
def test_approve_all_covers_the_rest_of_that_cell_only(session: Session, data: Path) -> None:
    before = sent(session)
    asker, prompts, _ = person("a")
    assert run(session, SEND.format(n=3), asker) == ["sent"] * 3
    assert len(prompts) == 1
    asker, prompts, _ = person("y")
    assert run(session, SEND.format(n=1), asker) == ["sent"]  # the next cell asks again
    assert len(prompts) == 1
    assert sent(session) - before == 4
    rules = [e.rule for e in read_audit(data / "audit").entries]
    assert rules[1].endswith("approved for the rest of the run by notebook")


@pytest.mark.slow
def test_read_only_tools_never_ask_and_never_is_never(session: Session, data: Path) -> None:
    asker, prompts, _ = person()
    regions = run(session, "from servers.demo import list_regions\nlen(list_regions()['regions'])", asker)
    assert regions == 5 and prompts == []
    before = sent(session)
    policy = session.policy(["mailer"], approve="destructive", approve_tools={"mailer.send_email": "never"})
    result = session.execute(SEND.format(n=1), policy, asker=asker)
    assert json.loads(result.value_json or "null") == ["sent"] and prompts == []
    assert sent(session) - before == 1
    assert read_audit(data / "audit").entries[-1].rule.endswith("approve=never for mailer.send_email")


@pytest.mark.slow
def test_nobody_to_ask_or_no_answer_in_time_is_a_denial_and_the_session_goes_on(
    session: Session, data: Path
) -> None:
    before = sent(session)
    assert run(session, SEND.format(n=1), None)[0].endswith(
        "approve=destructive for this run asks a person first, and it was denied: nobody is attached to this "
        "run to ask. Nothing reached the server; the code may catch this ToolCallError. To change the rule: "
        '--approve-tool mailer.send_email=never (or =always) on the cell or command, the server\'s "approve" '
        "key in mcp.json, or the settings approve / approve_tools."
    )
    ci = Asker(lambda prompt: "y", reason="CI is set, so no person is assumed to be there")
    assert "it was denied: CI is set" in run(session, SEND.format(n=1), ci)[0]
    session.settings.approval_timeout = 1.0
    try:
        asker, _, _ = person("y", delay=3.0)  # answers, but too late
        outcome = run(session, SEND.format(n=1), asker)[0]
    finally:
        session.settings.approval_timeout = 300.0
    assert "it was denied: nobody answered within 1 s" in outcome
    assert sent(session) - before == 0
    assert run(session, "1 + 1", None) == 2  # the session lives on


@pytest.mark.slow
def test_the_time_a_person_takes_is_not_held_against_the_cells_limit(session: Session, data: Path) -> None:
    before = sent(session)
    asker, _, _ = person("y", delay=3.0)
    assert run(session, SEND.format(n=1), asker, timeout=2.0) == ["sent"]
    assert sent(session) - before == 1


@pytest.mark.slow
def test_a_stop_while_the_person_decides_cancels_the_call(session: Session, data: Path) -> None:
    answered = threading.Event()

    def read(prompt: str) -> str:
        answered.wait(10)
        return "y"

    before = sent(session)
    timer = threading.Timer(1.0, lambda: (session.interrupt(), answered.set()))
    timer.start()
    from mcp_kernel.errors import Interrupted

    with pytest.raises(Interrupted):
        session.execute(SEND.format(n=1), session.policy(["mailer"], approve="always"), asker=Asker(read))
    timer.join()
    assert sent(session) - before == 0
    assert [e.outcome for e in read_audit(data / "audit").entries] == ["stopped: Interrupted"]


# ---- where the rules come from ---------------------------------------------------------------------------
def test_the_most_specific_rule_wins_and_annotations_decide_destructive() -> None:
    rules = {"demo": "always", "demo.list_regions": "never", "files": "destructive"}
    assert rule_for(rules, "never", "demo", "list_regions") == (
        "never",
        "approve=never for demo.list_regions",
    )
    assert rule_for(rules, "never", "demo", "send_report") == ("always", "approve=always for demo")
    assert rule_for(rules, "destructive", "mail", "send") == (
        "destructive",
        "approve=destructive for this run",
    )

    def hinted(**hints: bool) -> ToolInfo:
        return ToolInfo(name="t", annotations=ToolAnnotations(**hints))

    assert asks("destructive", hinted()) and asks("destructive", hinted(destructive=True))
    assert not asks("destructive", hinted(read_only=True))
    assert not asks("destructive", hinted(destructive=False))
    assert asks("always", hinted(read_only=True)) and not asks("never", hinted(destructive=True))


def test_mcp_json_gives_a_server_its_rules_and_refuses_a_bad_one(session: Session) -> None:
    config = ServerConfig.from_dict(
        {"mcpServers": {"mail": {"command": "x", "approve": {"*": "never", "send": "always"}}}},
        source="mcp.json",
    )
    assert server_rules("mail", config.get("mail").approve) == {"mail": "never", "mail.send": "always"}
    with pytest.raises(
        ConfigError, match=r"field approve must be one of always, destructive, never; got 'ask'"
    ):
        ServerConfig.from_dict({"mcpServers": {"m": {"url": "http://h/mcp", "approve": "ask"}}}, source="x")
    session.settings.approve_tools = {"mailer": "always"}
    try:
        policy = session.policy(["mailer"], approve_tools={"mailer.outbox": "never"})
    finally:
        session.settings.approve_tools = {}
    assert policy.approve == "never"  # the kernel's default
    assert policy.approve_tools == {"mailer": "always", "mailer.outbox": "never"}
    with pytest.raises(UsageError, match="approve_tools"):
        session.policy(["mailer"], approve_tools={"mailer": "sometimes"})
