"""asyncio without sockets: an event loop whose "selector" waits on the host's tool calls.

Cells that ``await`` (or call ``asyncio.run``) get ``HostEventLoop``: timers and tasks as usual, its I/O the
tool calls the host runs at once. ``time.sleep`` is replaced by one the host can cut short.
"""

import asyncio
import asyncio.base_events
import collections
import time as _time
import warnings
from typing import Any

from componentize_py_types import Err  # type: ignore[import-not-found]  # componentize-py's, in the guest only
from guest_host import _dumps, _loads, _names, _raise_from_host, _raise_host_error, host
from guest_output import _flush_output
from guest_views import _remember

_MAX_CALLS = [256]  # calls in flight at once, as the host allows (each cell's request says)


class _HostSelector:
    """What the loop waits on: the host's tool calls in flight (there are no sockets or pipes in here)."""

    def __init__(self, loop):
        self.loop = loop

    def select(self, timeout):
        pending = self.loop._calls
        if not pending and timeout is None:
            return []  # nothing to wait for: the loop is about to find out
        return _wait_host(list(pending), timeout)

    def close(self):
        pass


def _wait_host(ids, timeout):
    """Wait on the host for calls ``ids`` (or just ``timeout`` seconds); an interrupt there raises here."""
    millis = 0xFFFFFFFF if timeout is None else max(0, min(int(timeout * 1000), 0xFFFFFFFE))
    _flush_output()
    answer = _loads(host.wait_calls(ids, millis))
    if answer.get("stopped"):
        _raise_host_error(
            "timeout" if answer["stopped"] == "timeout" else "interrupt",
            "the cell was stopped while it waited.",
        )
    return answer["done"]


def _sleep(seconds):
    """time.sleep that the host can cut short: an interrupt or the time limit stops a sleeping cell too."""
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = _time.monotonic() + seconds
    while True:
        left = end - _time.monotonic()
        if left <= 0:
            return
        _wait_host([], min(left, 3600))


_time.sleep = _sleep


class HostEventLoop(asyncio.base_events.BaseEventLoop):
    """An asyncio loop for the sandbox: timers and tasks as usual, I/O = tool calls run by the host."""

    def __init__(self):
        super().__init__()
        self._selector = _HostSelector(self)
        self._calls = {}
        self._made = {}  # call id -> (server, tool, params_json): what show() names
        self._queued: collections.deque[tuple[str, str, Any, asyncio.Future[Any]]] = (
            collections.deque()
        )  # calls past the host's in-flight limit, started as others end

    def _process_events(self, event_list):
        for call_id, ok, text in event_list:
            future = self._calls.pop(call_id, None)
            made = self._made.pop(call_id, None)
            if future is None or future.done():
                continue
            if ok:
                value = _loads(text)
                _remember(value, *made)
                future.set_result(value)
            else:
                try:
                    _raise_from_host(text)
                except BaseException as exc:
                    future.set_exception(exc)
        while self._queued and len(self._calls) < _MAX_CALLS[0]:
            server, tool, params, future = self._queued.popleft()
            if not future.done():  # a queued call its task gave up on is never sent
                self._start_call(server, tool, params, future)

    def _write_to_self(self):
        pass  # one thread: nothing to wake up from outside

    def call_tool(self, server, tool, params):
        """Start a tool call on the host (or queue it while the host's limit of calls in flight is reached,
        so a gather over more calls than that still runs them all); a future of its value."""
        future = self.create_future()
        server, tool = _names(server, tool)
        if len(self._calls) >= _MAX_CALLS[0]:
            self._queued.append((server, tool, params, future))
        else:
            self._start_call(server, tool, params, future)
        return future

    def _start_call(self, server, tool, params, future):
        params_json = _dumps(params or {})
        try:
            call_id = host.start_call(server, tool, params_json)
        except Err as exc:
            try:
                _raise_from_host(exc.value)
            except BaseException as err:
                future.set_exception(err)
            return
        self._calls[call_id] = future
        self._made[call_id] = (server, tool, params_json)


class _HostLoopPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return HostEventLoop()


def _install_loop_policy():

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(_HostLoopPolicy())


_install_loop_policy()
