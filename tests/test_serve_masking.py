"""One masking point: with --tokenize-pii nothing serve sends an agent carries the personal data it hides.

A real ``mcp-kernel serve`` drives tests/servers/canary.py, whose tools put one e-mail and IBAN into a
result, their own error, progress, a log record and a question; the code also passes a placeholder where a
number belongs (a schema error). Every message the agent's client receives is collected through the SDK
client's callbacks and searched for the canary; the server's own record shows it got the real values.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, running

pytestmark = pytest.mark.slow

EMAIL = "bob.hidden@example.org"
IBAN = "DE89 3704 0044 0532 0130 00"
CANARIES = (EMAIL, IBAN, IBAN.replace(" ", ""), "bob.hidden")


@pytest.fixture()
def canary_place(tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "mcp.json"
    received = tmp_path / "received.jsonl"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "canary": {
                        "command": sys.executable,
                        "args": [str(SERVERS / "canary.py")],
                        "env": {"CANARY_RECEIVED": str(received)},
                    }
                }
            }
        )
    )
    return {
        # The canary's tools carry no annotations; approvals (and their masking) are tests/test_approvals_serve.py's.
        "argv": [
            *[sys.executable, "-m", "mcp_kernel.cli", "serve", "--config", str(config), "--tokenize-pii"],
            *["--approve", "never"],
        ],
        "env": dict(os.environ),
        "received": received,
    }


class Agent:
    """Everything an agent's client hears from serve, as JSON text, with the answers it gives to questions."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.asked: list[Any] = []

    def hear(self, what: str, item: Any) -> None:
        dump = item.model_dump(mode="json", by_alias=True) if hasattr(item, "model_dump") else item
        self.heard.append(f"{what}: {json.dumps(dump, ensure_ascii=False)}")

    async def on_log(self, params: Any) -> None:
        self.hear("log", params)

    async def on_progress(self, value: float, total: float | None, message: str | None) -> None:
        self.hear("progress", {"value": value, "total": total, "message": message})

    async def on_question(self, context: Any, params: Any) -> Any:
        """Accept the form with the recipient it offers (a placeholder): the tool must get the real address."""
        from mcp.types import ElicitResult

        self.hear("question", params)
        self.asked.append(params)
        return ElicitResult(
            action="accept", content={"to": params.requested_schema["properties"]["to"]["default"]}
        )

    async def session(self, client: Any) -> dict[str, Any]:
        """The agent's cells: read the customer, pass a placeholder to an int, hit a tool error, answer a question."""

        async def execute(code: str, handle: str | None = None) -> Any:
            args = {"code": code, **({"session": handle} if handle else {})}
            result = await client.call_tool("execute", args, progress_callback=self.on_progress)
            self.hear("result", result)
            return result

        shown = await execute("from servers.canary import lookup\nc = lookup(customer_id=7)\nprint(c)")
        handle = shown.structured_content["session"]
        schema = await execute("from servers.canary import lookup\nlookup(customer_id='<EMAIL_1>')", handle)
        refused = await execute("from servers.canary import unlock\nunlock(email='<EMAIL_1>')", handle)
        asked = await execute("from servers.canary import send_statement\nprint(send_statement())", handle)
        return {"shown": shown, "schema": schema, "refused": refused, "asked": asked}


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def check(agent: Agent, results: dict[str, Any], received: Path) -> None:
    everything = "\n".join(agent.heard)
    for canary in CANARIES:
        assert canary not in everything, [line for line in agent.heard if canary in line]
    assert "<EMAIL_1>" in text(results["shown"]) and "<IBAN_1>" in text(results["shown"])
    schema = results["schema"]
    assert schema.is_error and "'<EMAIL_1>' is not of type 'integer'" in text(schema), text(schema)
    assert "'<EMAIL_1>' is not of type" in schema.structured_content["calls"][0]["error"], (
        "quoted as the code wrote it"
    )
    refused = results["refused"]
    assert (
        refused.is_error
        and "customer <EMAIL_1> is locked; refunds go to <IBAN_1>"
        in refused.structured_content["calls"][0]["error"]
    )
    assert "<EMAIL_1>" in agent.asked[0].message and "<IBAN_1>" in agent.asked[0].message
    assert agent.asked[0].requested_schema["properties"]["to"]["title"] == "Recipient (<EMAIL_1>)"
    assert "'sent_to': '<EMAIL_1>'" in text(results["asked"]), text(results["asked"])
    assert any(line.startswith("progress:") and "<IBAN_1>" in line for line in agent.heard), agent.heard
    assert any(line.startswith("log:") for line in agent.heard), "serve's own records were heard, masked"
    got = [json.loads(line) for line in received.read_text().splitlines()]
    assert got == [
        {"tool": "lookup", "got": 7},
        {"tool": "unlock", "got": EMAIL},
        {"tool": "send_statement", "got": EMAIL},
    ], "the tools got the real values; the schema error no call"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_the_canary_never_reaches_the_agent_over_stdio(canary_place: dict[str, Any], mode: str) -> None:
    """2026-07-28 (questions as input_required, logs per request) and 2025 (elicitation/create, setLevel)."""
    from mcp import Client, StdioServerParameters

    agent = Agent()

    async def main() -> dict[str, Any]:
        argv = canary_place["argv"]
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=canary_place["env"])
        async with Client(
            params,
            mode=mode,
            elicitation_callback=agent.on_question,
            logging_callback=agent.on_log,
            log_level="debug",
        ) as client:
            return await agent.session(client)

    check(agent, asyncio.run(main()), canary_place["received"])


def test_the_canary_never_reaches_the_agent_over_streamable_http(canary_place: dict[str, Any]) -> None:
    from mcp import Client

    agent = Agent()
    port = free_port()

    async def main() -> dict[str, Any]:
        async with Client(
            f"http://127.0.0.1:{port}/mcp",
            elicitation_callback=agent.on_question,
            logging_callback=agent.on_log,
            log_level="debug",
        ) as client:
            return await agent.session(client)

    with running(
        [*canary_place["argv"], "--http", f"127.0.0.1:{port}"], port, env=canary_place["env"], timeout=60
    ):
        results = asyncio.run(main())
    check(agent, results, canary_place["received"])
