"""%%mcp_execute through a real MCP kernel: tool calls, state, errors, interrupts, the footer."""

from __future__ import annotations

import pytest
from kernel_driver import KernelDriver

pytestmark = pytest.mark.slow


def test_a_cell_calls_two_tools_and_keeps_state(kernel: KernelDriver) -> None:
    assert kernel.execute("%mcp generate demo").status == "ok"
    first = kernel.execute(
        "%%mcp_execute --servers demo\n"
        "from servers.demo import query_sales, aggregate_sales\n"
        "rows = query_sales(region='NA', limit=5000)['rows']\n"
        "by_cat = aggregate_sales(group_by='category', region='NA')\n"
        "print('orders', len(rows))\n"
        "len(by_cat['groups'])"
    )
    assert first.status == "ok", first.reply
    assert first.stdout.startswith("orders ")
    value, footer = first.bundles
    assert value == {"text/plain": "3"}
    assert set(footer) == {"text/plain", "text/html"}
    assert (
        footer["text/plain"].startswith("[2 tool calls") and "stayed in the sandbox" in footer["text/plain"]
    )
    second = kernel.execute("%%mcp_execute\nlen(rows) > 0")
    assert second.bundles[0] == {"text/plain": "True"}


def test_a_guest_exception_is_one_error_with_the_guest_traceback(kernel: KernelDriver) -> None:
    reply = kernel.execute("%%mcp_execute\ndef f():\n    return {}['missing']\nf()")
    assert reply.status == "error"
    [error] = reply.of("error")
    assert error["ename"] == "CellError"
    text = "\n".join(error["traceback"])
    assert "<cell" in text and "KeyError" in text
    assert "mcp_kernel" not in text, "no host frames"
    assert kernel.alive()


def test_a_limit_is_a_typed_error_and_the_kernel_lives(kernel: KernelDriver) -> None:
    reply = kernel.execute("%%mcp_execute --timeout 1\nwhile True: pass")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "SandboxTimeout"
    after = kernel.execute("%%mcp_execute\n'back'")
    assert after.bundles[0] == {"text/plain": "'back'"}
    assert "the sandbox was restarted" in after.bundles[-1]["text/plain"]


def test_interrupt_stops_a_slow_tool_call(kernel: KernelDriver) -> None:
    kernel.execute("%mcp generate demo")
    progress: list[str] = []

    def interrupt_at_the_first_progress(msg: dict) -> None:
        text = msg["content"].get("data", {}).get("text/plain", "")
        if "demo.forecast_revenue:" in text:
            if not progress:
                kernel.km.interrupt_kernel()
            progress.append(text)

    reply = kernel.execute(
        "%%mcp_execute --servers demo\nfrom servers.demo import forecast_revenue\n"
        "forecast_revenue(months=12)",
        on_message=interrupt_at_the_first_progress,
    )
    assert reply.status == "error"
    assert reply.of("error")[0]["ename"] == "Interrupted"
    assert progress, "the interrupt landed while the call was in flight"
    assert not any("12/12" in text for text in progress), f"stopped before the call's end: {progress[-1]}"
    assert kernel.execute("%%mcp_execute\n1 + 1").bundles[0] == {"text/plain": "2"}


def test_interrupt_stops_a_busy_loop(kernel: KernelDriver) -> None:
    def interrupt_once_looping(msg: dict) -> None:
        if msg["msg_type"] == "stream" and "looping" in msg["content"]["text"]:
            kernel.km.interrupt_kernel()

    reply = kernel.execute(
        "%%mcp_execute --timeout 60\nprint('looping', flush=True)\nwhile True: pass",
        on_message=interrupt_once_looping,
    )
    assert reply.status == "error"
    assert reply.of("error")[0]["ename"] == "Interrupted", "stopped by the interrupt, not its 60 s limit"
    assert kernel.execute("%%mcp_execute\n'ok'").status == "ok"


def test_policy_stats_and_reset(kernel: KernelDriver) -> None:
    policy = kernel.execute("%mcp policy --servers demo --memory 128")
    text = policy.bundles[0]["text/plain"]
    assert "128 MiB" in text and "demo" in text
    kernel.execute("%%mcp_execute\nkeep = 1")
    stats = kernel.execute("%mcp stats session").bundles[0]["text/plain"]
    assert "cells run" in stats and "calls" in stats
    assert kernel.execute("%mcp reset").status == "ok"
    gone = kernel.execute("%%mcp_execute\n'keep' in globals()")
    assert gone.bundles[0] == {"text/plain": "False"}


def test_tokens_last_and_plugins_in_the_kernel(kernel: KernelDriver, tmp_path) -> None:
    kernel.execute("%mcp generate demo")
    kernel.execute(
        "%%mcp_execute --servers demo\nfrom servers.demo import query_sales\n"
        "rows = query_sales(limit=5000)['rows']\nprint(len(rows))"
    )
    last = kernel.execute("%mcp tokens --last")
    assert last.status == "ok" and "Stayed in the sandbox: 99." in last.bundles[0]["text/plain"]
    assert 'title="raw tool results:' in last.bundles[0]["text/html"]
    report = kernel.execute("%mcp tokens demo --tools query_sales")
    assert (
        'title="search path:' in report.bundles[0]["text/html"]
        and "Token savings" in report.bundles[0]["text/plain"]
    )
    store = str(tmp_path / "store")
    assert kernel.execute(f"%mcp generate demo --save-plugin --store {store}").status == "ok"
    info = kernel.execute(f"%mcp plugin info demo --store {store}")
    assert "up to date" in info.bundles[0]["text/plain"]


def test_a_cell_that_prints_a_flood_sends_a_bounded_number_of_messages(kernel: KernelDriver) -> None:
    """100,000 prints (past the 1 MiB output limit): the head streams, then one display shows how much was
    left out and the last lines; once stopped, the output is laid out again with the reason on top. The
    kernel sends a few hundred messages, not one per print."""
    reply = kernel.execute("%%mcp_execute\nfor i in range(100_000):\n    print('line', i)")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "OutputTooLarge"
    assert len(reply.messages) < 300, f"{len(reply.messages)} iopub messages"
    cleared = max(i for i, m in enumerate(reply.messages) if m["msg_type"] == "clear_output")
    final = reply.messages[cleared + 1 :]  # what the notebook shows once the cell ended
    streams = [m["content"] for m in final if m["msg_type"] == "stream"]
    assert (
        streams[0]["name"] == "stderr"
        and "stopped at its output limit (1,048,576 bytes)" in streams[0]["text"]
    )
    stdout = "".join(c["text"] for c in streams if c["name"] == "stdout")
    assert stdout.startswith("line 0\nline 1\n") and stdout.count("\n") == 200
    views = [
        m["content"]["data"]["text/plain"]
        for m in final
        if m["msg_type"] in ("display_data", "update_display_data")
        and m["content"]["data"].get("text/plain", "").startswith("[...")
    ]
    head, *tail = views[-1].splitlines()
    assert "lines); the cell was stopped at its output limit" in head, head
    assert 20 <= len(tail) <= 21 and tail[0].startswith("line 9"), tail  # + the line the limit cut
    assert kernel.execute("%%mcp_execute\nprint('next')").stdout == "next\n"


def test_output_of_a_short_cell_streams_whole_and_in_order(kernel: KernelDriver) -> None:
    reply = kernel.execute(
        "%%mcp_execute\nimport sys\nfor i in range(150):\n    print(i)\n"
        "print('to stderr', file=sys.stderr)\nprint('end')"
    )
    assert reply.status == "ok", reply.reply
    assert reply.stdout == "".join(f"{i}\n" for i in range(150)) + "end\n"
    assert reply.stderr == "to stderr\n"
    kinds = [
        (m["content"]["name"], m["content"]["text"]) for m in reply.messages if m["msg_type"] == "stream"
    ]
    err_at = next(i for i, (name, _) in enumerate(kinds) if name == "stderr")
    assert "149\n" in "".join(t for n, t in kinds[:err_at] if n == "stdout"), (
        "stderr came after the lines before it"
    )
    assert not any(b["text/plain"].startswith("[...") for b in reply.bundles)


def test_one_huge_line_shows_its_start_and_end_and_why_it_stopped(kernel: KernelDriver) -> None:
    reply = kernel.execute("%%mcp_execute\nprint('x' * 5_000_000)")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "OutputTooLarge"
    cleared = max(i for i, m in enumerate(reply.messages) if m["msg_type"] == "clear_output")
    final = reply.messages[cleared + 1 :]
    streams = [m["content"] for m in final if m["msg_type"] == "stream"]
    assert "stopped at its output limit" in streams[0]["text"], "the reason comes first"
    assert len("".join(c["text"] for c in streams if c["name"] == "stdout")) == 20_000, (
        "the first 20,000 characters"
    )
    views = [
        m["content"]["data"]["text/plain"]
        for m in final
        if m["msg_type"] in ("display_data", "update_display_data")
        and m["content"]["data"].get("text/plain", "").startswith("[...")
    ]
    head, last = views[-1].splitlines()
    assert "the cell was stopped at its output limit" in head, head
    assert last.startswith("[... ") and len(last) < 1_100, "the line's end, not the megabyte"
    assert sum(len(str(m["content"])) for m in reply.messages) < 150_000
