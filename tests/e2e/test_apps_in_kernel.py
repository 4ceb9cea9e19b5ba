"""In a real kernel: `%mcp app` and `%mcp call` display a tool's view as a widget whose state carries the view,
and a request sent to the widget's comm (as the page sends it) is answered through the kernel's session."""

from __future__ import annotations

import json
import sys
import time
from queue import Empty
from typing import Any

import pytest
from kernel_driver import KernelDriver
from realservers import SERVERS

from mcp_kernel.demo.server import dashboard_html

pytestmark = pytest.mark.slow

WIDGET = "application/vnd.jupyter.widget-view+json"


def shown(kernel: KernelDriver, line: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Run ``line``; the widget's bundle, the state its comm opened with, and every bundle shown."""
    reply = kernel.execute(line)
    assert reply.status == "ok", reply.reply
    views = [bundle for bundle in reply.bundles if WIDGET in bundle]
    assert len(views) == 1, reply.bundles
    model_id = views[0][WIDGET]["model_id"]
    opened = [m["content"] for m in reply.messages if m["msg_type"] == "comm_open"]
    state = next(c["data"]["state"] for c in opened if c["comm_id"] == model_id)
    return views[0], state, reply.bundles


def ask(kernel: KernelDriver, model_id: str, request: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    """Send ``request`` to the widget as the page does (a custom comm message); its answer from iopub."""
    message = kernel.kc.session.msg(
        "comm_msg", {"comm_id": model_id, "data": {"method": "custom", "content": request}}
    )
    kernel.kc.shell_channel.send(message)
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        try:
            msg = kernel.kc.get_iopub_msg(timeout=0.5)
        except Empty:
            continue
        content = msg["content"]
        if msg["msg_type"] == "comm_msg" and content["comm_id"] == model_id:
            data = content["data"]
            if data.get("method") == "custom" and data["content"].get("id") == request.get("id"):
                return dict(data["content"])
    raise AssertionError(f"no answer to {request} within {timeout} s")


def test_app_displays_the_view_and_answers_its_requests(kernel: KernelDriver) -> None:
    added = kernel.execute(f"%mcp add viewer -- {sys.executable} {SERVERS / 'viewer.py'}")
    assert added.status == "ok", added.reply
    view, state, bundles = shown(kernel, """%mcp app viewer show_view '{"topic": "eu"}'""")
    assert "ui/initialize" in state["html"] and state["server"] == "viewer" and state["tool"] == "show_view"
    assert "connect-src https://api.example.com;" in state["csp"] and "unsafe-eval" not in state["csp"]
    assert state["tool_input"] == {"topic": "eu"}
    assert state["tool_result"]["structuredContent"] == {"topic": "eu", "owner": "ann@example.org"}
    assert state["prefers_border"] is False and "AppBridge" not in state["html"]
    assert [note["kind"] for note in state["notes"]] == ["refused", "refused"]  # the CSP entries left out
    # the result as an output of its own, before the widget: readable without a kernel
    assert "ann@example.org" in bundles[0]["text/plain"] and WIDGET not in bundles[0]
    assert "needs a running kernel" in view["text/plain"] and "needs a running kernel" in view["text/html"]

    model_id = view[WIDGET]["model_id"]
    answer = ask(kernel, model_id, {"id": 1, "method": "tools/call", "params": {"name": "app_only"}})
    assert answer["result"]["structuredContent"] == {"refreshed": 1}
    refused = ask(kernel, model_id, {"id": 2, "method": "tools/call", "params": {"name": "model_only"}})
    assert "not visible to apps" in refused["error"]["message"]
    alive = kernel.execute("print(1 + 1)")  # the kernel is unharmed
    assert alive.stdout.strip() == "2"

    # the page says the view left it (output cleared, cell re-run): the kernel closes the widget's comm
    closing = kernel.kc.session.msg(
        "comm_msg",
        {"comm_id": model_id, "data": {"method": "custom", "content": {"method": "mcp-kernel/closed"}}},
    )
    kernel.kc.shell_channel.send(closing)
    ends = time.monotonic() + 30
    while time.monotonic() < ends:
        try:
            msg = kernel.kc.get_iopub_msg(timeout=0.5)
        except Empty:
            continue
        if msg["msg_type"] == "comm_close" and msg["content"]["comm_id"] == model_id:
            break
    else:
        raise AssertionError("the widget's comm was not closed")


def test_call_of_a_tool_with_a_view_shows_it_and_introspect_marks_it(kernel: KernelDriver) -> None:
    kernel.execute(f"%mcp add viewer -- {sys.executable} {SERVERS / 'viewer.py'}")
    _, state, _ = shown(kernel, "%mcp call viewer show_view")
    assert state["tool_result"]["structuredContent"]["topic"] == "sales"
    plain = kernel.execute("""%mcp call viewer plain '{"text": "a"}'""")
    assert not any(WIDGET in bundle for bundle in plain.bundles)
    listed = kernel.execute("%mcp introspect viewer")
    text = json.dumps(listed.bundles)
    assert "view" in text and "· view" in listed.bundles[0]["text/html"]
    no_view = kernel.execute('%mcp app viewer plain \'{"text": "a"}\'')
    assert "has no view" in json.dumps(no_view.messages, default=str)


def test_execute_shows_the_view_of_a_result_while_the_data_stays_in_the_sandbox(kernel: KernelDriver) -> None:
    assert kernel.execute("%mcp generate demo").status == "ok"
    cell = (
        "%%mcp_execute --servers demo\n"
        "from servers.demo import aggregate_sales\n"
        "from _mcp_runtime import show\n"
        "totals = aggregate_sales(group_by='region')\n"
        "show(totals)\n"
        "print('regions:', len(totals['groups']))\n"
        "len(totals['groups'])"
    )
    _, state, _ = shown(kernel, cell)
    assert state["html"] == dashboard_html() and (state["server"], state["tool"]) == (
        "demo",
        "aggregate_sales",
    )
    assert state["tool_input"]["group_by"] == "region"
    groups = state["tool_result"]["structuredContent"]["groups"]
    assert sorted(g["key"] for g in groups) == ["APAC", "EU", "LATAM", "MEA", "NA"]
    # run again: the cell's output and value say what the code printed and returned, not the rows (the footer
    # previews each call's result as every cell's does; the view's own fallback output shows the result)
    reply = kernel.execute(cell)
    widget_at = next(i for i, bundle in enumerate(reply.bundles) if WIDGET in bundle)
    value, fallback = reply.bundles[0], reply.bundles[widget_at - 1]
    assert reply.stdout == "regions: 5\n" and value["text/plain"] == "5" and widget_at == 2
    for group in groups:
        assert str(group["value"]) not in reply.stdout + json.dumps(value)
        assert str(group["value"]) in json.dumps(fallback)
