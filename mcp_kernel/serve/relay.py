"""The relay between a run and the request waiting on it: what serve's servers ask and say during an
``execute`` or an exposed tool call reaches the agent's client, on both eras, and the outcome comes back.

:func:`follow` reads a :class:`~mcp_kernel.serve.runs.Run`'s events for one request: a question goes to a
2025 client mid-call (its own ``elicitation/create``), or parks the run and answers a 2026 client with
``input_required``; the client's retry with ``inputResponses`` and ``requestState`` finds the run again
with :func:`resumed`. A log record about the run goes on the request's stream. Everything sent passes the
run's mask; the answers reach the server with the placeholders restored (see runs.py).

For example (in a request handler)::

    run = resumed(mode, ctx, "execute") or mode.start(code, None, None)
    return await follow(run, ctx, mode, audience)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from ..elicitation import Answer
from ..errors import MCPKernelError
from ..masking import Mask
from .audience import Audience
from .callers import current_caller
from .codemode import CodeMode
from .eras import ask_legacy, cannot_relay, stateless
from .notices import log_request
from .runs import Asked, Done, Failed, Returned, Run, Said

__all__ = ["follow", "refusal", "resumed"]

log = logging.getLogger(__name__)


def refusal(exc: MCPKernelError, mask: Mask) -> CallToolResult:
    """``exc`` as the error result an agent reads, through ``mask``."""
    return mask(
        CallToolResult(
            content=[TextContent(type="text", text=f"{type(exc).__name__}: {exc}")],
            is_error=True,
        )
    )


def resumed(mode: CodeMode, ctx: Context | None, purpose: str) -> Run | None:
    """The run a 2026 client's retry answers (None: the request is not a retry). A request state that names
    no run of this caller's for ``purpose`` (tampered, another caller's, answered or expired already) is a
    protocol error: the request's own parameters are wrong."""
    if ctx is None or not ctx.request_state:
        return None
    try:
        return mode.resume(ctx.request_state, dict(ctx.input_responses or {}), current_caller(), purpose)
    except MCPKernelError as exc:
        raise MCPError(INVALID_PARAMS, f"requestState: {type(exc).__name__}: {exc}") from None


async def follow(
    run: Run, ctx: Context | None, mode: CodeMode, audience: Audience, started: float | None = None
) -> Any:
    """Answer the request ``ctx`` from ``run``'s events: relay its servers' questions (or park it for a 2026
    client's answers) and its log records, then return its outcome."""
    started = time.perf_counter() if started is None else started
    while True:
        try:
            event = await run.events.get()
        except anyio.get_cancelled_exc_class():
            if run.stop is not None:  # the client gave up: stop the work (an execute's cell, not its session)
                run.stop()
            raise
        match event:
            case Said(level=level, message=message):
                await log_request(ctx, audience, level, message, mask=run.mask)
            case Failed(error=error):
                await log_request(
                    ctx, audience, "error", f"run refused: {type(error).__name__}: {error}", mask=run.mask
                )
                if isinstance(error, MCPKernelError):
                    return refusal(error, run.mask)
                raise error
            case Returned(result=result):
                await run.flushed()  # the progress sent before the result arrives before it
                return result
            case Done(text=text, structured=structured, failed=failed):
                await run.flushed()  # the progress sent before the result arrives before it
                calls = len(structured.get("calls", []))
                await log_request(
                    ctx,
                    audience,
                    "warning" if failed else "info",
                    f"run {'failed' if failed else 'finished'} in "
                    f"{(time.perf_counter() - started) * 1000:.0f} ms, {calls} tool call(s)",
                    mask=run.mask,
                )
                result = run.mask(
                    CallToolResult(
                        content=[TextContent(type="text", text=text or "(no output)")],
                        structured_content=structured,
                        is_error=failed,
                    )
                )
                # The handle is the agent's key back, not data: kept exactly as minted.
                assert result.structured_content is not None
                result.structured_content["session"] = structured["session"]
                return result
            case Asked():
                asked = [event, *await run.more_questions()]  # asked at once: one round
                why = cannot_relay(ctx)
                if why is not None:
                    for each in asked:
                        question = each.question
                        what = "approval asked before a call" if question.approval else "question"
                        log.warning("declined %s's %s %r: %s", question.server, what, question.message, why)
                        with contextlib.suppress(concurrent.futures.InvalidStateError):  # withdrawn meanwhile
                            each.reply.set_result(Answer("decline", reason=why))
                    continue
                assert ctx is not None
                if stateless(ctx.protocol_version):
                    run.report = None
                    return mode.park(run, asked)  # the client retries with the answers (input_required)
                for each in asked:  # an older client: ask it mid-call, as servers then did
                    await _asked_mid_call(ctx, each)


async def _asked_mid_call(ctx: Context, asked: Asked) -> None:
    """Ask a 2025 client ``asked``'s question and answer it with the reply; a question withdrawn meanwhile (an
    approval whose time ran out, a run stopped) stops the wait, so the run's end reaches the client although
    its user never answered."""
    loop = asyncio.get_running_loop()
    with anyio.CancelScope() as waiting:
        asked.reply.add_done_callback(lambda _: loop.call_soon_threadsafe(waiting.cancel))
        answer = await ask_legacy(ctx, asked.question)
        with contextlib.suppress(concurrent.futures.InvalidStateError):  # withdrawn as it came
            asked.reply.set_result(answer)
