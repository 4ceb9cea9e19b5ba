"""Audience: serve's 2025-era connections, each known by its caller and its session id."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from mcp_kernel.serve.audience import Audience


def key_of(caller: str, session_id: str) -> Any:
    """The key of a request on ``session_id`` authenticated as ``caller``."""
    reset = auth_context_var.set(AuthenticatedUser(AccessToken(token="t", client_id=caller, scopes=[])))
    try:
        return Audience.key(SimpleNamespace(headers={"mcp-session-id": session_id}))
    finally:
        auth_context_var.reset(reset)


def test_a_request_naming_another_callers_session_changes_nothing_of_theirs() -> None:
    audience = Audience(bus=None)
    alice = key_of("alice", "s1")
    audience.seen(alice, session=None)  # type: ignore[arg-type]
    audience.set_level(alice, "error")
    bob_on_alices = key_of("bob", "s1")
    audience.set_level(bob_on_alices, "debug")
    audience.subscribe(bob_on_alices, "mcp-tools://servers")
    assert not audience.wants(alice, "warning") and audience.subscribed() == set()


def test_a_caller_with_many_connections_forgets_only_its_own() -> None:
    audience = Audience(bus=None, max_clients=3, per_caller=2)
    alice = key_of("alice", "a")
    audience.seen(alice, session=None)  # type: ignore[arg-type]
    audience.set_level(alice, "debug")
    for n in range(10):
        audience.seen(key_of("bob", f"b{n}"), session=None)  # type: ignore[arg-type]
    assert audience.wants(alice, "debug"), "alice's connection is still known, with her level"
