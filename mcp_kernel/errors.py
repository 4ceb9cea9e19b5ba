"""Every error mcp-kernel raises on purpose, in one tree.

```
MCPKernelError                  root: catch this to catch everything we raise on purpose
├── ConfigError                 a settings or mcp.json problem (names file, server and field)
├── UsageError                  a command line or magic line that does not parse
│   └── PromptArgumentMissing   a prompt asked for without one of its required arguments
├── ServerError                 an MCP server could not be reached or misbehaved
│   ├── ServerNotFound          no server of that name is configured or connected
│   ├── ServerStartError        the server did not start or died before the handshake
│   ├── ServerTimeout           the server did not answer within the timeout
│   ├── ServerCrashed           the server died while a call was in flight
│   ├── AuthRequired            the server wants sign-in (HTTP 401/403) and none is configured, or it failed
│   ├── ResourceNotFound        the server publishes no resource at that URI (and no template matches it)
│   ├── PromptNotFound          the server publishes no prompt of that name
│   └── CapabilityNotOffered    the server does not offer that (completions, resource subscriptions)
├── ToolError                   a problem with one tool
│   ├── ToolNotFound            the server publishes no tool of that name
│   └── ToolCallError           the server answered the call with an error result
│       └── CallRefused         a guard of the bridge refused the call before it was sent
│           ├── BudgetExceeded  the call was past the run's call budget (max_calls)
│           └── ApprovalDenied  the call needed a person's approval and did not get it
├── CodegenError                a schema or name that bindings cannot be generated from
├── VFSError                    a virtual-filesystem problem
│   └── InvalidPath             a path that is malformed or escapes the tree
├── SandboxError                the WebAssembly sandbox stopped a cell
│   ├── SandboxTimeout          the cell ran past its wall-clock limit
│   ├── SandboxOutOfMemory      the cell ran past its memory limit
│   ├── FuelExhausted           the cell ran past its instruction (fuel) budget
│   ├── OutputTooLarge          the cell printed more than the output cap
│   ├── WorkspaceFull           the cell wrote more to /workspace than the session's disk limit
│   ├── PolicyViolation         the cell asked for something its policy does not grant
│   ├── CellError               the cell's own code raised inside the sandbox (guest traceback)
│   ├── SessionNotFound         no live sandbox session has that handle (closed, expired, or forged)
│   ├── SessionLimit            opening one more sandbox session would pass a limit
│   └── ExecuteLimit            the caller already runs as many cells at once as it may
├── HandoverError               a cell's value cannot be brought into the notebook's Python (--out)
├── AppError                    a tool's MCP Apps view cannot be shown, or a view's request was refused
├── Interrupted                 the user (or a caller) stopped the operation; everything else lives on
├── PluginError                 the plugin store could not save or load a plugin
│   └── PluginIntegrityError    a saved plugin failed its checksum or format checks
└── SkillError                  a skill could not be saved, found or loaded (its check says why)
    └── SkillIntegrityError     a saved or imported skill failed its checksum or format checks
```

Every message says what went wrong and what to do next, e.g.
``Server 'demo' is not configured. Add it with `%mcp add demo -- <command>` or to mcp.json.``
Each class carries the exit code ``mcp-kernel`` ends with when it stops a command (``exit_code``): 1, but 2
for a usage error and 130 when interrupted, as a shell reports Ctrl-C.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AppError",
    "ApprovalDenied",
    "AuthRequired",
    "BudgetExceeded",
    "CallRefused",
    "CapabilityNotOffered",
    "CellError",
    "CodegenError",
    "ConfigError",
    "ExecuteLimit",
    "FuelExhausted",
    "HandoverError",
    "Interrupted",
    "InvalidPath",
    "MCPKernelError",
    "OutputTooLarge",
    "PluginError",
    "PluginIntegrityError",
    "PolicyViolation",
    "PromptArgumentMissing",
    "PromptNotFound",
    "ResourceNotFound",
    "SandboxError",
    "SandboxOutOfMemory",
    "SandboxTimeout",
    "ServerCrashed",
    "ServerError",
    "ServerNotFound",
    "ServerStartError",
    "ServerTimeout",
    "SessionLimit",
    "SessionNotFound",
    "SkillError",
    "SkillIntegrityError",
    "ToolCallError",
    "ToolError",
    "ToolNotFound",
    "UsageError",
    "VFSError",
    "WorkspaceFull",
]


class MCPKernelError(Exception):
    """Root of every error mcp-kernel raises on purpose.

    >>> try:
    ...     raise ServerNotFound("Server 'x' is not configured.")
    ... except MCPKernelError as exc:
    ...     print(type(exc).__name__)
    ServerNotFound

    Each class says what ``mcp-kernel`` exits with when it stops a command:

    >>> UsageError.exit_code, ServerNotFound.exit_code, Interrupted.exit_code
    (2, 1, 130)
    """

    exit_code: ClassVar[int] = 1  # what `mcp-kernel` exits with when this error stops a command

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: an expected failure is one readable line
        # (plus any quoted server stderr), never a wall of host frames.
        first, *rest = str(self).splitlines() or [""]
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {first}", *rest]


class ConfigError(MCPKernelError):
    """A settings file or mcp.json entry is malformed; the message names file, server and field."""


class UsageError(MCPKernelError):
    """A command or magic line that does not parse; the message shows the usage."""

    exit_code = 2


class ServerError(MCPKernelError):
    """An MCP server could not be reached or misbehaved.

    ``server`` names it; ``log_tail`` holds the last lines of its stderr when there are any.
    """

    def __init__(self, message: str, *, server: str | None = None, log_tail: str = "") -> None:
        if log_tail:
            message = f"{message}\nLast lines of the server's stderr:\n{log_tail}"
        super().__init__(message)
        self.server = server
        self.log_tail = log_tail


class ServerNotFound(ServerError):
    """No server of that name is configured or connected."""


class ServerStartError(ServerError):
    """The server's process did not start, or it exited before the MCP handshake finished."""


class ServerTimeout(ServerError):
    """The server did not answer within the timeout; the connection is kept for the next call."""


class ServerCrashed(ServerError):
    """The server died while a call was in flight; the next call starts it again."""


class AuthRequired(ServerError):
    """The server answered 401/403: it needs sign-in and mcp.json has no ``oauth`` block for it (or sign-in
    failed). The message shows the block to add.

    >>> str(AuthRequired.for_server("web", 401))[:52]
    "Server 'web' needs sign-in (it answered HTTP 401 Una"
    """

    @classmethod
    def for_server(cls, server: str, status: int) -> AuthRequired:
        reason = {401: "401 Unauthorized", 403: "403 Forbidden"}.get(status, str(status))
        return cls(
            f"Server {server!r} needs sign-in (it answered HTTP {reason}). Add an oauth block to its entry in "
            f'mcp.json: "oauth": {{}} lets mcp-kernel register itself; with a pre-registered client write '
            f'"oauth": {{"clientId": "...", "clientSecret": "${{SECRET_VAR}}", "scopes": ["..."]}}. '
            f"Then run `%mcp auth login {server}` (or `mcp-kernel auth login {server}`).",
            server=server,
        )


class ResourceNotFound(ServerError):
    """The server publishes no resource at that URI, and no template matches it."""


class PromptNotFound(ServerError):
    """The server publishes no prompt of that name."""


class CapabilityNotOffered(ServerError):
    """The server does not offer what was asked (``completions``, ``resources.subscribe``)."""


class PromptArgumentMissing(UsageError):
    """A prompt was asked for without one of its required arguments."""


class ToolError(MCPKernelError):
    """A problem with one tool of one server."""

    def __init__(self, message: str, *, server: str | None = None, tool: str | None = None) -> None:
        super().__init__(message)
        self.server = server
        self.tool = tool


class ToolNotFound(ToolError):
    """The server publishes no tool of that name."""


class ToolCallError(ToolError):
    """The tool ran and answered with an error result (``isError``), or its arguments were refused."""


class CallRefused(ToolCallError):
    """A guard of the bridge refused the call (sandbox/guards.py); nothing was sent to the server.

    ``guard`` names the guard ("budget", "approval"). A cell may catch it as ``ToolCallError``.
    """

    def __init__(
        self, message: str, *, guard: str, server: str | None = None, tool: str | None = None
    ) -> None:
        super().__init__(message, server=server, tool=tool)
        self.guard = guard

    @property
    def refused_by(self) -> str:
        """What refused the call, as the audit trail records it (never an argument's value)."""
        return self.guard


class BudgetExceeded(CallRefused):
    """The call was past the run's call budget; ``budget`` names it (``max_calls`` or
    ``max_calls_per_tool[server.tool]``), the message says how to raise it."""

    def __init__(
        self, message: str, *, budget: str, server: str | None = None, tool: str | None = None
    ) -> None:
        super().__init__(message, guard="budget", server=server, tool=tool)
        self.budget = budget

    @property
    def refused_by(self) -> str:
        return self.budget


class ApprovalDenied(CallRefused):
    """The call needed a person's approval (approvals.py) and did not get it: denied, unanswered in time, or
    nobody to ask (``why``). ``rule`` names the rule that asked (``approve=destructive for demo``)."""

    def __init__(
        self, message: str, *, rule: str, why: str, server: str | None = None, tool: str | None = None
    ) -> None:
        super().__init__(message, guard="approval", server=server, tool=tool)
        self.rule = rule
        self.why = why  # the person declined, nobody answered in time, nobody to ask (and why)

    @property
    def refused_by(self) -> str:
        return f"{self.rule} ({self.why})"


class CodegenError(MCPKernelError):
    """Bindings could not be generated from a schema or a name."""


class VFSError(MCPKernelError):
    """A virtual-filesystem problem: a missing file, or a file where a directory was expected."""


class InvalidPath(VFSError):
    """A path that is malformed (NUL, too long, too deep) or would escape the tree (``..``, absolute)."""


class SandboxError(MCPKernelError):
    """The WebAssembly sandbox stopped a cell; the host process carries on.

    ``result`` holds what the cell produced before it was stopped, when anything is known. ``limit`` names
    the limit that stopped it ("timeout", "memory", "fuel", "disk", "sessions", "executes"), when one did:
    the message then ends with how to raise it, in the words of the surface showing it (an ``execute``
    argument for serve, a flag for the CLI, an option in a notebook), from one table in
    :mod:`mcp_kernel.limits`.

    >>> str(FuelExhausted("The cell used its budget.", limit="fuel").worded_for("cli"))
    'The cell used its budget. Raise it with --timeout S (the budget grows with the time limit) or --fuel N.'
    """

    def __init__(self, message: str, *, result: object = None, limit: str | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.limit = limit
        self.surface = "python"
        self.bounds: dict[str, object] = {}

    @property
    def reason(self) -> str:
        """What happened, without the advice."""
        return super().__str__()

    def __str__(self) -> str:
        if self.limit is None:
            return self.reason
        from .limits import advice  # the errors import nothing at start-up; the advice only for a limit

        hint = advice(self.limit, self.surface, self.bounds)
        return f"{self.reason} {hint}" if hint else self.reason

    def worded_for(self, surface: str, **bounds: object) -> SandboxError:
        """This error, its advice worded for ``surface`` ("serve", "cli", "notebook", "python"); ``bounds``
        are the surface's own maxima the advice quotes (serve's ``max_timeout``, ``max_memory_mb``)."""
        self.surface, self.bounds = surface, bounds
        return self


class SandboxTimeout(SandboxError):
    """The cell ran past its wall-clock limit (``limit="timeout"``)."""


class SandboxOutOfMemory(SandboxError):
    """The cell ran past its memory limit (``limit="memory"``)."""


class FuelExhausted(SandboxError):
    """The cell ran past its instruction budget (``limit="fuel"``), which grows with its time limit."""


class OutputTooLarge(SandboxError):
    """The cell printed more than the output cap; print a summary instead of raw data."""


class WorkspaceFull(SandboxError):
    """The session's /workspace holds more than its disk limit; the files are kept, the cell is stopped."""


class PolicyViolation(SandboxError):
    """The cell asked for something its policy does not grant (a server, a size, a rate)."""


class CellError(SandboxError):
    """The cell's own code raised an exception inside the sandbox; shown with the guest's traceback."""

    def __init__(self, message: str, *, traceback: str = "", result: object = None) -> None:
        super().__init__(message, result=result)
        self.guest_traceback = traceback

    def _render_traceback_(self) -> list[str]:
        lines = self.guest_traceback.rstrip().splitlines() if self.guest_traceback else []
        return [*lines[:-1], f"\x1b[0;31m{lines[-1]}\x1b[0m" if lines else str(self)]


class SessionNotFound(SandboxError):
    """No live sandbox session has that handle: it was closed, expired when idle, or never existed."""


class SessionLimit(SandboxError):
    """Opening one more sandbox session would pass a limit on live sessions or their total memory: the
    caller's own (its idle sessions were closed first, oldest first, and none was left) or the process's."""


class ExecuteLimit(SandboxError):
    """The caller already runs as many cells at once as one caller may; others' runs are not held up."""


class HandoverError(MCPKernelError):
    """A cell's value cannot be brought into the notebook's Python (``%%mcp_execute --out``): it is not JSON
    (only its repr left the sandbox), or the form asked for needs a package that is not installed."""


class AppError(MCPKernelError):
    """A tool's MCP Apps view cannot be shown (no view, a resource that is not a view), or a request the view
    made was refused (a tool not visible to apps, too many requests, its server gone); the view gets the
    message as its JSON-RPC error (``code``: -32000, or -32601 for a method no host answers), and the notebook
    shows it under the view."""

    def __init__(self, message: str, *, code: int = -32000) -> None:
        super().__init__(message)
        self.code = code


class Interrupted(MCPKernelError):
    """The operation was stopped on request (kernel interrupt, Ctrl-C, a caller's cancel).

    In-flight tool calls were cancelled on their servers; the kernel, its servers and other sandbox
    sessions live on. ``result`` holds what the cell produced before it stopped, when anything is known.
    """

    exit_code = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C

    def __init__(self, message: str, *, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class PluginError(MCPKernelError):
    """The plugin store could not save or load a plugin."""


class PluginIntegrityError(PluginError):
    """A saved plugin failed its checksum or format checks; nothing of it was loaded."""


class SkillError(MCPKernelError):
    """A skill could not be saved, found or loaded; the message names the rule it broke and what to do."""


class SkillIntegrityError(SkillError):
    """A saved or imported skill failed its checksum or format checks; nothing of it was used."""
