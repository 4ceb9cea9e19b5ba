"""How the sandbox looks: its policy (what a cell may reach), its open sessions, and the kernel's stats.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import SandboxSessionList
>>> print(to_text(SandboxSessionList(sessions=[], max_sessions=20, memory_reserved_mb=0)))
sandbox sessions: 0 of at most 20, 0 MiB reserved
  (none)  one opens with the first %%mcp_execute cell
"""

from __future__ import annotations

from ..models import SandboxSessionList, SessionStats
from ..sandbox.policy import ZONEINFO_DIR, SandboxPolicy
from .dispatch import renders_sections
from .formatting import Sections, filesize

__all__ = ["sandbox_policy_sections", "sandbox_sessions_sections", "session_stats_sections"]


@renders_sections(SandboxPolicy)
def sandbox_policy_sections(obj: SandboxPolicy) -> tuple[str, Sections]:
    rows = [
        ("servers", ", ".join(obj.servers) or "none (deny by default)"),
        ("memory", f"{obj.memory_mb} MiB"),
        ("wall clock", f"{obj.timeout_s:g} s"),
        ("fuel", f"{obj.fuel:,} instructions"),
        ("output", filesize(obj.output_limit_bytes)),
        ("tool params", f"at most {filesize(obj.max_param_bytes)} per call"),
        ("rate limit", f"{obj.rate_limit:g} calls/s per tool" if obj.rate_limit else "off"),
        ("tool timeout", f"{obj.tool_timeout_s:g} s"),
        ("call budget", _budget(obj)),
        ("approvals", _approvals(obj)),
        (
            "result cache",
            f"on (read-only/idempotent tools, reused for {obj.cache_ttl_s:g} s)" if obj.cache else "off",
        ),
        ("state", f"at most {filesize(obj.state_limit_bytes)}"),
        ("/workspace", f"at most {obj.disk_mb} MiB"),
        ("personal data", "replaced by placeholders on the way out" if obj.tokenize_pii else "passed as is"),
    ]
    grants = [
        ("network", "none"),
        ("environment", "empty"),
        ("/mcp-tools", "generated bindings, read-only"),
        ("/workspace", "this session's scratch directory, read-write"),
        *([("/zoneinfo", "the host's time-zone database, read-only")] if ZONEINFO_DIR.is_dir() else []),
        ("other host files", "none"),
    ]
    return "Sandbox policy", [("limits", rows), ("what the cell can reach", grants)]


def _budget(policy: SandboxPolicy) -> str:
    total = "no cap" if policy.max_calls is None else f"at most {policy.max_calls} calls"
    tools = ", ".join(f"{tool} {cap}" for tool, cap in sorted(policy.max_calls_per_tool.items()))
    return f"{total} to servers per cell (cache hits are free)" + (f"; per tool: {tools}" if tools else "")


def _approvals(policy: SandboxPolicy) -> str:
    asks = {
        "always": "every call asks a person first",
        "destructive": "calls to tools not annotated read-only or harmless ask a person first",
        "never": "no call asks",
    }[policy.approve]
    parts = [f"{asks} (approve={policy.approve})"]
    if policy.approve_tools:
        parts.append("rules: " + ", ".join(f"{r}={m}" for r, m in sorted(policy.approve_tools.items())))
    if policy.approve != "never" or set(policy.approve_tools.values()) - {"never"}:
        parts.append(f"unanswered after {policy.approval_timeout_s:g} s: denied")
    return "; ".join(parts)


@renders_sections(SandboxSessionList)
def sandbox_sessions_sections(obj: SandboxSessionList) -> tuple[str, Sections]:
    rows = [
        (
            r.handle,
            f"{r.cells} cells, idle {r.idle_s:g} s, memory limit {r.memory_limit_mb} MiB"
            + (", running a cell" if r.busy else ""),
        )
        for r in obj.sessions
    ]
    budget = f" of {obj.memory_budget_mb} MiB" if obj.memory_budget_mb else ""
    title = (
        f"sandbox sessions: {len(obj.sessions)} of at most {obj.max_sessions}, "
        f"{obj.memory_reserved_mb} MiB reserved{budget}"
    )
    return title, [("", rows or [("(none)", "one opens with the first %%mcp_execute cell")])]


@renders_sections(SessionStats)
def session_stats_sections(obj: SessionStats) -> tuple[str, Sections]:
    b = obj.bridge
    sections: Sections = [
        (
            "bridge",
            [
                ("calls", b.calls),
                ("errors", b.errors),
                ("cache hits", b.cache_hits),
                ("latency p50 / p95", f"{b.latency_p50_ms:.1f} / {b.latency_p95_ms:.1f} ms"),
                ("bytes in / out", f"{filesize(b.bytes_in)} / {filesize(b.bytes_out)}"),
                ("cache", f"{b.cache_entries} entries, {filesize(b.cache_bytes)}"),
            ],
        ),
        (
            "session",
            [
                ("cells run", obj.cells),
                ("servers connected", obj.servers_connected),
                ("bindings generated", ", ".join(obj.generated) or "none"),
                ("files in /mcp-tools", obj.vfs_files),
                *((k, f"{v:.2f} s") for k, v in obj.engine_timings.items()),
            ],
        ),
    ]
    if obj.storage:
        sections.append(("on disk", list(obj.storage.items())))
    return "mcp-kernel stats", sections
