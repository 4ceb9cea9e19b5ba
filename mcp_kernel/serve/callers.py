"""Who may call ``mcp-kernel serve --http --callers FILE``: one bearer token per caller, checked on every
request.

The file is a JSON object of caller name -> token (``${VAR}`` expands from the environment). Each token
is at least 32 characters and belongs to one caller only: two callers sharing a token would become one.
A request without a known token gets ``401`` with a plain ``WWW-Authenticate: Bearer`` challenge - serve
issues its tokens itself, so it names no OAuth authorization server (the SDK's ``AuthSettings`` would
advertise one that does not exist).

>>> import asyncio
>>> asyncio.run(CallerTokens({"alice": "a" * 32}).verify_token("a" * 32)).client_id
'alice'
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from ..config import expand_env
from ..errors import ConfigError

__all__ = ["MIN_TOKEN_CHARS", "CallerTokens", "current_caller", "guard", "read_callers"]

MIN_TOKEN_CHARS = 32  # e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"` gives 43


class CallerTokens:
    """Bearer tokens that name their callers (``{caller: token}``): the SDK's token verifier for ``serve
    --http --callers FILE``. Each agent gets its own token; sandbox handles and event streams are bound to
    the caller."""

    def __init__(self, callers: Mapping[str, str]) -> None:
        self.callers = dict(callers)

    async def verify_token(self, token: str) -> Any:
        found = None
        for caller, expected in self.callers.items():  # every token compared, in constant time
            if hmac.compare_digest(token.encode(), expected.encode()):
                found = caller
        return None if found is None else AccessToken(token=token, client_id=found, scopes=[])


def read_callers(path: str) -> dict[str, str]:
    """``{caller: token}`` from a JSON file; ``${VAR}`` in a token expands from the environment. A token
    shorter than :data:`MIN_TOKEN_CHARS` or shared by two callers is a ``ConfigError`` naming the callers
    (never the tokens)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"--callers {path}: cannot read a JSON object of caller -> token ({exc})."
        ) from None
    if (
        not isinstance(data, dict)
        or not data
        or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in data.items())
    ):
        raise ConfigError(
            f"--callers {path}: give a JSON object mapping each caller's name to its bearer "
            'token, e.g. {"claude-desktop": "${DESKTOP_TOKEN}"}.'
        )
    callers = {caller: expand_env(token, f"--callers {path}: {caller}") for caller, token in data.items()}
    short = [caller for caller, token in callers.items() if len(token) < MIN_TOKEN_CHARS]
    if short:
        raise ConfigError(
            f"--callers {path}: the token of {', '.join(map(repr, short))} is shorter than "
            f"{MIN_TOKEN_CHARS} characters; give each caller a long random one, e.g. from "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
        )
    by_token: dict[str, list[str]] = {}
    for caller, token in callers.items():
        by_token.setdefault(token, []).append(caller)
    shared = [names for names in by_token.values() if len(names) > 1]
    if shared:
        groups = "; ".join(" and ".join(map(repr, names)) for names in shared)
        raise ConfigError(
            f"--callers {path}: {groups} have the same token, so serve could not tell them "
            "apart; give each caller its own."
        )
    return callers


def current_caller() -> str | None:
    """Who HTTP auth says is calling (the bearer token's client), or None without auth (stdio, open HTTP)."""
    token = get_access_token()
    return None if token is None else token.client_id


def guard(app: Any, callers: Mapping[str, str]) -> Any:
    """``app`` (ASGI) behind the callers' bearer tokens: the caller is known to the SDK (``scope["user"]``,
    ``get_access_token()``) and a request without a known token is refused with ``401``."""
    # Here, not at the top: only serve --http --callers needs the SDK's auth middleware and starlette's.
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
    from starlette.middleware.authentication import AuthenticationMiddleware

    return AuthenticationMiddleware(
        AuthContextMiddleware(_RequireCaller(app)), backend=BearerAuthBackend(CallerTokens(callers))
    )


class _RequireCaller:
    """Refuse any HTTP request that no caller's token authenticated (lifespan events pass)."""

    CHALLENGE = (
        'Bearer error="invalid_token", error_description="send one of the tokens of serve\'s '
        '--callers file as Authorization: Bearer <token>"'
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or isinstance(scope.get("user"), AuthenticatedUser):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "invalid_token", "error_description": "a known bearer token is required"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", self.CHALLENGE.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
