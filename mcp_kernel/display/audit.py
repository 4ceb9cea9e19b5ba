"""How the audit trail looks: one row per recorded call.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import AuditEntry, AuditReport
>>> entry = AuditEntry(time="2026-05-01T09:00:00+00:00", server="demo", tool="send_report", outcome="ok",
...                    args_hash="blake3:0123456789abcdef", args_bytes=12)
>>> print(to_text(AuditReport(entries=[entry], matched=1)))
time                 caller    server  tool         outcome  arguments          rule
2026-05-01 09:00:00  notebook  demo    send_report  ok       0123456789ab 12 B
"""

from __future__ import annotations

from ..models import AuditReport
from .dispatch import renders
from .formatting import table

__all__ = ["audit_report_text"]


@renders(AuditReport)
def audit_report_text(obj: AuditReport) -> str:
    if not obj.entries:
        return f"no recorded calls match (audit trail: {obj.directory or 'the data directory'})"
    rows = [
        [
            e.time.strftime("%Y-%m-%d %H:%M:%S"),
            e.caller,
            e.server,
            e.tool,
            e.outcome,
            f"{e.args_hash.removeprefix('blake3:')[:12]} {e.args_bytes} B",
            e.rule,
        ]
        for e in obj.entries
    ]
    text = table(["time", "caller", "server", "tool", "outcome", "arguments", "rule"], rows)
    if obj.matched > len(obj.entries):
        text += f"\nthe last {len(obj.entries)} of {obj.matched} matching calls; --limit N shows more"
    return text
