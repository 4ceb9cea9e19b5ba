"""Answers of the commands that have no subject of their own: a one-sentence notice, the list of commands,
settings, the kernelspec, a debug report and what ``mcp-kernel demo`` did.

>>> Notice(text="Saved.").text
'Saved.'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..vfs import TreeNode
from .base import _Model
from .bindings import GenerateReport
from .execution import ExecutionResult
from .tokens import TokenReport
from .tools import Introspection

__all__ = [
    "CommandList",
    "CommandSummary",
    "DebugReport",
    "DemoReport",
    "KernelspecResult",
    "Notice",
    "SettingRow",
    "SettingsReport",
]


class Notice(_Model):
    """A command's one-sentence answer (``plugin export``, ``reset``), shown as the sentence, not a quoted repr."""

    text: str


class CommandSummary(_Model):
    """One command of the registry and the first sentence of its help."""

    name: str
    summary: str


class CommandList(_Model):
    """The commands available in one place (``%mcp`` or ``mcp-kernel``): what ``%mcp help`` shows."""

    prog: str
    commands: list[CommandSummary]
    hint: str = ""


class KernelspecResult(_Model):
    """Where the kernelspec was installed or removed."""

    action: Literal["installed", "removed"]
    name: str
    path: str
    sandbox: str | None = (
        None  # what `install` did about the sandbox component (built, already built, skipped)
    )


class DebugReport(_Model):
    """Versions, paths and component status for a bug report."""

    python: str
    platform: str
    versions: dict[str, str]
    paths: dict[str, str]
    status: dict[str, str]


class SettingRow(_Model):
    name: str
    value: Any
    source: str
    help: str = ""


class SettingsReport(_Model):
    """Effective settings with their sources, or the files ``config init`` wrote."""

    file: str
    rows: list[SettingRow]
    written: list[str] = Field(default_factory=list)


class DemoReport(_Model):
    """What ``mcp-kernel demo`` did, step by step."""

    transport: Literal["stdio", "http"]
    introspection: Introspection
    generated: GenerateReport | None = None
    tree: TreeNode | None = None
    code: str = ""
    execution: ExecutionResult | None = None
    tokens: TokenReport | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """False when the sandboxed step failed (the CLI then exits non-zero)."""
        return self.execution is not None and self.execution.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1
