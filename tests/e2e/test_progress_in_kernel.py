"""Progress in a real kernel: a tool's progress as one display updated in place (`%mcp call` and sandboxed
cells), the running "N calls · elapsed" line of a long cell, and the first build of the sandbox component
as a bar that is emptied when done."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from .kernel_driver import KernelDriver, Reply

pytestmark = [pytest.mark.slow, pytest.mark.long]


def _slot(reply: Reply, needle: str) -> tuple[dict, list[dict]]:
    """The display opened (empty) for a live line containing ``needle``, and all its updates."""
    updates = reply.of("update_display_data")
    ids = {u["transient"]["display_id"] for u in updates if needle in u["data"].get("text/plain", "")}
    assert len(ids) == 1, [u["data"].get("text/plain") for u in updates]
    opened = [d for d in reply.of("display_data") if d.get("transient", {}).get("display_id") in ids]
    return opened[0], [u for u in updates if u["transient"]["display_id"] in ids]


def test_progress_is_one_display_updated_in_place(kernel) -> None:
    reply = kernel.execute("%mcp call demo forecast_revenue '{\"months\": 3}'")
    assert reply.status == "ok", reply.reply
    first = [
        m["content"]
        for m in reply.messages
        if m["msg_type"] == "display_data"
        and "demo.forecast_revenue:" in m["content"]["data"].get("text/plain", "")
    ]
    updates = reply.of("update_display_data")
    assert len(first) == 1
    display_id = first[0]["transient"]["display_id"]
    assert [u["transient"]["display_id"] for u in updates] == [display_id] * len(updates)
    texts = [first[0]["data"]["text/plain"]] + [u["data"]["text/plain"] for u in updates]
    assert texts[-1] == "demo.forecast_revenue: 3/3 (100%) - month 3 of 3"
    assert "<progress" in updates[-1]["data"]["text/html"]
    assert reply.bundles[-1]  # the result itself follows


def test_progress_of_a_tool_called_from_a_sandboxed_cell(kernel) -> None:
    reply = kernel.execute(
        "%%mcp_execute --servers demo\nfrom servers.demo import forecast_revenue\n"
        "len(forecast_revenue(months=2)['forecast'])"
    )
    assert reply.status == "ok", reply.reply
    first = [
        m["content"]
        for m in reply.messages
        if m["msg_type"] == "display_data"
        and "demo.forecast_revenue:" in m["content"]["data"].get("text/plain", "")
    ]
    display_id = first[0]["transient"]["display_id"]
    updates = [u for u in reply.of("update_display_data") if u["transient"]["display_id"] == display_id]
    assert len(first) == 1 and updates
    assert updates[-1]["data"]["text/plain"] == "demo.forecast_revenue: 2/2 (100%) - month 2 of 2"
    assert {"text/plain": "2"} in reply.bundles


def test_a_long_cell_shows_calls_and_elapsed_while_it_runs_then_leaves_nothing(kernel) -> None:
    # forecast_revenue sleeps 0.3 s a month: the cell runs past the quiet first second after one call.
    reply = kernel.execute(
        "%%mcp_execute --servers demo\nfrom servers.demo import query_sales, forecast_revenue\n"
        "n = len(query_sales(limit=3)['rows'])\nlen(forecast_revenue(months=6)['forecast'])"
    )
    assert reply.status == "ok", reply.reply
    opened, updates = _slot(reply, "running · ")
    assert opened["data"] == {}  # opened empty: a saved or nbval-compared notebook records nothing of it
    texts = [u["data"].get("text/plain", "") for u in updates]
    assert any(
        t.startswith("running · 1 call · ") and t.endswith(" · last: demo.query_sales") for t in texts
    ), texts
    assert "<code" in updates[0]["data"]["text/html"]
    assert updates[-1]["data"] == {}  # emptied at the end: the footer says the rest
    assert {"text/plain": "6"} in reply.bundles
    assert len(updates) < 40  # a few updates a second, not one per tick of the clock


def test_the_first_build_shows_a_bar_with_elapsed_time_then_leaves_nothing(guest_only_cache: Path) -> None:
    # A cache holding only the built component: this kernel compiles it (the slow half of a first build).
    km, kc = start_new_kernel(
        kernel_name="mcp", startup_timeout=60, env={**_env(), "MCP_KERNEL_CACHE_DIR": str(guest_only_cache)}
    )
    try:
        reply = KernelDriver(km, kc).execute("%%mcp_execute\n6 * 7", timeout=300)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply.status == "ok", reply.reply
    assert "Compiling" not in reply.stdout and "ready" not in reply.stdout  # no stray lines
    opened, updates = _slot(reply, "Compiling the sandbox component")
    assert opened["data"] == {}
    shown = [u for u in updates if u["data"]]
    assert "s elapsed" in shown[-1]["data"]["text/plain"] and "<progress" in shown[-1]["data"]["text/html"]
    assert updates[-1]["data"] == {}
    assert {"text/plain": "42"} in reply.bundles
    assert list((guest_only_cache / "components").glob("compiled-*.cwasm"))


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
