"""Who answers the questions servers ask a person (MCP elicitation), on which thread.

A server asks in one of two ways: the 2026-07-28 era answers a request with ``input_required`` and the SDK
retries it with the answers; older servers send an ``elicitation/create`` request of their own. Both reach
:class:`~mcp_kernel.client.Connection` on the loop thread, which hands a :class:`Question` to the
:class:`Asker` of the call that caused it. The asker is served on the thread that waits for that call (the
magic's, or the CLI's), because only that thread may read from the person: IPython's ``input()`` goes to
the frontend through Jupyter's stdin channel, the CLI reads the terminal.

How a form or a link is asked is :mod:`mcp_kernel.questions`' (``Question``, ``Answer``, ``ask_form`` and
``ask_url`` are importable from here too). With nobody to ask (a pipe, ``CI`` set, a frontend that allows
no input, a sandboxed cell) the question is declined and the reason said.

>>> asker = Asker(write=lambda text: print(text, end=""), reason="no person here")
>>> asker.answer(Question("library", "Who?"))
mcp-kernel: declined the question of server 'library' ('Who?'): no person here.
Answer(action='decline', content=None)
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import contextvars
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .deadline import Deadline
from .questions import Answer, Question, Read, Write, ask, ask_form, ask_url
from .runtime import INTERRUPT_SLICE
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


class NobodyToAsk(Exception):
    """Raised by a reader that finds no person behind it (the reason is the message)."""


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
        # Servers' questions are declined with this reason while a person is still here for mcp-kernel's own
        # (an approval before a call): a sandboxed cell that did not ask to be interactive.
        self.declines_servers: str | None = None
        self.clock = Deadline()
        self._queue: queue.Queue[Any] = queue.Queue()

    def declines(self, question: Question) -> Answer | None:
        reason = self.reason if question.approval else (self.declines_servers or self.reason)
        if reason is None and self.read is not None:
            return None
        if question.approval:  # the refusal the code gets says why; nothing to print here
            return Answer("decline", reason=reason or "nobody can answer here")
        self.write(
            printable(
                f"mcp-kernel: declined the question of server {question.server!r} "
                f"({question.message!r}): {reason or 'nobody can answer here'}.\n"
            )
        )
        return Answer("decline")

    async def ask_async(self, question: Question) -> Answer:
        return await self.call_async(lambda: self.answer(question))

    async def call_async(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the serving thread (it may read from the person, or display) and return its result;
        the time it takes is the person's, not held against the call's timeout."""
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
                lambda prompt: within(read, printable(prompt), question.wait_s),
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
                wait = deadline.next_check()  # in slices: see runtime.INTERRUPT_SLICE
                item = self._queue.get(
                    timeout=INTERRUPT_SLICE if wait is None else min(wait, INTERRUPT_SLICE)
                )
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


class _Unanswered(BaseException):
    """Raised into a read that ran out of time (a BaseException: ipykernel's input loop swallows Exception)."""


def within(read: Read, prompt: str, seconds: float | None) -> str:
    """``read(prompt)``, or ``"!timeout"`` when nobody answered within ``seconds`` (None: no limit).

    A person's read blocks the thread that asks (IPython's ``input()``, a terminal's ``readline``), and only
    a signal ends it: ``SIGALRM`` on the main thread of a POSIX process. Elsewhere (Windows, another thread)
    the read waits for the person; the call that asked has given up on it by then (approvals.py).
    """
    if seconds is None or not hasattr(signal, "setitimer"):
        return read(prompt)
    if threading.current_thread() is not threading.main_thread():
        return read(prompt)
    reading = [True]

    def ring(signum: int, frame: Any) -> None:
        if reading[0]:  # a ring that comes after the answer is ignored
            raise _Unanswered

    before = signal.signal(signal.SIGALRM, ring)
    pending, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        return read(prompt)
    except _Unanswered:
        return "!timeout"
    finally:
        reading[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
        if pending:  # someone else's alarm (pytest-timeout's), put back with what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(0.001, pending - (time.monotonic() - started)))


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
        import termios  # POSIX only, and only when a secret is typed at a terminal
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
    from IPython.core.error import StdinNotImplementedError  # IPython: only in a kernel, never for the CLI

    def read(prompt: str) -> str:
        try:
            return builtins.input(prompt)
        except StdinNotImplementedError:
            raise NobodyToAsk(_NO_STDIN) from None
        except EOFError:
            return "!cancel"

    def read_secret(prompt: str) -> str:
        import getpass  # ipykernel routes getpass to the frontend's password input while a cell runs

        try:
            return getpass.getpass(prompt)
        except StdinNotImplementedError:
            raise NobodyToAsk(_NO_STDIN) from None
        except EOFError:
            return "!cancel"

    return Asker(read, _print, reason=_frontend_reason() or _ci_reason(), read_secret=read_secret)


def _frontend_reason() -> str | None:
    """Why nobody can answer at this frontend, known before a question is shown: the running cell's request
    said ``allow_stdin: false`` (nbconvert, nbval, papermill, ``jupyter_client.execute`` by default).

    This comes first, so that what such a run prints does not depend on ``CI``.
    """
    from IPython import get_ipython  # only in a kernel, as above

    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is not None and getattr(kernel, "_allow_stdin", True) is False:  # ipykernel sets it per request
        return _NO_STDIN
    return None


_NO_STDIN = "this frontend does not allow input (stdin) for the running cell"


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _print(text: str) -> None:
    print(text, end="", flush=True)
