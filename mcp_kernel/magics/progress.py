"""Live displays while a ``%%mcp_execute`` cell works: the first build of the sandbox component, and a running
"N calls · elapsed" line. Each is one display updated in place, then emptied when done, so nothing of it is
saved into the notebook (an output with no data shows nothing; nbval compares none of it).

For example::

    status = CellStatus(display=lambda bundle: None)
    status.call("demo.query_sales"); status.close()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.display import display

__all__ = ["BuildProgress", "BuildView", "CellStatus", "CellStatusView"]

# A few updates a second at most: each is an iopub message, and the point is to show life, not to flood.
REFRESH_SECONDS = 0.5
# A cell shorter than this shows no running line (most cells).
QUIET_SECONDS = 1.0

Bundle = dict[str, Any]


@dataclass(frozen=True)
class BuildView:
    """What the build display shows: the current step, how far it got (an estimate) and the time it took."""

    message: str
    fraction: float
    elapsed_s: float

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        from ..display import _environment  # jinja2 templates: only when shown

        text = f"[{'#' * round(self.fraction * 20):<20}] {self.message} {self.elapsed_s:.0f} s elapsed"
        html = _environment().get_template("display/build_progress.html.j2").render(obj=self)
        return {"text/plain": text, "text/html": html}


@dataclass(frozen=True)
class CellStatusView:
    """What the running line shows: calls made so far, time since the cell began, the last tool called."""

    calls: int
    elapsed_s: float
    last: str | None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        from ..display import _environment  # jinja2 templates: only when shown

        plural = "" if self.calls == 1 else "s"
        text = f"running · {self.calls} call{plural} · {self.elapsed_s:.1f} s" + (
            f" · last: {self.last}" if self.last else ""
        )
        html = _environment().get_template("display/cell_status.html.j2").render(obj=self)
        return {"text/plain": text, "text/html": html}


class _LiveDisplay:
    """One display slot, updated in place by a ticker thread until closed, then emptied."""

    def __init__(
        self, show: Callable[[], Any], publish: Callable[..., Any] | None = None, delay: float = 0.0
    ) -> None:
        self._show = show
        self._publish = publish or _ipython_publish
        self._delay = delay
        self._handle: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._tick, name="mcp-kernel-live-display", daemon=True)
            self._thread.start()

    def _tick(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            self.refresh()
            if self._stop.wait(REFRESH_SECONDS):
                return

    def refresh(self) -> None:
        with self._lock:
            if self._stop.is_set() and self._handle is None:
                return
            bundle = self._show()._repr_mimebundle_()
            if self._handle is None:
                # Opened empty, filled by an update: nbval and `jupyter nbconvert --execute` record the
                # opening message only, so an empty one keeps saved outputs the same on a cold machine.
                self._handle = self._publish({}, None)
            self._publish(bundle, self._handle)

    def close(self) -> None:
        """Stop updating and empty the display (it leaves nothing visible or saved behind)."""
        self._stop.set()
        # An interrupt can land inside Thread.start(): a thread that never started is not joined.
        if self._thread is not None and self._thread.ident is not None:
            self._thread.join(2)
        with self._lock:
            if self._handle is not None:
                self._publish({}, self._handle)
                self._handle = None


def _ipython_publish(bundle: Bundle, handle: Any) -> Any:
    if handle is None:
        return display(bundle, raw=True, display_id=True)
    handle.update(bundle, raw=True)
    return handle


class BuildProgress:
    """The engine's ``on_progress`` for a notebook: the first build as a bar with elapsed time, updated in
    place, emptied once the component is ready. Lines that are not build steps are printed."""

    def __init__(self, publish: Callable[..., Any] | None = None) -> None:
        self._publish = publish
        self._step: Any = None
        self._live: _LiveDisplay | None = None

    def __call__(self, message: str) -> None:
        from ..sandbox.engine import BuildStep  # wasmtime: only when a sandbox is built or run

        if not isinstance(message, BuildStep):
            print(message, flush=True)
            return
        self._step = message
        if message.stage == "ready":
            self.close()
            return
        if self._live is None:
            self._live = _LiveDisplay(self.view, self._publish)
            self._live.start()
        else:
            self._live.refresh()

    def view(self) -> BuildView:
        """The display as of now: the step's share of the expected time so far, never past 99%."""
        step = self._step
        elapsed = time.monotonic() - step.started
        from ..sandbox.engine import EXPECTED_SECONDS  # wasmtime: only when a sandbox is built or run

        in_step = min(1.0, (time.monotonic() - step.began) / step.expected_s) if step.expected_s else 1.0
        share = step.share + in_step * step.expected_s / sum(EXPECTED_SECONDS.values())
        return BuildView(message=str(step), fraction=min(share, 0.99), elapsed_s=elapsed)

    def close(self) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None


class CellStatus:
    """A running "N calls · elapsed" line while a cell runs, shown after its first second, emptied at its end
    (the footer says the rest). ``call(name)`` is safe from any thread."""

    def __init__(self, publish: Callable[..., Any] | None = None, quiet_s: float = QUIET_SECONDS) -> None:
        self._started = time.monotonic()
        self._calls = 0
        self._last: str | None = None
        self._lock = threading.Lock()
        self._live = _LiveDisplay(self.view, publish, delay=quiet_s)
        self._live.start()

    def call(self, name: str) -> None:
        """Count one finished tool call (the display picks it up at its next refresh)."""
        with self._lock:
            self._calls += 1
            self._last = name

    def view(self) -> CellStatusView:
        with self._lock:
            return CellStatusView(
                calls=self._calls, elapsed_s=time.monotonic() - self._started, last=self._last
            )

    def close(self) -> None:
        self._live.close()
