"""Cells in a real wasmtime sandbox: notebook-like state, values, errors, the stdlib, tools, state, workspace."""

from __future__ import annotations

import pytest

from mcp_kernel.errors import SandboxError
from mcp_kernel.sandbox import Sandbox

pytestmark = pytest.mark.slow


def test_stdout_value_and_persistent_variables(sandbox: Sandbox) -> None:
    first = sandbox.execute("x = 21\nprint('hello')")
    assert first.stdout == "hello\n" and first.value_repr is None and first.error is None
    second = sandbox.execute("def double(n):\n    return n * 2\ndouble(x)")
    assert second.value_repr == "42" and second.value == 42
    assert sandbox.execute("import math\nresult = math.sqrt(16)").value is None, "an assignment has no value"
    assert sandbox.execute("result").value == 4.0
    # A later cell whose text mentions `result` but ends in an assignment must not return the old global.
    assert sandbox.execute("other = 1  # result is not shown").value_repr is None
    assert sandbox.execute("double(math.floor(2.5))").value == 4
    assert second.fuel_used > 0 and second.duration_ms > 0


def test_non_json_values_keep_their_repr(sandbox: Sandbox) -> None:
    result = sandbox.execute("{1, 2}")
    assert result.value_repr == "{1, 2}" and result.value_json is None


def test_exceptions_come_back_with_the_guest_traceback(sandbox: Sandbox) -> None:
    result = sandbox.execute("def f():\n    raise ValueError('bad value')\nf()")
    assert result.error is not None
    assert (result.error.type, result.error.message) == ("ValueError", "bad value")
    assert (
        'File "<cell' in result.error.traceback and "raise ValueError('bad value')" in result.error.traceback
    )
    assert "mcp_guest" not in result.error.traceback
    assert sandbox.execute("1 + 1").value == 2


def test_syntax_errors_are_reported(sandbox: Sandbox) -> None:
    result = sandbox.execute("def (:")
    assert result.error is not None and result.error.type == "SyntaxError"


def test_reset_starts_clean(sandbox: Sandbox) -> None:
    sandbox.execute("kept = 1")
    sandbox.reset()
    assert sandbox.execute("'kept' in globals()").value is False


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import datetime; str(datetime.date(2025, 1, 31) + datetime.timedelta(days=1))", "2025-02-01"),
        ("import statistics; statistics.median([3, 1, 2])", 2),
        ("import csv, io; list(csv.DictReader(io.StringIO('a,b\\n1,2')))", [{"a": "1", "b": "2"}]),
        ("import decimal; str(decimal.Decimal('1.10') + decimal.Decimal('2.20'))", "3.30"),
        ("import textwrap; textwrap.shorten('hello brave new world', 12)", "hello [...]"),
        ("import difflib; round(difflib.SequenceMatcher(None, 'abcd', 'abce').ratio(), 2)", 0.75),
        ("import json; json.loads('{\"a\": [1, 2]}')", {"a": [1, 2]}),
        ("import collections; collections.Counter('aab').most_common(1)", [["a", 2]]),
        ("import re, itertools, functools, fractions; str(fractions.Fraction(1, 3) * 3)", "1"),
    ],
)
def test_the_standard_library_imports_and_works(sandbox: Sandbox, code: str, expected: object) -> None:
    result = sandbox.execute(code)
    assert result.error is None, result.error
    assert result.value == expected


def test_zoneinfo_uses_the_granted_time_zone_database(sandbox: Sandbox) -> None:
    from mcp_kernel.sandbox.policy import ZONEINFO_DIR

    result = sandbox.execute(
        "import zoneinfo, datetime\n"
        "str(datetime.datetime(2025, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo('UTC'))"
        ".astimezone(zoneinfo.ZoneInfo('Europe/Berlin')))"
    )
    if ZONEINFO_DIR.is_dir():
        assert result.value == "2025-07-01 14:00:00+02:00"
    else:
        assert result.error is not None and result.error.type == "ZoneInfoNotFoundError"


def test_tool_calls_reach_the_host_and_errors_come_back_as_tool_call_error(sandbox: Sandbox, host) -> None:
    result = sandbox.execute("from servers.fake import echo\necho(region='EU', n=3)")
    assert result.value == {"server": "fake", "tool": "echo", "params": {"region": "EU", "n": 3}}
    assert host.calls == [("fake", "echo", {"region": "EU", "n": 3})]
    refused = sandbox.execute(
        "from _mcp_runtime import call_tool, ToolCallError\n"
        "try:\n    call_tool('fake', 'refuse', {'why': 'policy'})\nexcept ToolCallError as e:\n    msg = str(e)\nmsg"
    )
    assert refused.value == "fake.refuse refused: policy", "the type name is not repeated in the message"
    crashed = sandbox.execute("from _mcp_runtime import call_tool\ncall_tool('fake', 'explode', {})")
    assert crashed.error.type == "ToolCallError"
    assert "internal error in the host: RuntimeError: host bug" in crashed.error.message


def test_output_streams_to_the_host_as_it_is_printed(sandbox: Sandbox) -> None:
    seen: list[tuple[str, str]] = []
    result = sandbox.execute(
        "import sys\nprint('one', 1)\nprint('two', file=sys.stderr)\nprint('x', end='')",
        on_output=lambda stream, text: seen.append((stream, text)),
    )
    # Whole lines are sent as they are printed (one host call per line, not per write); the rest at the end.
    assert seen == [("stdout", "one 1\n"), ("stderr", "two\n"), ("stdout", "x")]
    assert result.stdout == "one 1\nx" and result.stderr == "two\n"


def test_state_survives_cells_and_is_bounded(sandbox: Sandbox) -> None:
    sandbox.execute("import _mcp_runtime as rt\nrt.set_state('seen', {'ids': [1, 2]})")
    assert sandbox.execute("rt.get_state('seen')").value == {"ids": [1, 2]}
    assert sandbox.execute("rt.get_state('missing', 'dflt')").value == "dflt"
    too_big = sandbox.execute("rt.set_state('big', 'x' * 2_000_000)")
    assert too_big.error.type == "ValueError" and "limited to" in too_big.error.message


def test_the_workspace_is_writable_and_kept_between_cells(sandbox: Sandbox) -> None:
    sandbox.execute("open('/workspace/notes.txt', 'w').write('kept')")
    assert sandbox.execute("open('notes.txt').read()").value == "kept"
    assert (sandbox.workspace / "notes.txt").read_text() == "kept"


def test_each_cell_starts_in_the_workspace_with_the_tree_importable(sandbox: Sandbox) -> None:
    sandbox.execute("import os, sys\nos.chdir('/mcp-tools')\nsys.path.remove('/mcp-tools')")
    assert sandbox.execute("os.getcwd(), '/mcp-tools' in sys.path").value == ["/workspace", True]
    assert sandbox.execute("from servers.fake import echo\necho(n=1)['params']").value == {"n": 1}


def test_a_module_written_in_the_workspace_imports_in_the_next_cell(sandbox: Sandbox) -> None:
    sandbox.execute("import sys\nsys.path.insert(0, '/workspace')")
    sandbox.execute("open('/workspace/helper.py', 'w').write('ANSWER = 42')")
    assert sandbox.execute("import helper\nhelper.ANSWER").value == 42


def test_a_closed_sandbox_is_freed(engine) -> None:
    import gc
    import weakref

    sandbox = Sandbox(engine)
    sandbox.execute("1")
    ref = weakref.ref(sandbox)
    sandbox.close()
    del sandbox
    gc.collect()
    assert ref() is None, "a closed sandbox is still held (by its linker's host functions?)"


def test_a_closed_sandbox_refuses_work(engine) -> None:
    sb = Sandbox(engine)
    sb.execute("1")
    sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.execute("1")
