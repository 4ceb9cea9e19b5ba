"""Typed values that cross mcp-kernel's boundaries (config, MCP results, reports).

Everything here is a pydantic model so that what comes from a file, a server or a user is checked once,
on the way in. The ``mcp`` SDK's own types never leave ``client.py``; they are converted to these.

>>> spec = ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"])
>>> spec.transport
'stdio'
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)

from .vfs import TreeNode

__all__ = [
    "AuthStatus",
    "BridgeStats",
    "CallRecord",
    "CallResult",
    "CellTokens",
    "CommandList",
    "CommandSummary",
    "DebugReport",
    "DemoReport",
    "ExecutionResult",
    "FileView",
    "GenerateReport",
    "GuestError",
    "Introspection",
    "KernelspecResult",
    "LogExcerpt",
    "Notice",
    "OAuthSettings",
    "PluginInfo",
    "PluginList",
    "PromptArgumentInfo",
    "PromptInfo",
    "PromptList",
    "PromptMessageView",
    "PromptView",
    "ResourceContent",
    "ResourceInfo",
    "ResourceList",
    "ResourceRead",
    "ResourceTemplateInfo",
    "SandboxSessionInfo",
    "SandboxSessionList",
    "SearchHit",
    "SearchResults",
    "ServerAdded",
    "ServerEntry",
    "ServerInfo",
    "ServerList",
    "ServerSpec",
    "ServerTokens",
    "SessionStats",
    "SettingRow",
    "SettingsReport",
    "SignInLink",
    "TokenReport",
    "ToolAnnotations",
    "ToolInfo",
    "ToolTokens",
    "ValidationReport",
    "ValidationRow",
]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


class _Model(BaseModel):
    """Base of the result models. How they look lives in :mod:`mcp_kernel.display`, never here."""

    # defer_build: a model's validator is built on its first use, not at import (all of them at once cost
    # ~170 ms of every import of mcp_kernel.sandbox, where one or two are used).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @property
    def exit_code(self) -> int:
        """What ``mcp-kernel`` exits with after printing this result: 0, unless the result is a failure."""
        return 0


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
        if data.get("oauth") is None:
            data.pop("oauth", None)  # shown only where configured, so other servers' renderings are unchanged
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


class ToolAnnotations(_Model):
    """Hints a server gives about a tool (all optional; MCP says to treat them as untrusted)."""

    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


class ToolInfo(_Model):
    """One tool as published by ``tools/list``.

    >>> t = ToolInfo(name="echo", input_schema={"type": "object"})
    >>> t.cacheable
    False
    """

    name: str
    title: str | None = None
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    annotations: ToolAnnotations = Field(default_factory=ToolAnnotations)

    @property
    def display_title(self) -> str:
        return self.title or self.annotations.title or self.name

    @property
    def cacheable(self) -> bool:
        """True when the server says calls have no side effects to repeat (read-only or idempotent)."""
        return bool(self.annotations.read_only or self.annotations.idempotent)

    def wire(self) -> dict[str, Any]:
        """The tool as MCP's ``tools/list`` sends it (camelCase keys), e.g. for token counting."""
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        out["inputSchema"] = self.input_schema
        if self.output_schema is not None:
            out["outputSchema"] = self.output_schema
        ann = {
            key: value
            for key, value in (
                ("title", self.annotations.title),
                ("readOnlyHint", self.annotations.read_only),
                ("destructiveHint", self.annotations.destructive),
                ("idempotentHint", self.annotations.idempotent),
                ("openWorldHint", self.annotations.open_world),
            )
            if value is not None
        }
        if ann:
            out["annotations"] = ann
        return out


class CallResult(_Model):
    """The outcome of one ``tools/call``.

    ``structured`` is the tool's structured content when it sent one; ``text`` joins its text blocks.
    ``value`` is what a binding returns: the structured content, else the text parsed as JSON when it is
    JSON, else the text.
    """

    server: str
    tool: str
    structured: Any = None
    text: str = ""
    content: list[dict[str, Any]] = Field(default_factory=list)
    is_error: bool = False
    duration_ms: float = 0.0

    @property
    def exit_code(self) -> int:
        """1 when the tool answered with an error result (``isError``)."""
        return 1 if self.is_error else 0

    @property
    def value(self) -> Any:
        if self.structured is not None:
            return self.structured
        try:
            return json.loads(self.text)
        except ValueError:
            return self.text


class Introspection(_Model):
    """What ``introspect`` found on one server: its handshake info and every tool."""

    server_name: str
    server: ServerInfo
    tools: list[ToolInfo]
    duration_ms: float = 0.0

    def tool(self, name: str) -> ToolInfo:
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise KeyError(name)


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


class DemoReport(_Model):
    """What ``mcp-kernel demo`` did, step by step."""

    transport: Literal["stdio", "http"]
    introspection: Introspection
    generated: GenerateReport | None = None
    tree: TreeNode | None = None
    code: str = ""
    execution: ExecutionResult | None = None
    tokens: TokenReport | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """False when the sandboxed step failed (the CLI then exits non-zero)."""
        return self.execution is not None and self.execution.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


class SearchHit(_Model):
    """One tool found by ``search``; the fields filled depend on the detail level asked for."""

    server: str
    tool: str
    summary: str | None = None
    signature: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: ToolAnnotations | None = None


class SearchResults(_Model):
    query: str
    detail: Literal["name", "summary", "signature", "full"]
    hits: list[SearchHit]
    total: int


class LogExcerpt(_Model):
    """The last lines of one server's stderr log."""

    server: str
    path: str
    text: str


class KernelspecResult(_Model):
    """Where the kernelspec was installed or removed."""

    action: Literal["installed", "removed"]
    name: str
    path: str
    sandbox: str | None = (
        None  # what `install` did about the sandbox component (built, already built, skipped)
    )


class DebugReport(_Model):
    """Versions, paths and component status for a bug report."""

    python: str
    platform: str
    versions: dict[str, str]
    paths: dict[str, str]
    status: dict[str, str]


class SettingRow(_Model):
    name: str
    value: Any
    source: str
    help: str = ""


class SettingsReport(_Model):
    """Effective settings with their sources, or the files ``config init`` wrote."""

    file: str
    rows: list[SettingRow]
    written: list[str] = Field(default_factory=list)


def _savings(before: int, after: int) -> float:
    """Percent saved, rounded down to 0.01 so that 99.999 never shows as 100."""
    return 0.0 if before <= 0 else math.floor(10000.0 * (before - after) / before) / 100


class ToolTokens(_Model):
    """One tool's cost: its definition as ``tools/list`` sends it, its generated binding, and its index line
    (what ``search --detail signature`` answers for it)."""

    server: str
    tool: str
    definition: int
    binding: int
    signature: int = 0


class ServerTokens(_Model):
    """Up front versus the listing path and the search path, for one server.

    listing path = the listing of the server's directory (0 when the task reads nothing from it) + the
    bindings the task reads; search path = this server's part of one search answer at signature detail
    + the same bindings.
    """

    server: str
    tools: int
    upfront: int
    listing: int
    search: int = 0
    bindings_read: int
    tools_read: list[str]
    per_tool: list[ToolTokens]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progressive(self) -> int:
        """The listing path."""
        return self.listing + self.bindings_read

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        """Saved on the listing path."""
        return _savings(self.upfront, self.progressive)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_path(self) -> int:
        return self.search + self.bindings_read

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_savings_percent(self) -> float:
        return _savings(self.upfront, self.search_path)


class TokenReport(_Model):
    """Token savings of the two progressive paths over loading every definition, per server and in total.

    ``progressive`` and ``savings_percent`` are the listing path, whose total includes the listing of
    ``servers/`` (``listing_head``); ``search_path`` and ``search_savings_percent`` the search path, whose
    total includes the answer's head line and the breaks between servers' lines (``search_head``), so that
    the answer's part of it is the count of ``search_text``, the answer exactly as ``serve`` sends it.
    Without a task (``task_defined`` False) nothing is read: the listing path is every listing and the
    search path is empty.
    """

    encoding: str
    exact: bool
    servers: list[ServerTokens]
    task_defined: bool = False
    listing_head: int = 0
    search_head: int = 0
    search_text: str = ""
    duration_ms: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def upfront(self) -> int:
        return sum(s.upfront for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progressive(self) -> int:
        return self.listing_head + sum(s.progressive for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        return _savings(self.upfront, self.progressive)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_path(self) -> int:
        return self.search_head + sum(s.search_path for s in self.servers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_savings_percent(self) -> float:
        return _savings(self.upfront, self.search_path)


class CellTokens(_Model):
    """For one sandboxed cell: raw tool results that stayed inside versus what reached the notebook."""

    encoding: str
    exact: bool
    calls: int
    raw_result_tokens: int
    raw_result_bytes: int
    output_tokens: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_percent(self) -> float:
        return _savings(self.raw_result_tokens, self.output_tokens)


class GenerateReport(_Model):
    """What ``generate`` wrote for one server."""

    server: str
    server_id: str
    tools: int
    languages: list[str]
    files: list[str]
    bytes: int
    out: str | None = None
    plugin: str | None = None
    duration_ms: float = 0.0


class FileView(_Model):
    """One file of the virtual filesystem."""

    path: str
    text: str
    size: int


class Notice(_Model):
    """A command's one-sentence answer (``plugin export``, ``reset``), shown as the sentence, not a quoted repr."""

    text: str


class CommandSummary(_Model):
    """One command of the registry and the first sentence of its help."""

    name: str
    summary: str


class CommandList(_Model):
    """The commands available in one place (``%mcp`` or ``mcp-kernel``): what ``%mcp help`` shows."""

    prog: str
    commands: list[CommandSummary]
    hint: str = ""


class CallRecord(BaseModel):
    """One ``call-tool`` from the sandbox, as the bridge saw it.

    ``arguments`` is the parameters' JSON as the code sent it; the result's text stays out of dumps.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    server: str
    tool: str
    duration_ms: float
    bytes_in: int
    arguments: str | None = None
    bytes_out: int = 0
    cached: bool = False
    error: str | None = None
    result_text: str | None = Field(default=None, exclude=True, repr=False)


class BridgeStats(BaseModel):
    """Counters over every call the bridge has handled."""

    model_config = ConfigDict(defer_build=True)

    calls: int = 0
    errors: int = 0
    cache_hits: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    cache_entries: int = 0
    cache_bytes: int = 0


class GuestError(_Model):
    """An exception raised by the cell's code inside the sandbox, with the guest's own traceback."""

    type: str
    message: str
    traceback: str = ""


class ExecutionResult(_Model):
    """What one sandboxed cell produced."""

    stdout: str = ""
    stderr: str = ""
    value_repr: str | None = None
    value_json: str | None = None
    error: GuestError | None = None
    duration_ms: float = 0.0
    fuel_used: int = 0
    memory_limit_mb: int = 0
    session_reset: bool = False
    note: str | None = None
    calls: list[CallRecord] = Field(default_factory=list)
    tokens: CellTokens | None = None
    pii_replaced: int | None = Field(default=None, description="values replaced by placeholders (None: off)")
    stopped: str | None = Field(
        default=None,
        description="why the host stopped the cell before it ended "
        "(interrupt, timeout, fuel, memory, output, disk, trap), if it did",
    )

    @property
    def exit_code(self) -> int:
        """1 when the cell's code raised inside the sandbox."""
        return 1 if self.error is not None else 0

    @property
    def value(self) -> Any:
        """The final expression's value, decoded from JSON when it was JSON-serialisable."""
        return json.loads(self.value_json) if self.value_json is not None else None


class SessionStats(_Model):
    """Counters of one session: the bridge (calls, errors, cache, latency), the sandbox and the tree."""

    bridge: BridgeStats
    cells: int
    servers_connected: int
    generated: list[str]
    vfs_files: int
    engine_timings: dict[str, float] = Field(default_factory=dict)
    storage: dict[str, str] = Field(default_factory=dict)


class PluginInfo(_Model):
    """One saved plugin: its metadata, its size, and whether the live server has changed since."""

    metadata: dict[str, Any]
    files: int
    bytes: int
    stale: bool | None = None
    changed_tools: list[str] = Field(default_factory=list)


class PluginList(_Model):
    store: str
    plugins: list[PluginInfo]
    broken: dict[str, str] = Field(default_factory=dict)


class SandboxSessionInfo(_Model):
    """One live sandbox session: its handle, how many cells ran, how long it has been idle."""

    handle: str
    cells: int
    idle_s: float
    memory_limit_mb: int
    busy: bool = False


class SandboxSessionList(_Model):
    """The live sandbox sessions of this process and the limits they live under."""

    sessions: list[SandboxSessionInfo]
    max_sessions: int
    memory_reserved_mb: int
    memory_budget_mb: int | None = None


# ---- resources and prompts ----------------------------------------------------------------------------------
class ResourceInfo(_Model):
    """One resource as published by ``resources/list``."""

    uri: str
    name: str = ""
    title: str | None = None
    description: str = ""
    mime_type: str | None = None
    size: int | None = None


class ResourceTemplateInfo(_Model):
    """One parameterised resource (``resources/templates/list``), e.g. ``note://shelf/{name}``."""

    uri_template: str
    name: str = ""
    title: str | None = None
    description: str = ""
    mime_type: str | None = None


class ResourceList(_Model):
    """Every resource and resource template of one server."""

    server: str
    resources: list[ResourceInfo] = Field(default_factory=list)
    templates: list[ResourceTemplateInfo] = Field(default_factory=list)


class ResourceContent(_Model):
    """One part of a read resource: ``text``, or ``blob`` (base64) with its decoded ``size``.

    >>> ResourceContent(uri="image://x", mime_type="image/png", blob="AAEC", size=3).is_binary
    True
    """

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None
    size: int = 0

    @property
    def is_binary(self) -> bool:
        return self.blob is not None

    @property
    def parsed(self) -> Any:
        """The text parsed as JSON when it is JSON (whatever the declared type), else None."""
        if self.text is None:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def data(self) -> bytes:
        """The content's bytes (a blob decoded, or the text as UTF-8)."""
        import base64

        return base64.b64decode(self.blob) if self.blob is not None else (self.text or "").encode()


class ResourceRead(_Model):
    """The outcome of one ``resources/read``."""

    server: str
    uri: str
    contents: list[ResourceContent] = Field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def text(self) -> str:
        """Every text part, joined (blobs left out)."""
        return "\n".join(c.text for c in self.contents if c.text is not None)


class PromptArgumentInfo(_Model):
    name: str
    description: str = ""
    required: bool = False


class PromptInfo(_Model):
    """One prompt as published by ``prompts/list``."""

    name: str
    title: str | None = None
    description: str = ""
    arguments: list[PromptArgumentInfo] = Field(default_factory=list)


class PromptList(_Model):
    server: str
    prompts: list[PromptInfo] = Field(default_factory=list)


class Completion(_Model):
    """Values a server suggests for one argument of a prompt or resource template (``completion/complete``).

    >>> Completion(server="demo", ref="prompt", name="analyze_region", argument="region", values=["EU"])
    Completion(server='demo', ref='prompt', name='analyze_region', argument='region', value='', values=['EU'], total=None, has_more=False)
    """

    server: str
    ref: Literal["prompt", "resource"]
    name: str
    argument: str
    value: str = ""
    values: list[str] = Field(default_factory=list)
    total: int | None = None
    has_more: bool = False


class PromptMessageView(_Model):
    """One turn of a prompt: who speaks and what (text, or a short note for images, audio, resources)."""

    role: str
    text: str
    kind: str = "text"


class PromptView(_Model):
    """The outcome of one ``prompts/get``: a conversation to hand to a model."""

    server: str
    prompt: str
    arguments: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    messages: list[PromptMessageView] = Field(default_factory=list)
