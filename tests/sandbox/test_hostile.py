"""Hostile cells: each is contained, raises the right error, and the next cell in the same sandbox works."""

from __future__ import annotations

import pytest

from mcp_kernel.errors import (
    FuelExhausted,
    OutputTooLarge,
    SandboxError,
    SandboxOutOfMemory,
    SandboxTimeout,
    WorkspaceFull,
)
from mcp_kernel.sandbox import Sandbox, SandboxPolicy

pytestmark = pytest.mark.slow


def next_cell_works(sandbox: Sandbox) -> None:
    assert sandbox.execute("6 * 7").value == 42


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        ("open('/etc/passwd').read()", "FileNotFoundError"),
        ("open('/proc/self/environ').read()", "FileNotFoundError"),
        ("import os; os.listdir('/')", "FileNotFoundError"),
        ("open('/mcp-tools/servers/evil.py', 'w').write('x')", "PermissionError"),
        ("open('/workspace/../../etc/passwd').read()", None),
        ("import socket; socket.create_connection(('127.0.0.1', 22), timeout=1)", None),
        ("import urllib.request; urllib.request.urlopen('http://127.0.0.1:1/')", None),
        ("import ctypes", "ModuleNotFoundError"),
        ("import subprocess; subprocess.run(['ls'])", None),
        ("import os; os.system('ls')", None),
        ("import os; os.fork()", None),
    ],
)
def test_host_access_is_denied(sandbox: Sandbox, code: str, error_type: str | None) -> None:
    result = sandbox.execute(code)
    assert result.error is not None, f"{code!r} should fail, got {result.value_repr!r}"
    if error_type:
        assert result.error.type == error_type, result.error
    next_cell_works(sandbox)


def test_the_environment_is_empty(sandbox: Sandbox) -> None:
    assert sandbox.execute("import os; dict(os.environ)").value == {}
    assert sandbox.execute("import sys; sys.argv").value in ([], [""])


def test_dotdot_cannot_leave_the_workspace(sandbox: Sandbox, tmp_path) -> None:
    secret = sandbox.workspace.parent / "secret.txt"
    secret.write_text("host secret")
    result = sandbox.execute("open('/workspace/../secret.txt').read()")
    assert result.error is not None and "host secret" not in (result.value_repr or "")
    next_cell_works(sandbox)


def test_an_infinite_loop_times_out(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxTimeout, match="1 s time limit") as caught:
        sandbox.execute("while True: pass", SandboxPolicy(timeout_s=1))
    assert caught.value.result.stopped == "timeout"
    result = sandbox.execute("6 * 7")
    assert result.value == 42 and result.session_reset and "the sandbox was restarted" in result.note


def test_fuel_exhaustion(sandbox: Sandbox) -> None:
    with pytest.raises(FuelExhausted, match="instruction budget"):
        sandbox.execute("while True: pass", SandboxPolicy(fuel=50_000_000, timeout_s=60))
    next_cell_works(sandbox)


def test_a_memory_bomb_is_stopped(sandbox: Sandbox) -> None:
    sandbox.execute("kept = 'still here'")
    with pytest.raises(SandboxOutOfMemory, match="64 MiB"):
        sandbox.execute(
            "blocks = []\nwhile True: blocks.append(bytearray(8 * 1024 * 1024))", SandboxPolicy(memory_mb=64)
        )
    # MemoryError is raised inside the guest, so the instance (and its variables) survive.
    assert sandbox.execute("del blocks\nkept").value == "still here"


def test_deep_recursion(sandbox: Sandbox) -> None:
    result = sandbox.execute("def f(n):\n    return f(n + 1)\nf(0)")
    assert result.error is not None and result.error.type == "RecursionError"
    next_cell_works(sandbox)


def test_a_hundred_megabytes_of_output_is_cut_off_early(sandbox: Sandbox) -> None:
    with pytest.raises(OutputTooLarge) as err:
        sandbox.execute(
            "line = 'x' * 1023\nfor printed in range(100 * 1024):\n    print(line)",
            SandboxPolicy(output_limit_bytes=1 << 20),
        )
    assert 0 < len(err.value.result.stdout) <= 1 << 20
    assert sandbox.execute("printed").value < 2 * 1024, "stopped at the cap, not after printing 100 MB"
    next_cell_works(sandbox)


def test_sys_exit_is_just_an_error(sandbox: Sandbox) -> None:
    result = sandbox.execute("import sys; sys.exit(3)")
    assert result.error is not None and result.error.type == "SystemExit"
    next_cell_works(sandbox)


def test_the_output_cap_is_counted_on_the_host(sandbox: Sandbox) -> None:
    # The guest's own budget is plain Python the cell can rewrite; the host counts every byte anyway.
    hostile = (
        "import sys\n"
        "sys.stdout.budget[0] = 10**12\n"
        "for _ in range(200):\n"
        "    sys.stdout.write('x' * 100_000 + '\\n')\n"
    )
    seen: list[int] = []
    with pytest.raises(OutputTooLarge):
        sandbox.execute(
            hostile, SandboxPolicy(output_limit_bytes=64 * 1024), on_output=lambda s, t: seen.append(len(t))
        )
    assert sum(seen) <= 64 * 1024
    raw_log = "import _mcp_runtime as rt\nfor _ in range(300):\n    rt.log('stdout', 'y' * 100_000)\n"
    seen.clear()
    with pytest.raises(OutputTooLarge):
        sandbox.execute(
            raw_log, SandboxPolicy(output_limit_bytes=64 * 1024), on_output=lambda s, t: seen.append(len(t))
        )
    assert sum(seen) <= 64 * 1024, "the raw host import is capped too"
    next_cell_works(sandbox)


def test_a_huge_exception_message_is_bounded(sandbox: Sandbox) -> None:
    result = sandbox.execute("raise ValueError('z' * 5_000_000)")
    assert result.error is not None and result.error.type == "ValueError"
    assert len(result.error.message) < 20_000 and len(result.error.traceback) < 60_000
    next_cell_works(sandbox)


@pytest.mark.parametrize(
    "code",
    [
        "print('\\ud800')",
        "import _mcp_runtime as rt\nrt.log('info', '\\udfff')",
        "import _mcp_runtime as rt\nrt.set_state('\\ud800', 1)",
        "raise ValueError('\\ud800')",
        "'\\ud800'",
        "from _mcp_runtime import call_tool\ncall_tool('fake', 'echo', {'s': '\\ud800'})",
    ],
)
def test_lone_surrogates_never_kill_the_guest(sandbox: Sandbox, code: str) -> None:
    sandbox.execute("survivor = 41")
    result = sandbox.execute(code)
    assert not result.session_reset
    assert sandbox.execute("survivor + 1").value == 42
    text = result.stdout + (result.value_repr or "") + (result.error.message if result.error else "")
    text.encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogate reached the host


RAW = "import wit_world.imports.host as h\n"


@pytest.mark.parametrize(
    "code",
    [
        RAW + "h.call_tool('\\ud800', 'x', '{}')",
        RAW + "h.log('info', '\\udfff')",
        RAW + "h.get_state('\\ud800')",
        RAW + "h.set_state('k', '\\ud800')",
        RAW + "h.start_call('fake', 'echo', '{\"s\": \"\\ud800\"}')",
        RAW + "h.read_resource('fake', '\\ud800')",
        RAW + "h.call_tool(1, 'x', '{}')",
        RAW + "h.log(None, 'x')",
        RAW + "h.wait_calls('ab', 5)",
        RAW + "h.wait_calls([-1], 5)",
        RAW + "h.wait_calls([1], -5)",
        RAW + "h.get_state(b'x')",
        "import componentize_py_runtime as r\nr.call_import(0, ['\\ud800', 'x', '{}'])",
        RAW + "import importlib\nh.log = None\nimportlib.reload(h)",
    ],
)
def test_the_raw_host_imports_never_kill_the_guest(sandbox: Sandbox, code: str) -> None:
    """Cells reach the generated imports too: a value they cannot lower is an error in the cell, not a trap."""
    sandbox.execute("survivor = 41")
    result = sandbox.execute(code)
    assert not result.session_reset
    assert sandbox.execute("survivor + 1").value == 42
    assert sandbox.execute(RAW + "h.log('stdout', 'still here\\n')").stdout == "still here\n"


def test_a_raw_call_with_a_surrogate_reaches_the_host_cleaned(sandbox: Sandbox, host: object) -> None:
    result = sandbox.execute(RAW + "h.call_tool('fake', 'echo', '{\"s\": \"\\ud800\"}')")
    assert result.error is None, result.error
    assert host.calls[-1][:2] == ("fake", "echo")  # type: ignore[attr-defined]


def test_the_workspace_has_a_disk_limit(sandbox: Sandbox) -> None:
    sandbox.execute("kept = 1")
    with pytest.raises(WorkspaceFull, match="more than 8 MiB"):
        sandbox.execute(
            "chunk = b'x' * (1 << 20)\nwith open('/workspace/big.bin', 'wb') as f:\n"
            "    while True:\n        f.write(chunk)",
            SandboxPolicy(disk_mb=8, timeout_s=60),
        )
    size = (sandbox.workspace / "big.bin").stat().st_size
    assert size < 200 << 20, "stopped soon after the limit, not at the time limit"
    with pytest.raises(WorkspaceFull, match="holds more than"):
        sandbox.execute("1", SandboxPolicy(disk_mb=8))
    (sandbox.workspace / "big.bin").unlink()
    next_cell_works(sandbox)


def test_replacing_json_in_a_cell_leaves_the_runtime_working(sandbox: Sandbox) -> None:
    sandbox.execute(
        "import json\njson.dumps = lambda *a, **k: 'garbage'\njson.loads = lambda *a, **k: None\nkept = 41"
    )
    result = sandbox.execute("kept + 1")
    assert result.value == 42 and not result.session_reset
    assert sandbox.execute("print(json.dumps({}))").stdout == "garbage\n"  # the cell's own json is its own


def test_a_cell_that_breaks_the_runtime_gets_a_typed_error_and_a_fresh_sandbox(sandbox: Sandbox) -> None:
    # The runtime's module is reachable from a cell; replacing its JSON encoder garbles every answer,
    # starting with this cell's own.
    sandbox.execute("kept = 1")
    with pytest.raises(
        SandboxError, match=r"broke the sandbox's own code.*restarted; the next cell gets back"
    ):
        sandbox.execute(
            "import sys\nguest = next(m for m in sys.modules.values() if hasattr(m, '_run') and "
            "hasattr(m, 'WitWorld'))\nguest._dumps = lambda *a, **k: 'garbage'"
        )
    # The fresh instance has the variables of the last cell that ended well (the breaking cell's never were).
    after = sandbox.execute("kept, 'guest' in globals()")
    assert after.value == [1, False] and after.session_reset and "kept came back" in after.note
    next_cell_works(sandbox)


def test_a_million_deep_recursion_is_a_recursion_error_not_a_lost_session(sandbox: Sandbox) -> None:
    # Reading every frame of its traceback outlasted the time limit, and freeing the frames at once
    # overflowed the sandbox's stack; now the traceback keeps its edges and the frames are freed in order.
    sandbox.execute("kept = 41")
    result = sandbox.execute(
        "import sys\nsys.setrecursionlimit(10**6)\ndef f(n): return f(n + 1)\nf(0)",
        SandboxPolicy(timeout_s=120),
    )
    assert result.error is not None and result.error.type == "RecursionError"
    assert "more frames ...]" in result.error.traceback and len(result.error.traceback) < 50_000
    assert not result.session_reset and sandbox.execute("kept + 1").value == 42
    sandbox.execute("sys.setrecursionlimit(1000)")


def test_removing_the_runtime_module_does_not_break_bindings(sandbox: Sandbox) -> None:
    sandbox.execute("import sys\nsys.modules['_mcp_runtime'] = None")
    assert sandbox.execute("import _mcp_runtime\n_mcp_runtime.call_tool.__name__").value == "call_tool"


def test_a_huge_log_line_is_shortened_not_a_stopped_cell(sandbox: Sandbox) -> None:
    sandbox.execute("kept = 41")
    result = sandbox.execute("import _mcp_runtime as rt\nrt.log('info', 'y' * 10**7)\n'done'")
    assert result.value == "done" and not result.session_reset
    level, line = sandbox.logs[-1]
    assert level == "info" and 0 < len(line) <= 10_000
    assert sandbox.execute("kept + 1").value == 42


@pytest.mark.parametrize(
    "code",
    [
        "rt.call_tool(None, 'echo', {})",
        "rt.call_tool('fake', 3, {})",
        "import asyncio\nasync def go():\n    return await rt.call_tool_async(b'x', 'y')\nasyncio.run(go())",
    ],
)
def test_tool_names_must_be_strings(sandbox: Sandbox, code: str) -> None:
    result = sandbox.execute("import _mcp_runtime as rt\n" + code)
    assert (
        result.error is not None
        and result.error.type == "TypeError"
        and "names (str)" in result.error.message
    )
