"""`mcp-kernel serve --http` for many agents, driven from outside over real HTTP: event streams belong to the
connection (and caller) that opened them; the callers file; half-sent requests; what a client is told."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from realservers import free_port, running
from test_serve import caller_client, one_server_place, serve_argv, sse_events

pytestmark = pytest.mark.slow

ALICE, BOB = "alice-" + "a1" * 20, "bob-" + "b2" * 20  # >= 32 characters each
VERSION = "2025-11-25"  # the era with Mcp-Session-Id, GET streams and Last-Event-ID


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, Any]:
    """One quick server (dyn), a callers file for alice and bob, settings with a 1 s header timeout."""
    place = one_server_place(tmp_path, "dyn")
    callers = tmp_path / "callers.json"
    callers.write_text(json.dumps({"alice": ALICE, "bob": BOB}))
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "config.toml").write_text("[MCPKernel]\nhttp_header_timeout = 1.0\n")
    place["env"] = {**place["env"], "MCP_KERNEL_CONFIG_DIR": str(settings)}
    return {**place, "callers": str(callers)}


@pytest.fixture()
def endpoint(place: dict[str, Any]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    argv = serve_argv(place, "--http", f"127.0.0.1:{port}", "--callers", place["callers"])
    with running(argv, port, env=place["env"], timeout=60) as proc:
        yield f"http://127.0.0.1:{port}/mcp", proc


class Agent:
    """One connection (one Mcp-Session-Id) of one caller, spoken by hand to see event ids and replays."""

    def __init__(self, http: httpx.Client, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.head = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": VERSION,
            "Authorization": f"Bearer {token}",
        }
        init = self.post(
            1,
            "initialize",
            {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        )
        assert init.status_code == 200, init.text
        self.head["Mcp-Session-Id"] = init.headers["mcp-session-id"]
        self.http.post(url, headers=self.head, json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, id_: int, method: str, params: dict[str, Any]) -> httpx.Response:
        return self.http.post(
            self.url,
            headers=self.head,
            json={"jsonrpc": "2.0", "id": id_, "method": method, "params": params},
        )

    def execute(self, id_: int, code: str) -> list[dict[str, str]]:
        """Every event of the call's stream, to its result."""
        call = {
            "jsonrpc": "2.0",
            "id": id_,
            "method": "tools/call",
            "params": {"name": "execute", "arguments": {"code": code}},
        }
        with self.http.stream("POST", self.url, headers=self.head, json=call) as stream:
            return list(sse_events(stream.iter_lines()))

    def replay(self, last_event_id: str, until: str | None = None) -> tuple[int, list[dict[str, str]]]:
        """What a GET with Last-Event-ID answers: the status and every event (up to one whose data has
        ``until``: a stream that was resumed stays open for what comes next, one that was not just ends)."""
        head = {**self.head, "Accept": "text/event-stream", "Last-Event-ID": last_event_id}
        events = []
        with self.http.stream("GET", self.url, headers=head, timeout=15) as stream:
            for event in sse_events(stream.iter_lines()):
                events.append(event)
                if until is not None and until in event.get("data", ""):
                    break
            return stream.status_code, events


def test_a_stream_replays_only_to_the_connection_that_opened_it(endpoint: tuple[str, Any]) -> None:
    """Bob, with his own token and session, replays alice's real event id and gets what a guessed or unknown
    id gets: nothing. Alice's second connection gets nothing either; her own connection gets her result."""
    url, _ = endpoint
    with httpx.Client(timeout=30) as http:
        alice, bob, alice_again = Agent(http, url, ALICE), Agent(http, url, BOB), Agent(http, url, ALICE)
        events = alice.execute(
            2, "import time\ntime.sleep(1.5)\n'alice-secret'"
        )  # longer than the header timeout
        assert "alice-secret" in events[-1]["data"], events
        priming = events[0]["id"]
        bob.execute(2, "'bob'")  # the same JSON-RPC id in another session: another stream
        status, replayed = alice.replay(priming, until="alice-secret")
        assert status == 200 and any("alice-secret" in e.get("data", "") for e in replayed), replayed
        nothing = bob.replay("2-0")
        assert nothing[0] == 200 and not [e for e in nothing[1] if e.get("data")], nothing
        for other in (bob, alice_again):
            assert other.replay(priming) == other.replay("2-0") == other.replay("never-given") == nothing
        assert events[0]["data"] == "" and len(priming) >= 22, "ids are random, not <stream>-<seq> counters"


def test_a_401_names_no_authorization_server(endpoint: tuple[str, Any]) -> None:
    url, _ = endpoint
    base = url.removesuffix("/mcp")
    with httpx.Client(timeout=30) as http:
        for token in (None, "not-a-known-token-" + "x" * 20):
            head = {
                "Accept": "application/json, text/event-stream",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            }
            refused = http.post(url, headers=head, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            challenge = refused.headers.get("www-authenticate", "")
            assert refused.status_code == 401 and challenge.startswith("Bearer "), challenge
            assert "resource_metadata" not in challenge and "Authorization: Bearer" in challenge
        for path in (
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server",
        ):
            assert http.get(base + path).status_code in (401, 404), path


def test_the_start_up_line_names_the_endpoint_and_how_to_authenticate(endpoint: tuple[str, Any]) -> None:
    url, proc = endpoint
    lines = []
    for _ in range(50):  # the line comes before serve listens; warm-up progress may come first
        lines.append(proc.stderr.readline().decode())
        if "MCP endpoint" in lines[-1]:
            break
    assert url in lines[-1] and "Authorization: Bearer <token>" in lines[-1], lines
    assert not any("Uvicorn running" in line for line in lines), lines


def test_a_half_sent_request_is_closed_after_the_header_timeout(endpoint: tuple[str, Any]) -> None:
    url, _ = endpoint
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: app".encode())
        sock.settimeout(30)  # far past the 1 s header timeout: only a hang would reach it
        assert sock.recv(1024) == b"", "the server closes the connection without answering"
    with httpx.Client(timeout=30) as http:  # and keeps serving everyone else
        assert Agent(http, url, BOB).head["Mcp-Session-Id"]


@pytest.mark.parametrize(
    ("callers", "named"),
    [
        ({"alice": "short-token", "bob": BOB}, "the token of 'alice' is shorter than 32 characters"),
        ({"alice": ALICE, "bob": BOB, "carol": ALICE}, "'alice' and 'carol' have the same token"),
    ],
)
def test_the_callers_file_refuses_short_and_shared_tokens(
    place: dict[str, Any], tmp_path: Path, callers: dict[str, str], named: str
) -> None:
    bad = tmp_path / "bad-callers.json"
    bad.write_text(json.dumps(callers))
    argv = serve_argv(place, "--http", f"127.0.0.1:{free_port()}", "--callers", str(bad))
    done = subprocess.run(argv, env=place["env"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and named in done.stderr, done
    assert not any(token in done.stderr + done.stdout for token in callers.values()), "tokens are never shown"


def test_read_callers_is_still_importable_from_serve() -> None:
    from mcp_kernel.serve import CallerTokens, read_callers

    assert callable(read_callers) and CallerTokens({}).callers == {}


def test_one_caller_cannot_close_or_crowd_out_anothers_sessions(
    place: dict[str, Any], tmp_path: Path
) -> None:
    """Two sessions per caller, three in all: a caller past its two closes its own oldest, never another's;
    when the server is full, a caller with no session of its own is refused and nobody's session is closed.
    Without parking (``--park-dir none``): with it, a session closed to make room is parked instead
    (tests/sandbox/test_parking.py)."""
    import asyncio
    from contextlib import AsyncExitStack

    carol_token = "carol-" + "c3" * 20
    callers = tmp_path / "three.json"
    callers.write_text(json.dumps({"alice": ALICE, "bob": BOB, "carol": carol_token}))
    settings = Path(place["env"]["MCP_KERNEL_CONFIG_DIR"]) / "config.toml"
    settings.write_text("[MCPKernel]\nmax_sessions = 3\nmax_sessions_per_caller = 2\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def main() -> None:
        async with AsyncExitStack() as stack:
            alice, bob, carol = [await caller_client(stack, url, t) for t in (ALICE, BOB, carol_token)]

            async def run(client: Any, code: str, handle: str | None = None) -> tuple[str, str | None]:
                result = await client.call_tool(
                    "execute", {"code": code, **({"session": handle} if handle else {})}
                )
                text = "\n".join(b.text for b in result.content if b.type == "text")
                return text, (result.structured_content or {}).get("session")

            _, b1 = await run(bob, "mine = 'b1'")
            _, a1 = await run(alice, "mine = 'a1'")
            _, a2 = await run(alice, "mine = 'a2'")
            _, a3 = await run(alice, "mine = 'a3'")  # alice's third: her own oldest (a1) is closed
            assert "SessionNotFound" in (await run(alice, "mine", a1))[0]
            assert (await run(bob, "mine", b1))[0] == "'b1'", "bob's session was not touched"
            _, b2 = await run(bob, "mine = 'b2'")  # the server is full: bob's own idle b1 makes room
            assert "SessionNotFound" in (await run(bob, "mine", b1))[0]
            refused, handle = await run(carol, "'carol'")  # full, and carol has nothing of her own to close
            assert "SessionLimit" in refused and "never closed" in refused, refused
            for client, handle, value in ((alice, a2, "'a2'"), (alice, a3, "'a3'"), (bob, b2, "'b2'")):
                assert (await run(client, "mine", handle))[0] == value

    with running(
        serve_argv(place, "--http", f"127.0.0.1:{port}", "--callers", str(callers), "--park-dir", "none"),
        port,
        env=place["env"],
        timeout=60,
    ):
        asyncio.run(main())
