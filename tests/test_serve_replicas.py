"""`serve` beyond one machine (#31): replicas behind Debian's nginx routing on the mirrored session header,
sessions parked to a shared directory, resumed after a restart and on another replica, never by another caller.

The agents are the SDK's own client on 2026-07-28: it lists the tools, sees ``x-mcp-header`` on execute's
``session`` argument and sends the handle again as ``Mcp-Param-Session``, which nginx maps to the replica
named at the handle's start (the configuration docs/deploy.md gives, made by ``deploy_nginx_conf``).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from realservers import free_port, running
from test_serve import one_server_place, serve_argv

from mcp_kernel.serve.replica import nginx_conf

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
AGENTS = {name: f"{name}-" + name[0] * 40 for name in ("ann", "ben", "cy")}


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, Any]:
    place = one_server_place(tmp_path, "dyn")
    callers = tmp_path / "callers.json"
    callers.write_text(json.dumps(AGENTS))
    return {**place, "callers": str(callers), "lot": str(tmp_path / "parked")}


def replica(place: dict[str, Any], name: str, port: int, *extra: str) -> Any:
    argv = serve_argv(
        place,
        "--http",
        f"127.0.0.1:{port}",
        "--callers",
        place["callers"],
        "--replica",
        name,
        "--park-dir",
        place["lot"],
        *extra,
    )
    return running(argv, port, env=place["env"], timeout=60)


class Agents:
    """One SDK client per agent, each with its caller's token, all to ``url``."""

    def __init__(self, stack: AsyncExitStack, url: str) -> None:
        self.stack, self.url, self.clients = stack, url, {}

    async def connect(self, name: str) -> None:
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        http = await self.stack.enter_async_context(
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {AGENTS[name]}"}, timeout=60)
        )
        client = await self.stack.enter_async_context(
            Client(streamable_http_client(self.url, http_client=http))
        )
        tools = await client.list_tools()  # what tells the client to mirror the handle
        [execute] = [tool for tool in tools.tools if tool.name == "execute"]
        assert execute.input_schema["properties"]["session"]["x-mcp-header"] == "Session"
        self.clients[name] = client

    async def run(self, name: str, code: str, handle: str | None = None) -> tuple[str, str | None, bool]:
        arguments = {"code": code, **({"session": handle} if handle else {})}
        result = await self.clients[name].call_tool("execute", arguments)
        text = "\n".join(block.text for block in result.content if block.type == "text")
        return text, (result.structured_content or {}).get("session"), bool(result.is_error)


def test_a_serve_restart_resumes_parked_sessions_for_their_own_caller_only(place: dict[str, Any]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def first() -> str:
        async with AsyncExitStack() as stack:
            agents = Agents(stack, url)
            await agents.connect("ann")
            _, handle, failed = await agents.run(
                "ann", "rows = [1, 2, 3]\nopen('keep.txt', 'w').write('kept')"
            )
            assert handle is not None and handle.startswith("r1.") and not failed
            return handle

    async def second(handle: str) -> None:
        async with AsyncExitStack() as stack:
            agents = Agents(stack, url)
            await agents.connect("ann")
            await agents.connect("ben")
            text, _, failed = await agents.run("ben", "rows", handle)
            assert failed and "SessionNotFound" in text and "[1, 2, 3]" not in text, text
            text, same, failed = await agents.run("ann", "sum(rows), open('keep.txt').read()", handle)
            assert not failed and same == handle, text
            assert "(6, 'kept')" in text and "was parked" in text, text

    with replica(place, "r1", port) as proc:
        handle = asyncio.run(first())
        proc.terminate()  # serve stops as a service manager stops it: the idle session is parked
        proc.wait(30)
    assert len(list(Path(place["lot"]).glob("*/*.park"))) == 1
    with replica(place, "r1", port):
        asyncio.run(second(handle))


def test_an_idle_serve_parks_its_idle_sessions_without_a_request(place: dict[str, Any]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def open_one() -> None:
        async with AsyncExitStack() as stack:
            agents = Agents(stack, url)
            await agents.connect("ann")
            _, handle, failed = await agents.run("ann", "x = 1")
            assert handle is not None and not failed

    lot = Path(place["lot"])
    with replica(place, "r1", port, "--park-after", "2"):
        asyncio.run(open_one())
        assert list(lot.glob("*/*.park")) == []
        deadline = time.monotonic() + 15  # idle 2 s, looked at every second: parked within a few
        while not list(lot.glob("*/*.park")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(lot.glob("*/*.park"))) == 1, "no request came, and the idle session was parked"


def test_replicas_behind_nginx_route_on_the_session_header(place: dict[str, Any], tmp_path: Path) -> None:
    if NGINX is None:
        pytest.fail("nginx is not installed: .ci/run installs Debian's nginx (apt-get install nginx)")
    ports = {"r1": free_port(), "r2": free_port()}
    front = free_port()
    conf = front_conf(tmp_path, front, ports)
    url = f"http://127.0.0.1:{front}/mcp"

    async def agents_at_work(procs: dict[str, subprocess.Popen[bytes]]) -> None:
        async with AsyncExitStack() as stack:
            agents = Agents(stack, url)
            handles: dict[str, str] = {}
            for name in AGENTS:
                await agents.connect(name)
            # new sessions are spread at random: open until both replicas hold one (a 1 in 2 chance each)
            for _ in range(20):
                for name in AGENTS:
                    if name not in handles or len({h.partition(".")[0] for h in handles.values()}) < 2:
                        _, handle, failed = await agents.run(name, f"who = {name!r}\nturns = 1")
                        assert handle is not None and not failed
                        handles[name] = handle
                if len({h.partition(".")[0] for h in handles.values()}) == 2:
                    break
            where = {name: handle.partition(".")[0] for name, handle in handles.items()}
            assert set(where.values()) == {"r1", "r2"}, where
            for _ in range(3):  # later calls reach the session's own replica, variables kept
                for name, handle in handles.items():
                    text, same, failed = await agents.run(name, "turns += 1\nwho, turns", handle)
                    assert not failed and same == handle and f"'{name}'" in text, text
            # nginx logs a request once its response is sent, which the client may have read first
            for _ in range(50):
                routed = [line.split() for line in (tmp_path / "access.log").read_text().splitlines()]
                with_handle = [line for line in routed if line[0] != "-"]
                if len(with_handle) >= 9:
                    break
                await asyncio.sleep(0.1)
            assert len(with_handle) >= 9, routed  # the client mirrored each handle into Mcp-Param-Session
            for session, upstream, *_ in with_handle:
                assert upstream == f"127.0.0.1:{ports[session.partition('.')[0]]}", (session, upstream)

            # The replica with two agents goes down: one of them parked first, the other not.
            victim = next(r for r in ports if list(where.values()).count(r) >= 2)
            parked_one, live_one = [name for name in handles if where[name] == victim][:2]
            await asyncio.sleep(2.5)  # both idle past --park-after 2
            text, _, failed = await agents.run(
                live_one, "turns", handles[live_one]
            )  # parks both, restores it
            assert not failed and "was parked" in text, text
            procs[victim].kill()  # no chance to park what is live
            procs[victim].wait(10)
            text, _, failed = await agents.run(parked_one, "who, turns", handles[parked_one])
            assert not failed and f"('{parked_one}', 4)" in text and "was parked" in text, text
            text, _, failed = await agents.run(live_one, "who", handles[live_one])
            assert failed and f"was opened on replica '{victim}'" in text and "SessionNotFound" in text, text
            assert f"'{parked_one}'" not in text
            for name in handles:
                if where[name] != victim:
                    text, _, failed = await agents.run(name, "who", handles[name])
                    assert not failed and f"'{name}'" in text, text

    with (
        replica(place, "r1", ports["r1"], "--park-after", "2") as one,
        replica(place, "r2", ports["r2"], "--park-after", "2") as two,
        nginx(conf, front),
    ):
        asyncio.run(agents_at_work({"r1": one, "r2": two}))


def front_conf(tmp_path: Path, front: int, ports: dict[str, int]) -> Path:
    """The deployment's nginx configuration (new sessions spread at random), its files under ``tmp_path`` and
    an access log of each request's session header, protocol session and upstream."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_conf(front, {name: f"127.0.0.1:{port}" for name, port in ports.items()}, spread="random")
        .replace("http {", f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nhttp {{", 1)
        .replace(
            "    server {",
            f"    log_format routed '$http_mcp_param_session $upstream_addr $status $http_mcp_session_id';\n"
            f"    access_log {tmp_path}/access.log routed;\n    client_body_temp_path {tmp_path}/body;\n"
            f"    proxy_temp_path {tmp_path}/proxy;\n    server {{",
            1,
        )
    )
    return conf


def test_2025_era_clients_are_routed_on_their_protocol_session(place: dict[str, Any], tmp_path: Path) -> None:
    # A 2025-11-25 client keeps a protocol session (Mcp-Session-Id) in the replica that opened it and sends
    # no Mcp-Param-Session: the id names the replica, and nginx routes on it.
    if NGINX is None:
        pytest.fail("nginx is not installed: .ci/run installs Debian's nginx (apt-get install nginx)")
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    ports = {"r1": free_port(), "r2": free_port()}
    front = free_port()
    conf = front_conf(tmp_path, front, ports)

    async def legacy_agents() -> None:
        async with AsyncExitStack() as stack:
            for name in AGENTS:
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {AGENTS[name]}"}, timeout=60)
                )
                transport = streamable_http_client(f"http://127.0.0.1:{front}/mcp", http_client=http)
                client = await stack.enter_async_context(Client(transport, mode="legacy"))
                assert client.protocol_version < "2026-07-28"
                first = await client.call_tool("execute", {"code": f"who = {name!r}"})
                handle = (first.structured_content or {})["session"]
                for _ in range(3):
                    again = await client.call_tool("execute", {"code": "who", "session": handle})
                    assert not again.is_error and f"'{name}'" in again.content[0].text, again
        lines = [line.split() for line in (tmp_path / "access.log").read_text().splitlines()]
        named = [line for line in lines if len(line) == 4 and line[3] != "-"]
        assert len(named) >= 12 and {line[3].partition(".")[0] for line in named} <= set(ports), lines
        for _, upstream, _, session_id in named:
            assert upstream == f"127.0.0.1:{ports[session_id.partition('.')[0]]}", (session_id, upstream)

    with (
        replica(place, "r1", ports["r1"]),
        replica(place, "r2", ports["r2"]),
        nginx(conf, front),
    ):
        asyncio.run(legacy_agents())


@contextmanager
def nginx(conf: Path, port: int) -> Any:
    """Debian's nginx in the foreground, one process (no worker user to switch to), on ``conf``."""
    assert NGINX is not None
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    argv = [NGINX, "-c", str(conf), "-g", "daemon off; master_process off;"]
    with running(argv, port, timeout=30) as proc:
        yield proc


def test_the_deployment_config_names_every_replica(tmp_path: Path) -> None:
    conf = nginx_conf(8080, {"r1": "10.0.0.1:8000", "r2": "10.0.0.2:8000"})
    assert re.search(r"~\^:\?r1\\\.\s+r1;", conf) and re.search(r"~\^:\?r2\\\.\s+r2;", conf)
    assert "server 10.0.0.2:8000 backup;" in conf.split("upstream r1")[1].split("}")[0]
    assert "proxy_buffering off;" in conf
