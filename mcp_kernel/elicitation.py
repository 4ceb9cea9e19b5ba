"""Questions a server asks a person (MCP elicitation), and who answers them.

A server asks in one of two ways: the 2026-07-28 era answers a request with ``input_required`` and the SDK
retries it with the answers; older servers send an ``elicitation/create`` request of their own. Both reach
:class:`~mcp_kernel.client.Connection` on the loop thread, which hands a :class:`Question` to the
:class:`Asker` of the call that caused it. The asker is served on the thread that waits for that call (the
magic's, or the CLI's), because only that thread may read from the person: IPython's ``input()`` goes to
the frontend through Jupyter's stdin channel, the CLI reads the terminal.

A form is asked one field at a time, following the requested JSON schema (types, enums, defaults,
required); a URL question shows the link and waits for the person to confirm. With nobody to ask (a pipe,
``CI`` set, a frontend that allows no input, a sandboxed cell) the question is declined and the reason said.

>>> answers = iter(["y", "Ann", "2", ""])
>>> q = Question(server="library", message="Who?", schema={"type": "object", "required": ["name", "nights"],
...     "properties": {"name": {"type": "string"}, "nights": {"type": "integer", "minimum": 1},
...                    "breakfast": {"type": "boolean", "default": False}}})
>>> ask_form(q, lambda prompt: next(answers), lambda text: None)
Answer(action='accept', content={'name': 'Ann', 'nights': 2, 'breakfast': False})
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import os
import queue
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .deadline import Deadline
from .terminal import printable

__all__ = [
    "Answer",
    "Asker",
    "Question",
    "Relay",
    "ask_form",
    "ask_url",
    "attached",
    "current",
    "declining",
    "kernel_asker",
    "terminal_asker",
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

    @property
    def mode(self) -> Literal["form", "url"]:
        return "url" if self.url else "form"


@dataclass(frozen=True)
class Answer:
    action: Action
    content: dict[str, Any] | None = None
    reason: str | None = field(default=None, repr=False)  # why it was declined without asking, for the server


class NobodyToAsk(Exception):
    """Raised by a reader that finds no person behind it (the reason is the message)."""


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
        out = [_pick(v, choices) if choices else _convert(v, items) for v in values]
        if "minItems" in prop and len(out) < prop["minItems"]:
            raise ValueError(f"give at least {prop['minItems']}")
        if "maxItems" in prop and len(out) > prop["maxItems"]:
            raise ValueError(f"give at most {prop['maxItems']}")
        return out
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
        if "minimum" in prop and value < prop["minimum"]:
            raise ValueError(f"must be at least {prop['minimum']}")
        if "maximum" in prop and value > prop["maximum"]:
            raise ValueError(f"must be at most {prop['maximum']}")
        return value
    if "minLength" in prop and len(text) < prop["minLength"]:
        raise ValueError(f"needs at least {prop['minLength']} characters")
    if "maxLength" in prop and len(text) > prop["maxLength"]:
        raise ValueError(f"allows at most {prop['maxLength']} characters")
    return text


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


def ask(question: Question, read: Read, write: Write, read_secret: Read | None = None) -> Answer:
    if question.url:
        return ask_url(question, read, write)
    return ask_form(question, read, write, read_secret=read_secret)


# ---- who answers -------------------------------------------------------------------------------------------
class Asker:
    """Answers questions on the thread that created it, while that thread waits for its call.

    ``ask_async`` (loop thread) queues a question; :meth:`serve` (the waiting thread) answers the queue
    until the call's future is done. ``reason`` set means nobody can answer: every question is declined.
    ``clock`` is paused while the person answers (here, or a sign-in in the browser): the time limits of
    what waits on them follow it.
    """

    def __init__(
        self,
        read: Read | None = None,
        write: Write | None = None,
        *,
        reason: str | None = None,
        read_secret: Read | None = None,
    ) -> None:
        self.read = read
        self.read_secret = read_secret  # for a password field: reads without echo (None: ``read``)
        self.write = write or _to_stderr
        self.reason = reason
        self.clock = Deadline()
        self._queue: queue.Queue[Any] = queue.Queue()

    def declines(self, question: Question) -> Answer | None:
        if self.reason is None and self.read is not None:
            return None
        self.write(
            printable(
                f"mcp-kernel: declined the question of server {question.server!r} "
                f"({question.message!r}): {self.reason or 'nobody can answer here'}.\n"
            )
        )
        return Answer("decline")

    async def ask_async(self, question: Question) -> Answer:
        return await self.call_async(lambda: self.answer(question))

    async def call_async(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the serving thread (it may read from the person, or display) and return its result;
        the time it takes is the person's, not held against the call's timeout."""
        import asyncio

        reply: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((work, reply))
        return await asyncio.wrap_future(reply)

    def post(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the serving thread (progress shown where the call's output goes), or at once when
        called from that thread."""
        self._queue.put(work)

    def answer(self, question: Question) -> Answer:
        declined = self.declines(question)
        if declined is not None:
            return declined
        assert self.read is not None
        try:
            # What the server wrote reaches the person's terminal: shown, never obeyed (see terminal.py).
            read, secret, write = self.read, self.read_secret, self.write
            return ask(
                question,
                lambda prompt: read(printable(prompt)),
                lambda text: write(printable(text)),
                (lambda prompt: secret(printable(prompt))) if secret is not None else None,
            )
        except NobodyToAsk as exc:
            self.reason = str(exc)
            declined = self.declines(question)
            assert declined is not None
            return declined

    def serve(self, future: concurrent.futures.Future[Any], timeout: float) -> Any:
        """Wait for ``future``, answering questions meanwhile; time spent on them extends ``timeout``."""
        done = object()
        future.add_done_callback(lambda _: self._queue.put(done))
        deadline = Deadline(timeout, follows=self.clock)
        while True:
            try:
                item = self._queue.get(timeout=deadline.next_check())
            except queue.Empty:
                if not deadline.expired():
                    continue
                future.cancel()
                raise TimeoutError(f"no answer within {timeout:g} s") from None
            if item is done:
                self._drain()
                return future.result()
            self._handle(item)

    def serve_pending(self) -> None:
        """Answer what is queued now, without waiting (a sandboxed cell's waiting thread calls it between
        slices; the cell's limit follows :attr:`clock`)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            self._handle(item)

    def _handle(self, item: Any) -> None:
        """Run posted work, or one piece of work for a waiting coroutine (a question to answer, a link to
        show) on the person's time."""
        if callable(item):
            item()
            return
        work, reply = item
        if reply.cancelled():
            return
        answer: Any = None
        failure: BaseException | None = None
        try:
            with self.clock.paused():
                answer = work()
        except (KeyboardInterrupt, SystemExit):
            reply.cancel()
            raise
        except BaseException as exc:
            failure = exc
        if not reply.done():
            if failure is not None:
                reply.set_exception(failure)
            else:
                reply.set_result(answer)

    def _drain(self) -> None:
        """Run what was posted before the call finished (the last progress update)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if callable(item):
                item()


class Relay:
    """Hands each question on instead of asking here: ``mcp-kernel serve`` passes them to the agent's client.

    ``on_question(question, reply)`` is called on the loop thread; whoever answers sets ``reply`` (a
    ``concurrent.futures.Future[Answer]``), from any thread. ``clock`` is paused while a question is open,
    so a sandboxed cell's limit (which follows it) stands still meanwhile.

    >>> seen = []
    >>> relay = Relay(lambda question, reply: (seen.append(question.message), reply.set_result(Answer("decline"))))
    >>> import asyncio; asyncio.run(relay.ask_async(Question("library", "Who?")))
    Answer(action='decline', content=None)
    """

    read = None  # nothing is read from a person here (see call_async)
    reason = "questions go to the agent's client, and nobody at this process can sign in or paste"

    def __init__(self, on_question: Callable[[Question, concurrent.futures.Future[Answer]], None]) -> None:
        self.on_question = on_question
        self.clock = Deadline()

    async def ask_async(self, question: Question) -> Answer:
        import asyncio

        reply: concurrent.futures.Future[Answer] = concurrent.futures.Future()
        self.clock.pause()
        reply.add_done_callback(lambda _: self.clock.resume())  # answered, declined or cancelled
        try:
            self.on_question(question, reply)
        except BaseException:
            reply.cancel()  # never asked: the clock runs again
            raise
        return await asyncio.wrap_future(reply)

    async def call_async(self, work: Callable[[], T]) -> T:
        """Work that needs a person at this process (a sign-in link to open): there is none."""
        raise NobodyToAsk(f"{self.reason}; sign in first with `mcp-kernel auth login SERVER`")

    @staticmethod
    def write(text: str) -> None:
        _to_stderr(text)

    def serve_pending(self) -> None:
        """Nothing to answer here: the questions went to the agent's client (their time pauses ``clock``)."""


_current: contextvars.ContextVar[Asker | None] = contextvars.ContextVar("mcp_kernel_asker", default=None)


def current() -> Asker | None:
    """The asker of the call being made in this context (None: nobody attached, e.g. a sandboxed cell)."""
    return _current.get()


@contextlib.contextmanager
def attached(asker: Asker) -> Iterator[Asker]:
    """Route the questions of calls made inside the block to ``asker``."""
    token = _current.set(asker)
    try:
        yield asker
    finally:
        _current.reset(token)


def declining(reason: str) -> Asker:
    return Asker(reason=reason)


def _ci_reason() -> str | None:
    value = os.environ.get("CI", "")
    return (
        "CI is set, so no person is assumed to be there"
        if value and value.lower() not in {"0", "false"}
        else None
    )


def terminal_asker() -> Asker:
    """The CLI's: reads the terminal when stdin is one, declines otherwise (a pipe, CI)."""
    reason = _ci_reason()
    if reason is None and not (sys.stdin is not None and sys.stdin.isatty()):
        reason = "stdin is not a terminal (a pipe or a file), so nobody can be asked"

    def read(prompt: str) -> str:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else "!cancel"  # end of input: cancel

    def read_secret(prompt: str) -> str:
        line = _read_without_echo(sys.stdin, prompt)
        sys.stderr.write("\n")  # the person's Enter was not echoed either
        return line.rstrip("\n") if line else "!cancel"

    return Asker(read, reason=reason, read_secret=read_secret)


def _read_without_echo(stream: Any, prompt: str) -> str:
    """One line from a terminal with echo off (``getpass`` would open /dev/tty, not the stdin we were given).

    Echo goes off before the prompt shows, and without discarding pending input (TCSANOW, not TCSAFLUSH):
    what is typed as soon as the prompt appears is read, and never echoed.
    """
    try:
        import termios
    except ImportError:  # Windows: getpass reads the console without echo
        import getpass

        return getpass.getpass(prompt) + "\n"
    fd = stream.fileno()
    before = termios.tcgetattr(fd)
    quiet = list(before)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        return stream.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)


def kernel_asker() -> Asker:
    """The kernel's: IPython's ``input()`` reaches the frontend through Jupyter's stdin channel when the
    running cell allows it; a frontend that does not (or ``CI`` set) gets a decline and the reason."""
    import builtins

    from IPython.core.error import StdinNotImplementedError

    def read(prompt: str) -> str:
        try:
            return builtins.input(prompt)
        except StdinNotImplementedError:
            raise NobodyToAsk("this frontend does not allow input (stdin) for the running cell") from None
        except EOFError:
            return "!cancel"

    def read_secret(prompt: str) -> str:
        import getpass  # ipykernel routes getpass to the frontend's password input while a cell runs

        try:
            return getpass.getpass(prompt)
        except StdinNotImplementedError:
            raise NobodyToAsk("this frontend does not allow input (stdin) for the running cell") from None
        except EOFError:
            return "!cancel"

    return Asker(read, _print, reason=_ci_reason(), read_secret=read_secret)


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _print(text: str) -> None:
    print(text, end="", flush=True)
