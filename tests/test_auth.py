"""Signing in to a real OAuth-protected MCP server (tests/servers/oauth_server.py, the SDK's server-side auth).

The test plays the browser: it GETs the authorization URL, and the server (which approves at once) redirects
to the client's callback with a code.
"""

from __future__ import annotations

import json
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from realservers import SERVERS, free_port, running

from mcp_kernel.auth import Redirect, TokenStore, code_from_redirect, secret_method
from mcp_kernel.config import ServerConfig
from mcp_kernel.elicitation import Asker, attached
from mcp_kernel.errors import AuthRequired, UsageError
from mcp_kernel.session import Session

CLIENT_ID, CLIENT_SECRET = "kernel-app", "canary-client-secret-5b1e"


@pytest.fixture(scope="module")
def callback_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server_url(callback_port: int) -> Iterator[str]:
    port = free_port()
    env = {
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "OAUTH_PORTS": str(callback_port),
    }
    with running([sys.executable, str(SERVERS / "oauth_server.py"), str(port)], port, env=env):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MCP_KERNEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MCP_KERNEL_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path / "data"


class Browser:
    """A headless sign-in: GETs the authorization URL and reads code and state from the redirect."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    async def redirect(self, url: str) -> None:
        self.opened.append(url)
        async with httpx2.AsyncClient() as http:
            self.location = (await http.get(url)).headers["location"]

    async def callback(self) -> Redirect:
        return code_from_redirect(self.location)


def config(url: str, oauth: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> ServerConfig:
    entry: dict[str, Any] = {"url": url}
    if oauth is not None:
        entry["oauth"] = oauth
    return ServerConfig.from_dict({"mcpServers": {"sec": entry}}, source="mcp.json", env=env or {})


def whoami(session: Session) -> dict[str, Any]:
    return session.call("sec", "whoami").value


@pytest.mark.slow
def test_sign_in_then_the_token_is_kept_0o600_and_reused(server_url: str, data_dir: Path) -> None:
    browser = Browser()
    with Session(config(server_url, {}), sign_in=browser) as session:
        me = whoami(session)
    assert len(browser.opened) == 1 and "code_challenge=" in browser.opened[0]  # PKCE
    assert me["scopes"] == ["read"] and me["client_id"]  # registered itself (dynamic registration)
    assert (me["client_name"], me["client_version"]) == ("mcp-kernel", __import__("mcp_kernel").__version__)
    token_file = data_dir / "oauth" / "sec.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    issued = me["issued"]
    again = Browser()
    with Session(config(server_url, {}), sign_in=again) as session:  # a new process would do the same
        assert whoami(session)["issued"] == issued
        status = session.servers.auth_status("sec")
    assert again.opened == [] and status.signed_in and status.scope == "read" and status.refreshable
    assert "at-" not in status.model_dump_json()  # the status never carries a token


@pytest.mark.slow
def test_an_expired_token_is_refreshed_not_signed_in_again(server_url: str, data_dir: Path) -> None:
    with Session(config(server_url, {}), sign_in=Browser()) as session:
        first = whoami(session)
    token_file = data_dir / "oauth" / "sec.json"
    saved = json.loads(token_file.read_text())
    old_access = saved["tokens"]["access_token"]
    saved["tokens"]["expires_at"] = 0  # as if the kernel had been off for longer than the token lives
    token_file.write_text(json.dumps(saved))
    browser = Browser()
    with Session(config(server_url, {}), sign_in=browser) as session:
        after = whoami(session)
    assert browser.opened == [] and after["refreshed"] == first["refreshed"] + 1
    assert json.loads(token_file.read_text())["tokens"]["access_token"] != old_access


@pytest.mark.slow
def test_logout_removes_the_token_file_and_login_signs_in_afresh(server_url: str, data_dir: Path) -> None:
    browser = Browser()
    with Session(config(server_url, {}), sign_in=browser) as session:
        whoami(session)
        assert (data_dir / "oauth" / "sec.json").exists()
        out = session.servers.auth_logout("sec")
        assert not out.signed_in and not (data_dir / "oauth" / "sec.json").exists()
        login = session.servers.auth_login("sec")
        assert login.signed_in and len(browser.opened) == 2
        assert whoami(session)["client_id"]


@pytest.mark.slow
def test_a_403_insufficient_scope_steps_up_to_the_wider_scope(server_url: str) -> None:
    browser = Browser()
    with Session(config(server_url, {}), sign_in=browser) as session:
        assert whoami(session)["scopes"] == ["read"]
        report = session.call("sec", "admin_report").value
    assert sorted(report["scopes"]) == ["admin", "read"]
    assert len(browser.opened) == 2 and "scope=read+admin" in browser.opened[1]


def test_a_401_without_oauth_is_auth_required_showing_the_block_to_add(server_url: str) -> None:
    with Session(config(server_url)) as session, pytest.raises(AuthRequired) as caught:
        whoami(session)
    message = str(caught.value)
    assert "needs sign-in" in message and "401" in message and '"oauth": {}' in message
    assert "auth login sec" in message


@pytest.mark.slow
def test_a_pre_registered_client_with_its_secret_from_the_environment(
    server_url: str, callback_port: int
) -> None:
    oauth = {"clientId": CLIENT_ID, "clientSecret": "${APP_SECRET}", "callbackPort": callback_port}
    browser = Browser()
    with Session(config(server_url, oauth, {"APP_SECRET": CLIENT_SECRET}), sign_in=browser) as session:
        me = whoami(session)
        shown = repr(session.servers.spec("sec")) + session.servers.spec("sec").model_dump_json()
    assert me["client_id"] == CLIENT_ID
    assert f"client_id={CLIENT_ID}" in browser.opened[0]
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{callback_port}%2Fcallback" in browser.opened[0]
    assert CLIENT_SECRET not in shown and "<redacted>" in shown


@pytest.mark.slow
def test_the_client_credentials_grant_needs_no_person(server_url: str) -> None:
    oauth = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "grant": "client_credentials"}
    browser = Browser()
    with Session(config(server_url, oauth), sign_in=browser) as session:
        me = whoami(session)
    assert me["client_id"] == CLIENT_ID and me["client_credentials"] >= 1 and browser.opened == []


@pytest.mark.slow
def test_a_failed_sign_in_says_which_server_and_what_to_do(server_url: str) -> None:
    class Refused(Browser):
        async def callback(self) -> Redirect:
            return code_from_redirect(self.location.split("?")[0] + "?error=access_denied")

    with Session(config(server_url, {}), sign_in=Refused()) as session, pytest.raises(AuthRequired) as caught:
        whoami(session)
    assert "Signing in to server 'sec' failed" in str(caught.value)
    assert "refused the sign-in: access_denied" in str(caught.value)

    class RefusesMore(Browser):  # signs in, then refuses the wider scope asked for in the middle of a session
        async def callback(self) -> Redirect:
            return code_from_redirect(
                self.location
                if len(self.opened) == 1
                else self.location.split("?")[0] + "?error=access_denied"
            )

    with Session(config(server_url, {}), sign_in=RefusesMore()) as session:
        assert whoami(session)["scopes"] == ["read"]
        with pytest.raises(AuthRequired, match=r"Signing in to server 'sec' failed.*access_denied"):
            session.call("sec", "admin_report")


@pytest.mark.slow
def test_the_person_signs_in_through_the_local_callback(server_url: str) -> None:
    """No sign-in given: the link goes to the person (here a writer that plays the browser in a thread),
    and the loopback server catches the redirect."""
    shown: list[str] = []

    def write(text: str) -> None:
        shown.append(text)
        url = text.split("Open this link:")[1].strip()
        # The browser: the server approves at once and redirects to the loopback callback, which answers.
        threading.Thread(
            target=lambda: httpx2.get(url, follow_redirects=True, timeout=30), daemon=True
        ).start()

    with Session(config(server_url, {})) as session, attached(Asker(lambda prompt: "", write)):
        assert session.servers.auth_login("sec").signed_in
        assert whoami(session)["client_id"]
    assert len(shown) == 1 and "needs you to sign in" in shown[0]


@pytest.mark.slow
def test_a_call_with_nobody_to_show_the_link_to_says_to_sign_in_first(server_url: str) -> None:
    """Code calling on its own (a sandboxed cell, a script) cannot sign in: it is told how, at once."""
    with Session(config(server_url, {})) as session, pytest.raises(AuthRequired) as caught:
        whoami(session)
    assert "nobody to show the link to" in str(caught.value) and "auth login sec" in str(caught.value)


@pytest.mark.slow
def test_the_time_a_person_takes_to_sign_in_does_not_count_against_the_connect_timeout(
    server_url: str,
) -> None:
    import time

    def write(text: str) -> None:
        url = text.split("Open this link:")[1].strip()

        def slow_person() -> None:
            time.sleep(3)  # longer than the whole connect timeout below
            httpx2.get(url, follow_redirects=True, timeout=30)

        threading.Thread(target=slow_person, daemon=True).start()

    with (
        Session(config(server_url, {}), connect_timeout=1.5) as session,
        attached(Asker(lambda p: "", write)),
    ):
        assert session.servers.auth_login("sec").signed_in


@pytest.mark.slow
def test_the_person_pastes_the_address_when_the_callback_cannot_be_reached(server_url: str) -> None:
    from mcp_kernel.settings import MCPKernel

    links: list[str] = []

    def paste(prompt: str) -> str:
        assert "Paste" in prompt
        return httpx2.get(links[0], timeout=30).headers["location"]  # the browser ends on a page that fails

    asker = Asker(paste, lambda text: links.append(text.split("Open this link:")[1].strip()))
    with Session(config(server_url, {}), settings=MCPKernel(sign_in="paste")) as session, attached(asker):
        assert whoami(session)["client_id"]
    assert len(links) == 1


@pytest.mark.slow
def test_a_redirect_naming_another_issuer_is_refused(tmp_path: Path) -> None:
    """RFC 9207: the ``iss`` of the redirect reaches the SDK's check (the test server names itself in every
    redirect, so the other tests show the matching case)."""
    port = free_port()
    with running(
        [sys.executable, str(SERVERS / "oauth_server.py"), str(port)],
        port,
        env={"OAUTH_ISS": "https://mix-up.example"},
    ):
        url = f"http://127.0.0.1:{port}/mcp"
        with Session(config(url, {}), sign_in=Browser()) as session, pytest.raises(AuthRequired) as caught:
            whoami(session)
    assert "iss mismatch: https://mix-up.example" in str(caught.value)


def test_code_from_redirect_reads_code_state_and_errors() -> None:
    assert code_from_redirect(" http://127.0.0.1:1/callback?state=s&code=c \n") == ("c", "s")
    with pytest.raises(UsageError, match="no 'code'"):
        code_from_redirect("http://127.0.0.1:1/callback")
    with pytest.raises(AuthRequired, match="denied by policy"):
        code_from_redirect(
            "http://127.0.0.1:1/callback?error=access_denied&error_description=denied+by+policy"
        )


def test_a_configured_secret_goes_the_way_the_authorization_server_lists() -> None:
    """mcp.json's client secret is sent in the form where the server takes that, else by HTTP Basic (RFC 8414's
    default); the conformance suite's pre-registration and client-credentials servers take only Basic."""
    from mcp.shared.auth import OAuthMetadata

    def listing(*methods: str) -> OAuthMetadata:
        return OAuthMetadata(
            issuer="https://as.example",
            authorization_endpoint="https://as.example/authorize",
            token_endpoint="https://as.example/token",
            token_endpoint_auth_methods_supported=list(methods) or None,
        )

    assert secret_method(listing("client_secret_basic")) == "client_secret_basic"
    assert secret_method(listing()) == "client_secret_basic"
    assert secret_method(listing("client_secret_post", "client_secret_basic")) == "client_secret_post"
    assert secret_method(None) == "client_secret_post"


def test_tokens_saved_for_another_url_are_not_handed_out(tmp_path: Path) -> None:
    import asyncio

    from mcp.shared.auth import OAuthToken

    store = TokenStore("sec", "http://one/mcp", directory=tmp_path)
    asyncio.run(store.set_tokens(OAuthToken(access_token="tok", expires_in=60)))
    assert asyncio.run(store.get_tokens()).access_token == "tok"
    assert asyncio.run(TokenStore("sec", "http://two/mcp", directory=tmp_path).get_tokens()) is None


@pytest.mark.slow
def test_the_cli_signs_in_shows_the_status_and_signs_out(
    server_url: str, tmp_path: Path, data_dir: Path
) -> None:
    """``mcp-kernel auth login`` prints the link on stderr and catches the browser's redirect itself."""
    import os
    import subprocess

    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"sec": {"url": server_url, "oauth": {}}}}))
    env = {**os.environ, "MCP_KERNEL_DATA_DIR": str(data_dir)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_kernel", "auth", *args, "sec", "--config", "mcp.json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    login = subprocess.Popen(
        [sys.executable, "-m", "mcp_kernel", "auth", "login", "sec", "--config", "mcp.json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert login.stderr is not None
    for line in login.stderr:
        if line.strip().startswith("http"):
            httpx2.get(line.strip(), follow_redirects=True, timeout=30)  # the browser
            break
    out, err = login.communicate(timeout=120)
    assert login.returncode == 0, err
    assert "signed in to 'sec'" in out and "yes" in out
    status = json.loads(cli("status", "--json").stdout)
    assert status["signed_in"] and status["scope"] == "read"
    assert "access_token" not in json.dumps(status)
    assert "signed out of 'sec'" in cli("logout").stdout and not (data_dir / "oauth" / "sec.json").exists()
    assert not json.loads(cli("status", "--json").stdout)["signed_in"]


# ---- client_credentials signed with a private key (private_key_jwt, SEP-1046) ------------------------------
def pem_key(kind: str) -> tuple[str, Any]:
    """A fresh private key as PEM text, and its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "algorithm"), [("ec", "ES256"), ("rsa", "RS256")])
def test_a_private_key_signs_the_client_assertion_with_the_algorithm_its_type_says(
    kind: str, algorithm: str, tmp_path: Path
) -> None:
    import asyncio

    import jwt

    from mcp_kernel.auth import signed_assertions

    pem, public = pem_key(kind)
    (tmp_path / "key.pem").write_text(pem)
    for given in (pem, str(tmp_path / "key.pem")):  # the PEM itself (from ${VAR}) or a file holding it
        assertion = asyncio.run(signed_assertions("sec", CLIENT_ID, given)("https://as.example"))
        assert jwt.get_unverified_header(assertion)["alg"] == algorithm
        claims = jwt.decode(assertion, public, algorithms=[algorithm], audience="https://as.example")
        assert claims["iss"] == claims["sub"] == CLIENT_ID


def test_a_private_key_never_shows_and_a_bad_one_says_which_server_without_showing_it(tmp_path: Path) -> None:
    from mcp_kernel.errors import ConfigError

    pem, _ = pem_key("ec")
    body = pem.splitlines()[1]  # the key material
    oauth = {"clientId": CLIENT_ID, "privateKey": "${APP_KEY}", "grant": "client_credentials"}
    spec = config("http://127.0.0.1:9/mcp", oauth, {"APP_KEY": pem}).get("sec")
    shown = repr(spec) + spec.model_dump_json() + repr(spec.oauth)
    assert spec.oauth.private_key == pem and body not in shown and "<redacted>" in shown
    broken = pem.replace(body, body[::-1])
    with pytest.raises(ConfigError, match=r"server 'sec', field 'oauth.privateKey': cannot load") as caught:
        config("http://127.0.0.1:9/mcp", oauth, {"APP_KEY": broken}).get("sec")
    assert body[::-1] not in str(caught.value)
    with pytest.raises(ConfigError, match='add "grant": "client_credentials"'):
        config("http://127.0.0.1:9/mcp", {"clientId": CLIENT_ID, "privateKey": pem}).get("sec")
    with pytest.raises(ConfigError, match="one of 'clientSecret' or 'privateKey'"):
        config("http://127.0.0.1:9/mcp", {**oauth, "clientSecret": "s"}, {"APP_KEY": pem}).get("sec")


# ---- where tokens live: a private directory, one file per server ------------------------------------------
@pytest.mark.posix(reason="file modes: Windows keeps a token directory private with its ACL")
@pytest.mark.parametrize("mode", [0o777, 0o750, 0o705])
def test_a_token_directory_open_to_others_is_refused_with_what_to_do(
    server_url: str, data_dir: Path, mode: int
) -> None:
    from mcp_kernel.errors import ConfigError

    (data_dir / "oauth").mkdir(parents=True)
    (data_dir / "oauth").chmod(mode)
    browser = Browser()
    with (
        Session(config(server_url, {}), sign_in=browser) as session,
        pytest.raises(ConfigError, match=rf"open to other users \(mode {mode:o}\).*chmod 700"),
    ):
        whoami(session)
    assert browser.opened == [] and not list(
        (data_dir / "oauth").iterdir()
    )  # nothing signed in, nothing written


@pytest.mark.skipif(sys.platform == "win32", reason="making a symlink needs a privilege on Windows")
def test_a_token_directory_that_is_a_symlink_is_refused(tmp_path: Path, data_dir: Path) -> None:
    from mcp_kernel.errors import ConfigError

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    data_dir.mkdir()
    (data_dir / "oauth").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="is a symlink"):
        TokenStore("sec", "http://one/mcp")
    with pytest.raises(ConfigError, match="is a symlink"):
        Session(config("http://127.0.0.1:9/mcp", {})).servers.auth_status("sec")


@pytest.mark.posix(reason="owners by uid: Windows has ACLs instead")
def test_a_token_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    import os

    from mcp_kernel.auth import check_token_directory
    from mcp_kernel.errors import ConfigError

    theirs = Path("/")  # owned by root: another user's, unless this test runs as root
    if os.getuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)  # nobody's
    with pytest.raises(ConfigError, match="belongs to another user"):
        check_token_directory(theirs)
    check_token_directory(tmp_path / "not-yet")  # created 0o700 when first needed


def test_servers_whose_names_sanitise_alike_keep_separate_token_files(tmp_path: Path) -> None:
    import asyncio

    from mcp.shared.auth import OAuthToken

    stores = [
        TokenStore(name, "http://one/mcp", directory=tmp_path) for name in ("team/a", "team_a", "team:a")
    ]
    assert len({s.path for s in stores}) == 3
    assert stores[1].path.name == "team_a.json"  # a name that was already safe keeps its existing file
    for i, store in enumerate(stores):
        asyncio.run(store.set_tokens(OAuthToken(access_token=f"tok-{i}", expires_in=60)))
    assert [asyncio.run(s.get_tokens()).access_token for s in stores] == ["tok-0", "tok-1", "tok-2"]
