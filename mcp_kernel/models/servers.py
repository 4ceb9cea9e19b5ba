"""Servers: how to reach one (``ServerSpec``, its ``oauth`` block), what it said about itself, the list of
servers, sign-in, validation and server logs.

>>> ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"]).describe()
'python -m mcp_kernel.demo'
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from .base import _Model

__all__ = [
    "REDACTED",
    "AuthStatus",
    "LogExcerpt",
    "OAuthSettings",
    "ServerAdded",
    "ServerEntry",
    "ServerInfo",
    "ServerList",
    "ServerSpec",
    "SignInLink",
    "ValidationReport",
    "ValidationRow",
]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


REDACTED = "<redacted>"


class OAuthSettings(BaseModel):
    """How to sign in to a remote server: the ``oauth`` block of an mcp.json entry (Claude Code's spelling).

    Every key is optional: with none, the client registers itself (a client ID metadata document or dynamic
    registration) and asks for the scopes the server names. The secret never appears in a rendering.

    >>> OAuthSettings.model_validate({"clientId": "abc", "clientSecret": "s3cret", "scopes": ["read"]})
    OAuthSettings(client_id='abc', client_secret='<redacted>', scopes=['read'], callback_port=None, client_metadata_url=None, grant='authorization_code', private_key=None)
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=_camel, defer_build=True
    )

    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = Field(default_factory=list)
    callback_port: int | None = Field(default=None, ge=1, le=65535)
    client_metadata_url: str | None = None
    grant: Literal["authorization_code", "client_credentials"] = "authorization_code"
    private_key: str | None = (
        None  # client_credentials signed with a key (private_key_jwt): PEM, or a PEM file
    )

    @model_validator(mode="after")
    def _grant_needs(self) -> OAuthSettings:
        if self.grant == "client_credentials" and not (
            self.client_id and bool(self.client_secret) != bool(self.private_key)
        ):
            raise ValueError(
                "the client_credentials grant needs 'clientId' and one of 'clientSecret' or "
                "'privateKey' in the oauth block"
            )
        if self.private_key and self.grant != "client_credentials":
            raise ValueError(
                "'privateKey' signs the client_credentials grant: add \"grant\": "
                '"client_credentials" to the oauth block'
            )
        return self

    @model_serializer(mode="wrap")
    def _redacted(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for key in ("client_secret", "clientSecret", "private_key", "privateKey"):
            if data.get(key) is not None:
                data[key] = REDACTED
        return data

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        yield from self.model_dump().items()

    @property
    def scope(self) -> str | None:
        """The scopes as OAuth writes them (space-separated), or None to let the server choose."""
        return " ".join(self.scopes) or None


class ServerSpec(_Model):
    """How to reach one MCP server: a command to run (stdio) or a URL (streamable HTTP).

    Header and environment values, and the ``oauth`` block's client secret, are secrets: every rendering of a
    spec (``repr``, ``model_dump``, JSON, ``describe()``) shows them as ``<redacted>`` and shows the other
    fields as written in mcp.json, ``${VAR}`` unexpanded; only the attributes hold the values a connection uses.

    >>> ServerSpec(name="web", url="http://127.0.0.1:8000/mcp").transport
    'http'
    >>> ServerSpec(name="web", url="http://h/mcp", headers={"Authorization": "Bearer s3cret"})
    ServerSpec(name='web', command=None, args=[], env={}, cwd=None, url='http://h/mcp', headers={'Authorization': '<redacted>'})
    """

    name: str = Field(min_length=1)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    oauth: OAuthSettings | None = None
    # Which calls to this server ask a person first (approvals.py): a mode, or {"*": mode, "tool": mode}.
    approve: str | dict[str, str] | None = None
    # The legacy HTTP+SSE transport (``"type": "sse"`` in mcp.json) instead of streamable HTTP; kept out of
    # renderings so that existing dumps are unchanged.
    sse: bool = Field(default=False, exclude=True, repr=False)
    _written: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> ServerSpec:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either 'command' (stdio) or 'url' (streamable HTTP), not both or neither")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if self.oauth is not None and not self.url:
            raise ValueError("'oauth' applies to servers reached by 'url' only")
        return self

    def as_written(self, fields: dict[str, Any]) -> ServerSpec:
        """Remember the fields as written in mcp.json (before ``${VAR}`` expansion) for every rendering."""
        self._written = {k: v for k, v in fields.items() if k in ("command", "args", "cwd", "url")}
        return self

    @model_serializer(mode="wrap")
    def _redacted(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        data.update({k: v for k, v in self._written.items() if k in data})
        for secret in ("env", "headers"):
            data[secret] = {key: REDACTED for key in data.get(secret) or {}}
        for optional in ("oauth", "approve"):
            if data.get(optional) is None:
                data.pop(
                    optional, None
                )  # shown only where configured: other servers' renderings are unchanged
        return data

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        yield from self.model_dump().items()

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command else "http"

    def describe(self) -> str:
        """One line naming the command or URL as written (``${VAR}`` unexpanded), for tables and messages."""
        shown = self.model_dump()
        if self.command:
            return " ".join([shown["command"], *shown["args"]])
        return str(shown["url"])


class ServerInfo(_Model):
    """What a server said about itself in the MCP handshake."""

    name: str
    version: str = ""
    title: str | None = None
    protocol_version: str = ""
    capabilities: dict[str, Any] = Field(default_factory=dict)
    instructions: str | None = None


class ServerAdded(_Model):
    """What ``add`` says: the server answered, with how many tools (``introspect`` shows them in full)."""

    server_name: str
    server: ServerInfo
    tools: list[str]
    duration_ms: float = 0.0


class ServerEntry(_Model):
    """One row of the server list."""

    name: str
    transport: Literal["stdio", "http"]
    target: str
    connected: bool
    source: str | None = None


class ServerList(_Model):
    servers: list[ServerEntry]


class SignInLink(_Model):
    """The link a person opens to sign in to a server (shown clickable in a notebook)."""

    server: str
    url: str


class AuthStatus(_Model):
    """Whether mcp-kernel holds a sign-in for a server; never the tokens themselves.

    >>> AuthStatus(server="web", configured=True, signed_in=False).exit_code
    0
    """

    server: str
    configured: bool  # whether mcp.json has an oauth block for it
    signed_in: bool
    action: Literal["status", "login", "logout"] = "status"
    grant: str | None = None
    scope: str | None = None
    expires_at: float | None = None  # when the access token runs out (it is refreshed before then)
    refreshable: bool = False
    client_id: str | None = None
    token_file: str | None = None


class ValidationRow(_Model):
    """Whether one server started, finished the handshake and listed its tools."""

    name: str
    ok: bool
    tools: int = 0
    protocol_version: str = ""
    error: str = ""
    duration_ms: float = 0.0


class ValidationReport(_Model):
    rows: list[ValidationRow]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def exit_code(self) -> int:
        """1 when any server failed to start, handshake or list its tools."""
        return 0 if self.ok else 1


class LogExcerpt(_Model):
    """The last lines of one server's stderr log."""

    server: str
    path: str
    text: str
