"""The wasmtime engine and the guest component: built once, compiled once, cached, verified.

The guest (CPython plus ``guest/app/mcp_guest.py``) is built into a WebAssembly component with
componentize-py on first use (~18 s), then compiled by wasmtime (~21 s; both measured cold on a busy 2-core
machine, see EXPECTED_SECONDS). Both results are cached under the
user cache dir: the component by a blake3 of the guest sources and the componentize-py version, the
compiled form by a blake3 of that guest hash plus the wasmtime version and the engine settings (a
compiled component only loads into an engine with the same settings), so a warm start maps the compiled
file and never reads the component. Every cached file has a blake3
sidecar that is checked before use; a corrupt or foreign entry is rebuilt, never trusted.

For example::

    with Engine() as engine:
        component = engine.component()
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import blake3

from ..errors import SandboxError
from ..paths import cache_dir
from ..versions import installed

__all__ = [
    "ENGINE_SETTINGS",
    "EXPECTED_SECONDS",
    "TICK_SECONDS",
    "BuildStep",
    "Engine",
    "cache_status",
    "guest_source_hash",
    "is_cached",
]

TICK_SECONDS = 0.01
# Part of the compiled-cache key: a component compiled under other settings will not load.
ENGINE_SETTINGS = {"consume_fuel": True, "epoch_interruption": True, "max_wasm_stack": 2 * 1024 * 1024}
WORLD = "kernel"
APP_MODULE = "mcp_guest"

# A cold build measured on a busy 2-core machine (load ~3): componentize-py 17.8 s, then wasmtime 21.3 s. Only
# an estimate for a progress bar's share per step; the elapsed time shown is the real one.
EXPECTED_SECONDS = {"build": 18.0, "compile": 21.0}


class BuildStep(str):
    """A step of the first build, as its line of text (so ``print`` shows it) plus what a progress bar needs.

    ``stage`` is ``"build"``, ``"compile"`` or ``"ready"``; ``started`` the ``time.monotonic()`` the whole
    build began, ``began`` the one this step began; ``share`` the part of the expected time done before it.

    >>> step = BuildStep("Compiling...", stage="compile", started=0.0, share=0.46)
    >>> (str(step), step.stage)
    ('Compiling...', 'compile')
    """

    stage: str
    started: float
    began: float
    share: float

    def __new__(cls, message: str, *, stage: str, started: float, share: float) -> BuildStep:
        step = super().__new__(cls, message)
        step.stage, step.started, step.share, step.began = stage, started, share, time.monotonic()
        return step

    @property
    def expected_s(self) -> float:
        """How long this step is expected to take (0 once ready)."""
        return EXPECTED_SECONDS.get(self.stage, 0.0)


def _share_before(stage: str) -> float:
    total = sum(EXPECTED_SECONDS.values())
    order = [*EXPECTED_SECONDS, "ready"]
    return sum(EXPECTED_SECONDS[s] for s in order[: order.index(stage)]) / total


# Called with each BuildStep (a str, so callers that print lines keep working).
Progress = Callable[[str], None]


def _guest_files() -> list[tuple[str, bytes]]:
    root = resources.files("mcp_kernel.sandbox") / "guest"
    out = []
    for sub in ("wit", "app"):
        for entry in sorted((root / sub).iterdir(), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith((".wit", ".py")):
                out.append((f"{sub}/{entry.name}", entry.read_bytes()))
    return out


def guest_source_hash() -> str:
    """blake3 over the guest's WIT and program, and the componentize-py version that builds them."""
    hasher = blake3.blake3(f"componentize-py {installed('componentize-py', 'missing')}\n".encode())
    for name, data in _guest_files():
        hasher.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def _settings_key() -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(ENGINE_SETTINGS.items()))


def _components_dir(root: Path | None) -> Path:
    return (root or cache_dir()) / "components"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_verified(path: Path) -> bytes | None:
    """The file's bytes if its blake3 sidecar matches, else None (missing, truncated, foreign)."""
    try:
        return path.read_bytes() if _verified(path) else None
    except OSError:
        return None


def _verified(path: Path) -> bool:
    """Whether the file's blake3 sidecar matches it, hashing it mapped rather than read (large files).

    A file that matched once is not hashed again while it keeps its size, modification time and inode (a
    ``.checked`` stamp beside it records them): hashing the 50 MB compiled component cost ~75 ms of every
    process's first cell. Any rewrite of the file (atomic writes replace the inode) is hashed again; the
    check guards against broken and foreign files, as the sidecar does, not against someone who can write
    the cache directory (who could rewrite the sidecar too).
    """
    sidecar = path.with_name(path.name + ".blake3")
    stamp_path = path.with_name(path.name + ".checked")
    try:
        expected = sidecar.read_text().strip()
        info = path.stat()
        stamp = f"{expected} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
        try:
            if stamp_path.read_text() == stamp:
                return True
        except OSError:
            pass
        actual = blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(path).hexdigest()
    except (OSError, ValueError):
        return False
    if actual != expected:
        return False
    with contextlib.suppress(OSError):  # a read-only cache: hashed again next time, still correct
        _write_atomic(stamp_path, stamp.encode())
    return True


def _store_verified(path: Path, data: bytes) -> None:
    """Write ``path`` and its blake3 sidecar; drop older entries of the same kind (stale builds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, data)
    _write_atomic(path.with_name(path.name + ".blake3"), (blake3.blake3(data).hexdigest() + "\n").encode())
    kind = path.name.split("-", 1)[0]
    for old in path.parent.glob(f"{kind}-*"):
        if old.name not in (path.name, path.name + ".blake3"):  # stale files, sidecars and stamps
            old.unlink(missing_ok=True)


def is_cached(root: Path | None = None) -> bool:
    """Whether the current guest component has been built (so loading it needs no build)."""
    return (_components_dir(root) / f"guest-{guest_source_hash()[:32]}.wasm").exists()


def cache_status(root: Path | None = None) -> str:
    """One line for ``mcp-kernel debug``: whether the component and its compiled form are cached."""
    directory = _components_dir(root)
    wasm = directory / f"guest-{guest_source_hash()[:32]}.wasm"
    if not wasm.exists():
        return f"not built yet (built on first use, or `mcp-kernel sandbox build`); cache dir {directory}"
    compiled = list(directory.glob("compiled-*.cwasm"))
    size = sum(p.stat().st_size for p in compiled)
    return (
        f"built ({wasm.stat().st_size / 2**20:.1f} MiB component, {len(compiled)} compiled, "
        f"{size / 2**20:.1f} MiB) in {directory}"
    )


class Engine:
    """A wasmtime engine configured for the sandbox, its compiled guest component and its epoch ticker."""

    def __init__(
        self, cache: str | os.PathLike[str] | None = None, *, on_progress: Progress | None = None
    ) -> None:
        import wasmtime  # wasmtime: only when a sandbox is built or run

        config = wasmtime.Config()
        config.consume_fuel = ENGINE_SETTINGS["consume_fuel"]
        config.epoch_interruption = ENGINE_SETTINGS["epoch_interruption"]
        config.max_wasm_stack = ENGINE_SETTINGS["max_wasm_stack"]
        self.engine = wasmtime.Engine(config)
        self.cache = Path(cache) if cache is not None else None
        self._on_progress: Progress = on_progress or (lambda message: None)
        self._current: BuildStep | None = None  # the build step under way, if any
        self._component: Any = None
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.timings: dict[str, float] = {}
        self._build_started: float | None = None

    @property
    def on_progress(self) -> Progress:
        """Told of each build step; one set while a step is under way (a background warm-up began the build)
        is told of that step at once, so a cell waiting for the component shows progress, not silence."""
        return self._on_progress

    @on_progress.setter
    def on_progress(self, sink: Progress) -> None:
        self._on_progress = sink
        current = self._current
        if current is not None:
            sink(current)

    # ---- the component -----------------------------------------------------------------------------
    def component(self) -> Any:
        """The compiled guest component (built and compiled on first use, then from the cache)."""
        with self._lock:
            if self._component is None:
                try:
                    self._component = self._load()
                finally:
                    self._current = None  # built, or failed: no step is under way any more
            return self._component

    def _load(self) -> Any:
        from wasmtime import WasmtimeError  # wasmtime: only when a sandbox is built or run
        from wasmtime.component import Component

        directory = _components_dir(self.cache)
        # Keyed by what the component is built from, so a cached compiled form loads without reading the
        # 30 MB component at all; only the compiled file is checked (mapped, hashed on every core).
        wasmtime_version = installed("wasmtime", "missing")
        key = blake3.blake3(f"{guest_source_hash()}\0wasmtime {wasmtime_version}\0{_settings_key()}".encode())
        compiled_path = directory / f"compiled-{key.hexdigest()[:32]}.cwasm"
        if _verified(compiled_path):
            started = time.perf_counter()
            try:
                component = Component.deserialize_file(self.engine, str(compiled_path))
                self.timings["deserialize_s"] = time.perf_counter() - started
                return component
            except WasmtimeError:
                pass  # verified bytes from another wasmtime build: compile again below
        wasm = self._wasm(directory)
        self._step(
            "compile",
            "Compiling the sandbox component (first use on this machine; about "
            f"{EXPECTED_SECONDS['compile']:.0f} s or more on a busy machine)...",
        )
        started = time.perf_counter()
        try:
            component = Component(self.engine, wasm)
        except WasmtimeError as exc:
            raise SandboxError(f"wasmtime could not compile the guest component: {exc}") from None
        self.timings["compile_s"] = time.perf_counter() - started
        _store_verified(compiled_path, bytes(component.serialize()))
        self._step(
            "ready",
            f"Sandbox component ready: compiled in {self.timings['compile_s']:.1f} s"
            + (f" after a {self.timings['build_s']:.1f} s build" if "build_s" in self.timings else "")
            + "; cached for next time.",
        )
        return component

    def _step(self, stage: str, message: str) -> None:
        if self._build_started is None or stage == "build":
            self._build_started = time.monotonic()
        step = BuildStep(message, stage=stage, started=self._build_started, share=_share_before(stage))
        self._current = None if stage == "ready" else step
        self._on_progress(step)

    def _wasm(self, directory: Path) -> bytes:
        path = directory / f"guest-{guest_source_hash()[:32]}.wasm"
        data = _read_verified(path)
        if data is not None:
            return data
        self._step(
            "build",
            "Building the sandbox component with componentize-py (first use on this machine; about "
            f"{sum(EXPECTED_SECONDS.values()):.0f} s or more with the compile)...",
        )
        started = time.perf_counter()
        data = build_component()
        self.timings["build_s"] = time.perf_counter() - started
        _store_verified(path, data)
        return data

    # ---- the epoch ticker --------------------------------------------------------------------------
    def ensure_ticker(self) -> None:
        """Advance the engine's epoch every TICK_SECONDS, so deadlines count wall-clock time."""
        with self._lock:
            if self._ticker is not None and self._ticker.is_alive():
                return
            self._stop.clear()

            def tick() -> None:
                while not self._stop.wait(TICK_SECONDS):
                    self.engine.increment_epoch()

            self._ticker = threading.Thread(target=tick, name="mcp-kernel-epoch", daemon=True)
            self._ticker.start()

    def interrupt(self, ticks: int) -> None:
        """Push the epoch past any deadline up to ``ticks`` away, so running guests trap now."""
        for _ in range(ticks + 1):
            self.engine.increment_epoch()

    def close(self) -> None:
        """Stop the ticker (stores using this engine must be closed by their owners first)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(1)
            self._ticker = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_component() -> bytes:
    """Run componentize-py over the guest sources; return the component's bytes."""
    import subprocess  # here: only a build needs it, not each import of the sandbox

    with tempfile.TemporaryDirectory(prefix="mcp-kernel-guest-") as tmp:
        root = Path(tmp)
        for name, data in _guest_files():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        out = root / "guest.wasm"
        cmd = [
            sys.executable,
            "-c",
            "import sys, componentize_py; sys.argv[0] = 'componentize-py'; "
            "sys.exit(componentize_py.script())",
            "-q",
            "-d",
            str(root / "wit"),
            "-w",
            WORLD,
            "componentize",
            "-p",
            str(root / "app"),
            APP_MODULE,
            "-o",
            str(out),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=root)
        except FileNotFoundError:
            raise SandboxError("componentize-py is not installed; `pip install componentize-py`.") from None
        if proc.returncode != 0 or not out.exists():
            raise SandboxError(
                f"Building the sandbox component failed:\n{(proc.stderr or proc.stdout)[-3000:]}"
            )
        return out.read_bytes()
