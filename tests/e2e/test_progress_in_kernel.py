"""`%mcp call` shows a tool's progress as one display updated in place, in a real kernel."""

from __future__ import annotations


def test_progress_is_one_display_updated_in_place(kernel) -> None:
    reply = kernel.execute('%mcp call demo forecast_revenue \'{"months": 3}\'')
    assert reply.status == "ok", reply.reply
    first = [m["content"] for m in reply.messages
             if m["msg_type"] == "display_data" and "demo.forecast_revenue:" in m["content"]["data"].get("text/plain", "")]
    updates = reply.of("update_display_data")
    assert len(first) == 1
    display_id = first[0]["transient"]["display_id"]
    assert [u["transient"]["display_id"] for u in updates] == [display_id] * len(updates)
    texts = [first[0]["data"]["text/plain"]] + [u["data"]["text/plain"] for u in updates]
    assert texts[-1] == "demo.forecast_revenue: 3/3 (100%) - month 3 of 3"
    assert "<progress" in updates[-1]["data"]["text/html"]
    assert reply.bundles[-1]  # the result itself follows


def test_progress_of_a_tool_called_from_a_sandboxed_cell(kernel) -> None:
    reply = kernel.execute("%%mcp_execute --servers demo\nfrom servers.demo import forecast_revenue\n"
                           "len(forecast_revenue(months=2)['forecast'])")
    assert reply.status == "ok", reply.reply
    first = [m["content"] for m in reply.messages
             if m["msg_type"] == "display_data" and "demo.forecast_revenue:" in m["content"]["data"].get("text/plain", "")]
    updates = reply.of("update_display_data")
    assert len(first) == 1 and updates
    assert {u["transient"]["display_id"] for u in updates} == {first[0]["transient"]["display_id"]}
    assert updates[-1]["data"]["text/plain"] == "demo.forecast_revenue: 2/2 (100%) - month 2 of 2"
    assert {"text/plain": "2"} in reply.bundles
