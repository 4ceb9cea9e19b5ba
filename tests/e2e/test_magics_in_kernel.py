"""%mcp through a real MCP kernel: messages as Jupyter receives them, errors that keep the kernel alive."""

from __future__ import annotations

import sys

import pytest
from kernel_driver import KernelDriver

pytestmark = pytest.mark.slow


def test_add_and_introspect_display_text_and_html(kernel: KernelDriver) -> None:
    reply = kernel.execute(f"%mcp add demo -- {sys.executable} -m mcp_kernel.demo")
    assert reply.status == "ok", reply.reply
    [bundle] = reply.bundles
    assert set(bundle) == {"text/plain", "text/html"}
    assert "query_sales" in bundle["text/plain"] and "<code" in bundle["text/html"]
    assert "<table" not in bundle["text/html"]  # the tool table is `%mcp introspect demo`'s
    [shown] = kernel.execute("%mcp introspect demo").bundles
    assert "<details>" in shown["text/html"]


def test_search_and_servers(kernel: KernelDriver) -> None:
    found = kernel.execute("%mcp search customer --detail summary")
    assert found.status == "ok"
    assert "get_customer" in found.bundles[0]["text/plain"]
    servers = kernel.execute("%mcp servers")
    assert "demo" in servers.bundles[0]["text/plain"]


def test_errors_are_one_line_and_the_kernel_lives(kernel: KernelDriver) -> None:
    usage = kernel.execute("%mcp frobnicate")
    assert usage.status == "error"
    assert "UsageError" in usage.stderr or usage.of("error")
    missing = kernel.execute("%mcp introspect nowhere")
    assert missing.status == "error"
    [error] = missing.of("error")
    assert error["ename"] == "ServerNotFound"
    assert len(error["traceback"]) == 1, "an expected failure shows one line, not a host traceback"
    assert kernel.alive()


def test_config_reaches_the_settings(kernel: KernelDriver) -> None:
    kernel.execute("%config MCPKernel.timeout = 12")
    reply = kernel.execute("%config MCPKernel.timeout")
    assert reply.bundles[0]["text/plain"] == "12.0"


def test_tab_completes_mcp_lines_with_what_the_server_suggests(kernel: KernelDriver) -> None:
    """Jupyter's complete_request: tool names, prompt arguments and a server's completion/complete values."""
    kc = kernel.kc

    def complete(line: str) -> list[str]:
        msg_id = kc.complete(line, len(line))
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        assert content["status"] == "ok" and content["cursor_end"] == len(line)
        return [line[: content["cursor_start"]] + m for m in content["matches"]]

    assert complete("%mcp call demo query_") == ["%mcp call demo query_sales"]
    assert complete("%mcp prompt demo analyze_region region=A") == [
        "%mcp prompt demo analyze_region region=APAC"
    ]
    assert kernel.alive()


def test_a_watched_resource_is_redrawn_in_place(kernel: KernelDriver) -> None:
    """`%mcp watch` shows the resource once, then updates that display each time the server says it changed."""
    from queue import Empty

    from realservers import SERVERS

    added = kernel.execute(f"%mcp add board --env BOARD_TICK=0.3 -- {sys.executable} {SERVERS / 'board.py'}")
    assert added.status == "ok", added.reply
    shown = kernel.execute("%mcp watch board board://notices")
    assert shown.status == "ok", shown.reply
    [first] = [m for m in shown.messages if m["msg_type"] == "display_data"]
    display_id = first["content"]["transient"]["display_id"]
    redrawn: list[str] = []
    for _ in range(600):
        try:
            msg = kernel.kc.get_iopub_msg(timeout=0.1)
        except Empty:
            continue
        if (
            msg["msg_type"] == "update_display_data"
            and msg["content"]["transient"]["display_id"] == display_id
        ):
            redrawn.append(msg["content"]["data"]["text/plain"])
            if len(redrawn) == 2:
                break
    assert len(redrawn) == 2 and "tick" in redrawn[1], redrawn
    stopped = kernel.execute("%mcp watch board board://notices --stop")
    assert "Stopped watching" in stopped.bundles[0]["text/plain"]
    assert kernel.alive()
