"""A server's question (MCP elicitation) and how it is asked in text: a form one field at a time, or a link.

A form follows the requested JSON schema (types, enums, defaults, required), read defensively: a server's
malformed schema is declined with the reason, never answered with a crash. Each answer is converted to its
field's type and checked against the field's limits with jsonschema; a bad one is asked again. A URL
question shows the link and waits for the person to confirm. Who reads the answers, and on which thread,
is :mod:`mcp_kernel.elicitation`'s.

>>> answers = iter(["y", "Ann", "2", ""])
>>> q = Question(server="library", message="Who?", schema={"type": "object", "required": ["name", "nights"],
...     "properties": {"name": {"type": "string"}, "nights": {"type": "integer", "minimum": 1},
...                    "breakfast": {"type": "boolean", "default": False}}})
>>> ask_form(q, lambda prompt: next(answers), lambda text: None)
Answer(action='accept', content={'name': 'Ann', 'nights': 2, 'breakfast': False})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "Answer",
    "Question",
    "Read",
    "Write",
    "ask",
    "ask_approval",
    "ask_form",
    "ask_url",
    "readable_schema",
]

T = TypeVar("T")
Action = Literal["accept", "decline", "cancel"]
Read = Callable[[str], str]
Write = Callable[[str], None]

_DECLINE_WORDS = {"d", "decline", "no", "n", "!decline"}
_CANCEL_WORDS = {"c", "cancel", "!cancel"}


@dataclass(frozen=True)
class Question:
    """What a server asks: a form (``schema``) or a link to open (``url``)."""

    server: str
    message: str
    schema: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    elicitation_id: str | None = None
    key: str | None = (
        None  # the name the server gave it in an `input_required` round (None: asked by request)
    )
    approval: bool = False  # mcp-kernel's own question before a call (approvals.py), not the server's
    wait_s: float | None = None  # how long the person has to answer (None: no limit)

    @property
    def mode(self) -> Literal["form", "url"]:
        return "url" if self.url else "form"


@dataclass(frozen=True)
class Answer:
    action: Action
    content: dict[str, Any] | None = None
    reason: str | None = field(default=None, repr=False)  # why it was declined without asking, for the server


class _Abort(Exception):
    def __init__(self, action: Action) -> None:
        self.action = action


# ---- the schema, read defensively -------------------------------------------------------------------------
_KINDS = {"string", "number", "integer", "boolean", "array"}
_NUMBERS = ("minimum", "maximum")
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems")


def _field_problem(name: str, prop: Any) -> tuple[dict[str, Any], str | None]:
    """One field, normalised (``type: [T, "null"]`` is an optional T), or why it cannot be asked."""
    if not isinstance(prop, dict):
        return {}, f"field {name!r} is {type(prop).__name__}, not an object"
    kind = prop.get("type", "string")
    if isinstance(kind, list):  # JSON Schema's "T or null": asked as T, and an empty answer leaves it out
        kinds = [k for k in kind if k != "null"]
        if len(kinds) != 1 or len(kind) != len(kinds) + 1:
            return (
                prop,
                f"field {name!r} has type {kind!r}; only one type, or one type and null, can be asked",
            )
        prop, kind = {**prop, "type": kinds[0]}, kinds[0]
    if not isinstance(kind, str) or kind not in _KINDS:
        return prop, f"field {name!r} has type {kind!r}, not one of {sorted(_KINDS)}"
    for key in ("enum", "enumNames", "oneOf", "anyOf"):
        if key in prop and not isinstance(prop[key], list):
            return prop, f"field {name!r}: {key} is {type(prop[key]).__name__}, not a list"
    for key in _NUMBERS + _COUNTS:
        if key in prop and (
            isinstance(prop[key], bool)
            or not isinstance(prop[key], (int, float))
            or (key in _COUNTS and not isinstance(prop[key], int))
        ):
            return prop, f"field {name!r}: {key} is {prop[key]!r}, not a number"
    if "default" in prop and not isinstance(prop["default"], (str, int, float, bool, list, type(None))):
        return (
            prop,
            f"field {name!r}: its default is {type(prop['default']).__name__}, not a value a form holds",
        )
    if kind == "array":
        items = prop.get("items", {})
        items, problem = _field_problem(f"{name}[]", items)
        if problem is not None:
            return prop, problem
        prop = {**prop, "items": items}
    return prop, None


def readable_schema(schema: Any) -> tuple[dict[str, Any], str | None]:
    """The form's schema with each field checked and normalised, or why it cannot be asked (a server's
    malformed schema is declined with that reason, never answered with a crash).

    >>> readable_schema({"properties": {"a": {"type": ["string", "null"]}}})[0]["properties"]
    {'a': {'type': 'string'}}
    >>> readable_schema({"properties": {"a": {"enum": 5}}})[1]
    "field 'a': enum is int, not a list"
    """
    if not isinstance(schema, dict):
        return {}, f"the schema is {type(schema).__name__}, not an object"
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        return schema, f"properties is {type(props).__name__}, not an object"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return schema, "required is not a list of field names"
    fields: dict[str, Any] = {}
    for name, prop in props.items():
        fields[name], problem = _field_problem(name, prop)
        if problem is not None:
            return schema, problem
    return {**schema, "properties": fields, "required": required}, None


# ---- asking one field at a time --------------------------------------------------------------------------
def _choices(prop: dict[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) pairs of an enum field: ``enum`` (+ legacy ``enumNames``) or titled ``oneOf``/``anyOf``."""
    if "enum" in prop:
        names = prop.get("enumNames") or []
        return [(v, str(names[i]) if i < len(names) else str(v)) for i, v in enumerate(prop["enum"])]
    options = prop.get("oneOf") or prop.get("anyOf")
    if options and all(isinstance(o, dict) and "const" in o for o in options):
        return [(o["const"], str(o.get("title", o["const"]))) for o in options]
    return None


def _describe_field(name: str, prop: dict[str, Any], required: bool) -> str:
    kind = prop.get("type", "string")
    bits: list[str] = []
    if kind == "array":
        items = prop.get("items") or {}
        bits.append("several, comma-separated")
        choices = _choices(items)
    else:
        choices = _choices(prop)
        bits.append(
            {"integer": "whole number", "number": "number", "boolean": "yes/no"}.get(kind, "text")
            if choices is None
            else "pick one"
        )
    for key, text in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
    ):
        if key in prop:
            bits.append(f"{text}{prop[key]}")
    if prop.get("format"):
        bits.append(str(prop["format"]))
    if "default" in prop:
        default = prop["default"]
        bits.append(f"default {('yes' if default else 'no') if isinstance(default, bool) else default}")
    elif required:
        bits.append("required")
    title = prop.get("title") or name
    if prop.get("description") and prop["description"] != title:
        title = f"{title} - {prop['description']}"
    head = f"{title} ({name}: {', '.join(bits)})"
    if choices:
        head += "".join(f"\n    {i}. {label}" for i, (_, label) in enumerate(choices, 1))
    return head


def _pick(text: str, choices: list[tuple[Any, str]]) -> Any:
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1][0]
    for value, label in choices:
        if text in (str(value), label):
            return value
    raise ValueError(f"choose one of 1-{len(choices)} or a listed value")


def _convert(text: str, prop: dict[str, Any]) -> Any:
    kind = prop.get("type", "string")
    if kind == "array":
        items = prop.get("items") or {}
        values = [part.strip() for part in text.split(",") if part.strip()]
        choices = _choices(items)
        return _checked([_pick(v, choices) if choices else _convert(v, items) for v in values], prop)
    choices = _choices(prop)
    if choices:
        return _pick(text, choices)
    if kind == "boolean":
        low = text.lower()
        if low in {"y", "yes", "true", "1"}:
            return True
        if low in {"n", "no", "false", "0"}:
            return False
        raise ValueError("answer yes or no")
    if kind in {"integer", "number"}:
        try:
            value: float | int = int(text) if kind == "integer" else float(text)
        except ValueError:
            raise ValueError(f"give a {'whole ' if kind == 'integer' else ''}number") from None
        return _checked(value, prop)
    return _checked(text, prop)


# What the person is told when an answer breaks one of the field's limits (JSON Schema keywords).
_LIMITS = {
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "minLength": "needs at least {} characters",
    "maxLength": "allows at most {} characters",
    "minItems": "give at least {}",
    "maxItems": "give at most {}",
}


def _checked(value: T, prop: dict[str, Any]) -> T:
    """``value`` if it keeps the field's limits, judged by jsonschema; else ``ValueError`` saying which.

    Only the keywords of :data:`_LIMITS` are checked (a ``format`` or ``pattern`` is shown, not enforced:
    the server judges it).

    >>> _checked("A", {"type": "string", "minLength": 2})
    Traceback (most recent call last):
    ...
    ValueError: needs at least 2 characters
    """
    limits = {key: prop[key] for key in _LIMITS if key in prop}
    if not limits:
        return value
    # Here, not at the top: ~0.2 s to import, paid once a limited field is answered (a kernel's
    # Session.warm_up has loaded it already).
    import jsonschema

    for error in jsonschema.Draft202012Validator(limits).iter_errors(value):
        raise ValueError(_LIMITS[str(error.validator)].format(error.validator_value))
    return value


def _read(read: Read, prompt: str) -> str:
    text = read(prompt).strip()
    if text.lower() in {"!decline"}:
        raise _Abort("decline")
    if text.lower() in {"!cancel"}:
        raise _Abort("cancel")
    return text


def _start(question: Question, read: Read, write: Write, what: str) -> None:
    write(f"Server {question.server!r} asks: {question.message}\n")
    choice = read(f"{what} [y]es / [d]ecline / [c]ancel (default yes): ").strip().lower()
    if choice in _DECLINE_WORDS:
        raise _Abort("decline")
    if choice in _CANCEL_WORDS:
        raise _Abort("cancel")


def ask_form(
    question: Question, read: Read, write: Write, *, attempts: int = 5, read_secret: Read | None = None
) -> Answer:
    """Ask for each field of ``question.schema`` in turn; ``!decline`` or ``!cancel`` at any prompt ends it.

    An empty answer keeps the default, skips an optional field, and asks again for a required one. A field
    with ``format: password`` is read with ``read_secret`` (no echo) after a warning that a server asks for
    a secret.
    """
    schema, problem = readable_schema(question.schema or {})
    if problem is not None:
        write(
            f"Server {question.server!r} asked: {question.message}\n  mcp-kernel declined it for you: its "
            f"form cannot be read ({problem}).\n"
        )
        return Answer("decline", reason=f"mcp-kernel could not read the requested schema: {problem}")
    try:
        _start(question, read, write, "Answer?")
        required = set(schema["required"])
        props: dict[str, Any] = schema["properties"]
        if props:
            write("  (an empty answer keeps the default; type !decline or !cancel to stop)\n")
        content: dict[str, Any] = {}
        for name, prop in props.items():
            write(_describe_field(name, prop, name in required) + "\n")
            secret = prop.get("format") == "password"
            if secret:
                write(
                    f"  Warning: server {question.server!r} asks for a secret (a password). It will see what you "
                    "type; answer only if you trust it (!decline otherwise). Your typing is not shown.\n"
                )
            for _ in range(attempts):
                text = _read((read_secret or read) if secret else read, f"  {name}: ")
                if not text:
                    if "default" in prop:
                        content[name] = prop["default"]
                        break
                    if name not in required:
                        break
                    write(f"  {name} is required.\n")
                    continue
                try:
                    content[name] = _convert(text, prop)
                    break
                except ValueError as exc:
                    write(f"  {exc}; try again.\n")
            else:
                write(f"  No valid answer for {name}: the question is cancelled.\n")
                return Answer("cancel")
        return Answer("accept", content)
    except _Abort as stop:
        return Answer(stop.action)


def ask_url(question: Question, read: Read, write: Write) -> Answer:
    """Show the link and wait for the person to say they are done with it (or decline, or cancel)."""
    write(f"Server {question.server!r} asks you to open a link: {question.message}\n  {question.url}\n")
    try:
        _start(question, read, write, "Open it, then confirm here:")
    except _Abort as stop:
        return Answer(stop.action)
    return Answer("accept")


_APPROVAL_WORDS = {"y": "approve", "yes": "approve", "a": "approve-all", "all": "approve-all"}


def ask_approval(question: Question, read: Read, write: Write) -> Answer:
    """Ask whether a call may go (approvals.py): yes, no, or all later calls to that tool in this run;
    anything else, an empty answer included, is no.

    >>> q = Question("demo", "Allow demo.send_report?", {"properties": {"decision": {"enum": ["approve", "deny"]}}})
    >>> ask_approval(q, lambda prompt: "y", lambda text: None)
    Answer(action='accept', content={'decision': 'approve'})
    """
    choices = question.schema.get("properties", {}).get("decision", {}).get("enum", [])
    write(f"mcp-kernel asks before a call: {question.message}\n")
    offer = "[y]es / [n]o" + (" / [a]ll later calls to it in this run" if "approve-all" in choices else "")
    text = read(f"{offer} (default no): ").strip().lower()
    if text == "!timeout":
        write("  No answer in time: the call is denied.\n")
        return Answer("cancel", reason=f"nobody answered within {question.wait_s or 0:g} s")
    decision = _APPROVAL_WORDS.get(text)
    if decision is None or decision not in choices:
        write("  Denied.\n")
        return Answer("decline")
    return Answer("accept", {"decision": decision})


def ask(question: Question, read: Read, write: Write, read_secret: Read | None = None) -> Answer:
    if question.approval:
        return ask_approval(question, read, write)
    if question.url:
        return ask_url(question, read, write)
    return ask_form(question, read, write, read_secret=read_secret)
