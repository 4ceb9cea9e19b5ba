"""``show(result)`` in sandboxed code: the view of the call that returned ``result`` comes back with the cell's
result, its data kept by the host (never sent back by the guest, never dumped); what cannot be shown is an
error the code can catch; the results kept are bounded and last one cell."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from realservers import SERVERS

from mcp_kernel.models import ServerSpec
from mcp_kernel.sandbox.views import MAX_KEPT, MAX_SHOWN
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow

IMPORTS = (
    "from servers.demo import aggregate_sales, list_regions\nfrom _mcp_runtime import show, ToolCallError\n"
)


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with Session(timeout=30) as s:
        s.add_server(ServerSpec(name="viewer", command=sys.executable, args=[str(SERVERS / "viewer.py")]))
        s.generate("demo")
        s.generate("viewer")
        yield s


def run(session: Session, code: str, **limits):
    result = session.execute(code, session.policy(["demo", "viewer"], **limits))
    assert result.error is None, result.error
    return result


def test_show_names_the_call_and_the_host_gives_its_whole_result(session: Session) -> None:
    result = run(
        session,
        IMPORTS
        + "totals = aggregate_sales(group_by='region', metric='count')\nshow(totals)\nlen(totals['groups'])",
    )
    [view] = result.views
    direct = session.call("demo", "aggregate_sales", {"group_by": "region", "metric": "count"})
    assert (view.server, view.tool, view.arguments) == (
        "demo",
        "aggregate_sales",
        {"group_by": "region", "metric": "count"},
    )
    assert view.result.structured == direct.structured and view.result.content == direct.content
    assert result.value == len(direct.structured["groups"])
    # the data stays out of everything the result sends (serve's answer, the CLI's JSON)
    assert "groups" not in result.model_dump_json() and "views" not in result.model_dump()


def test_a_cached_call_and_a_gathered_one_can_be_shown(session: Session) -> None:
    run(session, IMPORTS + "aggregate_sales(group_by='category')")  # now in the result cache
    again = run(session, IMPORTS + "show(aggregate_sales(group_by='category'))")
    assert [v.result.structured["group_by"] for v in again.views] == ["category"]
    gathered = run(
        session,
        IMPORTS + "import asyncio\nfrom servers.demo import aio\n"
        "async def both():\n"
        "    return await asyncio.gather(aio(aggregate_sales)(group_by='month'), "
        "aio(aggregate_sales)(group_by='product'))\n"
        "months, products = asyncio.run(both())\nshow(products)\nshow(months)",
    )
    assert [v.arguments["group_by"] for v in gathered.views] == ["product", "month"]


def test_what_cannot_be_shown_is_an_error_the_code_catches(session: Session) -> None:
    result = run(
        session,
        IMPORTS + "said = []\n"
        "totals = aggregate_sales(group_by='region')\n"
        "for value in ({'groups': []}, dict(totals), 7):\n"
        "    try:\n"
        "        show(value)\n"
        "    except ValueError as exc:\n"
        "        said.append(str(exc))\n"
        "try:\n"
        "    show(list_regions())\n"
        "except ToolCallError as exc:\n"
        "    said.append(str(exc))\n"
        "said",
    )
    *not_results, no_view = result.value
    assert len(not_results) == 3 and all(
        "show() takes the dict or list a tool call returned" in s for s in not_results
    )
    assert "demo.list_regions has no view" in no_view
    assert result.views == []


def test_kept_results_are_bounded_and_last_one_cell(session: Session) -> None:
    calls = [
        f"aggregate_sales(group_by={g!r}, metric={m!r})"
        for g in ("region", "country", "product", "category", "month", "customer")
        for m in ("sum", "count", "avg")
    ][: MAX_KEPT + 1]
    result = run(
        session,
        IMPORTS + f"results = [{', '.join(calls)}]\n"
        "said = []\n"
        "try:\n"
        "    show(results[0])  # one call too many ago: the runtime no longer knows it\n"
        "except ValueError as exc:\n"
        "    said.append(str(exc))\n"
        f"for _ in range({MAX_SHOWN + 1}):\n"
        "    try:\n"
        "        show(results[-1])\n"
        "    except ToolCallError as exc:\n"
        "        said.append(str(exc))\n"
        "said",
    )
    evicted, too_many = result.value
    assert f"one of the last {MAX_KEPT}" in evicted
    assert f"at most {MAX_SHOWN} views" in too_many
    assert len(result.views) == MAX_SHOWN
    later = run(
        session,
        "try:\n    show(results[-1])\nexcept ToolCallError as exc:\n    said = str(exc)\nsaid",
    )
    assert "is not kept" in later.value and "Call it again in this cell" in later.value
    assert later.views == []


def test_a_view_of_a_masked_cell_shows_placeholders(session: Session) -> None:
    result = run(
        session,
        "from servers.viewer import show_view\nfrom _mcp_runtime import show\n"
        "shown = show_view(topic='ann@example.org')\nshow(shown)\nshown['owner']",
        tokenize_pii=True,
    )
    [view] = result.views
    assert result.value == "<EMAIL_1>"  # the cell's output and the view name the same placeholder
    assert view.arguments == {"topic": "<EMAIL_1>"}
    assert view.result.structured == {"topic": "<EMAIL_1>", "owner": "<EMAIL_1>"}
    assert "ann@example.org" not in view.result.text + str(view.result.content)
