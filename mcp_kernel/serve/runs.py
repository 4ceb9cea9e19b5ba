"""Runs: one ``execute`` on a worker thread, and the typed events it hands the request waiting for it.

A run tells the request on the server's loop what happens with one event at a time: :class:`Asked` when one
of its servers asks a question (answered by setting its ``reply``), then :class:`Done` or :class:`Failed`.
A run whose questions went to a 2026 client in an ``input_required`` result waits in :class:`Parked` until
the client retries with the answers (or nobody answers in time and its questions are cancelled).

>>> Done("42", {"session": "h"}, failed=False)
Done(text='42', structured={'session': 'h'}, failed=False)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..elicitation import Answer, Question
from ..masking import Mask

__all__ = ["OUTPUT_KEPT_CHARS", "Asked", "Done", "Event", "Failed", "Parked", "Run"]

OUTPUT_KEPT_CHARS = 4000  # how much of a running cell's latest output a run keeps for its task's status


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


Event = Asked | Done | Failed
Progress = Callable[
    [str, str, float, float | None, str | None], None
]  # (server, tool, value, total, message)


class Run:
    """One ``execute`` on a worker thread: its sandbox handle, and the :data:`Event` queue the request waiting on
    it reads on the server's loop."""

    def __init__(self, caller: str | None, loop: asyncio.AbstractEventLoop, mask: Mask) -> None:
        self.id = secrets.token_urlsafe(24)  # the request state a 2026 client sends back with its answers
        self.handle: str | None = None  # known once the session is open
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

    def put(self, event: Event) -> None:
        """Hand an event to the loop (from any thread)."""
        self.loop.call_soon_threadsafe(self.events.put_nowait, event)
        if not isinstance(event, Asked):
            self.loop.call_soon_threadsafe(self.over.set)

    def printed(self, stream: str, text: str) -> None:
        """Keep the end of the cell's output as it comes (from the worker thread)."""
        self.output = (self.output + text)[-OUTPUT_KEPT_CHARS:]

    def ask(self, question: Question, reply: concurrent.futures.Future[Answer]) -> None:
        """Hand the agent ``question`` masked; its answer reaches the server with the placeholders restored."""
        asked: concurrent.futures.Future[Answer] = concurrent.futures.Future()

        def back(done: concurrent.futures.Future[Answer]) -> None:
            answer = done.result() if not done.cancelled() and done.exception() is None else Answer("cancel")
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                reply.set_result(Answer(answer.action, self.mask.restore(answer.content)))

        asked.add_done_callback(back)
        self.put(Asked(self.mask(question), asked))

    def more_questions(self) -> list[Asked]:
        """The questions queued right behind one: calls gathered by the code may ask at once, and the agent
        answers them in one round."""
        asked = []
        while not self.events.empty():
            event = self.events.get_nowait()
            if not isinstance(event, Asked):
                self.events.put_nowait(event)
                break
            asked.append(event)
        return asked

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
        """Keep ``run`` waiting for the answers to ``asked``; return them by the keys the answers will name."""
        run.pending = {f"q{i}": question for i, question in enumerate(asked, 1)}
        with self._lock:
            self._runs[run.id] = run
        run.expiry = threading.Timer(timeout, self._expire, args=(run.id,))
        run.expiry.daemon = True
        run.expiry.start()
        return run.pending

    def take(self, state: str, caller: str | None) -> Run | None:
        """The run parked under ``state`` by ``caller``, no longer parked (None: no such run of theirs)."""
        with self._lock:
            run = self._runs.get(state)
            if run is None or run.caller != caller:
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
