"""The audit trail's lines as read back (mcp_kernel/audit.py writes them).

>>> AuditEntry(time="2026-05-01T09:00:00+00:00", server="demo", tool="send_report", outcome="ok").caller
'notebook'
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuditEntry", "AuditReport"]


class AuditEntry(BaseModel):
    """One side-effecting call: who, what, a hash of the arguments (never their values), how it ended."""

    model_config = ConfigDict(defer_build=True)

    time: dt.datetime
    caller: str = "notebook"
    server: str
    tool: str
    args_hash: str = ""
    args_bytes: int = 0
    outcome: str = Field(description="ok, error: <kind>, or refused: <guard>")
    rule: str = Field(default="", description="the rules that allowed the call")


class AuditReport(BaseModel):
    """The entries that matched a query of the audit trail (the last ones, when limited)."""

    model_config = ConfigDict(defer_build=True)

    entries: list[AuditEntry] = Field(default_factory=list)
    matched: int = 0
    directory: str = ""
