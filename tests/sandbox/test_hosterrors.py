"""How a failed host import is worded for the guest: a kind code it acts on, then the words a cell reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mcp_kernel import errors
from mcp_kernel.sandbox.hosterrors import KINDS, MAX_TEXT, encode, stopped

pytestmark = pytest.mark.slow

GUEST = Path(errors.__file__).parent / "sandbox" / "guest" / "app" / "guest_host.py"


@pytest.mark.parametrize(
    ("exc", "wire"),
    [
        (
            errors.Interrupted("the read was cancelled (interrupt)."),
            "interrupt\tthe read was cancelled (interrupt).",
        ),
        (errors.SandboxTimeout("the cell's time limit passed."), "timeout\tthe cell's time limit passed."),
        (errors.ToolCallError("fake.refuse refused: policy"), "error\tfake.refuse refused: policy"),
        (errors.ToolNotFound("no tool 'x'"), "error\tToolNotFound: no tool 'x'"),
        (errors.PolicyViolation("not allowed"), "error\tPolicyViolation: not allowed"),
        (RuntimeError("host bug"), "error\tinternal error in the host: RuntimeError: host bug"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_each_error_is_sent_with_its_kind(exc: BaseException, wire: str) -> None:
    assert encode(exc) == wire


def test_the_kind_does_not_hang_on_a_class_name() -> None:
    class Renamed(errors.Interrupted):
        """A subclass (or a renamed class) stops the cell all the same."""

    assert encode(Renamed("stopped")) == "interrupt\tstopped"


@pytest.mark.parametrize(
    ("reason", "wire"),
    [
        ("timeout", "timeout\tthe cell's time limit passed; its tool calls were cancelled."),
        ("interrupt", "interrupt\tthe cell was interrupted; its tool calls were cancelled."),
        ("output", "error\tSandboxError: the cell was stopped (output)."),
        (None, "error\tSandboxError: the cell was stopped (close)."),
    ],
)
def test_a_stopped_cell_is_told_why(reason: str | None, wire: str) -> None:
    assert encode(stopped(reason)) == wire


def test_a_long_message_is_cut() -> None:
    kind, _, message = encode(errors.ToolCallError("x" * (MAX_TEXT + 10))).partition("\t")
    assert kind == "error" and len(message) == MAX_TEXT


def test_the_guest_knows_the_same_kinds() -> None:
    """The guest is built apart from the host package, so it keeps its own table: the same keys."""
    tree = ast.parse(GUEST.read_text())
    table = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "_HOST_ERRORS" for t in node.targets)
    )
    assert isinstance(table, ast.Dict)
    assert sorted(ast.literal_eval(key) for key in table.keys if key is not None) == sorted(KINDS)
