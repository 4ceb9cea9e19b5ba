"""The two protocol eras serve speaks, and how each hears the questions a run's servers ask.

A 2025 client (the initialize handshake, one connection) is asked mid-call with serve's own
``elicitation/create`` request (:func:`ask_legacy`). From 2026-07-28 on the protocol is stateless: the
``execute`` call returns an ``input_required`` result carrying the questions (:func:`input_required`), the
run waits parked, and the client calls again with the answers (:func:`answer_of` reads each).

>>> stateless("2025-06-18"), stateless("2026-07-28")
(False, True)
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitRequestURLParams, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..elicitation import Answer, Question
from .runs import Asked

__all__ = ["answer_of", "ask_legacy", "cannot_relay", "input_required", "stateless"]

log = logging.getLogger(__name__)

EMPTY_FORM = {
    "type": "object",
    "properties": {},
}  # a question without a schema asks for nothing but an action


def stateless(protocol_version: str | None) -> bool:
    """Whether a request speaks the stateless era (2026-07-28 on: no handshake, answers by retry, per-request
    log levels), as the SDK counts its versions."""
    return protocol_version in MODERN_PROTOCOL_VERSIONS


def cannot_relay(ctx: Context | None) -> str | None:
    """Why the agent's client cannot be asked (None: it can)."""
    if ctx is None:
        return "no client request to relay it on"
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return "the agent's client did not declare the elicitation capability"
    return None


async def ask_legacy(ctx: Context, question: Question) -> Answer:
    """Ask a 2025-era client mid-call with an ``elicitation/create`` request of our own."""
    session = ctx.request_context.session
    try:
        if question.url:
            result = await session.elicit_url(
                question.message,
                question.url,
                question.elicitation_id or "q",
                related_request_id=ctx.request_id,
            )
        else:
            result = await session.elicit_form(
                question.message, question.schema or EMPTY_FORM, related_request_id=ctx.request_id
            )
    except Exception as exc:
        log.warning("could not relay %s's question to the client: %s", question.server, exc)
        return Answer("cancel")
    return Answer(result.action, result.content if result.action == "accept" else None)


def input_required(state: str, pending: dict[str, Asked]) -> InputRequiredResult:
    """The 2026 result that asks the client the ``pending`` questions and names the run waiting for them."""
    requests: dict[str, Any] = {}
    for key, asked in pending.items():
        question = asked.question
        params: Any = (
            ElicitRequestURLParams(
                message=question.message, url=question.url, elicitation_id=question.elicitation_id or key
            )
            if question.url
            else ElicitRequestFormParams(
                message=question.message, requested_schema=question.schema or EMPTY_FORM
            )
        )
        requests[key] = ElicitRequest(params=params)
    return InputRequiredResult(input_requests=requests, request_state=state)


def answer_of(response: Any) -> Answer:
    """A 2026 client's input response (None: it gave none) as the answer the server hears."""
    action = getattr(response, "action", "cancel")
    return {"accept": Answer("accept", getattr(response, "content", None)), "decline": Answer("decline")}.get(
        action, Answer("cancel")
    )
