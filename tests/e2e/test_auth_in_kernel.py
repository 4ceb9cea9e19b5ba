"""Signing in from a real kernel: the link is shown in the cell, the browser's redirect reaches the kernel's
loopback callback, and the tool is called; the token file is 0o600, a restarted kernel reuses (or refreshes)
the token, ``%mcp auth logout`` removes it. No secret ever appears in an output, a log or an error.

The test plays the browser: it takes the link from the cell's display, GETs it (the test server approves at
once and redirects) and GETs the redirect, which is the kernel's own callback.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from queue import Empty
from typing import Any

import httpx2
import pytest
from jupyter_client.manager import start_new_kernel
from kernel_driver import KernelDriver, Reply
from realservers import SERVERS, free_port, running

pytestmark = pytest.mark.slow

CLIENT_ID = "machine-app"
CANARY_SECRET = "canary-client-secret-9f3c"
CANARY_HEADER = "canary-header-value-77d2"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, kernelspec: str) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("auth-kernel")
    port = free_port()
    env = {"OAUTH_CLIENT_ID": CLIENT_ID, "OAUTH_CLIENT_SECRET": CANARY_SECRET}
    url = f"http://127.0.0.1:{port}/mcp"
    (home / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "sec": {"url": url, "oauth": {}, "headers": {"X-Team": "${TEAM_HEADER}"}},
                    "machine": {
                        "url": url,
                        "oauth": {
                            "clientId": CLIENT_ID,
                            "clientSecret": "${APP_SECRET}",
                            "grant": "client_credentials",
                        },
                    },
                    "plain": {"url": url},
                }
            }
        )
    )
    kernel_env = {k: v for k, v in os.environ.items() if k != "CI"}
    kernel_env.update(
        MCP_KERNEL_DATA_DIR=str(home / "data"),
        MCP_KERNEL_LOG_DIR=str(home / "logs"),
        APP_SECRET=CANARY_SECRET,
        TEAM_HEADER=CANARY_HEADER,
    )
    with (
        running([sys.executable, str(SERVERS / "oauth_server.py"), str(port)], port, env=env),
        open(home / "kernel.log", "w") as kernel_log,
    ):
        km, kc = start_new_kernel(
            kernel_name=kernelspec,
            startup_timeout=60,
            env=kernel_env,
            cwd=str(home),
            stdout=kernel_log,
            stderr=kernel_log,
        )
        try:
            yield {
                "home": home,
                "kernel": KernelDriver(km, kc),
                "km": km,
                "kc": kc,
                "replies": [],
                "tokens": set(),
            }
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def play_browser(msg: dict[str, Any], opened: list[str]) -> None:
    """On the sign-in link's display: open it, and follow the redirect to the kernel's callback."""
    if msg["msg_type"] != "display_data" or "sign in to" not in msg["content"]["data"].get("text/html", ""):
        return
    link = msg["content"]["data"]["text/plain"].split("Open this link:")[1].strip()
    opened.append(link)
    callback = httpx2.get(link, timeout=30).headers["location"]
    assert callback.startswith("http://127.0.0.1:") and "code=" in callback
    assert httpx2.get(callback, timeout=30).status_code == 200  # the kernel's loopback answered


def run(world: dict[str, Any], code: str, opened: list[str] | None = None) -> Reply:
    seen: list[str] = [] if opened is None else opened
    reply = world["kernel"].execute(code, timeout=120, on_message=lambda m: play_browser(m, seen))
    world["replies"].append(reply)
    token_file = world["home"] / "data" / "oauth" / "sec.json"
    if token_file.exists():  # every token the kernel ever held, for the canary check at the end
        tokens = json.loads(token_file.read_text()).get("tokens") or {}
        world["tokens"].update(v for k, v in tokens.items() if k in ("access_token", "refresh_token"))
    return reply


def result(reply: Reply) -> dict[str, Any]:
    assert reply.status == "ok", reply.reply
    return json.loads(json.loads(reply.stdout)["text"])


def restart(world: dict[str, Any]) -> None:
    world["km"].restart_kernel(now=True)
    world["kc"].wait_for_ready(timeout=60)


def test_sign_in_from_the_cell_then_restart_refresh_and_logout(world: dict[str, Any]) -> None:
    token_file = world["home"] / "data" / "oauth" / "sec.json"
    opened: list[str] = []
    first = result(run(world, "%mcp call sec whoami --json", opened))
    assert len(opened) == 1 and "code_challenge=" in opened[0]
    assert first["scopes"] == ["read"] and first["client_name"] == "mcp-kernel"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    restart(world)
    opened.clear()
    again = result(run(world, "%mcp call sec whoami --json", opened))
    assert opened == [] and again["issued"] == first["issued"]  # the restarted kernel reused the token

    saved = json.loads(token_file.read_text())
    saved["tokens"]["expires_at"] = 0
    token_file.write_text(json.dumps(saved))
    restart(world)
    refreshed = result(run(world, "%mcp call sec whoami --json", opened))
    assert opened == [] and refreshed["refreshed"] == again["refreshed"] + 1

    status = run(world, "%mcp auth status sec")
    assert "signed in" in status.bundles[-1]["text/plain"] and "yes" in status.bundles[-1]["text/plain"]
    out = run(world, "%mcp auth logout sec")
    assert out.status == "ok" and not token_file.exists()

    login = run(world, "%mcp auth login sec", opened)
    assert login.status == "ok" and len(opened) == 1 and token_file.exists()


def test_a_machine_signs_in_with_client_credentials(world: dict[str, Any]) -> None:
    me = result(run(world, "%mcp call machine whoami --json"))
    assert me["client_id"] == CLIENT_ID
    assert run(world, "%mcp server info machine").status == "ok"
    assert run(world, "%mcp server info sec").status == "ok"


def test_a_server_that_needs_sign_in_without_oauth_says_what_to_add(world: dict[str, Any]) -> None:
    reply = run(world, "%mcp call plain whoami")
    error = reply.of("error")[0]
    assert error["ename"] == "AuthRequired"
    assert '"oauth": {}' in error["evalue"] and "auth login plain" in error["evalue"]


def test_no_secret_reaches_an_output_a_log_or_an_error(world: dict[str, Any]) -> None:
    """The canary check, over everything the tests above made the kernel send and write."""
    assert (
        len(world["tokens"]) >= 4 and len(world["replies"]) >= 7
    )  # it ran after the others, which held tokens
    sent = json.dumps([[m["content"] for m in r.messages] + [r.reply] for r in world["replies"]])
    written = "".join(
        p.read_text(errors="replace")
        for p in world["home"].rglob("*")
        if p.is_file() and p.suffix in (".log", ".txt")
    )
    for secret in [*world["tokens"], CANARY_SECRET, CANARY_HEADER]:
        assert secret not in sent, secret[:6]
        assert secret not in written, secret[:6]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, kernelspec: str) -> Iterator[dict[str, Any]]:
    """A kernel as JupyterHub starts one (``JUPYTERHUB_API_URL`` set): the browser is elsewhere."""
    home = tmp_path_factory.mktemp("auth-hub")
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    (home / "mcp.json").write_text(json.dumps({"mcpServers": {"sec": {"url": url, "oauth": {}}}}))
    kernel_env = {k: v for k, v in os.environ.items() if k != "CI"}
    kernel_env.update(
        MCP_KERNEL_DATA_DIR=str(home / "data"),
        MCP_KERNEL_LOG_DIR=str(home / "logs"),
        JUPYTERHUB_API_URL="http://127.0.0.1:1/hub/api",
    )
    with (
        running([sys.executable, str(SERVERS / "oauth_server.py"), str(port)], port),
        open(home / "kernel.log", "w") as kernel_log,
    ):
        km, kc = start_new_kernel(
            kernel_name=kernelspec,
            startup_timeout=60,
            env=kernel_env,
            cwd=str(home),
            stdout=kernel_log,
            stderr=kernel_log,
        )
        try:
            yield {"home": home, "kc": kc}
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def test_on_jupyterhub_the_person_pastes_the_address_through_stdin(hub: dict[str, Any]) -> None:
    """``sign_in="auto"`` (the default) on JupyterHub: the link is shown, then the kernel asks on the stdin
    channel for the address the browser ended on; the pasted address signs in and the call goes on."""
    kc = hub["kc"]
    msg_id = kc.execute("%mcp call sec whoami --json", allow_stdin=True)
    links: list[str] = []
    prompts: list[str] = []
    out: list[str] = []
    reply: dict[str, Any] | None = None
    answered = 0
    while reply is None:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
            if msg["parent_header"].get("msg_id") == msg_id:
                if (
                    msg["msg_type"] == "display_data"
                    and "Open this link:" in msg["content"]["data"]["text/plain"]
                ):
                    links.append(msg["content"]["data"]["text/plain"].split("Open this link:")[1].strip())
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
        except Empty:
            pass
        try:
            request = kc.get_stdin_msg(timeout=0.05)
        except Empty:
            request = None
        if request is not None and request["msg_type"] == "input_request":
            prompts.append(request["content"]["prompt"])
        if (
            len(prompts) > answered and links
        ):  # the link (iopub) and the question (stdin) may come in any order
            answered += 1
            # The person's browser, elsewhere: it follows the link and ends on a loopback page that does not load.
            kc.input(httpx2.get(links[-1], timeout=30).headers["location"])
        try:
            shell = kc.get_shell_msg(timeout=0.05)
        except Empty:
            continue
        if shell["parent_header"].get("msg_id") == msg_id:
            reply = shell["content"]
    assert reply["status"] == "ok", reply
    assert len(links) == 1 and len(prompts) == 1 and "Paste that page's whole address" in prompts[0]
    while not out or not out[-1].rstrip().endswith("}"):  # the stream may trail the reply
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
    assert json.loads(json.loads("".join(out))["text"])["scopes"] == ["read"]
    token_file = hub["home"] / "data" / "oauth" / "sec.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
