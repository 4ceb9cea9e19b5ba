"""What happens during an exposed tool call reaches the agent's client through `mcp-kernel serve`, as during an
execute: the upstream's questions (mid-call to a 2025 client, ``input_required`` and a retry for a 2026 one,
under the upstream's own keys), its log records, and a clear error for a stale or tampered request state or a
prompt that asks first. A real serve subprocess over stdio, real upstream servers (tests/servers/library.py,
conformance_fixtures.py) and the SDK's client."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS
from test_serve import one_server_place, serve_argv, text

pytestmark = pytest.mark.slow

ERAS = ["legacy", "auto"]  # the SDK client's modes: 2025-11-25, and 2026-07-28


@pytest.fixture()
def library(tmp_path: Path) -> dict[str, Any]:
    return one_server_place(tmp_path, "library")


def client(place: dict[str, Any], era: str, server: str = "library", **options: Any) -> Any:
    """The agent's client of serve fronting ``server`` alone (its tools keep their names), every tool exposed."""
    from mcp import Client, StdioServerParameters

    argv = serve_argv(place, "--servers", server, "--expose-tools", "all")
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=place["env"])
    return Client(params, mode=era, **options)


@pytest.mark.parametrize("era", ERAS)
def test_an_upstream_question_during_an_exposed_call_reaches_the_agent(
    library: dict[str, Any], era: str
) -> None:
    """The library's `book` asks who is booking: the agent's client is asked (mid-call or by input_required,
    as its era does it), and the upstream gets its answer."""
    from mcp.types import ElicitResult

    asked: list[tuple[str, list[str]]] = []

    async def answer(context: Any, params: Any) -> ElicitResult:
        asked.append((params.message, sorted(params.requested_schema["properties"])))
        return ElicitResult(action="accept", content={"name": "Agent", "nights": 3, "breakfast": False})

    async def main() -> Any:
        async with client(library, era, elicitation_callback=answer) as agent:
            return await agent.call_tool("book", {})

    result = asyncio.run(main())
    assert not result.is_error, text(result)
    assert asked == [("Who is booking, and for how long?", ["breakfast", "name", "nights"])]
    assert json.loads(text(result)) == {
        "action": "accept",
        "booking": {"name": "Agent", "nights": 3, "breakfast": False},
    }


def test_a_2026_client_sees_the_upstreams_keys_and_a_new_state_each_round(library: dict[str, Any]) -> None:
    """Driven by hand: the input_required names the question as the upstream did; the answer under that key
    reaches the upstream; the same request state again (or a tampered one) is a protocol error."""
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, ElicitResult, InputRequiredResult

    async def unused(context: Any, params: Any) -> ElicitResult:
        raise AssertionError("this test answers by hand")

    async def main() -> tuple[Any, Any, list[MCPError]]:
        async with client(library, "auto", elicitation_callback=unused) as agent:
            asked = await agent.session.call_tool("book", {}, allow_input_required=True)
            assert isinstance(asked, InputRequiredResult) and asked.request_state
            [key] = asked.input_requests
            answers = {key: ElicitResult(action="accept", content={"name": "Hand", "nights": 1})}
            refused = []
            for state in (asked.request_state + "-TAMPERED", asked.request_state):
                if state == asked.request_state:
                    done = await agent.session.call_tool(
                        "book", {}, input_responses=answers, request_state=state, allow_input_required=True
                    )
                with pytest.raises(MCPError) as error:  # tampered, then used up
                    await agent.session.call_tool(
                        "book", {}, input_responses=answers, request_state=state, allow_input_required=True
                    )
                refused.append(error.value)
            return asked, done, refused

    asked, done, refused = asyncio.run(main())
    assert list(asked.input_requests) == ["__main__:ask_booking"], "the upstream's own key, passed on"
    assert json.loads(text(done))["booking"] == {"name": "Hand", "nights": 1, "breakfast": False}
    tampered, used = refused
    assert tampered.error.code == INVALID_PARAMS  # the SDK seals the state serve mints: refused before serve
    assert used.error.code == INVALID_PARAMS and "belong to no waiting call of book" in used.error.message


@pytest.mark.parametrize("era", ERAS)
def test_upstream_log_records_during_an_exposed_call_are_relayed(library: dict[str, Any], era: str) -> None:
    """The library's `count` logs each step: the records reach the client on the call's own request."""
    from mcp.types import LoggingMessageNotificationParams

    heard: list[Any] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        heard.append(params.data)

    async def main() -> Any:
        async with client(library, era, logging_callback=on_log, log_level="info") as agent:
            if era == "legacy":
                await agent.set_logging_level("info")
            return await agent.call_tool("count", {"to": 3})

    result = asyncio.run(main())
    assert not result.is_error, text(result)
    assert [d for d in heard if isinstance(d, str) and d.startswith("counted")] == [
        "counted 1",
        "counted 2",
        "counted 3",
    ]


def test_a_prompt_that_asks_first_gets_a_clear_error(tmp_path: Path) -> None:
    """A prompts/get the upstream answers with input_required is not relayed yet: the client is told so, naming
    the server and what it asked, instead of being told the server is broken."""
    from mcp.shared.exceptions import MCPError

    config = tmp_path / "mcp.json"
    fixtures = SERVERS / "conformance_fixtures.py"
    config.write_text(
        json.dumps({"mcpServers": {"fixtures": {"command": sys.executable, "args": [str(fixtures)]}}})
    )
    place = {"config": str(config), "env": dict(os.environ)}

    async def main() -> MCPError:
        async with client(place, "auto", "fixtures") as agent:
            with pytest.raises(MCPError) as error:
                await agent.get_prompt("test_input_required_result_prompt", {})
            return error.value

    error = asyncio.run(main())
    assert "asks its client for input (elicitation/create)" in error.error.message
    assert "not yet during prompts/get" in error.error.message
