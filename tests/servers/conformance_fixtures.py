"""The fixtures the MCP conformance suite's server scenarios call, served with the SDK's ``MCPServer``.

The suite (``@modelcontextprotocol/conformance``) tests a server by calling tools, resources and prompts of
agreed names (``test_simple_text``, ``test://static-text``, ``test_simple_prompt``, ...), each described
in its scenarios' published requirements; the npm package ships no such server. This is ours, written from
those requirements: tests/conformance/suite.py runs the server suite against it directly (the ``fixture``
target), and it is the upstream server a gateway in front of it must pass through faithfully.

Run ``python conformance_fixtures.py PORT`` for streamable HTTP on ``http://127.0.0.1:PORT/mcp`` (with an
event store, so streams can be resumed), or with no argument for stdio.

>>> sorted(tool.name for tool in anyio.run(server.list_tools) if "elicitation" in tool.name)
['test_elicitation', 'test_elicitation_sep1034_defaults', 'test_elicitation_sep1330_enums']
>>> WAV[:4], WAV[8:12], PNG[1:4]
(b'RIFF', b'WAVE', b'PNG')
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import struct
import sys
import warnings
import wave
import weakref
import zlib
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp.server.mcpserver.tools import Tool
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.types import (
    INVALID_PARAMS,
    AudioContent,
    CallToolResult,
    Completion,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    EmptyResult,
    ImageContent,
    InputRequests,
    InputRequiredResult,
    InputResponse,
    InputResponses,
    JSONRPCMessage,
    ListRootsRequest,
    ListRootsResult,
    LoggingLevel,
    PromptReference,
    SamplingMessage,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    TextResourceContents,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

# Logging and sampling are deprecated as of 2026-07-28, but the suite's 2025-era scenarios test them.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

RETRY_MS = 500  # the reconnection delay the event streams suggest (SSE `retry`)
STEP_S = 0.05  # the pause between a tool's log records and between its progress steps, as the suite asks


def _png(rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A 1x1 PNG of one colour (red by default), built here rather than pasted."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8 bits, truecolour
    pixels = zlib.compress(b"\x00" + bytes(rgb))  # one scanline: filter byte, then the pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _wav(seconds: float = 0.01, rate: int = 8000) -> bytes:
    """A short mono 8-bit WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * int(seconds * rate))
    return buffer.getvalue()


PNG = _png()
WAV = _wav()
PNG_B64 = base64.b64encode(PNG).decode()
WAV_B64 = base64.b64encode(WAV).decode()

# A tool whose input schema must reach the client as written: JSON Schema 2020-12 keywords (SEP-1613), with
# an $anchor, composition and conditionals (SEP-2106, checked by the 0.2.0 suite).
JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def json_schema_2020_12_tool(
    name: str | None = None,
    address: dict[str, Any] | None = None,
    contactMethod: str | None = None,  # the suite names it so
    phone: str | None = None,
    email: str | None = None,
) -> str:
    return json.dumps(
        {"name": name, "address": address, "contact": contactMethod, "phone": phone, "email": email}
    )


server = MCPServer(
    name="conformance-fixtures",
    version="1.0.0",
    instructions="The fixtures of the MCP conformance suite's server scenarios.",
    # The SDK derives a tool's schema from its signature; this one must be the suite's, keywords and all.
    tools=[
        Tool.from_function(
            json_schema_2020_12_tool, description="Tool with JSON Schema 2020-12 features"
        ).model_copy(update={"parameters": JSON_SCHEMA_2020_12})
    ],
)


# ---- tools: content of every kind --------------------------------------------------------------------
@server.tool(description="Returns one text block.")
def test_simple_text() -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text="This is a simple text response for testing.")]
    )


@server.tool(description="Returns one image block (a 1x1 red PNG).")
def test_image_content() -> CallToolResult:
    return CallToolResult(content=[ImageContent(type="image", data=PNG_B64, mime_type="image/png")])


@server.tool(description="Returns one audio block (a hundredth of a second of silence, WAV).")
def test_audio_content() -> CallToolResult:
    return CallToolResult(content=[AudioContent(type="audio", data=WAV_B64, mime_type="audio/wav")])


def _embedded(uri: str, text: str, mime_type: str = "text/plain") -> EmbeddedResource:
    return EmbeddedResource(
        type="resource", resource=TextResourceContents(uri=uri, mime_type=mime_type, text=text)
    )


@server.tool(description="Returns one embedded text resource.")
def test_embedded_resource() -> CallToolResult:
    return CallToolResult(
        content=[_embedded("test://embedded-resource", "This is an embedded resource content.")]
    )


@server.tool(description="Returns text, an image and an embedded JSON resource, in that order.")
def test_multiple_content_types() -> CallToolResult:
    data = json.dumps({"test": "data", "value": 123})
    return CallToolResult(
        content=[
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG_B64, mime_type="image/png"),
            _embedded("test://mixed-content-resource", data, "application/json"),
        ]
    )


@server.tool(description="Always fails: a tool error (isError), not a protocol error.")
def test_error_handling() -> str:
    raise ToolError("This tool intentionally returns an error for testing")


# ---- tools: notices while running ---------------------------------------------------------------------
@server.tool(description="Sends three info log records, 50 ms apart, then returns.")
async def test_tool_with_logging(ctx: Context) -> str:
    for i, message in enumerate(
        ["Tool execution started", "Tool processing data", "Tool execution completed"]
    ):
        if i:
            await anyio.sleep(STEP_S)
        await log(ctx, "info", message)
    return "Tool with logging executed successfully"


@server.tool(description="Reports progress 0, 50 and 100 of 100, 50 ms apart (when given a progress token).")
async def test_tool_with_progress(ctx: Context) -> str:
    for i, progress in enumerate([0, 50, 100]):
        if i:
            await anyio.sleep(STEP_S)
        await ctx.report_progress(progress, 100)
    return "Tool with progress executed successfully"


@server.tool(
    description="Closes its event stream before answering: the client resumes it with Last-Event-ID."
)
async def test_reconnection(ctx: Context) -> str:
    await ctx.close_sse_stream()  # a no-op for clients that cannot resume (protocol before 2025-11-25)
    await anyio.sleep(0.1)
    return "Reconnection test completed successfully"


# ---- tools: requests back to the client -----------------------------------------------------------------
# Each asks as its client's era allows: a 2025 client by a request of the server's own (the suite's scenarios
# run at 2025-11-25); a 2026-07-28 client, which takes no server requests, by input_required under "answer"
# (a gateway such as serve fronts this server at 2026-07-28 and passes the question on to its own client).
@server.tool(description="Asks the client's model to answer `prompt` (sampling) and returns its answer.")
async def test_sampling(prompt: str, ctx: Context) -> str | InputRequiredResult:
    messages = [SamplingMessage(role="user", content=TextContent(type="text", text=prompt))]
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        request = CreateMessageRequest(params=CreateMessageRequestParams(messages=messages, max_tokens=100))
        answers = _answers(ctx, {"answer": request})
        if isinstance(answers, InputRequiredResult):
            return answers
        result = answers["answer"]
        if not isinstance(result, CreateMessageResult):
            raise ToolError(f"expected the model's answer, got {type(result).__name__}")
    else:
        result = await ctx.session.create_message(messages, max_tokens=100, related_request_id=ctx.request_id)
    content = result.content
    text = content.text if isinstance(content, TextContent) else json.dumps(result.model_dump(mode="json"))
    return f"LLM response: {text}"


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> str | InputRequiredResult:
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        request = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))
        answers = _answers(ctx, {"answer": request})
        if isinstance(answers, InputRequiredResult):
            return answers
        result = answers["answer"]
        if not isinstance(result, ElicitResult):
            raise ToolError(f"expected the person's answer, got {type(result).__name__}")
    else:
        result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    return f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}"


@server.tool(description="Asks the user (elicitation) for a username and an email, showing `message`.")
async def test_elicitation(message: str, ctx: Context) -> str | InputRequiredResult:
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }
    answer = await _elicit(ctx, message, schema)
    return answer if isinstance(answer, InputRequiredResult) else "User response: " + answer


@server.tool(description="Asks the user for a form whose every field has a default (SEP-1034).")
async def test_elicitation_sep1034_defaults(ctx: Context) -> str | InputRequiredResult:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": True},
        },
        "required": [],
    }
    return await _elicit(ctx, "Please review your profile; every field has a default.", schema)


def _titled(values: list[str], titles: list[str]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in zip(values, titles, strict=True)]


@server.tool(description="Asks the user for a form with the five kinds of enum fields (SEP-1330).")
async def test_elicitation_sep1330_enums(ctx: Context) -> str | InputRequiredResult:
    options = ["option1", "option2", "option3"]
    schema = {
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "description": "Pick one", "enum": options},
            "titledSingle": {
                "type": "string",
                "description": "Pick one (titled)",
                "oneOf": _titled(
                    ["value1", "value2", "value3"], ["First Option", "Second Option", "Third Option"]
                ),
            },
            "legacyEnum": {
                "type": "string",
                "description": "Pick one (legacy titles)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "description": "Pick any",
                "items": {"type": "string", "enum": options},
            },
            "titledMulti": {
                "type": "array",
                "description": "Pick any (titled)",
                "items": {
                    "anyOf": _titled(
                        ["value1", "value2", "value3"], ["First Choice", "Second Choice", "Third Choice"]
                    )
                },
            },
        },
        "required": [],
    }
    return await _elicit(ctx, "Pick from each list.", schema)


# ---- logging: the level a client sets filters the records sent to it --------------------------------------
LEVELS: list[LoggingLevel] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
_levels: weakref.WeakKeyDictionary[Any, LoggingLevel] = weakref.WeakKeyDictionary()  # per session


async def log(ctx: Context, level: LoggingLevel, message: str) -> None:
    """Send a log record on this request, unless the client asked for a higher level."""
    if LEVELS.index(level) >= LEVELS.index(_levels.get(ctx.session, "debug")):
        await ctx.session.send_log_message(
            level, message, "conformance-fixtures", related_request_id=ctx.request_id
        )


async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
    _levels[ctx.session] = params.level
    return EmptyResult()


# ---- resources -----------------------------------------------------------------------------------------
@server.resource(
    "test://static-text", name="static-text", description="A static text resource.", mime_type="text/plain"
)
def static_text() -> str:
    return "This is the content of the static text resource."


@server.resource(
    "test://static-binary",
    name="static-binary",
    description="A static binary resource (a PNG).",
    mime_type="image/png",
)
def static_binary() -> bytes:
    return PNG


@server.resource(
    "test://template/{id}/data",
    name="template-data",
    description="JSON data for one id, from a template.",
    mime_type="application/json",
)
def template_data(id: str) -> str:
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})


watched = {"version": 1}  # what test://watched-resource says; update_watched_resource changes it


@server.resource(
    "test://watched-resource",
    name="watched-resource",
    description="A resource to subscribe to; update_watched_resource changes it.",
    mime_type="text/plain",
)
def watched_resource() -> str:
    return f"Watched resource, version {watched['version']}."


# ---- subscriptions -----------------------------------------------------------------------------------------
_subscribers: dict[str, weakref.WeakSet[Any]] = {}  # uri -> the sessions subscribed to it


async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
    _subscribers.setdefault(str(params.uri), weakref.WeakSet()).add(ctx.session)
    return EmptyResult()


async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
    _subscribers.get(str(params.uri), weakref.WeakSet()).discard(ctx.session)
    return EmptyResult()


@server.tool(description="Changes test://watched-resource and tells its subscribers (not a suite fixture).")
async def update_watched_resource() -> str:
    watched["version"] += 1
    for session in list(_subscribers.get("test://watched-resource", ())):
        await session.send_resource_updated("test://watched-resource")
    return f"test://watched-resource is now version {watched['version']}"


# The SDK's MCPServer has no decorator for these methods: the low-level server's table takes them (as serve's do).
_lowlevel = server._lowlevel_server
_lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
_lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
_lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


# ---- prompts -------------------------------------------------------------------------------------------
@server.prompt(description="A prompt with no arguments.")
def test_simple_prompt() -> list[dict[str, Any]]:
    return [{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}]


@server.prompt(description="A prompt with two required arguments, arg1 and arg2.")
def test_prompt_with_arguments(arg1: str, arg2: str) -> list[dict[str, Any]]:
    text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
    return [{"role": "user", "content": {"type": "text", "text": text}}]


@server.prompt(description="A prompt that embeds the resource resourceUri.")
def test_prompt_with_embedded_resource(resourceUri: str) -> list[dict[str, Any]]:  # the suite names it so
    embedded = _embedded(resourceUri, "Embedded resource content for testing.").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return [
        {"role": "user", "content": embedded},
        {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}},
    ]


@server.prompt(description="A prompt with an image.")
def test_prompt_with_image() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": {"type": "image", "data": PNG_B64, "mimeType": "image/png"}},
        {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}},
    ]


# ---- completion ------------------------------------------------------------------------------------------
WORDS = ["paris", "park", "party", "test", "testing", "tested"]


@server.completion()
async def complete(ref: Any, argument: Any, context: Any) -> Completion:
    """Words starting with the typed value, for test_prompt_with_arguments' arguments and the template's id."""
    if isinstance(ref, PromptReference):
        if ref.name != "test_prompt_with_arguments" or argument.name not in ("arg1", "arg2"):
            raise MCPError(
                INVALID_PARAMS, f"no argument {argument.name!r} of a prompt {ref.name!r} to complete"
            )
        values = [w for w in WORDS if w.startswith(argument.value)]
    elif ref.uri == "test://template/{id}/data" and argument.name == "id":
        values = [str(n) for n in range(100, 130) if str(n).startswith(argument.value)]
    else:
        raise MCPError(INVALID_PARAMS, f"no argument {argument.name!r} of a template {ref.uri!r} to complete")
    return Completion(values=values, total=len(values), has_more=False)


# ---- 2026-07-28: multi-round-trip requests (input_required, SEP-2322) ---------------------------------------
# At 2026-07-28 a server asks its client inside the result: an InputRequiredResult names each question under a
# key of its own, and the client calls again with the answers under the same keys (and the requestState, which
# the SDK seals, so a tampered one is refused before a tool sees it). The keys and questions are the suite's.
def _form(message: str, field: str, kind: str = "string") -> ElicitRequest:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def _sample(text: str, max_tokens: int) -> CreateMessageRequest:
    message = SamplingMessage(role="user", content=TextContent(type="text", text=text))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def _answers(
    ctx: Context, asked: InputRequests, state: str | None = None
) -> InputResponses | InputRequiredResult:
    """The answers to every question in ``asked``, or an InputRequiredResult asking those not answered yet
    (again, when a call brought other keys than the ones asked)."""
    answers = ctx.input_responses or {}
    missing = {key: request for key, request in asked.items() if key not in answers}
    return InputRequiredResult(input_requests=missing, request_state=state) if missing else answers


def _said(answer: InputResponse, field: str) -> Any:
    """What a person typed into ``field`` of a form (an ElicitResult), or None."""
    return (answer.content or {}).get(field) if isinstance(answer, ElicitResult) else None


@server.tool(description="Asks the user's name (elicitation/create under 'user_name'), then greets them.")
def test_input_required_result_elicitation(ctx: Context) -> str | InputRequiredResult:
    answers = _answers(ctx, {"user_name": _form("What is your name?", "name")})
    return (
        answers
        if isinstance(answers, InputRequiredResult)
        else f"Hello, {_said(answers['user_name'], 'name')}!"
    )


@server.tool(description="Asks the client's model the capital of France (sampling/createMessage).")
def test_input_required_result_sampling(ctx: Context) -> str | InputRequiredResult:
    answers = _answers(ctx, {"capital_question": _sample("What is the capital of France?", 100)})
    if isinstance(answers, InputRequiredResult):
        return answers
    answer = answers["capital_question"]
    return f"LLM response: {answer.content.text if isinstance(answer, CreateMessageResult) and isinstance(answer.content, TextContent) else answer}"


@server.tool(description="Asks the client for its roots (roots/list), then names them.")
def test_input_required_result_list_roots(ctx: Context) -> str | InputRequiredResult:
    answers = _answers(ctx, {"client_roots": ListRootsRequest()})
    if isinstance(answers, InputRequiredResult):
        return answers
    roots = answers["client_roots"]
    return (
        "Roots: " + ", ".join(str(r.uri) for r in roots.roots)
        if isinstance(roots, ListRootsResult)
        else "no roots"
    )


@server.tool(description="Asks for a confirmation with a requestState, and says state-ok when it comes back.")
def test_input_required_result_request_state(ctx: Context) -> str | InputRequiredResult:
    answers = _answers(ctx, {"confirm": _form("Please confirm", "ok", "boolean")}, state="awaiting-confirm")
    if isinstance(answers, InputRequiredResult):
        return answers
    if ctx.request_state != "awaiting-confirm":
        raise ToolError(f"expected the requestState this tool sent, got {ctx.request_state!r}")
    return f"state-ok: confirmed={_said(answers['confirm'], 'ok')}"


@server.tool(description="Asks three things at once: a name (form), a greeting (sampling) and the roots.")
def test_input_required_result_multiple_inputs(ctx: Context) -> str | InputRequiredResult:
    asked: InputRequests = {
        "user_name": _form("What is your name?", "name"),
        "greeting": _sample("Generate a greeting", 50),
        "client_roots": ListRootsRequest(),
    }
    answers = _answers(ctx, asked, state="three-questions")
    return answers if isinstance(answers, InputRequiredResult) else f"All {len(asked)} answers received."


@server.tool(description="Asks a name, then (a second round, a new requestState) a favourite colour.")
def test_input_required_result_multi_round(ctx: Context) -> str | InputRequiredResult:
    state, answers = ctx.request_state, ctx.input_responses or {}
    if state is None or (state == "round-1" and "step1" not in answers):
        return InputRequiredResult(
            input_requests={"step1": _form("Step 1: What is your name?", "name")}, request_state="round-1"
        )
    if state == "round-1":
        state = json.dumps({"round": 2, "name": _said(answers["step1"], "name")})
    if "step2" not in answers:
        return InputRequiredResult(
            input_requests={"step2": _form("Step 2: What is your favorite color?", "color")},
            request_state=state,
        )
    return f"{json.loads(state)['name']} likes {_said(answers['step2'], 'color')}."


@server.tool(
    description="Asks for a confirmation with a requestState the SDK seals; a tampered one is refused."
)
def test_input_required_result_tampered_state(ctx: Context) -> str | InputRequiredResult:
    answers = _answers(ctx, {"confirm": _form("Please confirm", "ok", "boolean")}, state="untampered")
    return (
        answers if isinstance(answers, InputRequiredResult) else f"Confirmed with state {ctx.request_state}."
    )


@server.tool(description="Asks only what the client declared it can answer (sampling, elicitation).")
def test_input_required_result_capabilities(ctx: Context) -> str | InputRequiredResult:
    declared = ctx.client_capabilities
    asked: InputRequests = {}
    if declared is not None and declared.sampling is not None:
        asked["greeting"] = _sample("Generate a greeting", 50)
    if declared is not None and declared.elicitation is not None:
        asked["user_name"] = _form("What is your name?", "name")
    answers = _answers(ctx, asked)
    return answers if isinstance(answers, InputRequiredResult) else f"Answered {sorted(answers)}."


@server.prompt(description="A prompt that first asks the user what context it should use (input_required).")
def test_input_required_result_prompt(ctx: Context) -> list[dict[str, Any]] | InputRequiredResult:
    answers = _answers(ctx, {"user_context": _form("What context should the prompt use?", "context")})
    if isinstance(answers, InputRequiredResult):
        return answers
    text = f"Use this context: {_said(answers['user_context'], 'context')}"
    return [{"role": "user", "content": {"type": "text", "text": text}}]


# ---- 2026-07-28: stateless servers (SEP-2575) -------------------------------------------------------------
def _ask_model() -> Sample:
    message = SamplingMessage(role="user", content=TextContent(type="text", text="Say hello."))
    return Sample([message], max_tokens=20)


@server.tool(description="Needs the client's sampling capability; without it the SDK answers -32021.")
def test_missing_capability(answer: Annotated[CreateMessageResult, Resolve(_ask_model)]) -> str:
    return f"The model said: {answer.content.text if isinstance(answer.content, TextContent) else answer.content}"


def changing_tool() -> str:
    """A tool test_trigger_tool_change adds and removes."""
    return "changing_tool ran."


def changing_prompt() -> str:
    """A prompt test_trigger_prompt_change adds and removes."""
    return "Say which prompts you see."


@server.tool(description="Adds or removes the tool changing_tool and tells listen streams the list changed.")
async def test_trigger_tool_change(ctx: Context) -> str:
    if any(tool.name == "changing_tool" for tool in await server.list_tools()):
        server.remove_tool("changing_tool")
    else:
        server.add_tool(changing_tool)
    await ctx.notify_tools_changed()
    return "The tool list changed."


@server.tool(
    description="Adds or removes the prompt changing_prompt and tells listen streams the list changed."
)
async def test_trigger_prompt_change(ctx: Context) -> str:
    if any(prompt.name == "changing_prompt" for prompt in await server.list_prompts()):
        server.remove_prompt("changing_prompt")
    else:
        server.add_prompt(Prompt.from_function(changing_prompt))
    await ctx.notify_prompts_changed()
    return "The prompt list changed."


# ---- 2026-07-28: a parameter mirrored in a request header (x-mcp-header, SEP-2243) -------------------------
@server.tool(description="Echoes its region, which the client also sends as the Mcp-Param-Region header.")
def test_header_param(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})]) -> str:
    return f"Region: {region}"


# ---- streamable HTTP with resumable streams -------------------------------------------------------------------
class MemoryEventStore(EventStore):
    """Every event of every stream, in memory, so a client that lost a stream can resume it (Last-Event-ID)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._events: list[tuple[EventId, StreamId, JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(next(self._ids))
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        stream = next((s for e, s, _ in self._events if e == last_event_id), None)
        if stream is None:
            return None
        for event_id, stream_id, message in self._events:
            if stream_id == stream and int(event_id) > int(last_event_id) and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream


def main(argv: list[str]) -> None:
    """``PORT``: streamable HTTP on 127.0.0.1:PORT/mcp; nothing: stdio."""
    if not argv:
        server.run("stdio")
        return
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=int(argv[0]),
        event_store=MemoryEventStore(),
        retry_interval=RETRY_MS,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
