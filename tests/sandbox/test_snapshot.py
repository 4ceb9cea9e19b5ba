"""Snapshots: a trapped cell's session comes back with the variables of its last good cell, and says what not."""

from __future__ import annotations

import pytest

from mcp_kernel.errors import FuelExhausted, SandboxError
from mcp_kernel.sandbox import Sandbox, SandboxPolicy
from mcp_kernel.sandbox.snapshot import Snapshot

pytestmark = pytest.mark.slow

FUEL_TRAP = SandboxPolicy(fuel=20_000_000, timeout_s=60)


def trap(sandbox: Sandbox, code: str = "while True: pass") -> FuelExhausted:
    with pytest.raises(FuelExhausted) as caught:
        sandbox.execute(code, FUEL_TRAP)
    return caught.value


def test_a_fuel_trap_brings_back_the_last_good_cells_variables_and_names_the_rest(sandbox: Sandbox) -> None:
    sandbox.execute(
        "import json\n"
        "rows = [{'id': i, 'amount': i * 1.5} for i in range(3)]\n"
        "def total(rows, key='amount'):\n    return sum(r[key] for r in rows)\n"
        "pending = (r for r in rows)\n"
        "x = 42"
    )
    sandbox.execute("rows.append({'id': 3, 'amount': 4.5})")  # changed in place: pickled again
    error = trap(sandbox, "x = 'changed by the trapped cell'\nwhile True: pass")
    assert "the next cell gets back the variables of the last cell that ended well" in str(error)
    assert "could not be kept: pending" in str(error)
    assert error.result.stopped == "fuel" and error.result.fuel_used > 0
    after = sandbox.execute("x, len(rows), total(rows), json.dumps([1]), 'pending' in globals()")
    assert after.value == [42, 4, 9.0, "[1]", False]
    assert after.session_reset
    assert "json, rows, total, x came back" in after.note
    assert "could not be kept: pending (not picklable: generator)" in after.note
    assert sandbox.execute("1").note is None, "said once"


def test_a_value_past_the_snapshot_limit_is_named(sandbox: Sandbox) -> None:
    small = SandboxPolicy(snapshot_limit_bytes=2_000)
    sandbox.execute("big = 'x' * 10_000\nsmall = 'kept'", small)
    assert sandbox.snapshot.info().not_kept["big"].startswith("too large to keep")
    with pytest.raises(FuelExhausted, match="could not be kept: big"):
        sandbox.execute("while True: pass", FUEL_TRAP.model_copy(update={"snapshot_limit_bytes": 2_000}))
    after = sandbox.execute("small, 'big' in globals()", small)
    assert after.value == ["kept", False] and "big (too large to keep" in after.note


def test_a_cell_that_changes_nothing_sends_nothing(sandbox: Sandbox) -> None:
    sandbox.execute("records = [{'id': i} for i in range(100)]\nn = 1")
    taken = sandbox.snapshot.cell
    sandbox.execute("len(records) + n")  # reads only: immutable n and a list used by name (pickled again)
    sandbox.execute("print('hello')")
    assert sandbox.snapshot.cell == taken + 1, "only the cell that used `records` sent an update"
    sandbox.execute("del n")
    assert sandbox.snapshot.info().kept == ["records"]


def test_the_stopped_cells_own_changes_are_not_kept_and_reset_forgets_the_snapshot(sandbox: Sandbox) -> None:
    sandbox.execute("a = 1")
    trap(sandbox, "a = 2\nb = 3\nwhile True: pass")
    assert sandbox.execute("a, 'b' in globals()").value == [1, False]
    sandbox.reset()
    trap(sandbox)
    assert sandbox.execute("'a' in globals()").value is False


def test_snapshots_can_be_switched_off(sandbox: Sandbox) -> None:
    off = SandboxPolicy(snapshot_limit_bytes=0)
    sandbox.execute("a = 1", off)
    with pytest.raises(FuelExhausted, match="no variables had been kept"):
        sandbox.execute("while True: pass", FUEL_TRAP.model_copy(update={"snapshot_limit_bytes": 0}))
    assert sandbox.execute("'a' in globals()", off).value is False


def test_the_host_refuses_an_update_that_is_not_one_or_is_too_large() -> None:
    snapshot = Snapshot(limit_bytes=4)
    with pytest.raises(SandboxError, match="not a snapshot update"):
        snapshot.parse('{"set": {"x": ["exec", "AA=="]}}')
    with pytest.raises(SandboxError, match="not a snapshot update"):
        snapshot.parse('{"set": {"x": ["pickle", "not base64!"]}}')
    with pytest.raises(SandboxError, match="limit is 4"):
        snapshot.parse('{"set": {"x": ["pickle", "gAVLKi4="]}}')
    assert not snapshot and snapshot.info().kept == []
