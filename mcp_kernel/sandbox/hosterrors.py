"""A host error as the guest reads it: a kind code, a tab, then the message a cell sees.

The guest (``_raise_from_host`` in ``guest/app/guest_host.py``) picks the exception a cell gets by the kind
alone, never by the words: ``interrupt`` raises ``KeyboardInterrupt`` and ``timeout`` raises ``CellTimeout``
(both unwind the cell), ``error`` raises ``ToolCallError``, which the cell may catch. So renaming an error
class changes what a cell reads, not what it gets. Every failed host import is worded here, by :func:`encode`.

>>> from mcp_kernel.errors import ToolNotFound
>>> encode(ToolNotFound("Server 'demo' has no tool 'x'."))
"error\\tToolNotFound: Server 'demo' has no tool 'x'."
>>> encode(stopped("timeout"))
"timeout\\tthe cell's time limit passed; its tool calls were cancelled."
"""

from __future__ import annotations

from ..errors import Interrupted, MCPKernelError, SandboxError, SandboxTimeout, ToolCallError

__all__ = ["KINDS", "MAX_TEXT", "encode", "stopped"]

# The guest's _HOST_ERRORS has the same keys (tests/sandbox/test_hosterrors.py holds them together). The two
# that stop the cell are also the stop reasons the ``log`` and ``wait-calls`` imports answer with.
KINDS = ("interrupt", "timeout", "error")
MAX_TEXT = 20_000  # characters of a message the guest is given: a server's error text can be any size


def encode(exc: BaseException) -> str:
    """The text a failed host import answers with: ``kind<TAB>message``.

    ``Interrupted`` and ``SandboxTimeout`` stop the cell and carry their message alone, as does
    ``ToolCallError``, the failure a cell expects; any other error of ours is named in its message, and
    anything else is a bug in the host, said as such.
    """
    if isinstance(exc, Interrupted):
        kind, message = "interrupt", str(exc)
    elif isinstance(exc, SandboxTimeout):
        kind, message = "timeout", str(exc)
    elif isinstance(exc, ToolCallError):
        kind, message = "error", str(exc)
    elif isinstance(exc, MCPKernelError):
        kind, message = "error", f"{type(exc).__name__}: {exc}"
    else:
        kind, message = "error", f"internal error in the host: {type(exc).__name__}: {exc}"
    return f"{kind}\t{message[:MAX_TEXT]}"


def stopped(reason: str | None) -> MCPKernelError:
    """The error a host import meets in a cell that was stopped for ``reason`` (``None``: no cell runs)."""
    if reason == "timeout":
        return SandboxTimeout("the cell's time limit passed; its tool calls were cancelled.")
    if reason == "interrupt":
        return Interrupted("the cell was interrupted; its tool calls were cancelled.")
    return SandboxError(f"the cell was stopped ({reason or 'close'}).")
