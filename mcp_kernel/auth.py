"""Signing in to remote MCP servers: OAuth through the ``mcp`` SDK's client auth, and where tokens live.

The flows themselves (protected-resource and authorization-server discovery, PKCE, client ID metadata
documents, dynamic registration, scope step-up on 403, refresh, the client-credentials grant) are the SDK's
``OAuthClientProvider`` / ``ClientCredentialsOAuthProvider``, used as the httpx auth of the HTTP transports.
This module adds what the SDK leaves to the application:

- :class:`TokenStore`: the SDK's ``TokenStorage``, one file per server in the user data dir, mode 0o600;
- :class:`SignIn`: how the person is sent to the authorization page and how the redirect comes back:
  :class:`LocalCallbackSignIn` (a loopback HTTP server catches the redirect) or :class:`PasteSignIn` (the
  person pastes the address the browser ended on: JupyterHub, a remote kernel). A caller may pass its own.

Tokens and client secrets never leave the token file and the HTTP requests: no rendering, log line or error
message here contains one.

>>> store = TokenStore("web", "https://example.com/mcp", directory=Path("/tmp/mk-doc"))
>>> store.path.name
'web.json'
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import stat
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from .errors import AuthRequired, ConfigError, UsageError
from .keys import signing_key
from .models import ServerSpec
from .paths import data_dir

if TYPE_CHECKING:
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

    from .elicitation import Asker

__all__ = [
    "SIGN_IN_TIMEOUT",
    "LocalCallbackSignIn",
    "PasteSignIn",
    "Redirect",
    "SignIn",
    "SignInMode",
    "TokenStore",
    "check_token_directory",
    "code_from_redirect",
    "http_auth",
    "person_sign_in",
    "redirect_port",
    "secret_method",
]

SignInMode = Literal["auto", "local", "paste"]
SIGN_IN_TIMEOUT = 600.0  # how long a sign-in waits for the browser (or the paste) before giving up
# Refresh this long before the access token expires (at most a fifth of its life), so a request never
# carries a token that runs out on its way: a 401 would mean a whole new sign-in, not a refresh.
_REFRESH_EARLY = 60.0
Show = Callable[[str, str], Awaitable[None]]  # (server, sign-in URL): put the link in front of the person
Read = Callable[[str], Awaitable[str]]  # (prompt): one line from the person
Redirect = tuple[str, str | None] | tuple[str, str | None, str | None]  # code, state[, iss (RFC 9207)]


@runtime_checkable
class SignIn(Protocol):
    """Sends the person to the authorization page and brings back the redirect's ``code`` and ``state``
    (and, as a third item, its ``iss`` when there is one: :func:`code_from_redirect` reads all three).

    A headless caller (a test, the conformance wrapper) can pass its own, e.g. one that GETs the URL and
    reads ``code``/``state`` from the ``Location`` it is redirected to.
    """

    async def redirect(self, url: str) -> None: ...

    async def callback(self) -> Redirect: ...


def code_from_redirect(address: str) -> Redirect:
    """``(code, state)`` from the address the authorization server redirected to, plus ``iss`` when the
    server named itself there (RFC 9207; the SDK checks it, and refuses its absence where it was promised).

    >>> code_from_redirect("http://127.0.0.1:8765/callback?code=abc&state=xyz")
    ('abc', 'xyz')
    >>> code_from_redirect("http://127.0.0.1:8765/callback?code=abc&state=xyz&iss=https%3A%2F%2Fas.example")
    ('abc', 'xyz', 'https://as.example')
    """
    query = parse_qs(urlsplit(address.strip()).query)
    if "error" in query:
        detail = (query.get("error_description") or query["error"])[0]
        raise AuthRequired(f"The authorization server refused the sign-in: {detail}.")
    if "code" not in query:
        raise UsageError(
            "That address has no 'code' parameter. Paste the whole address the browser ended on "
            "after you signed in (it starts with http://127.0.0.1)."
        )
    states = query.get("state")
    found = query["code"][0], states[0] if states else None
    return (*found, query["iss"][0]) if "iss" in query else found


_PAGE = (
    "<!doctype html><meta charset=utf-8><title>mcp-kernel</title><body style='font-family:sans-serif'>"
    "<h3>{}</h3><p>You can close this tab and go back to Jupyter or the terminal.</p>"
)


class LocalCallbackSignIn:
    """Shows the sign-in link and catches the browser's redirect on ``http://127.0.0.1:PORT/callback``.

    Works when the browser runs on the kernel's machine. ``show`` puts the link in front of the person.
    """

    def __init__(self, server: str, port: int, show: Show, *, timeout: float = SIGN_IN_TIMEOUT) -> None:
        self.server, self.port, self.show, self.timeout = server, port, show, timeout
        self._result: asyncio.Future[str] | None = None
        self._listener: asyncio.Server | None = None

    async def redirect(self, url: str) -> None:
        self._result = asyncio.get_running_loop().create_future()
        self._listener = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        await self.show(self.server, url)

    async def callback(self) -> Redirect:
        assert self._result is not None, "redirect() first"
        try:
            address = await asyncio.wait_for(self._result, self.timeout)
        except TimeoutError:
            raise AuthRequired(
                f"No sign-in to server {self.server!r} arrived within {self.timeout:g} s. Run "
                f"`%mcp auth login {self.server}` to try again.",
                server=self.server,
            ) from None
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        return code_from_redirect(address)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            parts = request_line.split()
            target = parts[1] if len(parts) > 1 else "/"
            if not target.startswith("/callback"):
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            query = parse_qs(urlsplit(target).query)
            ok = "code" in query
            body = _PAGE.format(f"Signed in to {self.server}." if ok else "Sign-in failed.").encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            if self._result is not None and not self._result.done():
                self._result.set_result(f"http://127.0.0.1:{self.port}{target}")
        except (OSError, TimeoutError, UnicodeError):
            pass
        finally:
            try:
                await writer.drain()
                writer.close()
            except OSError:
                pass


class PasteSignIn:
    """Shows the sign-in link, then asks the person to paste the address the browser ended on.

    For a browser on another machine than the kernel (JupyterHub, a remote kernel): the redirect to
    ``http://127.0.0.1:PORT/callback`` fails to load there, but its address carries the code.
    """

    def __init__(self, server: str, show: Show, read: Read) -> None:
        self.server, self.show, self.read = server, show, read

    async def redirect(self, url: str) -> None:
        await self.show(self.server, url)

    async def callback(self) -> Redirect:
        address = await self.read(
            "After signing in, the browser goes to a page that does not load (http://127.0.0.1"
            "...). Paste that page's whole address here: "
        )
        return code_from_redirect(address)


class TokenStore:
    """The SDK's ``TokenStorage`` for one server: a JSON file in the user data dir, mode 0o600.

    It holds the tokens (with the time the access token expires, so a restarted kernel refreshes it on
    time) and the client registration. Tokens saved for another URL are not handed out.
    """

    def __init__(self, server: str, url: str, *, directory: Path | None = None) -> None:
        from .paths import safe_filename  # the server logs' rule

        self.server, self.url = server, url
        self.path = (directory or data_dir() / "oauth") / f"{safe_filename(server)}.json"
        check_token_directory(self.path.parent)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.url else {}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # created 0o600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({**data, "url": self.url}, fh)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get_tokens(self) -> OAuthToken | None:
        from mcp.shared.auth import OAuthToken  # the SDK (~0.35 s): only once a server signs in

        saved = self._read().get("tokens")
        if not saved:
            return None
        expires_at = saved.pop("expires_at", None)
        if expires_at is not None:
            saved["expires_in"] = int(expires_at - time.time())
        return OAuthToken.model_validate(saved)

    async def set_tokens(self, tokens: OAuthToken) -> None:
        data = self._read()
        saved = tokens.model_dump(mode="json", exclude_none=True)
        expires_in = saved.pop("expires_in", None)
        if expires_in is not None:
            saved["expires_at"] = time.time() + int(expires_in)
        self._write({**data, "tokens": saved})

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        # the SDK (~0.35 s): only once a server signs in
        from mcp.shared.auth import OAuthClientInformationFull

        saved = self._read().get("client")
        return OAuthClientInformationFull.model_validate(saved) if saved else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self._write({**self._read(), "client": client_info.model_dump(mode="json", exclude_none=True)})

    def status(self) -> dict[str, Any]:
        """What is stored, without any secret: whether signed in, scopes, when the access token expires."""
        data = self._read()
        tokens = data.get("tokens") or {}
        return {
            "signed_in": bool(tokens.get("access_token")),
            "scope": tokens.get("scope"),
            "expires_at": tokens.get("expires_at"),
            "refreshable": bool(tokens.get("refresh_token")),
            "client_id": (data.get("client") or {}).get("client_id"),
        }

    def forget_tokens(self) -> None:
        """Drop the tokens, keep the client registration (the next sign-in reuses it)."""
        data = self._read()
        if data.pop("tokens", None) is not None:
            self._write(data)

    def clear(self) -> bool:
        """Forget this server's tokens and registration; True if there were any."""
        existed = self.path.exists()
        self.path.unlink(missing_ok=True)
        return existed

    def registered_port(self) -> int | None:
        """The loopback port of the registered redirect URI (a registration is bound to its exact URI)."""
        for uri in (self._read().get("client") or {}).get("redirect_uris") or []:
            port = urlsplit(str(uri)).port
            if port:
                return port
        return None


def check_token_directory(directory: Path) -> None:
    """Refuse a token directory that others could read or swap: tokens are only as private as their directory.

    One that does not exist yet is fine (it is created 0o700); one that exists must be a real directory (not a
    symlink), owned by this user, with no group or other access. Raises :class:`ConfigError` saying what to do.

    >>> check_token_directory(Path("/nonexistent/mcp-kernel/oauth"))
    """
    try:
        info = directory.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise ConfigError(
            f"The token directory {directory} is a symlink, so its tokens could be written where "
            "someone else reads them. Remove the link (and sign in again), or point "
            "MCP_KERNEL_DATA_DIR at a private directory."
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"The token directory {directory} is not a directory. Move it away and sign in again."
        )
    if not hasattr(os, "getuid"):  # Windows: owners and modes are ACLs there, which this check does not read
        return
    if info.st_uid != os.getuid():
        raise ConfigError(
            f"The token directory {directory} belongs to another user (uid {info.st_uid}), who could "
            "read your tokens. Remove it (and sign in again), or point MCP_KERNEL_DATA_DIR at a "
            "directory of your own."
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"The token directory {directory} is open to other users (mode {mode:o}). Make it "
            f"private with `chmod 700 {directory}` (and sign in again if others could have read "
            "the tokens in it)."
        )


def redirect_port(spec: ServerSpec, store: TokenStore) -> int:
    """The callback port: ``callbackPort``, else the one the client was registered with, else a free one."""
    assert spec.oauth is not None
    if spec.oauth.callback_port:
        return spec.oauth.callback_port
    registered = store.registered_port()
    if registered:
        return registered
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_auth(
    spec: ServerSpec,
    sign_in: Callable[[int], SignIn],
    *,
    store: TokenStore | None = None,
    failed: Callable[[Exception], None] | None = None,
) -> Any:
    """The httpx auth that signs requests to ``spec``'s server (None without an ``oauth`` block).

    ``sign_in(port)`` gives the :class:`SignIn` to use for the redirect URI ``http://127.0.0.1:PORT/callback``;
    it is only called when the person has to sign in. ``failed`` hears of a flow that failed (the transport
    only logs it, so the connection could not otherwise say why the handshake stopped).
    """
    # the SDK (~0.35 s): only once a server signs in
    from mcp.client.auth.extensions.client_credentials import (
        ClientCredentialsOAuthProvider,
        PrivateKeyJWTOAuthProvider,
    )
    from mcp.client.auth.oauth2 import OAuthClientProvider, OAuthContext
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata
    from mcp.shared.exceptions import MCPDeprecationWarning
    from pydantic import AnyUrl

    from .versions import own as own_version

    oauth = spec.oauth
    if oauth is None or spec.url is None:
        return None
    store = store or TokenStore(spec.name, spec.url)
    configured_secret = oauth.client_secret

    @dataclasses.dataclass
    class Context(OAuthContext):
        def update_token_expiry(self, token: Any) -> None:
            super().update_token_expiry(token)
            if self.token_expiry_time is not None and token.expires_in:
                self.token_expiry_time -= min(_REFRESH_EARLY, int(token.expires_in) / 5)

        def prepare_token_auth(
            self,
            data: dict[str, str],
            headers: dict[str, str] | None = None,
        ) -> tuple[dict[str, str], dict[str, str]]:
            info = self.client_info
            if info is not None and configured_secret and info.client_secret == configured_secret:
                # mcp.json's secret goes the way this authorization server takes it (its metadata is known now)
                method = secret_method(self.oauth_metadata)
                if info.token_endpoint_auth_method != method:
                    self.client_info = info.model_copy(update={"token_endpoint_auth_method": method})
            return super().prepare_token_auth(data, headers)

    def restored(base: type) -> type:
        class Provider(base):
            """The SDK's provider, with stored tokens' expiry restored and refresh a little early."""

            def __init__(self, *args: Any, registered: Any = None, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.context: Context = Context(
                    **{f.name: getattr(self.context, f.name) for f in dataclasses.fields(self.context)}
                )
                self._registered = registered

            async def _auth_flow(self, request: Any) -> Any:
                flow = super()._auth_flow(request)
                try:
                    outgoing = await flow.__anext__()
                    while True:
                        outgoing = await flow.asend((yield outgoing))
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    if failed is not None:
                        failed(exc)
                    raise
                finally:
                    await flow.aclose()  # here, in the task that holds the flow's lock

            async def _initialize(self) -> None:
                await super()._initialize()
                if (
                    self._registered is not None
                ):  # mcp.json's clientId wins over a registration kept from before
                    self.context.client_info = self._registered
                if self.context.current_tokens is not None:
                    self.context.update_token_expiry(self.context.current_tokens)

        return Provider

    if oauth.grant == "client_credentials":
        with warnings.catch_warnings():
            # Without `issuer` the SDK warns once per provider; mcp.json has no place for one (Claude Code's
            # format), so the authorization server the MCP server names is used, as the SDK does today.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            if oauth.private_key:
                return restored(PrivateKeyJWTOAuthProvider)(
                    server_url=spec.url,
                    storage=store,
                    client_id=oauth.client_id or "",
                    scope=oauth.scope,
                    assertion_provider=signed_assertions(spec.name, oauth.client_id or "", oauth.private_key),
                )
            return restored(ClientCredentialsOAuthProvider)(
                server_url=spec.url,
                storage=store,
                client_id=oauth.client_id or "",
                client_secret=oauth.client_secret or "",
                token_endpoint_auth_method="client_secret_post",
                scope=oauth.scope,
            )

    port = redirect_port(spec, store)
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    method: Literal["client_secret_post", "none"] = "client_secret_post" if oauth.client_secret else "none"
    metadata = OAuthClientMetadata(
        redirect_uris=[AnyUrl(redirect_uri)],
        client_name=f"mcp-kernel {own_version()}",
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method=method,
        scope=oauth.scope,
    )
    registered = None
    if oauth.client_id:
        registered = OAuthClientInformationFull(
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            redirect_uris=[AnyUrl(redirect_uri)],
            token_endpoint_auth_method=method,
            grant_types=["authorization_code", "refresh_token"],
            scope=oauth.scope,
        )
    chosen: list[SignIn] = []

    async def redirect(url: str) -> None:
        chosen[:] = [sign_in(port)]
        await chosen[0].redirect(url)

    async def callback() -> Any:
        code, state, *iss = await chosen[0].callback()  # a third item, when given, is the redirect's iss
        return AuthorizationCodeResult(code=code, state=state, iss=iss[0] if iss else None)

    return restored(OAuthClientProvider)(
        spec.url,
        metadata,
        store,
        redirect_handler=redirect,
        callback_handler=callback,
        client_metadata_url=oauth.client_metadata_url,
        registered=registered,
    )


def signed_assertions(server: str, client_id: str, private_key: str) -> Callable[[str], Awaitable[str]]:
    """The SDK's JWT client assertions (RFC 7523) for ``client_id``, signed with ``private_key`` (see
    :func:`signing_key`): what ``PrivateKeyJWTOAuthProvider`` sends the token endpoint."""
    # the SDK (~0.35 s): only once a server signs in
    from mcp.client.auth.extensions.client_credentials import SignedJWTParameters

    pem, algorithm = signing_key(private_key, f"server {server!r}, field 'oauth.privateKey'")
    return SignedJWTParameters(
        issuer=client_id, subject=client_id, signing_key=pem, signing_algorithm=algorithm
    ).create_assertion_provider()


def secret_method(metadata: Any) -> Literal["client_secret_post", "client_secret_basic"]:
    """How a configured client secret goes to the token endpoint: in the form (``client_secret_post``) when the
    authorization server lists it, else HTTP Basic, which is also RFC 8414's default when it lists none.

    >>> from mcp.shared.auth import OAuthMetadata
    >>> as_meta = dict(issuer="https://as.example", authorization_endpoint="https://as.example/authorize",
    ...                token_endpoint="https://as.example/token")
    >>> secret_method(OAuthMetadata(**as_meta, token_endpoint_auth_methods_supported=["client_secret_basic"]))
    'client_secret_basic'
    >>> secret_method(OAuthMetadata(**as_meta)), secret_method(None)
    ('client_secret_basic', 'client_secret_post')
    """
    if metadata is None:  # not discovered (the 2025-03-26 fallback endpoints): keep to the form
        return "client_secret_post"
    supported = metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    return "client_secret_post" if "client_secret_post" in supported else "client_secret_basic"


def person_sign_in(server: str, port: int, mode: SignInMode, person: Callable[[], Asker | None]) -> SignIn:
    """The sign-in of the person at the caller's frontend: the link shown where the call's output goes (a
    clickable link in a notebook), then the loopback callback, or the pasted address (``mode="paste"``;
    ``"auto"`` pastes on JupyterHub or when the callback port is taken). With no person attached to the
    call, :class:`AuthRequired` says to run ``auth login`` first."""

    async def show(server: str, url: str) -> None:
        asker = person()
        if asker is None:  # code calling on its own (a sandboxed cell, a script): nobody would see the link
            raise AuthRequired(
                f"Server {server!r} needs you to sign in, and this call has nobody to show the link "
                f"to. Run `%mcp auth login {server}` (or `mcp-kernel auth login {server}`), then "
                "call again.",
                server=server,
            )
        await asker.call_async(lambda: _show_link(server, url, asker.write))

    async def read(prompt: str) -> str:
        asker = person()
        # A sandboxed cell that did not ask to be interactive has a person only for approvals (approvals.py).
        why = None if asker is None else (asker.reason or getattr(asker, "declines_servers", None))
        if asker is None or asker.read is None or why is not None:
            why = why or "nobody can be asked here"
            raise AuthRequired(
                f"Signing in to server {server!r} needs the address pasted, but {why}. Sign in "
                f"from a notebook or a terminal: `mcp-kernel auth login {server}`.",
                server=server,
            )
        reader = asker.read
        return await asker.call_async(lambda: reader(prompt))

    if mode == "auto":
        mode = "paste" if os.environ.get("JUPYTERHUB_API_URL") or not _port_free(port) else "local"
    return LocalCallbackSignIn(server, port, show) if mode == "local" else PasteSignIn(server, show, read)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _link_text(server: str, url: str) -> str:
    from .terminal import printable  # the link comes from the server's metadata

    return printable(f"Server {server!r} needs you to sign in. Open this link:\n  {url}\n")


def _show_link(server: str, url: str, write: Callable[[str], None]) -> None:
    """A clickable link in a notebook (the cell's output), the plain link on a terminal."""
    from IPython import get_ipython  # IPython: only to show a sign-in link

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        write(_link_text(server, url))
        return
    from IPython.display import display  # IPython's display and the renderers: only in a notebook

    from .display import bundle
    from .models import SignInLink

    display(bundle(SignInLink(server=server, url=url)), raw=True)
