"""%mcp in a real IPython shell: the shared registry's commands, session commands, clean errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mcp_kernel.display import to_text
from mcp_kernel.errors import MCPKernelError, ServerNotFound
from mcp_kernel.models import LogExcerpt, SearchResults, ServerAdded, ServerList


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mcp_kernel")
    yield ip
    ip.run_line_magic("unload_ext", "mcp_kernel")


@pytest.mark.slow
def test_add_introspect_search_call_remove(shell: InteractiveShell) -> None:
    added = shell.run_line_magic("mcp", f"add shop -- {sys.executable} -m mcp_kernel.demo")
    # A short answer, not the tool table (`introspect` shows that): a notebook adds several servers.
    assert isinstance(added, ServerAdded) and added.server_name == "shop" and "query_sales" in added.tools
    assert "%mcp introspect shop" in to_text(added) and len(to_text(added).splitlines()) == 2
    listed = shell.run_line_magic("mcp", "servers")
    assert isinstance(listed, ServerList)
    assert next(s for s in listed.servers if s.name == "shop").connected
    found = shell.run_line_magic("mcp", "search customer --detail name")
    assert isinstance(found, SearchResults) and "get_customer" in [h.tool for h in found.hits]
    result = shell.run_line_magic("mcp", """call shop query_sales '{"region": "EU", "limit": 2}'""")
    assert not result.is_error
    logs = shell.run_line_magic("mcp", "logs shop")
    assert isinstance(logs, LogExcerpt) and logs.path.endswith("shop.log")
    shell.run_line_magic("mcp", "remove shop")
    assert "shop" not in [s.name for s in shell.run_line_magic("mcp", "servers").servers]


def test_load_an_mcp_json(shell: InteractiveShell, tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"loaded": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}})
    )
    listed = shell.run_line_magic("mcp", f"load {config}")
    assert "loaded" in [s.name for s in listed.servers]
    shell.run_line_magic("mcp", "remove loaded")


@pytest.mark.slow
def test_json_flag_prints_json(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("mcp", "introspect demo --json") is None
    assert json.loads(capsys.readouterr().out)["server"]["name"] == "demo"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("frobnicate", "invalid choice"),
        ("introspect", "the following arguments are required"),
        ("add x", "give either --url URL or -- COMMAND"),
        ("add x --url http://h -- cmd", "give either --url URL or -- COMMAND"),
        ("add x --url http://127.0.0.1:1/mcp --header nokey", "KEY=VALUE"),
        ("call demo list_regions '{bad'", "not valid JSON"),
        ("search 'unclosed", "check the quotes"),
    ],
)
def test_parse_errors_are_one_line_usage_errors(shell: InteractiveShell, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("mcp", line)


def test_server_errors_are_typed_and_render_as_one_line(shell: InteractiveShell) -> None:
    with pytest.raises(ServerNotFound) as err:
        shell.run_line_magic("mcp", "introspect nowhere")
    lines = err.value._render_traceback_()
    assert len(lines) == 1 and "ServerNotFound" in lines[0] and "nowhere" in lines[0]


def test_a_failing_server_does_not_break_the_shell(shell: InteractiveShell) -> None:
    script = Path(__file__).resolve().parent.parent / "servers" / "exit_early.py"
    with pytest.raises(MCPKernelError, match="missing API key"):
        shell.run_line_magic("mcp", f"add broken -- {sys.executable} {script}")
    assert shell.run_line_magic("mcp", "servers") is not None


def test_help_and_config(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_kernel.display import to_html, to_text

    shown = shell.run_line_magic("mcp", "help")
    text, html = to_text(shown), to_html(shown)
    for name, summary in (
        ("add", "Add a server to this session"),
        ("introspect", "List a server's tools"),
        ("search", "Find tools"),
        ("call", "Call one tool"),
        ("servers", "The servers of"),
    ):
        assert f"%mcp {name}" in text and summary in text, "a table of commands with one-line descriptions"
        assert f"%mcp {name}</code>" in html and summary.replace("'", "&#39;") in html
    assert "usage:" not in text and "positional arguments" not in text, "not argparse's raw help"
    shell.run_line_magic("config", "MCPKernel.timeout = 61")
    assert shell.run_line_magic("config", "MCPKernel.timeout") == 61


@pytest.mark.slow
def test_plugin_export_answers_with_a_sentence_not_a_quoted_repr(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    from mcp_kernel.models import Notice

    store, archive = tmp_path / "store", tmp_path / "demo.plugin"
    shell.run_line_magic("mcp", f"add pdemo -- {sys.executable} -m mcp_kernel.demo")
    try:
        shell.run_line_magic("mcp", f"generate pdemo --save-plugin --store {store}")
        answer = shell.run_line_magic("mcp", f"plugin export pdemo {archive} --store {store}")
    finally:
        shell.run_line_magic("mcp", "remove pdemo")
    assert isinstance(answer, Notice) and archive.exists()
    shown, _ = shell.display_formatter.format(answer)
    assert shown["text/plain"] == f"exported plugin 'pdemo' to {archive}", "the sentence, without quotes"
    assert f"exported plugin &#39;pdemo&#39; to {archive}" in shown["text/html"]
