"""The tools of every introspected server, and search over them at three levels of detail.

Progressive disclosure starts here: an agent (or a user) asks for names first, then a one-line summary or
the typed signature (the tool's line in its server's index, ``servers/<id>/__init__.pyi``), and reads a
full schema only for the tools it is about to use.

>>> from mcp_kernel.models import ServerInfo, ToolInfo
>>> reg = ToolRegistry()
>>> reg.register("demo", ServerInfo(name="demo"), [ToolInfo(name="query_sales", description="Query sales rows.")])
>>> [hit.tool for hit in reg.search("sales").hits]
['query_sales']
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Literal

from .errors import ServerNotFound, ToolNotFound
from .models import SearchHit, SearchResults, ServerInfo, SkillInfo, ToolInfo
from .text import calls_text, summary_line

__all__ = ["Detail", "ToolRegistry", "answer_line", "search_answer"]

Detail = Literal["name", "summary", "signature", "full"]
DETAILS: tuple[Detail, ...] = ("name", "summary", "signature", "full")


class ToolRegistry:
    """Servers and their tools, as last introspected."""

    def __init__(self) -> None:
        self._servers: dict[str, tuple[ServerInfo, list[ToolInfo]]] = {}

    def register(self, server: str, info: ServerInfo, tools: list[ToolInfo]) -> None:
        """Record (or replace) what ``server`` publishes."""
        self._servers[server] = (info, list(tools))

    def forget(self, server: str) -> None:
        self._servers.pop(server, None)

    def servers(self) -> list[str]:
        return sorted(self._servers)

    def info(self, server: str) -> ServerInfo:
        return self._entry(server)[0]

    def tools(self, server: str) -> list[ToolInfo]:
        return list(self._entry(server)[1])

    def tool(self, server: str, name: str) -> ToolInfo:
        """One tool; ``ToolNotFound`` names the server's tools when it is not there."""
        for tool in self._entry(server)[1]:
            if tool.name == name:
                return tool
        known = ", ".join(t.name for t in self._entry(server)[1][:20])
        raise ToolNotFound(
            f"Server {server!r} has no tool {name!r}. Its tools: {known}.", server=server, tool=name
        )

    def _entry(self, server: str) -> tuple[ServerInfo, list[ToolInfo]]:
        try:
            return self._servers[server]
        except KeyError:
            raise ServerNotFound(
                f"Server {server!r} has not been introspected. Run `introspect {server}` first "
                f"(introspected: {', '.join(self.servers()) or 'none'}).",
                server=server,
            ) from None

    def search(
        self,
        query: str,
        *,
        detail: Detail = "summary",
        servers: list[str] | None = None,
        limit: int = 50,
        skills: Sequence[SkillInfo] = (),
    ) -> SearchResults:
        """Tools whose name, title or description match every word of ``query``, best first.

        A name match outranks a title match, which outranks a description match (SQLite FTS5's BM25 ranked
        benchmarks/bench_search.py's queries no better, so these weights stay). ``detail`` chooses what
        each hit carries: the name only; plus a one-line summary; the signature line of the server's index
        instead (name, typed signature, first sentence); or the summary, signature and full schemas.
        ``skills`` (saved functions, :mod:`mcp_kernel.skills`) are found the same way, as hits of the
        ``skills`` package that name the servers they call.
        """
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}")
        words = [w for w in re.split(r"\W+", query.lower()) if w]
        scored: list[tuple[int, str, str, ToolInfo | SkillInfo]] = []
        for server in servers or self.servers():
            for tool in self._entry(server)[1]:
                score = _score(tool.name, tool.title or tool.annotations.title or "", tool.description, words)
                if score > 0:
                    scored.append((-score, server, tool.name, tool))
        for skill in skills:
            score = _score(skill.name, "", skill.description, words)
            if score > 0:
                scored.append((-score, "skills", skill.name, skill))
        scored.sort(key=lambda item: item[:3])
        lines: dict[str, dict[str, str]] = {}
        if detail in ("signature", "full"):
            # codegen (jinja2) costs ~40 ms to import: only for these two details
            from .codegen import index_lines

            for server in {server for _, server, _, item in scored[:limit] if isinstance(item, ToolInfo)}:
                lines[server] = index_lines(server, self._entry(server)[1])
        hits = [
            SearchHit(
                server=server,
                tool=item.name,
                summary=summary_line(item.description) if detail in ("summary", "full") else None,
                signature=lines[server][item.name] if server in lines else None,
                input_schema=item.input_schema if detail == "full" else None,
                output_schema=item.output_schema if detail == "full" else None,
                annotations=item.annotations if detail == "full" else None,
            )
            if isinstance(item, ToolInfo)
            else _skill_hit(item, detail)
            for _, server, _, item in scored[:limit]
        ]
        return SearchResults(query=query, detail=detail, hits=hits, total=len(scored))


def search_answer(results: SearchResults, limit: int) -> str:
    """The answer text for ``results``, one hit a line up to ``limit``: exactly what ``serve``'s
    ``search_tools`` sends, and what the token report's search path measures (one builder, so the measured
    figure is what an agent receives).

    >>> hit = SearchHit(server="demo", tool="echo", signature="def echo(*, text: str) -> Any: ...")
    >>> print(search_answer(SearchResults(query="echo", detail="signature", hits=[hit], total=1), limit=20))
    1 tool(s) match 'echo':
    demo: def echo(*, text: str) -> Any: ...
    """
    lines = [answer_line(hit, results.detail) for hit in results.hits[:limit]]
    more = len(results.hits) - limit
    if more > 0:
        lines.append(f"... {more} more; narrow the query or raise limit")
    query = results.query
    skills = sum(hit.calls is not None for hit in results.hits)
    found = (
        f"{len(results.hits) - skills} tool(s) and {skills} skill(s)"
        if skills
        else f"{len(results.hits)} tool(s)"
    )
    head = f"{found} match {query!r}" if results.hits else f"No tool matches {query!r}"
    return "\n".join([head + (":" if lines else ". Try a shorter query or read /mcp-tools/servers."), *lines])


def answer_line(hit: SearchHit, detail: Detail) -> str:
    """One hit's line in a search answer: ``server: signature`` at ``signature`` detail, else
    ``server.tool: summary`` (and the compact input schema at ``full``).

    >>> answer_line(SearchHit(server="demo", tool="echo", summary="Echo the text."), "summary")
    'demo.echo: Echo the text.'
    """
    if hit.signature and detail == "signature":
        return f"{hit.server}: {hit.signature}"
    line = f"{hit.server}.{hit.tool}"
    if hit.summary:
        line += f": {hit.summary}"
    if hit.calls is not None:  # a skill: what it needs, and (at full) how to call it
        line += f" ({calls_text(hit.calls)})"
        if hit.signature and detail == "full":
            line += f"\n  {hit.signature}\n  from skills.{hit.tool} import {hit.tool}"
    if hit.input_schema is not None:
        line += f"\n  input: {json.dumps(hit.input_schema, separators=(',', ':'))}"
    return line


def _skill_hit(skill: SkillInfo, detail: Detail) -> SearchHit:
    """A saved skill as a search hit: of the ``skills`` package, with the servers it calls."""
    return SearchHit(
        server="skills",
        tool=skill.name,
        summary=skill.summary if detail in ("summary", "full") else None,
        signature=skill.index_line()
        if detail == "signature"
        else skill.signature
        if detail == "full"
        else None,
        calls=skill.servers,
    )


def _score(name: str, title: str, description: str, words: list[str]) -> int:
    if not words:
        return 1
    name = name.lower().replace("-", "_")
    title = title.lower()
    description = description.lower()
    total = 0
    for word in words:
        if word in name:
            total += 10
        elif word in title:
            total += 5
        elif word in description:
            total += 1
        else:
            return 0
    return total
