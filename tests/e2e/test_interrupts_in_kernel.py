"""The stop button in a real kernel (jupyter_client): while a server connects, while the sandbox starts, during
a busy loop, during a 10 s tool call, a loop of calls and a gather of calls.

Each interrupt is sent at the point the test means, known from an event (the cell's output, the progress of the
sandbox's start, the file the test server creates as a call starts), never after a fixed delay. Each must end the
cell as one readable `Interrupted` error, before what it interrupts would have ended on its own (the call is
cancelled on the server, the loop stops before its 60 s limit, the compile is still unfinished), and the kernel
must stay alive (checked again after the interrupted call would have ended) and run the next cell.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kernel_driver import KernelDriver, Reply, running_kernel

pytestmark = pytest.mark.slow

SERVERS = Path(__file__).resolve().parents[1] / "servers"


def interrupted(
    kernel: KernelDriver,
    code: str,
    *,
    after_output: str | None = None,
    once: Callable[[], bool] | None = None,
) -> Reply:
    """Run ``code`` and interrupt it once it printed or displayed ``after_output``, or once ``once()`` holds
    (polled: e.g. the slow server created the file of a call it started); return the reply."""
    sent, ended = threading.Event(), threading.Event()

    def interrupt() -> None:
        if not sent.is_set():
            sent.set()
            kernel.km.interrupt_kernel()

    def on_message(msg: dict) -> None:
        data = msg["content"].get("data", {}).get("text/plain", "") + msg["content"].get("text", "")
        if after_output is not None and after_output in data:
            interrupt()

    def poll() -> None:
        while not ended.is_set() and not sent.is_set():
            if once is not None and once():
                interrupt()
            ended.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        reply = kernel.execute(code, on_message=on_message, timeout=60)
    finally:
        ended.set()
        poller.join()
    assert sent.is_set(), (
        f"the cell ended before the point it was to be interrupted at: {reply.of('error')} {reply.stderr}"
    )
    return reply


def assert_one_line_interrupt(reply: Reply) -> None:
    assert reply.status == "error"
    [error] = reply.of("error")
    assert error["ename"] == "Interrupted", error
    assert len(error["traceback"]) == 1, "one readable line, no host traceback"
    assert "Traceback" not in reply.stderr


@pytest.fixture(scope="module")
def started() -> Iterator[Path]:
    """Where the slow server creates a file named after each call's tag as the call starts (a directory of its
    own: pytest's numbered temp dirs are pruned by any other pytest run of the same user meanwhile)."""
    with tempfile.TemporaryDirectory(prefix="mcp-kernel-started-") as directory:
        yield Path(directory)


@pytest.fixture(scope="module")
def slow_kernel(kernel: KernelDriver, started: Path) -> KernelDriver:
    assert kernel.execute(f"%mcp add slow -- {sys.executable} {SERVERS / 'slow.py'} {started}").status == "ok"
    assert kernel.execute("%mcp generate slow").status == "ok"
    return kernel


def test_interrupt_during_a_ten_second_tool_call(slow_kernel: KernelDriver, started: Path) -> None:
    kernel = slow_kernel
    kernel.execute("%%mcp_execute --servers slow\nkept = 'still here'")
    reply = interrupted(
        kernel,
        "%%mcp_execute --servers slow --timeout 60\n"
        "from servers.slow import sleep\n"
        "sleep(seconds=10, tag='stop-button')",
        once=(started / "stop-button").exists,
    )
    assert_one_line_interrupt(reply)
    assert kernel.alive()
    # Past the moment the cancelled call would have ended.
    time.sleep(max(0.0, (started / "stop-button").stat().st_mtime + 11 - time.time()))
    assert kernel.alive(), "the kernel is still alive well after the interrupted call"
    seen = kernel.execute("%mcp call slow cancellations --json")
    assert "stop-button" in seen.stdout, (
        "the server saw notifications/cancelled: the call did not run to its end"
    )
    after = kernel.execute("%%mcp_execute --servers slow\nkept")
    assert after.status == "ok" and after.bundles[0] == {"text/plain": "'still here'"}


def test_interrupt_during_a_busy_loop_keeps_the_earlier_cells_variables(slow_kernel: KernelDriver) -> None:
    assert slow_kernel.execute("%%mcp_execute\nx = 'from an earlier cell'").status == "ok"
    reply = interrupted(
        slow_kernel,
        "%%mcp_execute --timeout 60\nprint('looping', flush=True)\nwhile True: pass",
        after_output="looping",
    )
    assert_one_line_interrupt(reply)  # the interrupt stopped it, not its 60 s limit
    assert reply.bundles[-1]["text/plain"].startswith("[stopped (interrupt) after 0 tool calls · ")
    after = slow_kernel.execute("%%mcp_execute\nx")
    assert after.bundles[0] == {"text/plain": "'from an earlier cell'"}
    assert "x came back" in after.bundles[-1]["text/plain"], "the note says what came back"


def test_interrupt_during_a_loop_of_tool_calls_keeps_variables_and_says_how_far_it_got(
    slow_kernel: KernelDriver, started: Path
) -> None:
    assert slow_kernel.execute("%%mcp_execute\nx = 'kept'").status == "ok"
    reply = interrupted(
        slow_kernel,
        "%%mcp_execute --servers slow --timeout 60\n"
        "from servers.slow import sleep\n"
        "for i in range(1000):\n    sleep(seconds=0.05, tag=f'loop-{i}')",
        once=(started / "loop-1").exists,  # the first call is done, the second in flight
    )
    assert_one_line_interrupt(reply)
    footer = reply.bundles[-1]["text/plain"]
    assert footer.startswith("[stopped (interrupt) after "), footer
    done = int(footer.split(" after ")[1].split(" tool call")[0])
    assert done >= 1 and " ms · last call slow.sleep · " in footer, footer
    # KeyboardInterrupt was raised inside the cell: nothing was restarted, its own progress is there too.
    after = slow_kernel.execute("%%mcp_execute\nx, i >= 0")
    assert after.bundles[0] == {"text/plain": "('kept', True)"}
    assert "restarted" not in after.bundles[-1]["text/plain"]


def test_a_cell_past_its_time_limit_keeps_the_earlier_cells_variables(slow_kernel: KernelDriver) -> None:
    assert slow_kernel.execute("%%mcp_execute\nx = 'before the limit'").status == "ok"
    reply = slow_kernel.execute("%%mcp_execute --timeout 1\nwhile True: pass")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "SandboxTimeout"
    assert reply.bundles[-1]["text/plain"].startswith("[stopped (timeout) after 0 tool calls · ")
    assert slow_kernel.execute("%%mcp_execute\nx").bundles[0] == {"text/plain": "'before the limit'"}


def test_a_fuel_trap_brings_back_the_last_good_cell_and_names_what_was_not_kept(
    slow_kernel: KernelDriver,
) -> None:
    assert slow_kernel.execute("%%mcp_execute\nx = 41\nrows = (r for r in range(3))").status == "ok"
    reply = slow_kernel.execute("%%mcp_execute --fuel 20000000 --timeout 60\nwhile True: x += 1")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "FuelExhausted"
    assert "could not be kept: rows" in "\n".join(reply.of("error")[0]["traceback"])
    assert reply.bundles[-1]["text/plain"].startswith("[stopped (fuel) after 0 tool calls · ")
    after = slow_kernel.execute("%%mcp_execute\nx + 1")
    assert after.bundles[0] == {"text/plain": "42"}
    assert "could not be kept: rows (not picklable: generator)" in after.bundles[-1]["text/plain"]


@pytest.fixture()
def cold_kernel(kernelspec: str, tmp_path: Path) -> Iterator[KernelDriver]:
    """A kernel whose sandbox must still be compiled: only the component is cached, not its compiled form."""
    source = Path(os.environ["MCP_KERNEL_CACHE_DIR"]) / "components"
    cache = tmp_path / "cache"
    (cache / "components").mkdir(parents=True)
    for path in source.glob("guest-*"):
        shutil.copy(path, cache / "components" / path.name)
    env = {**os.environ, "MCP_KERNEL_CACHE_DIR": str(cache)}
    with running_kernel(kernelspec, env, now=True) as kernel:
        yield kernel


def test_interrupt_while_the_sandbox_starts(cold_kernel: KernelDriver, tmp_path: Path) -> None:
    reply = interrupted(cold_kernel, "%%mcp_execute\nx = 1", after_output="Compiling the sandbox component")
    assert_one_line_interrupt(reply)
    assert not list((tmp_path / "cache" / "components").glob("compiled-*")), (
        "the cell ended while the sandbox was still compiling, not after"
    )
    assert cold_kernel.alive(), "plain cells run while the sandbox finishes starting in the background"
    after = cold_kernel.execute("%%mcp_execute\n'started'", timeout=180)
    assert after.status == "ok", after.reply
    assert after.bundles[0] == {"text/plain": "'started'"}


def test_interrupt_while_a_server_connects(slow_kernel: KernelDriver, tmp_path: Path) -> None:
    running = tmp_path / "running"  # created by the server process, which never answers the handshake
    add = f"%mcp add silent -- {sys.executable} {SERVERS / 'silent.py'} {running}"
    # `%mcp add` connects at once (to introspect); a sandboxed cell connects the servers it names.
    for cell in (add, "%%mcp_execute --servers silent\n'never run'"):
        running.unlink(missing_ok=True)
        reply = interrupted(slow_kernel, cell, once=running.exists)
        assert_one_line_interrupt(reply)  # the interrupt ended the wait, not the 30 s connect timeout
        assert slow_kernel.alive()
    assert slow_kernel.execute("%mcp remove silent").status == "ok"
    after = slow_kernel.execute(
        "%%mcp_execute --servers slow\nfrom servers.slow import sleep\nsleep(seconds=0, tag='next')['tag']"
    )
    assert after.status == "ok" and after.bundles[0] == {"text/plain": "'next'"}


@pytest.mark.parametrize("attempt", range(3))
def test_the_first_cell_right_after_start_keeps_its_variables(kernelspec: str, attempt: int) -> None:
    with running_kernel(kernelspec, now=True) as kernel:
        assert kernel.execute("%%mcp_execute\nfirst = 7").status == "ok"
        assert kernel.execute("%%mcp_execute\nfirst * 6").bundles[0] == {"text/plain": "42"}


def test_interrupt_during_a_gather_of_calls(slow_kernel: KernelDriver, started: Path) -> None:
    tags = [f"gather-{i}" for i in range(4)]
    reply = interrupted(
        slow_kernel,
        "%%mcp_execute --servers slow --timeout 60\n"
        "import asyncio\nfrom servers.slow import sleep, aio\n"
        "await asyncio.gather(*(aio(sleep)(seconds=10, tag=f'gather-{i}') "
        "for i in range(4)))",
        once=lambda: all((started / tag).exists() for tag in tags),
    )
    assert_one_line_interrupt(reply)
    assert slow_kernel.alive()
    seen = ""
    for _ in range(300):  # the cancellations reach the server on their own; wait for them, not for a time
        seen = slow_kernel.execute("%mcp call slow cancellations --json").stdout
        if all(tag in seen for tag in tags):
            break
        time.sleep(0.1)
    assert all(tag in seen for tag in tags), f"every gathered call in flight was cancelled: {tags} in {seen}"
    assert slow_kernel.execute("%%mcp_execute\n'next'").bundles[0] == {"text/plain": "'next'"}
