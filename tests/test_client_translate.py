"""client/errors.py: every SDK, httpx2, anyio and OS failure becomes one mcp-kernel error, in one place.

The exceptions are the real classes, constructed as the SDK and the transports raise them.
"""

from __future__ import annotations

import anyio
import httpx2
import pydantic
import pytest
from mcp import MCPError
from mcp.client.auth import OAuthFlowError
from mcp.types import CONNECTION_CLOSED, INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND

from mcp_kernel.client import translate
from mcp_kernel.errors import (
    AuthRequired,
    MCPKernelError,
    ServerCrashed,
    ServerError,
    ServerStartError,
    ServerTimeout,
    ToolCallError,
)
from mcp_kernel.models import ServerSpec

STDIO = ServerSpec(name="demo", command="no-such-command-here-xyz")
HTTP = ServerSpec(name="web", url="http://127.0.0.1:9/mcp")
DURING = "tools/call 'q'"


def schema_error() -> pydantic.ValidationError:
    class Reply(pydantic.BaseModel):
        tools: list[str]

    with pytest.raises(pydantic.ValidationError) as caught:
        Reply.model_validate({"tools": 3})
    return caught.value


# ---- during a request -------------------------------------------------------------------------
def test_our_timer_running_out_is_a_timeout_that_keeps_the_connection() -> None:
    error = translate(TimeoutError(), STDIO, during=DURING, timeout=2.5)
    assert type(error) is ServerTimeout and error.server == "demo"
    assert "did not answer tools/call 'q' within 2.5 s" in str(error) and "connection is kept" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        MCPError(CONNECTION_CLOSED, "Connection closed"),
        BrokenPipeError(),
        ConnectionResetError(),
        EOFError(),
        anyio.ClosedResourceError(),
        anyio.BrokenResourceError(),
        anyio.EndOfStream(),
        ExceptionGroup("task group", [anyio.BrokenResourceError()]),
    ],
)
def test_a_transport_that_is_gone_is_a_crash(exc: BaseException) -> None:
    error = translate(exc, STDIO, during=DURING, timeout=5)
    assert type(error) is ServerCrashed
    assert str(error) == (
        "Server 'demo' closed the connection during tools/call 'q'; it will be started again on "
        "the next call."
    )


def test_any_failure_once_the_transport_stopped_is_a_crash() -> None:
    assert type(translate(ValueError("x"), STDIO, during=DURING, timeout=5, connected=False)) is ServerCrashed


@pytest.mark.parametrize("code", [INVALID_PARAMS, METHOD_NOT_FOUND])
def test_a_refused_request_is_a_tool_call_error(code: int) -> None:
    error = translate(MCPError(code, "unknown tool 'q'"), STDIO, during=DURING, timeout=5)
    assert (
        type(error) is ToolCallError
        and str(error) == "Server 'demo' refused tools/call 'q': unknown tool 'q'"
    )


def test_another_error_reply_is_a_server_error() -> None:
    error = translate(MCPError(INTERNAL_ERROR, "boom"), STDIO, during=DURING, timeout=5)
    assert (
        type(error) is ServerError
        and str(error) == "Server 'demo' answered tools/call 'q' with an error: boom"
    )
    assert error.__cause__ is None


def test_a_reply_off_the_schema_names_the_first_field() -> None:
    error = translate(schema_error(), STDIO, during="tools/list", timeout=5)
    assert type(error) is ServerError and "does not follow the MCP schema (Reply at tools:" in str(error)


def test_our_own_errors_pass_through_unchanged() -> None:
    mine = AuthRequired("sign in", server="web")
    assert translate(mine, HTTP, during=DURING, timeout=5) is mine


def test_a_401_over_http_without_oauth_asks_for_sign_in() -> None:
    error = translate(
        httpx2.HTTPStatusError(
            "401", request=httpx2.Request("POST", "http://127.0.0.1:9/mcp"), response=httpx2.Response(401)
        ),
        HTTP,
        during=DURING,
        timeout=5,
        denied=401,
    )
    assert type(error) is AuthRequired and "401 Unauthorized" in str(error)


def test_a_failed_oauth_flow_says_how_to_sign_in_again() -> None:
    error = translate(
        ValueError("x"), HTTP, during=DURING, timeout=5, sign_in_failure=OAuthFlowError("token refused")
    )
    assert type(error) is AuthRequired and "Signing in to server 'web' failed: token refused" in str(error)
    assert "%mcp auth login web" in str(error)


def test_something_unforeseen_keeps_its_cause() -> None:
    exc = RuntimeError("odd")
    error = translate(exc, STDIO, during=DURING, timeout=5)
    assert (
        type(error) is ServerError and str(error) == "Server 'demo': tools/call 'q' failed: RuntimeError: odd"
    )
    assert error.__cause__ is exc


# ---- during the handshake ---------------------------------------------------------------------
def test_a_command_not_found_says_what_to_install() -> None:
    error = translate(ExceptionGroup("start", [FileNotFoundError(2, "No such file")]), STDIO)
    assert type(error) is ServerStartError
    assert "command 'no-such-command-here-xyz' was not found on PATH" in str(error)


@pytest.mark.parametrize("exc", [httpx2.ConnectError("refused"), ConnectionRefusedError()])
def test_nothing_listening_at_the_url(exc: BaseException) -> None:
    error = translate(exc, HTTP)
    assert type(error) is ServerStartError
    assert (
        str(error)
        == "Server 'web': nothing answered at http://127.0.0.1:9/mcp. Start the server or fix its 'url'."
    )


def test_the_handshake_timer_running_out() -> None:
    error = translate(TimeoutError(), STDIO, timeout=7)
    assert type(error) is ServerStartError and "did not finish the MCP handshake within 7 s" in str(error)
    assert "speaks MCP on stdout" in str(error)


def test_a_server_that_stops_during_the_handshake_points_at_its_log(tmp_path) -> None:
    for exc in (
        None,
        anyio.EndOfStream(),
        TimeoutError(),
    ):  # a TimeoutError not from our timer: no timeout given
        error = translate(exc, STDIO, log_path=tmp_path / "demo.log")
        assert type(error) is ServerStartError and "stopped before the MCP handshake finished" in str(error)
        assert str(tmp_path / "demo.log") in str(error)
    assert "(EndOfStream)" in str(translate(anyio.EndOfStream(), STDIO))


def test_a_403_during_the_handshake_asks_for_sign_in() -> None:
    error = translate(anyio.EndOfStream(), HTTP, denied=403)
    assert type(error) is AuthRequired and "403 Forbidden" in str(error)


def test_every_answer_is_an_mcp_kernel_error() -> None:
    for exc in (None, OSError(), KeyboardInterrupt(), MCPError(1, "x")):
        assert isinstance(translate(exc, HTTP), MCPKernelError)
        if exc is not None:
            assert isinstance(translate(exc, HTTP, during=DURING, timeout=1), MCPKernelError)
