"""Servers asking a person (elicitation), in both protocol eras, answered, declined and cancelled.

The 2026-07-28 form comes from our ``library``/``asker`` servers (``input_required`` rounds); the legacy
``elicitation/create`` request from server-everything (a 2025-11-25 server). The CLI is driven on a pipe
and on a pseudo-terminal; the kernel in ``tests/e2e/test_elicitation_in_kernel.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import SERVERS, our_server

from mcp_kernel.client import ConnectionPool
from mcp_kernel.elicitation import Asker, Question, ask_form, ask_url, attached
from mcp_kernel.models import ServerSpec


@pytest.fixture()
def pool() -> Iterator[ConnectionPool]:
    with ConnectionPool(timeout=20, connect_timeout=20) as p:
        yield p


def scripted(*answers: str) -> tuple[Asker, list[str]]:
    """An asker that types ``answers`` in turn and keeps every prompt and line it was shown."""
    shown: list[str] = []
    replies = iter(answers)

    def read(prompt: str) -> str:
        shown.append(prompt)
        return next(replies)

    return Asker(read, shown.append), shown


# ---- the form, one field at a time --------------------------------------------------------------------
SCHEMA = {
    "type": "object",
    "required": ["name", "colour"],
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "colour": {"type": "string", "enum": ["red", "green"]},
        "nights": {"type": "integer", "minimum": 1, "default": 1},
        "breakfast": {"type": "boolean"},
        "tags": {
            "type": "array",
            "items": {
                "type": "string",
                "oneOf": [{"const": "a", "title": "Alpha"}, {"const": "b", "title": "Beta"}],
            },
        },
    },
}


def test_a_form_follows_the_schema_and_asks_again_on_a_bad_answer() -> None:
    replies = iter(["", "", "A", "Ann", "3", "blue", "green", "zero", "", "maybe", "y", "1, Beta"])
    shown: list[str] = []
    answer = ask_form(Question("s", "Hi?", SCHEMA), lambda p: next(replies), shown.append)
    assert answer.action == "accept"
    assert answer.content == {
        "name": "Ann",
        "colour": "green",
        "nights": 1,
        "breakfast": True,
        "tags": ["a", "b"],
    }
    text = "".join(shown)
    assert "name is required" in text and "at least 2 characters" in text and "answer yes or no" in text
    assert "1. red" in text and "2. Beta" in text and "default 1" in text


@pytest.mark.parametrize(
    ("answers", "action"),
    [
        (["d"], "decline"),
        (["c"], "cancel"),
        (["", "Ann", "!cancel"], "cancel"),
        (["y", "!decline"], "decline"),
    ],
)
def test_a_form_can_be_declined_or_cancelled_at_any_prompt(answers: list[str], action: str) -> None:
    replies = iter(answers)
    answer = ask_form(Question("s", "Hi?", SCHEMA), lambda p: next(replies), lambda t: None)
    assert answer.action == action and answer.content is None


def test_a_link_is_shown_and_confirmed() -> None:
    shown: list[str] = []
    question = Question("s", "Sign in", url="https://example.org/x")
    assert ask_url(question, lambda p: "", shown.append).action == "accept"
    assert "https://example.org/x" in "".join(shown)
    assert ask_url(question, lambda p: "d", shown.append).action == "decline"


# ---- 2026 era: input_required ------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_2026_server_gets_the_persons_answer(pool: ConnectionPool) -> None:
    pool.add(our_server("library"))
    asker, shown = scripted("y", "Ann", "3", "yes")
    with attached(asker):
        result = pool.call_tool("library", "book")
    assert pool.get("library").info.protocol_version == "2026-07-28"
    assert result.value == {"action": "accept", "booking": {"name": "Ann", "nights": 3, "breakfast": True}}
    assert "Who is booking" in "".join(shown)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answers", "action"), [(["d"], "decline"), (["c"], "cancel"), (["y", "!cancel"], "cancel")]
)
def test_a_2026_server_hears_a_decline_or_a_cancel(
    pool: ConnectionPool, answers: list[str], action: str
) -> None:
    pool.add(our_server("library"))
    asker, _ = scripted(*answers)
    with attached(asker):
        assert pool.call_tool("library", "book").value == {"action": action}


@pytest.mark.slow
def test_an_enum_with_a_default_from_a_2026_server(pool: ConnectionPool) -> None:
    pool.add(our_server("asker"))
    asker, shown = scripted("", "3", "")
    with attached(asker):
        assert pool.call_tool("asker", "paint").value == {"action": "accept", "colour": "blue", "shade": 0.5}
    assert "3. blue" in "".join(shown)


@pytest.mark.slow
def test_with_nobody_attached_the_question_is_declined_and_the_log_says_why(pool: ConnectionPool) -> None:
    pool.add(our_server("library"))
    assert pool.call_tool("library", "book").value == {"action": "decline"}
    assert "no person is attached" in pool.get("library").log_tail()


@pytest.mark.slow
def test_an_asker_that_cannot_ask_declines_and_says_why(pool: ConnectionPool) -> None:
    pool.add(our_server("library"))
    shown: list[str] = []
    with attached(Asker(None, shown.append, reason="CI is set")):
        assert pool.call_tool("library", "book").value == {"action": "decline"}
    assert "declined" in "".join(shown) and "CI is set" in "".join(shown)


# ---- legacy era: elicitation/create --------------------------------------------------------------------------
@pytest.mark.slow
def test_a_legacy_servers_request_is_answered(pool: ConnectionPool, everything_spec: ServerSpec) -> None:
    pool.add(everything_spec)
    shown: list[str] = []

    def read(prompt: str) -> str:
        shown.append(prompt)
        field = prompt.strip().rstrip(":")
        return {"name": "Ada Lovelace", "check": "yes", "integer": "7"}.get(field, "")

    with attached(Asker(read, shown.append)):
        result = pool.call_tool("everything", "trigger-elicitation-request", {})
    assert pool.get("everything").info.protocol_version == "2025-11-25"
    assert (
        '"action": "accept"' in result.text
        and "Ada Lovelace" in result.text
        and '"integer": 7' in result.text
    )


@pytest.mark.slow
def test_a_legacy_servers_request_is_declined(pool: ConnectionPool, everything_spec: ServerSpec) -> None:
    pool.add(everything_spec)
    asker, _ = scripted("decline")
    with attached(asker):
        result = pool.call_tool("everything", "trigger-elicitation-request", {})
    assert '"action": "decline"' in result.text


# ---- the CLI ----------------------------------------------------------------------------------------------------
@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {"mcpServers": {"library": {"command": sys.executable, "args": [str(SERVERS / "library.py")]}}}
        )
    )
    return path


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return {**env, **extra}


@pytest.mark.slow
def test_the_cli_on_a_pipe_declines_and_says_why(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "call", "library", "book", "--config", str(config)],
        input="",
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"decline"' in done.stdout
    assert "stdin is not a terminal" in done.stderr


@pytest.mark.slow
def test_the_cli_with_ci_set_declines_and_says_why(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "call", "library", "book", "--config", str(config)],
        input="",
        capture_output=True,
        text=True,
        env=cli_env(CI="true"),
        timeout=120,
    )
    assert '"decline"' in done.stdout and "CI is set" in done.stderr


@pytest.mark.slow
@pytest.mark.posix(reason="a pseudo-terminal (pty)")
def test_the_cli_on_a_terminal_asks_field_by_field(config: Path) -> None:
    import pty  # POSIX only: a top-level import would stop this file's collection on Windows

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_kernel", "call", "library", "book", "--config", str(config)],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=cli_env(),
        text=True,
    )
    os.close(secondary)
    seen = b""
    try:
        for answer, after in (
            ("y", b"(default yes): "),
            ("Bo", b"name: "),
            ("2", b"nights: "),
            ("", b"breakfast: "),
        ):
            while not seen.endswith(after):
                chunk = os.read(primary, 1024)
                assert chunk, seen
                seen += chunk.replace(b"\r\n", b"\n")
            os.write(primary, answer.encode() + b"\n")
            seen = b""
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert '"name": "Bo"' in out and '"nights": 2' in out


# ---- questions during sandboxed code ------------------------------------------------------------------
BOOK_TWICE = "from servers.library import book\nfirst = book()\nsecond = book()\nprint(first, second)"


@pytest.fixture()
def library_session(tmp_path: Path) -> Iterator[object]:
    from mcp_kernel.session import Session

    config = tmp_path / "mcp.json"
    spec = our_server("library")
    config.write_text(json.dumps({"mcpServers": {"library": {"command": spec.command, "args": spec.args}}}))
    with Session(config=config) as s:
        yield s


@pytest.mark.slow
def test_sandboxed_code_asks_the_person_given_an_asker(library_session: object) -> None:
    asker, shown = scripted("y", "Ann", "3", "n", "c")
    result = library_session.execute(BOOK_TWICE, library_session.policy(["library"]), asker=asker)
    assert result.stdout.strip() == (
        "{'action': 'accept', 'booking': {'name': 'Ann', 'nights': 3, 'breakfast': "
        "False}} {'action': 'cancel'}"
    )
    assert any("Who is booking" in line for line in shown)


@pytest.mark.slow
def test_the_time_a_person_takes_is_not_held_against_the_cell(library_session: object) -> None:
    import time

    replies = iter(["y", "Bo", "1", ""])

    def slow_person(prompt: str) -> str:
        time.sleep(0.6)  # four answers: 2.4 s, more than the cell's 1.5 s limit
        return next(replies)

    policy = library_session.policy(["library"], timeout=1.5)
    result = library_session.execute(
        "from servers.library import book\nprint(book())", policy, asker=Asker(slow_person, lambda text: None)
    )
    assert "'name': 'Bo'" in result.stdout


@pytest.mark.slow
def test_sandboxed_code_without_an_asker_gets_a_decline(library_session: object) -> None:
    result = library_session.execute(
        "from servers.library import book\nprint(book())", library_session.policy(["library"])
    )
    assert result.stdout.strip() == "{'action': 'decline'}"
    assert "no person is attached" in library_session.connection("library").log_tail()


# ---- a hostile server's questions ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "object", "properties": {"a": {"type": "string", "enum": 5}}}, "enum is int, not a list"),
        (
            {"type": "object", "properties": {"a": {"type": ["string", "integer"]}}},
            "only one type, or one type and null",
        ),
        ({"type": "object", "properties": {"a": "text"}}, "field 'a' is str, not an object"),
        ({"type": "object", "properties": {"a": {"type": "integer", "minimum": "low"}}}, "minimum is 'low'"),
        ({"type": "object", "properties": {"a": {"type": "array", "items": {"enum": {}}}}}, "enum is dict"),
    ],
)
def test_a_malformed_schema_is_declined_with_the_reason_told_to_both(
    pool: ConnectionPool, schema: dict, problem: str
) -> None:
    pool.add(our_server("hostile"))
    asker, shown = scripted("y", "Ann", "Ann")
    with attached(asker):
        answer = json.loads(pool.call_tool("hostile", "ask", {"message": "Hi?", "schema": schema}).text)
    assert answer["action"] == "decline"  # not an error from a crash in the client
    assert problem in answer["_meta"]["mcp-kernel/reason"]
    assert "declined it for you" in "".join(shown) and problem in "".join(shown)
    assert not [p for p in shown if p.strip().endswith(":")]  # nothing was asked


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"properties": ["a"]}, "properties is list"),
        ({"properties": {"a": {"type": {"no": 1}}}}, "has type {'no': 1}"),
        ({"required": "a", "properties": {"a": {}}}, "required is not a list"),
        ("form", "the schema is str"),
        ({"properties": {"a": {"default": {"x": 1}}}}, "its default is dict"),
    ],
)
def test_schemas_the_sdk_already_refuses_are_declined_here_too(schema: object, problem: str) -> None:
    """(The SDK answers these with -32602 before asking us; a question from elsewhere still gets a decline.)"""
    shown: list[str] = []
    answer = ask_form(Question("s", "Hi?", schema), lambda p: "y", shown.append)  # type: ignore[arg-type]
    assert answer.action == "decline" and problem in (answer.reason or "") and problem in "".join(shown)


def test_a_string_or_null_field_is_asked_as_an_optional_string(pool: ConnectionPool) -> None:
    pool.add(our_server("hostile"))
    schema = {
        "type": "object",
        "properties": {"nick": {"type": ["string", "null"]}, "age": {"type": ["null", "integer"]}},
    }
    asker, _ = scripted("y", "Al", "")
    with attached(asker):
        answer = json.loads(pool.call_tool("hostile", "ask", {"message": "Hi?", "schema": schema}).text)
    assert answer == {"action": "accept", "content": {"nick": "Al"}}


PASSWORD = {
    "type": "object",
    "required": ["user", "password"],
    "properties": {"user": {"type": "string"}, "password": {"type": "string", "format": "password"}},
}


def test_a_password_field_is_read_as_a_secret_after_a_warning() -> None:
    secrets_read: list[str] = []

    def read_secret(prompt: str) -> str:
        secrets_read.append(prompt)
        return "hunter2"

    replies = iter(["y", "ann"])
    shown: list[str] = []
    answer = ask_form(
        Question("mailer", "Log in", PASSWORD), lambda p: next(replies), shown.append, read_secret=read_secret
    )
    assert answer.content == {"user": "ann", "password": "hunter2"}
    assert secrets_read == ["  password: "]  # only the password went through the secret reader
    assert "server 'mailer' asks for a secret" in "".join(shown)


@pytest.mark.slow
@pytest.mark.posix(reason="a pseudo-terminal (pty)")
def test_the_cli_reads_a_password_without_echo(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {"mcpServers": {"hostile": {"command": sys.executable, "args": [str(SERVERS / "hostile.py")]}}}
        )
    )
    arguments = json.dumps({"message": "Log in", "schema": PASSWORD})
    import pty  # POSIX only: a top-level import would stop this file's collection on Windows

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_kernel", "call", "hostile", "ask", arguments, "--config", str(config)],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=cli_env(),
        text=True,
    )
    os.close(secondary)
    seen, everything = b"", b""
    try:
        for answer, after in (("y", b"(default yes): "), ("ann", b"user: "), ("hunter2", b"password: ")):
            while not seen.endswith(after):
                chunk = os.read(primary, 1024)
                assert chunk, seen
                seen += chunk.replace(b"\r\n", b"\n")
            everything += seen
            os.write(primary, answer.encode() + b"\n")
            seen = b""
        out, _ = proc.communicate(timeout=120)
        with contextlib.suppress(OSError):
            everything += os.read(primary, 65536)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert '"password": "hunter2"' in out  # the server got it
    assert b"ann" in everything and b"hunter2" not in everything  # typed, echoed; typed, not echoed
    assert b"asks for a secret" in everything


# ---- the person's clock (deadline.py) ----------------------------------------------------------------------
def test_an_asker_pauses_its_clock_while_the_person_answers() -> None:
    import concurrent.futures

    from mcp_kernel import runtime

    asker = Asker(lambda prompt: "", lambda text: None)
    seen: list[bool] = []
    work = asker.call_async(lambda: seen.append(asker.clock.is_paused))
    future: concurrent.futures.Future[None] = runtime.submit(work)
    asker.serve(future, timeout=30)
    assert seen == [True] and not asker.clock.is_paused


def test_a_relay_pauses_its_clock_while_a_question_is_out_to_the_agent() -> None:
    import asyncio
    import concurrent.futures

    from mcp_kernel.elicitation import Answer, Relay

    out: list[concurrent.futures.Future[Answer]] = []
    relay = Relay(lambda question, reply: out.append(reply))

    async def ask_and_answer() -> Answer:
        asked = asyncio.ensure_future(relay.ask_async(Question("library", "Who?")))
        await asyncio.sleep(0)
        assert relay.clock.is_paused and len(out) == 1
        out[0].set_result(Answer("decline"))
        return await asked

    assert asyncio.run(ask_and_answer()) == Answer("decline")
    assert not relay.clock.is_paused


def test_a_relay_question_never_asked_leaves_the_clock_running() -> None:
    import asyncio

    from mcp_kernel.elicitation import Relay

    def broken(question: Question, reply: object) -> None:
        raise RuntimeError("the agent's session is gone")

    relay = Relay(broken)
    with pytest.raises(RuntimeError):
        asyncio.run(relay.ask_async(Question("library", "Who?")))
    assert not relay.clock.is_paused
