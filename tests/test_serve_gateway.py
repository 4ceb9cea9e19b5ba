"""serve as a gateway: upstream prompts, resources, templates, completions, subscriptions and list changes
pass through a real ``mcp-kernel serve`` (stdio and HTTP) to a real SDK client, on both protocol eras,
from our own test servers and @modelcontextprotocol/server-everything."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, node_bin, running
from test_serve import serve_argv

pytestmark = [pytest.mark.slow, pytest.mark.npm]

ERAS = [pytest.param("legacy", id="2025-11-25"), pytest.param("auto", id="2026-07-28")]


@pytest.fixture()
def gateway_place(tmp_path: Path) -> dict[str, Any]:
    """library (resources, a template, prompts), the board (updates, a growing prompt list) and
    server-everything (completions, prompts with arguments, images)."""
    config = tmp_path / "mcp.json"
    ours = {"command": sys.executable}
    servers = {
        "library": {**ours, "args": [str(SERVERS / "library.py")]},
        "board": {**ours, "args": [str(SERVERS / "board.py")], "env": {"BOARD_TICK": "0.5"}},
        "everything": {"command": node_bin("mcp-server-everything"), "args": ["stdio"]},
    }
    config.write_text(json.dumps({"mcpServers": servers}))
    return {"config": str(config), "env": None}


@asynccontextmanager
async def through_serve(place: dict[str, Any], mode: str, *extra: str, **kwargs: Any) -> Any:
    from mcp import Client, StdioServerParameters

    argv = serve_argv(place, *extra)
    params = StdioServerParameters(command=argv[0], args=argv[1:])
    async with Client(params, mode=mode, cache=None, **kwargs) as client:  # type: ignore[arg-type]
        assert (client.protocol_version == "2026-07-28") == (mode == "auto")
        yield client


async def wait_for(condition: Any, what: str, timeout: float = 20) -> None:
    with_deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > with_deadline:
            raise AssertionError(f"no {what} within {timeout:g} s")
        await asyncio.sleep(0.05)


async def check_prompts_resources_completions(client: Any) -> None:
    """What each server offers arrives under its own prefix, whole, and goes back to it."""
    from mcp.types import PromptReference, ResourceTemplateReference

    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert {"library__summarize", "library__discuss", "everything__args-prompt"} <= set(prompts)
    assert [a.name for a in prompts["library__summarize"].arguments] == ["title", "style"]

    got = await client.get_prompt("library__summarize", {"title": "Dune", "style": "long"})  # with arguments
    assert got.messages[0].content.text == "Summarize 'Dune' in a long paragraph."
    everything = await client.get_prompt("everything__args-prompt", {"city": "Paris"})
    assert "Paris" in everything.messages[0].content.text

    resources = {str(r.uri): r for r in (await client.list_resources()).resources}
    assert {"library+note://welcome", "library+image://pixel", "board+board://notices"} <= set(resources)
    welcome = await client.read_resource("library+note://welcome")  # a resource read
    assert welcome.contents[0].text == "Welcome to the library.\nOpen 9-17."
    assert str(welcome.contents[0].uri) == "library+note://welcome"
    pixel = await client.read_resource("library+image://pixel")  # a blob, byte for byte
    assert pixel.contents[0].blob.startswith("iVBORw0KGgo") and pixel.contents[0].mime_type == "image/png"

    templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    assert templates[0] == "mcp-tools://{+path}" and "library+note://shelf/{name}" in templates
    shelf = await client.read_resource("library+note://shelf/A")  # a template read
    assert shelf.contents[0].text == "Shelf A: 12 books"

    embedded = await client.get_prompt(
        "everything__resource-prompt", {"resourceType": "Text", "resourceId": "1"}
    )
    uris = [str(m.content.resource.uri) for m in embedded.messages if m.content.type == "resource"]
    assert uris == ["everything+demo://resource/dynamic/text/1"], "an embedded resource, renamed"

    ref = PromptReference(type="ref/prompt", name="everything__completable-prompt")
    done = await client.complete(ref, {"name": "department", "value": "E"})  # a completion, upstream
    assert done.completion.values and all(v.startswith("E") for v in done.completion.values)
    everything_templates = [t for t in templates if t.startswith("everything+")]
    assert everything_templates, templates
    tree = ResourceTemplateReference(type="ref/resource", uri="mcp-tools://{+path}")
    own = await client.complete(tree, {"name": "path", "value": "servers/lib"})  # serve's own completion
    assert own.completion.values == ["servers/library/"]


async def check_errors(client: Any) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match=r"library\+note://nothing.*ResourceNotFound.*note://welcome"):
        await client.read_resource("library+note://nothing")
    with pytest.raises(MCPError, match=r"'elsewhere\+x://y'.*is no upstream server's resource.*board"):
        await client.read_resource("elsewhere+x://y")  # a server serve does not front is never reached
    with pytest.raises(MCPError, match=r"library__summarize.*needs the argument 'title'"):
        await client.get_prompt("library__summarize", {})
    with pytest.raises(MCPError, match=r"prompt 'library__nothing'.*PromptNotFound"):
        await client.get_prompt("library__nothing", {})


@pytest.mark.parametrize("mode", ERAS)
def test_prompts_resources_and_completions_through_serve(gateway_place: dict[str, Any], mode: str) -> None:
    async def main() -> None:
        async with through_serve(gateway_place, mode) as client:
            await check_prompts_resources_completions(client)
            await check_errors(client)
            assert [t.name for t in (await client.list_tools()).tools] == ["search_tools", "read", "execute"]

    asyncio.run(main())


def test_everything_completes_through_serve(gateway_place: dict[str, Any]) -> None:
    """server-everything's template variable completion goes to it, and comes back."""
    from mcp.types import ResourceTemplateReference

    async def main() -> None:
        async with through_serve(gateway_place, "legacy") as client:
            templates = (await client.list_resource_templates()).resource_templates
            template = next(t.uri_template for t in templates if t.uri_template.startswith("everything+"))
            variable = template.split("{")[1].split("}")[0]
            ref = ResourceTemplateReference(type="ref/resource", uri=template)
            done = await client.complete(ref, {"name": variable, "value": "1"})
            assert done.completion.values and all(v.startswith("1") for v in done.completion.values)

    asyncio.run(main())


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize("mode", ERAS)
def test_an_update_and_a_list_change_arrive_through_serve(gateway_place: dict[str, Any], mode: str) -> None:
    """The board's notices change every half second, and its prompt list grows: a subscriber through serve
    hears the one, under serve's name, and every client the other."""
    from mcp.types import PromptListChangedNotification, ResourceUpdatedNotification

    heard: list[Any] = []

    async def on_message(message: Any) -> None:
        heard.append(message)

    async def main() -> None:
        async with through_serve(gateway_place, mode, message_handler=on_message) as client:
            uri = "board+board://notices"
            if mode == "legacy":
                await client.subscribe_resource(uri)
                await wait_for(
                    lambda: any(isinstance(m, ResourceUpdatedNotification) for m in heard), "resource update"
                )
                updates = [str(m.params.uri) for m in heard if isinstance(m, ResourceUpdatedNotification)]
                assert set(updates) == {uri}
                await wait_for(
                    lambda: any(isinstance(m, PromptListChangedNotification) for m in heard), "list change"
                )
            else:
                from mcp.client.subscriptions import PromptsListChanged, ResourceUpdated

                events: list[Any] = []
                async with client.listen(resource_subscriptions=[uri], prompts_list_changed=True) as stream:
                    async for event in stream:
                        events.append(event)
                        if {type(e) for e in events} >= {ResourceUpdated, PromptsListChanged}:
                            break
                assert {e.uri for e in events if isinstance(e, ResourceUpdated)} == {uri}
            names = [p.name for p in (await client.list_prompts()).prompts]
            assert any(name.startswith("board__tick_") for name in names), names
            text = (await client.read_resource(uri)).contents[0].text
            assert text.startswith("tick 1")

    asyncio.run(asyncio.wait_for(main(), 90))


@pytest.mark.parametrize("mode", ERAS)
def test_one_server_is_transparent_and_pii_is_masked(gateway_place: dict[str, Any], mode: str) -> None:
    """One upstream: its own names. With --tokenize-pii, personal data in a resource is a placeholder, and
    the placeholder leads back to the real resource."""

    async def main() -> None:
        async with through_serve(gateway_place, mode, "--servers", "library", "--tokenize-pii") as client:
            assert "summarize" in [p.name for p in (await client.list_prompts()).prompts]
            read = await client.read_resource("note://shelf/alice@example.org")
            text, uri = read.contents[0].text, str(read.contents[0].uri)
            assert "alice@example.org" not in text + uri and text.startswith("Shelf <EMAIL_")
            again = await client.read_resource(uri)  # the masked URI: restored for the server
            assert again.contents[0].text == text
            pixel = await client.read_resource("image://pixel")
            assert pixel.contents[0].blob.startswith("iVBORw0KGgo")

    asyncio.run(main())


def test_the_gateway_over_http(gateway_place: dict[str, Any]) -> None:
    from mcp import Client

    port = free_port()
    with running(serve_argv(gateway_place, "--http", f"127.0.0.1:{port}"), port, timeout=90):

        async def main() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp", cache=None) as client:
                await check_prompts_resources_completions(client)
                await check_errors(client)

        asyncio.run(main())


def test_a_placeholder_from_a_resource_is_restored_in_an_exposed_call(tmp_path: Path) -> None:
    """One caller, one tokenizer: the placeholder a gateway read gave is the same value in an exposed tool
    call (the server gets the real address), and the tool's answer is masked with the same placeholders."""
    config = tmp_path / "mcp.json"
    servers = {
        n: {"command": sys.executable, "args": [str(SERVERS / f"{n}.py")]} for n in ("library", "gallery")
    }
    config.write_text(json.dumps({"mcpServers": servers}))
    place = {"config": str(config), "env": None}

    async def main() -> None:
        argv = (
            "--servers",
            "library,gallery",
            "--tokenize-pii",
            "--expose-tools",
            "gallery.measure,gallery.untagged",
        )
        async with through_serve(place, "auto", *argv) as client:
            read = await client.read_resource("library+note://shelf/alice@example.org")
            placeholder = read.contents[0].text.split()[1].rstrip(":")
            assert placeholder.startswith("<EMAIL_"), read.contents[0].text
            measured = await client.call_tool("gallery__measure", {"text": placeholder})
            assert measured.content[0].text == f"{len('alice@example.org')} characters"
            shouted = await client.call_tool("gallery__untagged", {"text": placeholder})
            assert "ALICE@EXAMPLE.ORG" not in shouted.content[0].text

    asyncio.run(main())
