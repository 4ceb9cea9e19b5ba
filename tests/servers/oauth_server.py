"""An MCP server behind OAuth, with its own authorization server: the SDK's server-side auth (``mcp.server.auth``).

``python oauth_server.py PORT`` serves ``/mcp`` (streamable HTTP, bearer tokens required), the protected
resource metadata, authorization-server metadata, dynamic client registration, ``/authorize`` (approves at
once: the person "signs in" by following the redirect), ``/token`` (authorization code with PKCE, refresh)
and, for machines, the client-credentials grant for the pre-registered client. Settings from the environment:

- ``OAUTH_TTL``: seconds an access token lives (default 3600);
- ``OAUTH_CLIENT_ID`` / ``OAUTH_CLIENT_SECRET``: a pre-registered confidential client (also the
  client-credentials client);
- ``OAUTH_NO_DCR=1``: no dynamic registration, so only the pre-registered client can sign in;
- ``OAUTH_ISS``: the ``iss`` put in redirects (RFC 9207; default: this server's own issuer).

The tool ``whoami`` reports what the server knows of the caller: its client, scopes, how many tokens were
issued and refreshed, and the ``clientInfo`` the client introduced itself with; ``admin_report`` needs the
``admin`` scope, which the client gets by stepping up after a 403.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qs

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.auth import OAuthClientInformationFull
from starlette.responses import JSONResponse

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
TTL = int(os.environ.get("OAUTH_TTL", "3600"))
counts = {"issued": 0, "refreshed": 0, "client_credentials": 0}


class AutoApprove:
    """An in-memory authorization server that approves every request (the test plays the browser)."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        client_id, secret = os.environ.get("OAUTH_CLIENT_ID"), os.environ.get("OAUTH_CLIENT_SECRET")
        if client_id:
            self.clients[client_id] = OAuthClientInformationFull(
                client_id=client_id,
                client_secret=secret,
                token_endpoint_auth_method="client_secret_post",
                scope="read admin",
                grant_types=["authorization_code", "refresh_token", "client_credentials"],
                redirect_uris=[
                    f"http://127.0.0.1:{p}/callback"
                    for p in os.environ.get("OAUTH_PORTS", "").split(",")
                    if p
                ]
                or None,
            )

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        # Registered for every scope this server has, so a later step-up to "admin" may be granted.
        self.clients[client_info.client_id or ""] = client_info.model_copy(update={"scope": "read admin"})

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or ["read"],
            expires_at=time.time() + 300,
            client_id=client.client_id or "",
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        # RFC 9207: the server names itself in the redirect (OAUTH_ISS: as another issuer, for the refusal test).
        return construct_redirect_uri(
            str(params.redirect_uri), code=code, state=params.state, iss=os.environ.get("OAUTH_ISS", BASE)
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, code: str
    ) -> AuthorizationCode | None:
        return self.codes.get(code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> Any:
        from mcp.shared.auth import OAuthToken

        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + TTL,
            resource=resource,
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        counts["issued"] += 1
        return OAuthToken(access_token=access, expires_in=TTL, scope=" ".join(scopes), refresh_token=refresh)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, code: AuthorizationCode
    ) -> Any:
        self.codes.pop(code.code, None)
        return self._issue(code.client_id, code.scopes, code.resource)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> Any:
        self.refresh.pop(refresh_token.token, None)
        counts["refreshed"] += 1
        return self._issue(refresh_token.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token: Any) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


provider = AutoApprove()
server = MCPServer(
    name="oauth-test",
    auth_server_provider=provider,
    auth=AuthSettings(
        issuer_url=BASE,
        resource_server_url=f"{BASE}/mcp",
        validate_token_resource=False,
        client_registration_options=ClientRegistrationOptions(
            enabled=not os.environ.get("OAUTH_NO_DCR"),
            valid_scopes=["read", "admin"],
            default_scopes=["read"],
        ),
        required_scopes=["read"],
    ),
)


@server.tool()
def whoami(ctx: Context) -> dict:
    """Who the server thinks is calling, and how many tokens it has issued."""
    token = get_access_token()
    params = ctx.session.client_params
    info = params.client_info if params is not None else None
    return {
        "client_id": token.client_id if token else None,
        "scopes": token.scopes if token else [],
        "client_name": info.name if info else None,
        "client_version": info.version if info else None,
        **counts,
    }


@server.tool()
def admin_report() -> dict:
    """Needs the ``admin`` scope: a token without it is answered 403 ``insufficient_scope`` (step-up)."""
    token = get_access_token()
    return {"scopes": token.scopes if token else []}


def step_up(app: Any) -> Any:
    """Calls of ``admin_report`` with a token lacking ``admin`` get 403 insufficient_scope (the SDK's bearer
    middleware checks one set of scopes for the whole endpoint, not per tool)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/mcp" or scope["method"] != "POST":
            return await app(scope, receive, send)
        body = await _body(receive)
        if b'"admin_report"' in body:
            bearer = dict(scope["headers"]).get(b"authorization", b"").decode().removeprefix("Bearer ")
            token = provider.access.get(bearer)
            if token is not None and "admin" not in token.scopes:
                challenge = (
                    f'Bearer error="insufficient_scope", scope="read admin", '
                    f'resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp"'
                )
                response = JSONResponse(
                    {"error": "insufficient_scope"}, status_code=403, headers={"WWW-Authenticate": challenge}
                )
                return await response(scope, receive, send)
        return await app(scope, _replay(body, receive), send)

    return wrapped


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that gives the body already read, then whatever comes next (a disconnect)."""
    sent = False

    async def again() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _body(receive: Any) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def client_credentials(app: Any) -> Any:
    """The client-credentials grant (RFC 6749 §4.4), which the SDK's token endpoint does not offer."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/token" or scope["method"] != "POST":
            return await app(scope, receive, send)
        body = await _body(receive)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return await app(scope, _replay(body, receive), send)
        client = provider.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(
            client.client_secret or "", form.get("client_secret", "")
        ):
            return await JSONResponse({"error": "invalid_client"}, status_code=401)(scope, receive, send)
        counts["client_credentials"] += 1
        token = provider._issue(
            client.client_id or "", (form.get("scope") or "read").split(), form.get("resource")
        )
        return await JSONResponse(token.model_dump(exclude_none=True))(scope, receive, send)

    return wrapped


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        client_credentials(step_up(server.streamable_http_app())),
        host="127.0.0.1",
        port=PORT,
        log_level="warning",
    )
