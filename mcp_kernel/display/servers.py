"""How servers look: the list of them, one just added, a validation run, signing in, a server's log.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import ValidationReport, ValidationRow
>>> print(to_text(ValidationReport(rows=[ValidationRow(name="demo", ok=True, tools=8)])))
server  ok  tools  protocol  time  error
demo    ok  8                0 ms
"""

from __future__ import annotations

import datetime as dt

from ..models import AuthStatus, LogExcerpt, ServerAdded, ServerList, SignInLink, ValidationReport
from .dispatch import renders, renders_sections
from .formatting import Sections, table

__all__ = [
    "auth_status_sections",
    "log_excerpt_text",
    "server_added_text",
    "server_list_text",
    "sign_in_link_text",
    "validation_report_text",
]


@renders(ServerList, html="display/server_list.html.j2")
def server_list_text(obj: ServerList) -> str:
    rows = [
        [s.name, s.transport, "yes" if s.connected else "no", s.source or "", s.target] for s in obj.servers
    ]
    return table(["server", "transport", "connected", "from", "command / url"], rows)


@renders(ServerAdded, "display/server_added.html.j2")
def server_added_text(obj: ServerAdded) -> str:
    names = ", ".join(obj.tools[:8]) + (f", … ({len(obj.tools) - 8} more)" if len(obj.tools) > 8 else "")
    plural = "" if len(obj.tools) == 1 else "s"
    return (
        f"added {obj.server_name}: {obj.server.name} {obj.server.version}".rstrip()
        + f" - {len(obj.tools)} tool{plural}"
        + (f": {names}" if names else "")
        + f"\n`%mcp introspect {obj.server_name}` shows their parameters and schemas"
    )


@renders(ValidationReport, html="display/validation.html.j2")
def validation_report_text(obj: ValidationReport) -> str:
    rows = [
        [
            r.name,
            "ok" if r.ok else "FAIL",
            r.tools if r.ok else "",
            r.protocol_version,
            f"{r.duration_ms:.0f} ms",
            r.error.splitlines()[0] if r.error else "",
        ]
        for r in obj.rows
    ]
    return table(["server", "ok", "tools", "protocol", "time", "error"], rows)


@renders(SignInLink, html="display/sign_in.html.j2")
def sign_in_link_text(obj: SignInLink) -> str:
    return f"Server {obj.server!r} needs you to sign in. Open this link:\n  {obj.url}"


@renders_sections(AuthStatus)
def auth_status_sections(obj: AuthStatus) -> tuple[str, Sections]:
    done = {"login": "signed in to", "logout": "signed out of", "status": "sign-in of"}[obj.action]
    if not obj.configured:
        return f"{done} {obj.server!r}", [("", [("oauth", "not configured (no oauth block in mcp.json)")])]
    expires = (
        dt.datetime.fromtimestamp(obj.expires_at).isoformat(timespec="seconds")
        if obj.expires_at is not None
        else ""
    )
    rows = [
        ("signed in", "yes" if obj.signed_in else "no"),
        ("grant", obj.grant or ""),
        ("scope", obj.scope or ""),
        ("token expires", expires),
        ("refreshable", "yes" if obj.refreshable else "no"),
        ("client id", obj.client_id or ""),
        ("token file", obj.token_file or ""),
    ]
    return f"{done} {obj.server!r}", [("", [(k, v) for k, v in rows if v != ""])]


@renders(LogExcerpt)
def log_excerpt_text(obj: LogExcerpt) -> str:
    return f"{obj.server}: {obj.path}\n{obj.text or '(empty)'}"
