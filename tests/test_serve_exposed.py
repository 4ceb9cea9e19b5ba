"""`mcp-kernel serve --expose-tools` through a real serve subprocess and the SDK's client, on both protocol
eras (``legacy``: 2025-11-25, ``auto``: 2026-07-28), over stdio and streamable HTTP, in front of real servers
(tests/servers/gallery.py, dyn.py): what each choice lists, calls with their content intact, refusals,
masking per caller, the rate limit, and the list following an upstream change."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from realservers import SERVERS, free_port, running
from test_serve import serve_argv

pytestmark = pytest.mark.slow

ERAS = ["legacy", "auto"]  # the SDK client's modes: 2025-11-25, and 2026-07-28 (serve speaks it)
ALICE, BOB = "alice-" + "a1" * 20, "bob-" + "b2" * 20
GALLERY_TOOLS = {"show_picture", "register", "untagged", "measure", "read", "fail"}
GALLERY_READ_ONLY = {"show_picture", "measure", "read", "fail"}


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, Any]:
    """mcp.json with the gallery and dyn (the bundled demo is there too); settings in their own directory."""
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    name: {"command": sys.executable, "args": [str(SERVERS / f"{name}.py")]}
                    for name in ("gallery", "dyn")
                }
            }
        )
    )
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "config.toml").write_text("[MCPKernel]\n")
    callers = tmp_path / "callers.json"
    callers.write_text(json.dumps({"alice": ALICE, "bob": BOB}))
    env = {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(settings)}
    return {"config": str(config), "env": env, "settings": settings / "config.toml", "callers": str(callers)}


@asynccontextmanager
async def stdio(place: dict[str, Any], era: str, *extra: str, **options: Any) -> AsyncIterator[Any]:
    from mcp import Client, StdioServerParameters

    argv = serve_argv(place, *extra)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=place["env"])
    async with Client(params, mode=era, **options) as client:
        yield client


async def upstream(name: str) -> dict[str, Any]:
    """The server's own tools/list, straight from it: what serve must pass on."""
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=[str(SERVERS / f"{name}.py")])
    async with Client(params) as client:
        return {t.name: wire(t) for t in (await client.list_tools()).tools}


def wire(tool: Any) -> dict[str, Any]:
    return dict(tool.model_dump(mode="json", by_alias=True, exclude_none=True))


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


OWN = ["search_tools", "read", "execute"]


@pytest.mark.parametrize("era", ERAS)
def test_each_choice_lists_what_it_should_with_definitions_intact(place: dict[str, Any], era: str) -> None:
    """none: code mode alone; read-only: readOnlyHint true only (no annotations is not read-only); all; a
    list. Several servers: <server>__<tool>, the view ui://<server>/...; one server: names as they are,
    but a tool named like serve's own is prefixed."""

    async def main() -> dict[str, dict[str, Any]]:
        listed = {}
        for choice in ("none", "read-only", "all", "gallery.show_picture,dyn.grow"):
            async with stdio(place, era, "--servers", "gallery,dyn", "--expose-tools", choice) as client:
                listed[choice] = {t.name: wire(t) for t in (await client.list_tools()).tools}
        async with stdio(place, era, "--servers", "gallery", "--expose-tools", "all") as client:
            listed["one"] = {t.name: wire(t) for t in (await client.list_tools()).tools}
        return listed

    listed = asyncio.run(main())
    assert list(listed["none"]) == OWN
    assert set(listed["read-only"]) == {*OWN, *(f"gallery__{t}" for t in GALLERY_READ_ONLY)}
    assert set(listed["all"]) == {*OWN, "dyn__grow", *(f"gallery__{t}" for t in GALLERY_TOOLS)}
    assert set(listed["gallery.show_picture,dyn.grow"]) == {*OWN, "gallery__show_picture", "dyn__grow"}
    assert set(listed["one"]) == {*OWN, "gallery__read", *(GALLERY_TOOLS - {"read"})}
    assert listed["one"]["read"] == listed["none"]["read"], "serve's own read is never shadowed"

    own = asyncio.run(upstream("gallery"))
    shown = listed["all"]["gallery__show_picture"]
    view = {**own["show_picture"]["_meta"], "ui": {"resourceUri": "ui://gallery/gallery/view.html"}}
    assert shown == {**own["show_picture"], "name": "gallery__show_picture", "_meta": view}
    assert shown["outputSchema"]["properties"]["width"] == {"title": "Width", "type": "integer"}
    assert listed["one"]["show_picture"] == own["show_picture"], "one server: transparent, the URI too"
    assert listed["one"]["untagged"] == own["untagged"] and "annotations" not in own["untagged"]
    assert listed["all"]["gallery__register"]["inputSchema"] == own["register"]["inputSchema"]


def test_unknown_tools_are_refused_at_start_naming_the_servers_tools(place: dict[str, Any]) -> None:
    import subprocess

    for choice, expected in (
        ("gallery.nope", "server 'gallery' has no tool 'nope'; its tools are fail, measure, read, register"),
        ("nowhere.tool", "'nowhere.tool' names no tool of a server serve fronts (gallery)"),
    ):
        argv = serve_argv(place, "--servers", "gallery", "--expose-tools", choice)
        done = subprocess.run(
            argv, env=place["env"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 2 and expected in done.stderr, done.stderr


@pytest.mark.parametrize("era", ERAS)
def test_a_call_returns_image_structured_content_progress_and_errors_intact(
    place: dict[str, Any], era: str
) -> None:
    sys.path.insert(0, str(SERVERS))
    from gallery import PIXEL  # the picture as the server sends it

    notes: list[tuple[float, float | None, str | None]] = []
    records: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        notes.append((value, total, message))

    async def on_log(params: Any) -> None:
        records.append(params.data)

    async def main() -> None:
        options: dict[str, Any] = {"logging_callback": on_log}
        if era == "auto":
            options["log_level"] = "debug"
        async with stdio(place, era, "--servers", "gallery", "--expose-tools", "all", **options) as client:
            if era == "legacy":
                with warnings.catch_warnings():  # the 2025 era's way to ask for records, deprecated since
                    warnings.simplefilter("ignore")
                    await client.set_logging_level("debug")
            shown = await client.call_tool("show_picture", {"name": "cat"}, progress_callback=on_progress)
            assert not shown.is_error, text(shown)
            assert [b.type for b in shown.content] == ["text", "image"]
            assert shown.content[0].text == "picture cat"
            assert shown.content[1].data == PIXEL and shown.content[1].mime_type == "image/png"
            assert shown.structured_content == {"name": "cat", "width": 1, "height": 1}
            failed = await client.call_tool("fail", {"why": "no frame"})
            assert failed.is_error and text(failed) == "failed: no frame"
            renamed = await client.call_tool("gallery__read", {"path": "x"})
            assert text(renamed) == "gallery read x"
            own = await client.call_tool("read", {"path": "/mcp-tools/servers"})
            assert "gallery/" in text(own), "serve's own read answers under its own name"

    asyncio.run(main())
    assert [(v, t) for v, t, _ in notes] == [(1, 2), (2, 2)] and notes[0][2] == "finding cat", notes
    assert any(r.startswith("gallery.show_picture: ") for r in records), records


@pytest.mark.parametrize("era", ERAS)
def test_refusals_name_what_was_wrong_and_leak_no_personal_value(place: dict[str, Any], era: str) -> None:
    """A tool not exposed, a server not fronted, arguments its schema refuses (quoted masked: --tokenize-pii),
    and a rate limit that trips (one call per 100 s, a 1 s tool timeout: the second call cannot wait)."""
    place["settings"].write_text("[MCPKernel]\nrate_limit = 0.01\ntimeout = 1.0\n")

    async def main() -> None:
        async with stdio(
            place, era, "--servers", "gallery", "--expose-tools", "read-only", "--tokenize-pii"
        ) as client:
            for name in ("register", "dyn__grow", "list_regions", "demo__list_regions"):
                refused = await client.call_tool(name, {"email": "x"})
                assert refused.is_error and f"{name!r} is not one of serve's tools" in text(refused), text(
                    refused
                )
        async with stdio(
            place, era, "--servers", "gallery", "--expose-tools", "all", "--tokenize-pii"
        ) as client:
            bad = await client.call_tool("register", {"email": "bob@example.org"})
            assert bad.is_error and "do not match its schema at email" in text(bad), text(bad)
            assert "bob@example.org" not in text(bad) and "<EMAIL_1>" in text(bad), text(bad)
            first = await client.call_tool("untagged", {"text": "a"})
            assert not first.is_error and text(first) == "A"
            second = await client.call_tool("untagged", {"text": "b"})
            assert second.is_error and "rate limit" in text(second), text(second)

    asyncio.run(main())


@asynccontextmanager
async def http_caller(url: str, token: str) -> AsyncIterator[Any]:
    import httpx
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def test_two_callers_over_http_do_not_share_placeholders(place: dict[str, Any]) -> None:
    """Alice's placeholder is restored for her calls only: the server measures her address for her, and
    the placeholder's own characters for bob."""
    port = free_port()
    argv = serve_argv(
        place, "--servers", "gallery", "--expose-tools", "all", "--tokenize-pii",
        "--http", f"127.0.0.1:{port}", "--callers", place["callers"],
    )  # fmt: skip

    async def main(url: str) -> None:
        async with http_caller(url, ALICE) as alice, http_caller(url, BOB) as bob:
            minted = await alice.call_tool("untagged", {"text": "alice@example.org"})
            placeholder = text(minted)
            assert placeholder.startswith("<EMAIL_") and "@" not in placeholder, placeholder
            assert text(await alice.call_tool("measure", {"text": placeholder})) == "17 characters"
            assert (
                text(await bob.call_tool("measure", {"text": placeholder}))
                == f"{len(placeholder)} characters"
            )

    with running(argv, port, env=place["env"], timeout=90):
        asyncio.run(main(f"http://127.0.0.1:{port}/mcp"))


@pytest.mark.parametrize("era", ERAS)
def test_the_exposed_list_follows_an_upstream_change(place: dict[str, Any], era: str) -> None:
    """dyn adds a tool: serve's list grows and it says so (notifications/tools/list_changed on 2025,
    subscriptions/listen on 2026-07-28)."""
    from mcp.types import ToolListChangedNotification

    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            changed.set()

    async def main() -> None:
        async with stdio(
            place, era, "--servers", "dyn", "--expose-tools", "all", message_handler=on_message
        ) as client:
            assert {t.name for t in (await client.list_tools()).tools} == {*OWN, "grow"}
            if era == "legacy":
                assert client.server_capabilities.tools.list_changed
                assert not (await client.call_tool("grow", {"name": "fresh"})).is_error
                await asyncio.wait_for(changed.wait(), 30)
            else:
                async with client.listen(tools_list_changed=True) as subscription:
                    assert not (await client.call_tool("grow", {"name": "fresh"})).is_error
                    async with asyncio.timeout(30):
                        async for _ in subscription:
                            break
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {*OWN, "grow", "fresh"}
            assert text(await client.call_tool("fresh", {})) == "I am fresh"

    asyncio.run(main())


@pytest.mark.parametrize("era", ERAS)
def test_an_apps_host_reaches_the_view_an_exposed_tool_names(place: dict[str, Any], era: str) -> None:
    """What an MCP Apps host does: list the tools, take an exposed tool's ``_meta.ui.resourceUri``, read
    that ``ui://`` resource through serve. It is the upstream server's view, whole (its HTML and MIME type),
    under the URI serve named; and it is listed among serve's resources under the same name."""

    async def main(servers: str) -> tuple[str, Any, list[str]]:
        async with stdio(place, era, "--servers", servers, "--expose-tools", "all") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            picture = tools.get("gallery__show_picture") or tools["show_picture"]
            uri = picture.meta["ui"]["resourceUri"]
            read = await client.read_resource(uri)
            listed = [str(r.uri) for r in (await client.list_resources()).resources]
            return uri, read, listed

    for servers, expected in (
        ("gallery,dyn", "ui://gallery/gallery/view.html"),
        ("gallery", "ui://gallery/view.html"),
    ):
        uri, read, listed = asyncio.run(main(servers))
        assert uri == expected
        (content,) = read.contents
        assert str(content.uri) == expected and content.mime_type == "text/html;profile=mcp-app"
        assert content.text == "<!doctype html><title>gallery</title><p>a view</p>"
        assert expected in listed
