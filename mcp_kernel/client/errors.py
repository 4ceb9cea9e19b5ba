"""The one place where what the SDK, httpx2, anyio and the operating system raise becomes mcp-kernel's errors.

:func:`translate` takes any failure of a connection (during its handshake, or during a request) and returns
the :class:`~mcp_kernel.errors.MCPKernelError` to raise, with a message that says what to do. It decides
nothing else: the connection stops a server whose transport is gone, and quotes its log (see
``Connection._request``).

>>> from mcp_kernel.models import ServerSpec
>>> spec = ServerSpec(name="demo", command="python")
>>> print(translate(TimeoutError(), spec, during="tools/list", timeout=3))
Server 'demo' did not answer tools/list within 3 s. The connection is kept; raise the timeout if the tool is slow.
>>> type(translate(BrokenPipeError(), spec, during="tools/list")).__name__
'ServerCrashed'
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pydantic

from ..errors import (
    AuthRequired,
    MCPKernelError,
    ServerCrashed,
    ServerError,
    ServerStartError,
    ServerTimeout,
    ToolCallError,
)
from ..models import ServerSpec
from .process import missing_command

__all__ = ["describe", "leaf_errors", "looks_like_reply", "translate"]


def translate(
    exc: BaseException | None,
    spec: ServerSpec,
    *,
    during: str | None = None,
    timeout: float | None = None,
    denied: int | None = None,
    sign_in_failure: Exception | None = None,
    connected: bool = True,
    log_path: Path | None = None,
) -> MCPKernelError:
    """The error to raise for ``exc``, which happened to the connection to ``spec``.

    ``during`` names the request in flight (``"tools/call 'q'"``); ``None`` means the handshake, where
    ``exc`` may be ``None`` too (the server stopped without a word). ``timeout`` is the limit our own timer
    enforced: a ``TimeoutError`` with a ``timeout`` given is that timer running out. ``denied`` is the
    last 401/403 the HTTP server answered, ``sign_in_failure`` why the last sign-in failed (the transport
    only logs it), ``connected`` whether the transport still ran, ``log_path`` the server's log, named in
    the message. A crash or a failed start comes back without
    the server's last words, which the caller adds once the process has flushed them.
    ``asyncio.CancelledError`` is never translated: the caller lets it through.
    """
    if during is None:
        return _start_error(exc, spec, timeout, denied, sign_in_failure, log_path)
    name = spec.name
    assert exc is not None
    if isinstance(exc, TimeoutError) and timeout is not None:
        return ServerTimeout(
            f"Server {name!r} did not answer {during} within {timeout:g} s. The connection is kept; "
            "raise the timeout if the tool is slow.",
            server=name,
        )
    if isinstance(exc, ServerError):  # already ours (a garbled reply, a sign-in refused)
        return exc
    if _is_schema_error(exc):
        return ServerError(
            f"Server {name!r} answered {during} with a reply that does not follow the MCP schema "
            f"({_first_schema_error(exc)}). The server is broken; report it.",
            server=name,
        )
    auth = _auth_error(exc, spec, denied, sign_in_failure) if spec.transport == "http" else None
    if auth is not None:  # a sign-in that failed, or a 401/403 with no oauth configured
        return auth
    if _is_closed(exc) or not connected:
        return ServerCrashed(
            f"Server {name!r} closed the connection during {during}; it will be started again on "
            "the next call.",
            server=name,
        )
    from mcp import MCPError  # the SDK costs ~0.35 s to import; loaded by now, since a request was made
    from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND

    if isinstance(exc, MCPError):
        if exc.code in (INVALID_PARAMS, METHOD_NOT_FOUND):
            return ToolCallError(f"Server {name!r} refused {during}: {exc.message}", server=name)
        return ServerError(f"Server {name!r} answered {during} with an error: {exc.message}", server=name)
    error = ServerError(f"Server {name!r}: {during} failed: {describe(exc)}", server=name)
    error.__cause__ = exc  # something unforeseen: its traceback is kept (raise it ``from error.__cause__``)
    return error


def _start_error(
    exc: BaseException | None,
    spec: ServerSpec,
    timeout: float | None,
    denied: int | None,
    sign_in_failure: Exception | None,
    log_path: Path | None,
) -> MCPKernelError:
    name = spec.name
    if isinstance(exc, TimeoutError) and timeout is not None:
        where = "stdout" if spec.transport == "stdio" else spec.describe()
        return ServerStartError(
            f"Server {name!r} did not finish the MCP handshake within {timeout:g} s "
            f"({spec.describe()}). Check that it speaks MCP on {where}.",
            server=name,
        )
    leaves = leaf_errors(exc) if exc is not None else []
    if any(isinstance(e, FileNotFoundError) for e in leaves) and spec.transport == "stdio":
        message = f"Server {name!r}: {missing_command(spec.command or '', spec.cwd)}"
    elif spec.transport == "http" and any(_is_connect_error(e) for e in leaves):
        message = (
            f"Server {name!r}: nothing answered at {spec.describe()}. Start the server or fix its 'url'."
        )
    elif (auth := _auth_error(exc, spec, denied, sign_in_failure)) is not None:
        return auth
    else:
        cause = f" ({describe(exc)})" if exc is not None else ""
        message = (
            f"Server {name!r} stopped before the MCP handshake finished{cause}. "
            f"Command: {spec.describe()}. See `mcp-kernel server validate {name}` or its log at {log_path}."
        )
    return ServerStartError(message, server=name)


def _auth_error(
    exc: BaseException | None, spec: ServerSpec, denied: int | None, sign_in_failure: Exception | None
) -> AuthRequired | None:
    """The sign-in problem behind a failure, if there is one: a 401/403 with no ``oauth`` configured, or
    an OAuth flow that failed (the SDK's message names the step; it carries no token)."""
    from mcp.client.auth import OAuthFlowError  # the SDK: loaded by now, a connection was tried

    name = spec.name
    for leaf in [*(leaf_errors(exc) if exc is not None else []), *filter(None, [sign_in_failure])]:
        if isinstance(leaf, AuthRequired) and leaf.server is not None:
            return leaf
        if isinstance(leaf, (OAuthFlowError, AuthRequired)):
            return AuthRequired(
                f"Signing in to server {name!r} failed: {leaf}. Check its oauth block in "
                f"mcp.json, then run `%mcp auth login {name}` to try again.",
                server=name,
            )
    if denied is not None and spec.oauth is None:
        return AuthRequired.for_server(name, denied)
    return None


def leaf_errors(exc: BaseException) -> list[BaseException]:
    """Flatten anyio's exception groups to the errors that actually happened."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaf_errors(sub)]
    return [exc]


def describe(exc: BaseException) -> str:
    """``Type: message`` of each error that happened, cancellations left out.

    >>> describe(ExceptionGroup("x", [ValueError("bad"), OSError()]))
    'ValueError: bad; OSError'
    """
    leaves = [e for e in leaf_errors(exc) if not isinstance(e, asyncio.CancelledError)] or [exc]
    return "; ".join(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__ for e in leaves)


def _is_closed(exc: BaseException) -> bool:
    """Whether the transport is gone: the SDK's CONNECTION_CLOSED code, or a closed/broken stream or pipe."""
    import anyio  # with the SDK: loaded by now, a request was made
    from mcp import MCPError
    from mcp.types import CONNECTION_CLOSED

    return any(
        (isinstance(e, MCPError) and e.code == CONNECTION_CLOSED)
        or isinstance(
            e,
            (
                BrokenPipeError,
                ConnectionError,
                EOFError,
                anyio.ClosedResourceError,
                anyio.BrokenResourceError,
                anyio.EndOfStream,
            ),
        )
        for e in leaf_errors(exc)
    )


def _is_connect_error(exc: BaseException) -> bool:
    import httpx2  # with the SDK: loaded by now, a connection was tried

    return isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout, ConnectionRefusedError))


def _is_schema_error(exc: BaseException) -> bool:
    return any(isinstance(e, pydantic.ValidationError) for e in leaf_errors(exc))


def _first_schema_error(exc: BaseException) -> str:
    for leaf in leaf_errors(exc):
        if isinstance(leaf, pydantic.ValidationError) and leaf.errors():
            first = leaf.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
            return f"{leaf.title} at {where}: {first.get('msg', '')}"
    return describe(exc)[:300]


def looks_like_reply(exc: Exception) -> bool:
    """A parse failure of a line that was meant as a JSON-RPC message (not a stray print on stdout)."""
    if not isinstance(exc, pydantic.ValidationError):
        return False
    return any('"jsonrpc"' in str(e.get("input", "")) for e in exc.errors())
