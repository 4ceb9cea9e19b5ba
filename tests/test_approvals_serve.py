"""Approvals through a real `mcp-kernel serve` and the SDK's client: a call that needs a yes asks the agent's
user (mid-call on 2025-11-25, ``input_required`` and a retry on 2026-07-28), from an execute's code and from
an exposed tool; approve sends once, deny sends nothing, approve-all lasts the execute, a client that cannot
be asked or never answers is a denial and serve goes on, and one caller cannot answer another's question.
What reached the server is read from its outbox file (tests/servers/mailer.py), written from outside serve.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, running
from test_serve import serve_argv, text
from test_serve_exposed import ALICE, BOB

from mcp_kernel.audit import read_audit

pytestmark = pytest.mark.slow

ERAS = ["legacy", "auto"]  # the SDK client's modes: 2025-11-25, and 2026-07-28

SEND = (
    "from servers.mailer import send_email\n"
    "from _mcp_runtime import ToolCallError\n"
    "import json\n"
    "outcomes = []\n"
    "for i in range({n}):\n"
    "    try:\n"
    "        send_email(to=f'p{{i}}@example.org', subject='q3')\n"
    "        outcomes.append('sent')\n"
    "    except ToolCallError as exc:\n"
    "        outcomes.append('caught: ' + str(exc))\n"
    "print('OUTCOMES', json.dumps(outcomes))"
)


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, Any]:
    """mcp.json with the mailer (its outbox a file here), settings and data (the audit) in their own places."""
    outbox = tmp_path / "outbox.jsonl"
    config = tmp_path / "mcp.json"
    mailer = {
        "command": sys.executable,
        "args": [str(SERVERS / "mailer.py")],
        "env": {"MAILER_OUTBOX": str(outbox)},
    }
    config.write_text(json.dumps({"mcpServers": {"mailer": mailer}}))
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "config.toml").write_text("[MCPKernel]\n")
    callers = tmp_path / "callers.json"
    callers.write_text(json.dumps({"alice": ALICE, "bob": BOB}))
    env = {
        **os.environ,
        "MCP_KERNEL_CONFIG_DIR": str(settings),
        "MCP_KERNEL_DATA_DIR": str(tmp_path / "data"),
    }
    return {
        "config": str(config),
        "env": env,
        "outbox": outbox,
        "settings": settings / "config.toml",
        "callers": str(callers),
        "audit": tmp_path / "data" / "audit",
    }


def sent(place: dict[str, Any]) -> list[dict[str, Any]]:
    """What reached the mailer, as it recorded it."""
    outbox: Path = place["outbox"]
    return [json.loads(line) for line in outbox.read_text().splitlines()] if outbox.exists() else []


def outcomes(result: Any) -> list[str]:
    """What the code's calls came to: 'sent', or 'caught: ' and the ToolCallError the code caught."""
    assert not result.is_error, text(result)
    [line] = [line for line in text(result).splitlines() if line.startswith("OUTCOMES ")]
    return list(json.loads(line.removeprefix("OUTCOMES ")))


class Person:
    """The agent's user: answers each question with the next decision (``None``: declines the form), and
    keeps what they were asked (message, choices)."""

    def __init__(self, *decisions: str | None) -> None:
        self.decisions = list(decisions)
        self.asked: list[tuple[str, list[str]]] = []

    async def __call__(self, context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        self.asked.append((params.message, params.requested_schema["properties"]["decision"]["enum"]))
        decision = self.decisions.pop(0)
        if decision is None:
            return ElicitResult(action="decline")
        return ElicitResult(action="accept", content={"decision": decision})


@asynccontextmanager
async def agent(
    place: dict[str, Any], era: str, *extra: str, argv: list[str] | None = None, **options: Any
) -> AsyncIterator[Any]:
    """The agent's client of serve on the mailer alone, with approvals by the ``destructive`` rule (the mailer's
    tools say nothing of their effects, so each call asks)."""
    from mcp import Client, StdioServerParameters

    argv = argv or serve_argv(place, "--servers", "mailer", "--approve", "destructive", *extra)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=place["env"])
    async with Client(params, mode=era, **options) as client:
        yield client


def run(place: dict[str, Any], era: str, work: Callable[[Any], Any], *extra: str, **options: Any) -> Any:
    async def main() -> Any:
        async with agent(place, era, *extra, **options) as client:
            return await work(client)

    return asyncio.run(main())


def execute(code: str) -> Callable[[Any], Any]:
    async def work(client: Any) -> Any:
        return await client.call_tool("execute", {"code": code})

    return work


# ---- execute ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("era", ERAS)
def test_approve_sends_once_and_deny_sends_nothing_and_the_code_catches_it(
    place: dict[str, Any], era: str
) -> None:
    person = Person("approve", "deny")

    async def work(client: Any) -> tuple[list[str], list[dict[str, Any]], list[str]]:
        approved = outcomes(await client.call_tool("execute", {"code": SEND.format(n=1)}))
        after_approval = sent(place)
        denied = outcomes(await client.call_tool("execute", {"code": SEND.format(n=1)}))
        return approved, after_approval, denied

    approved, after_approval, denied = run(place, era, work, elicitation_callback=person)
    assert approved == ["sent"]
    assert after_approval == [{"kind": "email", "to": "p0@example.org", "subject": "q3", "body": ""}]
    [caught] = denied
    assert caught.startswith(
        "caught: mailer.send_email was not sent: approve=destructive for this run asks a person first, and the person denied it"
    )
    assert "Nothing reached the server" in caught
    assert sent(place) == after_approval, "the denied call never reached the mailer"
    message, choices = person.asked[0]
    assert message.startswith("Allow mailer.send_email?")
    assert 'Arguments: {"body": "", "subject": "q3", "to": "p0@example.org"}' in message
    assert choices == ["approve", "deny", "approve-all"]
    assert len(person.asked) == 2


@pytest.mark.parametrize("era", ERAS)
def test_approve_all_covers_the_rest_of_that_execute_only(place: dict[str, Any], era: str) -> None:
    person = Person("approve-all", "approve")

    async def work(client: Any) -> tuple[list[str], int, list[str]]:
        first = outcomes(await client.call_tool("execute", {"code": SEND.format(n=3)}))
        asked_in_first = len(person.asked)
        second = outcomes(await client.call_tool("execute", {"code": SEND.format(n=1)}))
        return first, asked_in_first, second

    first, asked_in_first, second = run(place, era, work, elicitation_callback=person)
    assert first == ["sent"] * 3 and asked_in_first == 1
    assert second == ["sent"] and len(person.asked) == 2, "the next execute asks again"
    assert [item["to"] for item in sent(place)] == [f"p{i}@example.org" for i in (0, 1, 2, 0)]


@pytest.mark.parametrize("era", ERAS)
def test_with_tokenize_pii_the_question_shows_a_placeholder_not_the_address(
    place: dict[str, Any], era: str
) -> None:
    person = Person("approve")
    result = run(place, era, execute(SEND.format(n=1)), "--tokenize-pii", elicitation_callback=person)
    assert outcomes(result) == ["sent"]
    [(message, _)] = person.asked
    assert "mailer.send_email" in message and '"subject": "q3"' in message
    assert "example.org" not in message and '"to": "<EMAIL_' in message, message
    assert [item["to"] for item in sent(place)] == ["p0@example.org"], "the mailer got the real address"


@pytest.mark.parametrize("era", ERAS)
def test_a_client_without_elicitation_is_denied_and_serve_goes_on(place: dict[str, Any], era: str) -> None:
    async def work(client: Any) -> tuple[list[str], str]:
        denied = outcomes(await client.call_tool("execute", {"code": SEND.format(n=1)}))
        after = await client.call_tool("execute", {"code": "6 * 7"})
        return denied, text(after)

    denied, after = run(place, era, work)  # no elicitation_callback: the capability is not declared
    [caught] = denied
    assert caught.startswith("caught: mailer.send_email was not sent")
    assert "it was denied: the agent's client did not declare the elicitation capability" in caught
    assert sent(place) == []
    assert after == "42"


def test_a_2025_client_that_never_answers_is_denied_after_the_timeout(place: dict[str, Any]) -> None:
    """The user's callback is still open when the approval's time is up: the execute ends with the denial
    (the question is withdrawn), nothing is sent, and serve answers the next request."""
    Path(place["settings"]).write_text("[MCPKernel]\napproval_timeout = 2\n")
    asked: list[str] = []
    released = asyncio.Event()

    async def never(context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        asked.append(params.message)
        await released.wait()  # the user went for coffee
        return ElicitResult(action="accept", content={"decision": "approve"})

    async def work(client: Any) -> tuple[list[str], str]:
        try:
            denied = outcomes(await client.call_tool("execute", {"code": SEND.format(n=1)}))
        finally:
            released.set()
        return denied, text(await client.call_tool("execute", {"code": "6 * 7"}))

    denied, after = run(place, "legacy", work, elicitation_callback=never)
    assert len(asked) == 1
    [caught] = denied
    assert "it was denied: nobody answered within 2 s" in caught, caught
    assert sent(place) == []
    assert after == "42"


def test_a_2026_client_that_never_retries_is_denied_and_a_late_yes_sends_nothing(
    place: dict[str, Any],
) -> None:
    """The client takes the input_required and does not come back: when the approval's time is up the call is
    denied (the audit records it); a retry with a yes after that gets the execute's end, the denial, and
    nothing reaches the mailer."""
    from mcp.types import ElicitResult, InputRequiredResult

    Path(place["settings"]).write_text("[MCPKernel]\napproval_timeout = 2\n")

    async def unused(context: Any, params: Any) -> Any:
        raise AssertionError("this test answers by hand")

    async def work(client: Any) -> tuple[Any, list[str], str]:
        asked = await client.session.call_tool(
            "execute", {"code": SEND.format(n=1)}, allow_input_required=True
        )
        assert isinstance(asked, InputRequiredResult), asked
        await refused_in_audit(place)
        alive = text(await client.call_tool("execute", {"code": "6 * 7"}))
        yes = {
            key: ElicitResult(action="accept", content={"decision": "approve"})
            for key in asked.input_requests
        }
        late = await client.session.call_tool(
            "execute",
            {"code": SEND.format(n=1)},
            input_responses=yes,
            request_state=asked.request_state,
            allow_input_required=True,
        )
        return asked, outcomes(late), alive

    asked, late, alive = run(place, "auto", work, elicitation_callback=unused)
    [request] = asked.input_requests.values()
    assert request.params.message.startswith("Allow mailer.send_email?")
    assert alive == "42"
    [caught] = late
    assert "it was denied: nobody answered within 2 s" in caught, caught
    assert sent(place) == []


async def refused_in_audit(place: dict[str, Any], within: float = 60.0) -> None:
    """Wait until the audit trail records the refused call (the approval's time ran out in serve)."""
    ends = time.monotonic() + within
    while not any(e.outcome == "refused: approval" for e in read_audit(place["audit"]).entries):
        assert time.monotonic() < ends, "serve never gave up waiting for the approval"
        await asyncio.sleep(0.1)


def test_the_default_asks_for_send_email_but_not_for_a_read_only_tool(place: dict[str, Any]) -> None:
    """serve without --approve: destructive. The demo's list_regions is annotated read-only and never asks."""
    argv = serve_argv(place, "--servers", "mailer,demo")
    at = argv.index("--approve")
    del argv[at : at + 2]  # serve_argv's `--approve never`, for the tests of other things
    person = Person("approve")
    code = "from servers.demo import list_regions\nregions = list_regions()['regions']\n" + SEND.format(n=1)

    async def main() -> Any:
        async with agent(place, "auto", argv=argv, elicitation_callback=person) as client:
            return await client.call_tool("execute", {"code": code})

    result = asyncio.run(main())
    assert outcomes(result) == ["sent"]
    assert [message.splitlines()[0].split("?")[0] for message, _ in person.asked] == [
        "Allow mailer.send_email"
    ]
    assert "approve=destructive for this run" in person.asked[0][0]
    assert {c["tool"] for c in result.structured_content["calls"]} == {
        "demo.list_regions",
        "mailer.send_email",
    }
    assert len(sent(place)) == 1


# ---- exposed tools -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("era", "servers", "name"),
    [("legacy", "mailer", "send_email"), ("auto", "mailer,demo", "mailer__send_email")],
)
def test_an_exposed_call_asks_first_approve_sends_once_deny_sends_nothing(
    place: dict[str, Any], era: str, servers: str, name: str
) -> None:
    """One server: its tools keep their names; several: <server>__<tool>. Each call is its own run, so there
    is no approve-all to offer."""
    person = Person("approve", "deny")
    argv = serve_argv(place, "--servers", servers, "--expose-tools", "all", "--approve", "destructive")

    async def main() -> tuple[Any, list[dict[str, Any]], Any]:
        async with agent(place, era, argv=argv, elicitation_callback=person) as client:
            approved = await client.call_tool(name, {"to": "ann@example.org", "subject": "hi"})
            after_approval = sent(place)
            denied = await client.call_tool(name, {"to": "bob@example.org", "subject": "hi"})
            return approved, after_approval, denied

    approved, after_approval, denied = asyncio.run(main())
    assert not approved.is_error, text(approved)
    assert json.loads(text(approved)) == {"sent": True, "to": "ann@example.org"}
    assert after_approval == [{"kind": "email", "to": "ann@example.org", "subject": "hi", "body": ""}]
    assert denied.is_error
    assert text(denied).startswith("ApprovalDenied: mailer.send_email was not sent: approve=destructive")
    assert "it was denied" not in text(denied) and "the person denied it" in text(denied)
    assert sent(place) == after_approval, "the denied call never reached the mailer"
    assert [choices for _, choices in person.asked] == [["approve", "deny"]] * 2
    assert '"to": "bob@example.org"' in person.asked[1][0]


# ---- callers -----------------------------------------------------------------------------------------------
def test_one_callers_approval_cannot_be_answered_by_another(place: dict[str, Any]) -> None:
    """Alice's execute waits for her yes; Bob retrying with Alice's request state is refused (invalid params)
    and sends nothing; Alice's own answer then sends once."""
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, ElicitResult, InputRequiredResult

    port = free_port()
    argv = serve_argv(
        place, "--servers", "mailer", "--approve", "destructive",
        "--http", f"127.0.0.1:{port}", "--callers", place["callers"],
    )  # fmt: skip

    async def unused(context: Any, params: Any) -> Any:
        raise AssertionError("this test answers by hand")

    async def main(url: str) -> tuple[list[dict[str, Any]], MCPError, list[str]]:
        async with caller(url, ALICE, unused) as alice, caller(url, BOB, unused) as bob:
            asked = await alice.session.call_tool(
                "execute", {"code": SEND.format(n=1)}, allow_input_required=True
            )
            assert isinstance(asked, InputRequiredResult), asked
            yes = {
                key: ElicitResult(action="accept", content={"decision": "approve"})
                for key in asked.input_requests
            }
            with pytest.raises(MCPError) as refused:
                await bob.session.call_tool(
                    "execute",
                    {"code": SEND.format(n=1)},
                    input_responses=yes,
                    request_state=asked.request_state,
                    allow_input_required=True,
                )
            before = sent(place)
            done = await alice.session.call_tool(
                "execute",
                {"code": SEND.format(n=1)},
                input_responses=yes,
                request_state=asked.request_state,
                allow_input_required=True,
            )
            return before, refused.value, outcomes(done)

    with running(argv, port, env=place["env"], timeout=90):
        before, refused, done = asyncio.run(main(f"http://127.0.0.1:{port}/mcp"))
    # The SDK seals the state to the caller who got it (serve's parked runs check the caller again behind it).
    assert refused.error.code == INVALID_PARAMS, refused.error
    assert before == [], "nothing is sent while Alice has not answered"
    assert done == ["sent"] and len(sent(place)) == 1
    assert [(e.caller, e.outcome) for e in read_audit(place["audit"]).entries] == [("alice", "ok")]


@asynccontextmanager
async def caller(url: str, token: str, answer: Any) -> AsyncIterator[Any]:
    """A client over HTTP as the caller ``token`` names, declaring elicitation (answered by ``answer``)."""
    import httpx
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), elicitation_callback=answer) as client,
    ):
        yield client


def test_an_answer_sent_up_front_does_not_approve_an_exposed_call(place: dict[str, Any]) -> None:
    """A 2026 client may send answers with its first request, for questions the upstream will ask under those
    keys; an approval is serve's own question, answered only after it was asked: the user is asked anyway."""
    from mcp.types import ElicitResult, InputRequiredResult

    argv = serve_argv(place, "--servers", "mailer", "--expose-tools", "all", "--approve", "destructive")
    up_front = {"approval": ElicitResult(action="accept", content={"decision": "approve"})}

    async def main() -> Any:
        async with agent(place, "auto", argv=argv, elicitation_callback=Person()) as client:
            return await client.session.call_tool(
                "send_email",
                {"to": "ann@example.org", "subject": "hi"},
                input_responses=up_front,
                allow_input_required=True,
            )

    asked = asyncio.run(main())
    assert isinstance(asked, InputRequiredResult), asked
    [request] = asked.input_requests.values()
    assert request.params.message.startswith("Allow mailer.send_email?")
    assert sent(place) == []
