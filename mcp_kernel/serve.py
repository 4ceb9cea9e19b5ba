"""``mcp-kernel serve``: code execution with MCP offered to any agent, as an MCP server of its own.

Three tools front every configured server: ``search_tools`` (find tools without loading every schema),
``read`` (walk the generated tree: servers, then one binding) and ``execute`` (run Python in a
WebAssembly sandbox session whose code reaches the servers only through the bridge). Sandbox state
persists across ``execute`` calls through a server-minted handle passed back as the ``session``
argument (the protocol has no sessions of its own since 2026-07-28). The tree is offered as resources
too (``mcp-tools://servers/<server>/<tool>.py``).

>>> server = build_server(Session(), servers=["demo"])              # doctest: +SKIP
>>> server.run("stdio")                                             # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .errors import Interrupted, MCPKernelError, SandboxError, SessionNotFound, UsageError
from .models import ExecutionResult
from .session import Session

__all__ = ["build_server", "serve", "CodeMode"]

log = logging.getLogger(__name__)

INSTRUCTIONS = """Code mode over MCP servers. Find tools with search_tools, read a binding with read
(start at /mcp-tools), then run Python with execute: `from servers.<server> import <tool>` and call tools
as typed functions. Filter and aggregate inside the code; only what it prints or returns comes back.
Pass the returned session handle to execute again to keep variables and files."""

MAX_TEXT_CHARS = 20_000


class CodeMode:
    """The work behind the three tools, over one core :class:`~mcp_kernel.session.Session` (thread-safe)."""

    def __init__(self, session: Session, *, servers: Sequence[str] | None = None, tokenize_pii: bool = False,
                 max_text_chars: int = MAX_TEXT_CHARS) -> None:
        self.session = session
        self.servers = list(servers) if servers else session.server_names()
        self.tokenize_pii = tokenize_pii
        self.max_text_chars = max_text_chars
        self.failed: dict[str, str] = {}

    def prepare(self) -> None:
        """Introspect and generate every server once; a server that fails is reported, the rest served."""
        for name in self.servers:
            try:
                self.session.generate(name)
            except MCPKernelError as exc:
                self.failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                log.warning("server %s is not available: %s", name, exc)

    @property
    def live(self) -> list[str]:
        return [s for s in self.servers if s not in self.failed]

    def search(self, query: str, detail: str, limit: int) -> str:
        if not self.live:
            return self._unavailable()
        results = self.session.search(query, detail=detail, servers=self.live)  # type: ignore[arg-type]
        lines = []
        for hit in results.hits[:limit]:
            if hit.signature and detail == "signature":
                lines.append(f"{hit.server}: {hit.signature}")
                continue
            line = f"{hit.server}.{hit.tool}"
            if hit.summary:
                line += f": {hit.summary}"
            if hit.input_schema is not None:
                import json

                line += f"\n  input: {json.dumps(hit.input_schema, separators=(',', ':'))}"
            lines.append(line)
        more = len(results.hits) - limit
        if more > 0:
            lines.append(f"... {more} more; narrow the query or raise limit")
        head = f"{len(results.hits)} tool(s) match {query!r}" if results.hits else f"No tool matches {query!r}"
        return "\n".join([head + (":" if lines else ". Try a shorter query or read /mcp-tools/servers."), *lines])

    def read(self, path: str) -> str:
        """A file's text, or a directory's entries one per line (directories end in ``/``)."""
        from .vfs import ROOT

        path = path.strip() or ROOT
        node = self.session.tree(path, depth=1)
        if node.kind == "file":
            return self.session.read(path).text
        lines = [f"{node.path}/"]
        for child in node.children:
            lines.append(f"  {child.name}/" if child.kind == "dir" else f"  {child.name}  ({child.size:,} bytes)")
        if self.failed and node.path.rstrip("/").endswith("/servers"):
            lines += [f"  (unavailable: {name}: {why})" for name, why in self.failed.items()]
        return "\n".join(lines)

    def execute(self, code: str, handle: str | None, timeout: float | None,
                progress: Any = None) -> tuple[str, dict[str, Any], bool]:
        """Run ``code``; return (text for the model, structured content, is_error).

        ``progress(server, tool, value, total, message)`` receives the progress the code's tool calls report.
        """
        sandboxes = self.session.sandboxes
        if handle:
            sandboxes.get(handle)  # a forged or expired handle is refused here, never opened
        else:
            handle = sandboxes.open()
        policy = self.session.policy(self.live, timeout=timeout, tokenize_pii=self.tokenize_pii)
        try:
            result = self.session.execute(code, policy, sandbox=handle, open_missing=False,
                                          on_tool_progress=progress)
        except (SandboxError, Interrupted) as exc:
            partial = exc.result if isinstance(exc.result, ExecutionResult) else None
            text = self._text(partial) if partial is not None else ""
            text = (text + "\n" if text else "") + f"{type(exc).__name__}: {exc}"
            return text, self._structured(handle, partial), True
        text = self._text(result)
        if result.error is not None:
            text = (text + "\n" if text else "") + (result.error.traceback or
                                                    f"{result.error.type}: {result.error.message}")
        return text, self._structured(handle, result), result.error is not None

    def _text(self, result: ExecutionResult) -> str:
        parts = [p for p in (result.note, result.stdout.rstrip("\n"), result.stderr.rstrip("\n")) if p]
        if result.value_repr is not None:
            parts.append(result.value_repr)
        text = "\n".join(parts)
        if len(text) > self.max_text_chars:
            cut = len(text) - self.max_text_chars
            text = (text[: self.max_text_chars] + f"\n[output truncated: {cut:,} more characters. Print a "
                    "summary, or write the data to a file in /workspace and read parts of it.]")
        return text

    @staticmethod
    def _structured(handle: str, result: ExecutionResult | None) -> dict[str, Any]:
        out: dict[str, Any] = {"session": handle}
        if result is None:
            return out
        out["duration_ms"] = round(result.duration_ms, 1)
        out["calls"] = [{"tool": f"{c.server}.{c.tool}", "ms": round(c.duration_ms, 1), "cached": c.cached,
                         **({"error": c.error} if c.error else {})} for c in result.calls]
        if result.tokens is not None:
            out["tokens"] = {"stayed_in_sandbox": result.tokens.raw_result_tokens,
                             "returned": result.tokens.output_tokens}
        if result.pii_replaced is not None:
            out["pii_replaced"] = result.pii_replaced
        return out

    def _unavailable(self) -> str:
        reasons = "; ".join(f"{n}: {why}" for n, why in self.failed.items()) or "none configured"
        return f"No MCP server is available ({reasons}). Check the servers in mcp.json."


def build_server(session: Session, *, servers: Sequence[str] | None = None, tokenize_pii: bool = False,
                 prepare: bool = True) -> Any:
    """The MCP server (the SDK's ``MCPServer``) with ``search_tools``, ``read`` and ``execute``."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    mode = CodeMode(session, servers=servers, tokenize_pii=tokenize_pii)
    if prepare:
        mode.prepare()
    from . import __version__

    server = MCPServer(name="mcp-kernel", version=__version__, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                open_world_hint=False)

    def refuse(exc: MCPKernelError) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=f"{type(exc).__name__}: {exc}")], is_error=True)

    def fail(exc: MCPKernelError) -> ToolError:
        return ToolError(f"{type(exc).__name__}: {exc}")

    @server.tool(annotations=read_only, structured_output=False)
    async def search_tools(
        query: Annotated[str, Field(description="words to look for in tool names and descriptions")],
        detail: Annotated[Literal["name", "signature", "full"], Field(
            description="name; signature: typed call + first sentence; full: + JSON schemas")] = "signature",
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> str:
        """Find tools across the connected MCP servers."""
        try:
            return await anyio.to_thread.run_sync(mode.search, query, detail, limit)
        except MCPKernelError as exc:
            raise fail(exc) from None

    @server.tool(annotations=read_only, structured_output=False)
    async def read(
        path: Annotated[str, Field(description="a directory or file under /mcp-tools")] = "/mcp-tools",
    ) -> str:
        """List a directory of the tool tree or read one file (a typed Python binding, manifest, SKILL.md)."""
        try:
            return await anyio.to_thread.run_sync(mode.read, path)
        except MCPKernelError as exc:
            raise fail(exc) from None

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                                             open_world_hint=True))
    async def execute(
        code: Annotated[str, Field(description="Python 3 to run; `from servers.<server> import <tool>`")],
        session: Annotated[str | None, Field(description="handle from an earlier execute, to keep state")] = None,
        timeout: Annotated[float | None, Field(gt=0, le=600, description="seconds (default 30)")] = None,
        ctx: Context | None = None,
    ) -> CallToolResult:
        """Run Python in a sandbox whose code calls the MCP tools; returns what it printed or returned."""
        import asyncio

        loop = asyncio.get_running_loop()
        steps = [0]

        def relay(server: str, tool: str, value: float, total: float | None, message: str | None) -> None:
            # The tools' progress flows back on this request: one increasing step per update.
            steps[0] += 1
            amount = f"{value:g}/{total:g}" if total else f"{value:g}"
            note = f"{server}.{tool}: {amount}" + (f" - {message}" if message else "")
            asyncio.run_coroutine_threadsafe(ctx.report_progress(steps[0], None, note), loop)

        def run() -> tuple[str, dict[str, Any], bool]:
            return mode.execute(code, session, timeout, relay)

        try:
            text, structured, failed = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            if session:  # the client gave up: stop the cell and its tool calls, not the session
                try:
                    mode.session.sandboxes.get(session).interrupt()
                except SessionNotFound:
                    pass
            raise
        except MCPKernelError as exc:
            return refuse(exc)
        return CallToolResult(content=[TextContent(type="text", text=text or "(no output)")],
                              structured_content=structured, is_error=failed)

    @server.resource("mcp-tools://{+path}", name="mcp-tools", description="the generated tool tree",
                     mime_type="text/plain")
    def tree_file(path: str) -> str:
        return mode.read("/mcp-tools/" + path)

    server.code_mode = mode  # type: ignore[attr-defined]
    return server


def serve(session: Session, *, servers: Sequence[str] | None = None, http: str | None = None,
          tokenize_pii: bool = False) -> None:
    """Run the code-mode server on stdio (default) or streamable HTTP (``http="HOST:PORT"``) until stopped.

    On stdio, stdout is the protocol: everything else (progress, warnings) goes to stderr.
    """
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="mcp-kernel serve: %(message)s")
    session.engine().on_progress = functools.partial(print, file=sys.stderr, flush=True)
    server = build_server(session, servers=servers, tokenize_pii=tokenize_pii)
    if http is None:
        server.run("stdio")
        return
    host, _, port = http.rpartition(":")
    if not port.isdigit():
        raise UsageError(f"--http takes HOST:PORT or PORT, got {http!r}")
    server.run("streamable-http", host=host or "127.0.0.1", port=int(port))
