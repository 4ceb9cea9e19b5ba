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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from .vfs import TreeNode

__all__ = [
    "ServerSpec",
    "ServerInfo",
    "ToolAnnotations",
    "ToolInfo",
    "CallResult",
    "Introspection",
    "ServerEntry",
    "ServerList",
    "ValidationRow",
    "ValidationReport",
    "DemoReport",
    "SearchHit",
    "SearchResults",
    "LogExcerpt",
    "KernelspecResult",
    "DebugReport",
    "SettingRow",
    "SettingsReport",
    "ToolTokens",
    "ServerTokens",
    "TokenReport",
    "CellTokens",
    "GenerateReport",
    "FileView",
    "GuestError",
    "ExecutionResult",
    "SessionStats",
    "CallRecord",
    "BridgeStats",
    "PluginInfo",
    "PluginList",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .display import bundle

        return bundle(self)


class ServerSpec(_Model):
    """How to reach one MCP server: a command to run (stdio) or a URL (streamable HTTP).

    >>> ServerSpec(name="web", url="http://127.0.0.1:8000/mcp").transport
    'http'
    """

    name: str = Field(min_length=1)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> ServerSpec:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either 'command' (stdio) or 'url' (streamable HTTP), not both or neither")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command else "http"

    def describe(self) -> str:
        """One line naming the command or URL, for tables and error messages."""
        if self.command:
            return " ".join([self.command, *self.args])
        return str(self.url)


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


class ServerEntry(_Model):
    """One row of the server list."""

    name: str
    transport: Literal["stdio", "http"]
    target: str
    connected: bool
    source: str | None = None


class ServerList(_Model):
    servers: list[ServerEntry]


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
    total includes the answer's head line (``search_head``). Without a task (``task_defined`` False)
    nothing is read: the listing path is every listing and the search path is empty.
    """

    encoding: str
    exact: bool
    servers: list[ServerTokens]
    task_defined: bool = False
    listing_head: int = 0
    search_head: int = 0
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


class CallRecord(BaseModel):
    """One ``call-tool`` from the sandbox, as the bridge saw it."""

    model_config = ConfigDict(frozen=True)

    server: str
    tool: str
    duration_ms: float
    bytes_in: int
    bytes_out: int = 0
    cached: bool = False
    error: str | None = None
    result_text: str | None = Field(default=None, exclude=True, repr=False)


class BridgeStats(BaseModel):
    """Counters over every call the bridge has handled."""

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


DemoReport.model_rebuild()  # its fields name models defined further down
