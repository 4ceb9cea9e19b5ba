"""The parts of a sandbox session that need no guest: a cell and how its end reads, and the host imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_kernel.errors import (
    FuelExhausted,
    Interrupted,
    OutputTooLarge,
    SandboxError,
    SandboxOutOfMemory,
    ToolCallError,
)
from mcp_kernel.sandbox import SandboxPolicy
from mcp_kernel.sandbox.cell import Cell, limit_error, read_answer, stopped_error, trap_error
from mcp_kernel.sandbox.imports import GuestImports, StateStore
from mcp_kernel.sandbox.snapshot import Snapshot, SnapshotInfo

ANSWER = {"value_repr": "2", "value_json": "2", "error": None, "truncated": False}


def cell(**limits: object) -> Cell:
    return Cell("x = 1", SandboxPolicy.default().model_copy(update=limits), None)


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"value_repr": 2}', '{"error": {"message": "no type"}}', '{"restored": "x"}'],
)
def test_what_is_not_an_answer_is_refused(text: str) -> None:
    assert read_answer(text) is None


def test_an_answer_keeps_the_fields_the_host_reads() -> None:
    answer = read_answer(json.dumps({**ANSWER, "error": {"type": "E", "message": 1}, "restored": ["x"]}))
    assert answer is not None
    assert answer["error"] == {"type": "E", "message": "1", "traceback": ""}
    assert (answer["restored"], answer["not_restored"], answer["truncated"]) == (["x"], {}, False)


def test_a_cell_result_joins_its_output_and_a_trapped_one_has_no_value() -> None:
    running = cell()
    running.emit("stdout", "a")
    running.emit("stdout", "b\n")
    done = running.result(10, read_answer(json.dumps(ANSWER)))
    assert (done.stdout, done.value_repr, done.fuel_used, done.session_reset) == ("ab\n", "2", 10, False)
    trapped = running.result(-5, trapped="fuel")
    assert (trapped.value_repr, trapped.fuel_used, trapped.session_reset, trapped.stopped) == (
        None,
        0,
        True,
        "fuel",
    )


def test_output_reaches_the_caller_and_a_failing_callback_is_ignored() -> None:
    seen: list[tuple[str, str]] = []
    Cell("", SandboxPolicy.default(), lambda stream, text: seen.append((stream, text))).emit("stderr", "e")
    assert seen == [("stderr", "e")]

    def broken(stream: str, text: str) -> None:
        raise RuntimeError("display gone")

    quiet = Cell("", SandboxPolicy.default(), broken)
    quiet.emit("stdout", "kept")
    assert quiet.out["stdout"] == ["kept"]


def test_the_limit_a_cell_broke_names_its_error() -> None:
    answer = read_answer(json.dumps(ANSWER))
    assert answer is not None
    result = cell().result(1, answer)
    assert limit_error(cell(), "s", result, answer) is None
    assert isinstance(limit_error(cell(), "s", result, {**answer, "truncated": True}), OutputTooLarge)
    memory = {**answer, "error": {"type": "MemoryError", "message": "", "traceback": ""}}
    assert isinstance(limit_error(cell(), "s", result, memory), SandboxOutOfMemory)
    stopped = cell()
    stopped.stop("interrupt")
    error = limit_error(stopped, "s", result, answer)
    assert isinstance(error, Interrupted) and "Variables are kept" in str(error)
    stopped.stop("timeout")  # the first reason stays
    assert stopped.stop_reason == "interrupt"
    closing = cell()
    closing.stop("close")
    assert "Sandbox session 's' was closed" in str(stopped_error(closing, "s", None))


def test_a_trap_is_told_by_what_the_host_knows() -> None:
    kept = SnapshotInfo(cell=1, kept=["x"])
    fuel = trap_error(cell(fuel=1000), "s", RuntimeError("wasm trap"), 0, kept)
    assert isinstance(fuel, FuelExhausted) and fuel.result.stopped == "fuel"
    assert fuel.result.fuel_used == 1000 and "gets back the variables" in str(fuel) and "(x)" in str(fuel)
    stack = trap_error(cell(), "s", RuntimeError("backtrace\nCaused by: call stack exhausted"), 5, kept)
    assert type(stack) is SandboxError and "call stack" in str(stack) and stack.result.stopped == "trap"
    memory = trap_error(
        cell(), "s", RuntimeError("memory allocation failed"), 5, SnapshotInfo(cell=0, kept=[])
    )
    assert isinstance(memory, SandboxOutOfMemory) and "no variables had been kept" in str(memory)
    stopped = cell()
    stopped.stop("timeout")
    late = trap_error(stopped, "s", RuntimeError("stopped by the mcp-kernel host"), 5, kept)
    assert late.limit == "timeout" and "restarted" in str(late) and late.result.stopped == "timeout"


class Host:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def call_tool(self, server: str, tool: str, params_json: str, scope: object = None) -> str:
        if self.error is not None:
            raise self.error
        return json.dumps({"tool": tool})


def test_imports_without_a_running_cell_answer_that_it_is_stopped(tmp_path: Path) -> None:
    imports = GuestImports("s", workspace=tmp_path, host=Host())
    assert imports.call_tool("demo", "echo", "{}").startswith("-error\t")
    assert imports.log("stdout", "lost") == ""
    assert json.loads(imports.wait_calls([1], 10)) == {"done": [], "stopped": "close"}
    assert imports.keep_snapshot("{}") == "the cell was stopped"
    assert imports.on_epoch() is True


def test_imports_answer_tool_calls_and_their_failures(tmp_path: Path) -> None:
    imports = GuestImports("s", workspace=tmp_path, host=Host())
    imports.cell = cell()
    assert imports.call_tool("demo", "echo", "{}") == '+{"tool": "echo"}'
    imports.host = Host(ToolCallError("refused"))
    assert imports.call_tool("demo", "echo", "{}") == "-error\trefused"
    imports.host = Host(RuntimeError("bug"))
    assert imports.call_tool("demo", "echo", "{}") == "-error\tinternal error in the host: RuntimeError: bug"
    imports.host = Host()
    started = imports.start_call("demo", "echo", "{}")
    assert isinstance(started, int)
    answer = json.loads(imports.wait_calls([started], 5000))
    assert answer == {"done": [[started, True, '{"tool": "echo"}']], "stopped": None}
    imports.close()


def test_output_past_its_cap_stops_the_cell_and_a_stopped_cell_unwinds(tmp_path: Path) -> None:
    imports = GuestImports("s", workspace=tmp_path)
    imports.cell = running = cell(output_limit_bytes=10)
    assert imports.log("stdout", "12345") == "" and running.out["stdout"] == ["12345"]
    assert imports.log("info", "log") == "" and running.logs == [("info", "log")], "log lines count too"
    assert imports.log("stdout", "678901") == "" and running.stop_reason == "output"
    assert imports.on_epoch() is False, "an output stop traps at once"
    imports.cell = interrupted = cell()
    interrupted.stop("interrupt")
    assert imports.log("stdout", "x") == "interrupt"
    assert imports.on_epoch() is True, "a stopped guest gets a moment to unwind"


def test_state_and_snapshot_are_the_sessions(tmp_path: Path) -> None:
    state, snapshot = StateStore(limit_bytes=20), Snapshot()
    imports = GuestImports("s", workspace=tmp_path, state=state, snapshot=snapshot)
    assert imports.set_state("k", '"v"') is None and state.get("k") == '"v"'
    assert imports.set_state("k", "not json") is not None
    assert "limited to 20 bytes" in (imports.set_state("k", json.dumps("v" * 40)) or "")
    imports.cell = running = cell()
    assert imports.keep_snapshot('{"set": {"x": ["pickle", "gAVLKi4="]}}') == ""
    assert running.snapshot is not None and running.snapshot.values["x"][0] == "pickle"
    assert imports.keep_snapshot("[") != ""


def test_the_workspace_is_measured_against_the_disk_limit(tmp_path: Path) -> None:
    imports = GuestImports("s", workspace=tmp_path)
    policy = SandboxPolicy.default().model_copy(update={"disk_mb": 1})
    assert not imports.over_disk(policy)
    (tmp_path / "big.bin").write_bytes(b"x" * ((1 << 20) + 1))
    assert imports.over_disk(policy)
