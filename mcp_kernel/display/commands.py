"""How the housekeeping commands look: the list of commands, a notice, settings, the debug report, an
installed kernelspec, and the demo tour (which shows the other results in turn).

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import KernelspecResult
>>> print(to_text(KernelspecResult(action="installed", name="mcp", path="/k/mcp")))
installed kernelspec 'mcp' at /k/mcp
"""

from __future__ import annotations

import textwrap

from ..models import CommandList, DebugReport, DemoReport, KernelspecResult, Notice, SettingsReport
from .dispatch import renders, renders_sections, to_text
from .formatting import Sections, table

__all__ = [
    "command_list_text",
    "debug_report_sections",
    "demo_report_text",
    "kernelspec_text",
    "notice_text",
    "settings_report_text",
]


@renders(CommandList, html="display/commands.html.j2")
def command_list_text(obj: CommandList) -> str:
    body = table(["command", "what it does"], [[f"{obj.prog} {c.name}", c.summary] for c in obj.commands])
    return body + (f"\n\n{obj.hint}" if obj.hint else "")


@renders(Notice, html="display/notice.html.j2")
def notice_text(obj: Notice) -> str:
    return obj.text


@renders(SettingsReport)
def settings_report_text(obj: SettingsReport) -> str:
    if obj.written or not obj.rows:
        return "\n".join(f"wrote {path}" for path in obj.written) or "nothing written (files exist; --force)"
    return table(
        ["setting", "value", "from", "meaning"], [[r.name, r.value, r.source, r.help] for r in obj.rows]
    )


@renders_sections(DebugReport)
def debug_report_sections(obj: DebugReport) -> tuple[str, Sections]:
    return "mcp-kernel debug", [
        ("", [("python", obj.python), ("platform", obj.platform)]),
        ("versions", list(obj.versions.items())),
        ("paths", list(obj.paths.items())),
        ("status", list(obj.status.items())),
    ]


@renders(KernelspecResult)
def kernelspec_text(obj: KernelspecResult) -> str:
    line = f"{obj.action} kernelspec {obj.name!r} at {obj.path}"
    return line + (f"\nsandbox component: {obj.sandbox}" if obj.sandbox else "")


@renders(DemoReport)
def demo_report_text(obj: DemoReport) -> str:
    parts = [
        f"== 1. Introspect the bundled demo server (over {obj.transport})",
        to_text(obj.introspection),
        "",
        "== 2. Generate typed bindings into the progressive file tree",
        to_text(obj.generated).splitlines()[0],
        to_text(obj.tree),
        "",
        "== 3. Run code in the WebAssembly sandbox; it calls two tools through the bridge",
        textwrap.indent(obj.code.rstrip(), "    "),
        "-- output:",
        to_text(obj.execution),
        "",
        "== 4. Tokens: every tool definition up front vs reading only the two bindings used",
        to_text(obj.tokens).split("\n\nlargest")[0],
        "",
        to_text(obj.execution.tokens) if obj.execution and obj.execution.tokens else "",
        "",
        f"Done in {obj.duration_ms / 1000:.1f} s.",
    ]
    return "\n".join(parts)
