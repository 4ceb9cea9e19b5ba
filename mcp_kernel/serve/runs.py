"""Runs: one ``execute`` or one exposed tool call on a worker thread, and the typed events it hands the
request waiting for it.

A run tells the request on the server's loop what happens with one event at a time: :class:`Asked` when one
of its servers asks a question (answered by setting its ``reply``), :class:`Said` for a log record, then
:class:`Done` (an execute's outcome), :class:`Returned` (an exposed call's result) or :class:`Failed`.
A run whose questions went to a 2026 client in an ``input_required`` result waits in :class:`Parked` until
the client retries with the answers under the request state of that round (or nobody answers in time and
its questions are cancelled).

>>> Done("42", {"session": "h"}, failed=False)
Done(text='42', structured={'session': 'h'}, failed=False)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import secrets
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.types import LoggingLevel

from ..elicitation import Answer, Question
from ..masking import Mask

__all__ = ["OUTPUT_KEPT_CHARS", "Asked", "Done", "Event", "Failed", "Parked", "Returned", "Run", "Said"]

FLUSH_S = 5.0  # the longest a result waits for the progress notices sent before it
OUTPUT_KEPT_CHARS = 4000  # how much of a running cell's latest output a run keeps for its task's status
# How long a question waits for others to join its round: the requests of one upstream `input_required`
# round reach the relay one by one (the SDK dispatches them concurrently on another thread's loop).
GATHER_S = 0.05


@dataclass(frozen=True)
class Asked:
    """One of the run's servers asked ``question`` (masked already); setting ``reply`` answers it."""

    question: Question
    reply: concurrent.futures.Future[Answer]


@dataclass(frozen=True)
class Done:
    """The run ended: the text for the model, the structured content, and whether the code failed."""

    text: str
    structured: dict[str, Any]
    failed: bool


@dataclass(frozen=True)
class Failed:
    """The run was refused before it ran, or broke: ``error`` is raised or reported to the agent."""

    error: BaseException


@dataclass(frozen=True)
class Returned:
    """The run's result, ready to send as it is (masked already): an exposed tool call's."""

    result: Any


@dataclass(frozen=True)
class Said:
    """A log record about the run for its request (``message`` passes the run's mask when sent)."""

    level: LoggingLevel
    message: str


Event = Asked | Said | Done | Returned | Failed
ENDS = (Done, Returned, Failed)  # the events a run ends with
Progress = Callable[
    [str, str, float, float | None, str | None], None
]  # (server, tool, value, total, message)


class Run:
    """One ``execute`` or exposed call on a worker thread (``purpose`` says which: ``execute`` or the tool's
    public name), and the :data:`Event` queue the request waiting on it reads on the server's loop.

    ``keys`` keeps the names a server gave its questions (``input_required`` keys) for the agent: an exposed
    call is the server's own request passed on; an execute's questions, from any of its servers, are
    numbered."""

    def __init__(
        self,
        caller: str | None,
        loop: asyncio.AbstractEventLoop,
        mask: Mask,
        purpose: str = "execute",
        *,
        keys: bool = False,
    ) -> None:
        self.state = ""  # the request state a 2026 client sends back with this round's answers (see Parked)
        self.purpose = purpose
        self.keys = keys
        self.handle: str | None = None  # known once the session is open
        self.stop: Callable[[], None] | None = None  # stops the work when the client gives up
        self.caller = caller
        self.loop = loop
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.pending: dict[str, Asked] = {}  # the questions parked for the agent, by input request key
        self.expiry: threading.Timer | None = None
        self.report: Progress | None = (
            None  # progress(server, tool, value, total, message) of the request waiting now
        )
        self.mask = mask  # its session's, once open: what the run sends the agent passes it (see masking.py)
        self.output = ""  # the end of what the code printed so far (both streams), for a task's status
        self.over = asyncio.Event()  # set on the loop once the run ended (Done or Failed put)
        self._sent: list[concurrent.futures.Future[Any]] = []  # notices on their way to the agent

    def put(self, event: Event) -> None:
        """Hand an event to the loop (from any thread)."""
        self.loop.call_soon_threadsafe(self.events.put_nowait, event)
        if isinstance(event, ENDS):
            self.loop.call_soon_threadsafe(self.over.set)

    def notify(self, notice: Coroutine[Any, Any, Any]) -> None:
        """Send ``notice`` (e.g. a progress report) on the loop, from any thread; :meth:`flushed` waits for it."""
        sent = asyncio.run_coroutine_threadsafe(notice, self.loop)
        self._sent = [*(s for s in self._sent if not s.done()), sent]

    async def flushed(self, timeout: float = FLUSH_S) -> None:
        """Wait until the notices sent so far have gone out, so none arrives after the result it belongs to."""
        pending = [asyncio.wrap_future(s) for s in self._sent if not s.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def printed(self, stream: str, text: str) -> None:
        """Keep the end of the cell's output as it comes (from the worker thread)."""
        self.output = (self.output + text)[-OUTPUT_KEPT_CHARS:]

    def ask(self, question: Question, reply: concurrent.futures.Future[Answer]) -> None:
        """Hand the agent ``question`` masked; its answer reaches the server with the placeholders restored."""
        asked: concurrent.futures.Future[Answer] = concurrent.futures.Future()

        def back(done: concurrent.futures.Future[Answer]) -> None:
            answer = done.result() if not done.cancelled() and done.exception() is None else Answer("cancel")
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                reply.set_result(Answer(answer.action, self.mask.restore(answer.content), answer.reason))

        asked.add_done_callback(back)
        # Withdrawn by the asker (an approval's time ran out, the run stopped): the agent need not answer.
        reply.add_done_callback(lambda done: asked.cancel() if done.cancelled() else None)
        self.put(Asked(self.mask(question), asked))

    async def more_questions(self) -> list[Asked]:
        """The questions that come right behind one (within :data:`GATHER_S` of each other): calls gathered by
        the code, or the requests of one ``input_required`` round, ask at once, and the agent answers them in
        one round. Anything else stays queued."""
        asked: list[Asked] = []
        while True:
            try:
                event = await asyncio.wait_for(self.events.get(), GATHER_S)
            except TimeoutError:
                return asked
            if not isinstance(event, Asked):
                # Back in front: what follows the questions is handled after them.
                rest: list[Event] = [event]
                while not self.events.empty():
                    rest.append(self.events.get_nowait())
                for each in rest:
                    self.events.put_nowait(each)
                return asked
            asked.append(event)

    def answer(self, answers: Mapping[str, Answer]) -> None:
        """Answer the parked questions by key; one without an answer is cancelled."""
        for key, asked in self.pending.items():
            if not asked.reply.done():
                asked.reply.set_result(answers.get(key, Answer("cancel")))
        self.pending = {}

    def progress(
        self, server: str, tool: str, value: float, total: float | None, message: str | None
    ) -> None:
        if self.report is not None:
            self.report(server, tool, value, total, message)


class Parked:
    """Runs waiting for a 2026 client to retry with its answers, by request state (thread-safe); each waits at
    most its timeout, then its questions are cancelled and the code goes on without them."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def park(self, run: Run, asked: list[Asked], timeout: float) -> dict[str, Asked]:
        """Keep ``run`` waiting for the answers to ``asked`` under a new request state (``run.state``: each
        round has its own, so an old one never answers a new round); return them by the keys the answers
        will name (the server's own, with ``run.keys``, when each question has a distinct one)."""
        names = [each.question.key for each in asked]
        own = run.keys and all(names) and len(set(names)) == len(names)
        keys = [str(name) for name in names] if own else [f"q{i}" for i in range(1, len(asked) + 1)]
        run.pending = dict(zip(keys, asked, strict=True))
        run.state = secrets.token_urlsafe(24)
        with self._lock:
            self._runs[run.state] = run
        run.expiry = threading.Timer(timeout, self._expire, args=(run.state,))
        run.expiry.daemon = True
        run.expiry.start()
        return run.pending

    def take(self, state: str, caller: str | None, purpose: str | None = None) -> Run | None:
        """The run parked under ``state`` by ``caller`` (for ``purpose``, when given), no longer parked (None:
        no such run of theirs)."""
        with self._lock:
            run = self._runs.get(state)
            if run is None or run.caller != caller or purpose not in (None, run.purpose):
                return None
            del self._runs[state]
        if run.expiry is not None:
            run.expiry.cancel()
        return run

    def _expire(self, state: str) -> None:
        with self._lock:
            run = self._runs.pop(state, None)
        if run is not None:
            run.answer({})
