"""Personal data kept out of what leaves the sandbox, and restored for the tools that need it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realservers import our_server

from mcp_kernel.pii import PIITokenizer
from mcp_kernel.session import Session

TEXT = (
    "ana@example.com paid with 4111 1111 1111 1111 (again: 4111-1111-1111-1111); IBAN DE89 3704 0044 0532 "
    "0130 00; from 192.168.1.20 and 2001:db8::1; phones +49 30 901820, (415) 555-2671, +81 3-1234-5678"
)


@pytest.mark.slow
def test_each_kind_is_found_and_validated() -> None:
    pii = PIITokenizer()
    out, count = pii.tokenize(TEXT)
    assert out == (
        "<EMAIL_1> paid with <CARD_1> (again: <CARD_1>); IBAN <IBAN_1>; from <IP_1> and <IP_2>; "
        "phones <PHONE_1>, <PHONE_2>, <PHONE_3>"
    )
    assert count == 9
    for value in (
        "ana@example.com",
        "4111",
        "DE89",
        "192.168",
        "2001:db8",
        "901820",
        "555-2671",
        "1234-5678",
    ):
        assert value not in out


@pytest.mark.parametrize(
    "text",
    [
        "order 2025-03-14, qty 12345, total 1234567890123 (fails Luhn)",
        "DE89 3704 0044 0532 0130 01 (bad checksum)",
        "version 1.2.3.4.5",
        "999.1.1.1",
    ],
)
def test_look_alikes_that_fail_their_checks_are_left(text: str) -> None:
    assert PIITokenizer().tokenize(text) == (text, 0)


def test_placeholders_are_stable_and_restored() -> None:
    pii = PIITokenizer({"EMPLOYEE": r"EMP-\d{6}"})
    first, _ = pii.tokenize("EMP-123456 wrote to bob@example.org")
    again, _ = pii.tokenize("bob@example.org and EMP-123456")
    assert first == "<EMPLOYEE_1> wrote to <EMAIL_1>" and again == "<EMAIL_1> and <EMPLOYEE_1>"
    assert pii.restore({"to": ["<EMAIL_1>"], "note": "<EMAIL_9> unknown"}) == {
        "to": ["bob@example.org"],
        "note": "<EMAIL_9> unknown",
    }
    value, count = pii.tokenize_value({"phone": 14155552671, "rows": [{"mail": "bob@example.org"}], "n": 3})
    assert value == {"phone": "<PHONE_1>", "rows": [{"mail": "<EMAIL_1>"}], "n": 3} and count == 2


@pytest.mark.slow
def test_a_cell_never_shows_personal_data_and_tools_get_it_back() -> None:
    with Session() as session:
        session.add_server(our_server("mailer"))
        session.generate("demo")
        session.generate("mailer")
        policy = session.policy(["demo", "mailer"], tokenize_pii=True)
        streamed: list[str] = []
        shown = session.execute(
            "from servers.demo import get_customer\n"
            "c = get_customer(customer_id='C0024')\n"
            "print(c['email'], c['phone'])\n"
            "c",
            policy,
            on_output=lambda stream, text: streamed.append(text),
        )
        real = session.call("demo", "get_customer", {"customer_id": "C0024"}).value
        everything = json.dumps(shown.model_dump()) + "".join(streamed)
        assert real["email"] not in everything and real["phone"] not in everything
        assert shown.stdout == "<EMAIL_1> <PHONE_1>\n" and shown.value["email"] == "<EMAIL_1>"
        assert shown.pii_replaced == 6
        sent = session.execute(
            "from servers.mailer import send_email\nsend_email(to='<EMAIL_1>', subject='Your order')", policy
        )
        assert sent.value == {"sent": True, "to": "<EMAIL_1>"}, "the answer is tokenized again on the way out"
        outbox = session.call("mailer", "outbox").value["result"]
        assert outbox[-1]["to"] == real["email"], "the server received the real address"
        failed = session.execute("raise ValueError('no mail for ' + c['email'])", policy)
        assert real["email"] not in failed.error.message and "<EMAIL_1>" in failed.error.message


# ---- one masking point (masking.py) --------------------------------------------------------------------
CANARY = "bob.hidden@example.org"


def test_a_mask_covers_whole_messages_and_keeps_their_types() -> None:
    from mcp.types import (
        CallToolResult,
        LoggingMessageNotification,
        LoggingMessageNotificationParams,
        TextContent,
    )

    from mcp_kernel.elicitation import Question
    from mcp_kernel.masking import Mask

    mask = Mask(PIITokenizer())
    result = mask(
        CallToolResult(
            content=[TextContent(type="text", text=f"to {CANARY}")],
            is_error=True,
            structured_content={
                "calls": [{"error": f"{CANARY} is locked", "ms": 2.5}],
                CANARY: {"phone": 14155552671, "n": 3},
            },
        )
    )
    assert isinstance(result, CallToolResult) and result.content[0].text == "to <EMAIL_1>"
    assert result.structured_content == {
        "calls": [{"error": "<EMAIL_1> is locked", "ms": 2.5}],
        "<EMAIL_1>": {"phone": "<PHONE_1>", "n": 3},
    }, "keys and numbers too"
    assert "meta" not in result.model_fields_set, "fields left unset stay unset"
    record = mask(
        LoggingMessageNotification(params=LoggingMessageNotificationParams(level="info", data=CANARY))
    )
    assert record.params.data == "<EMAIL_1>"
    question = mask(
        Question(
            server="s",
            message=f"Mail {CANARY}?",
            url=f"https://example.org/?to={CANARY}",
            schema={"properties": {"to": {"title": CANARY, "default": CANARY, "minLength": 3}}},
        )
    )
    assert question == Question(
        server="s",
        message="Mail <EMAIL_1>?",
        url="https://example.org/?to=<EMAIL_1>",
        schema={"properties": {"to": {"title": "<EMAIL_1>", "default": "<EMAIL_1>", "minLength": 3}}},
    )
    assert mask.restore({"to": "<EMAIL_1>"}) == {"to": CANARY}
    assert Mask()(f"to {CANARY}") == f"to {CANARY}", "no tokenizer: nothing replaced"


@pytest.mark.slow
def test_placeholders_are_restored_after_validation_and_errors_quote_them(tmp_path: Path) -> None:
    """The kernel's and the CLI's cells: a schema error and a tool's own error quote the placeholder, never the
    value; a placeholder the schema's pattern refuses still reaches the tool as the real, valid value."""
    received = tmp_path / "received.jsonl"
    with Session() as session:
        session.add_server(
            our_server("canary").model_copy(update={"env": {"CANARY_RECEIVED": str(received)}})
        )
        session.generate("canary")
        policy = session.policy(["canary"], tokenize_pii=True)
        shown = session.execute(
            "from servers.canary import lookup\nprint(lookup(customer_id=7)['email'])", policy
        )
        assert shown.stdout == "<EMAIL_1>\n"
        from mcp_kernel.display import ExecutionFooter

        footer = ExecutionFooter(shown)._repr_mimebundle_()["text/html"]
        assert "{&#34;customer_id&#34;: 7}" in footer and "&lt;EMAIL_1&gt;" in footer, (
            "arguments and a result preview"
        )
        assert CANARY not in footer and CANARY not in (shown.calls[0].arguments or ""), (
            "masked in the calls section"
        )
        cells = [
            session.execute(code, policy)
            for code in (
                "from servers.canary import lookup\nlookup(customer_id='<EMAIL_1>')",
                "from servers.canary import unlock\nunlock(email='<EMAIL_1>')",
                "from servers.canary import notify\nnotify(email='<EMAIL_1>')",
            )
        ]
        everything = json.dumps([cell.model_dump() for cell in cells])
        assert CANARY not in everything and "DE89" not in everything
        schema, refused, notified = cells
        assert "'<EMAIL_1>' is not of type 'integer'" in schema.calls[0].error
        assert "customer <EMAIL_1> is locked; refunds go to <IBAN_1>" in refused.calls[0].error
        assert "<EMAIL_1> is locked" in refused.error.message
        assert notified.error is None and notified.value == {"notified": "<EMAIL_1>"}
        notes: list[str | None] = []
        session.execute(
            "from servers.canary import send_statement\nsend_statement()",
            policy,
            on_tool_progress=lambda server, tool, value, total, note: notes.append(note),
        )
        assert notes == ["writing the statement of <IBAN_1>", "sent to None"], "the kernel's progress, masked"
    got = [json.loads(line) for line in received.read_text().splitlines()]
    assert got == [
        {"tool": "lookup", "got": 7},
        {"tool": "unlock", "got": CANARY},
        {"tool": "notify", "got": CANARY},
        {"tool": "send_statement", "got": None},
    ]
