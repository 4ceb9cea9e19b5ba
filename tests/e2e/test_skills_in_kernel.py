"""Skills at a real kernel: a cell saves a function that calls two demo tools; after a kernel restart a new
cell finds it with ``%mcp search``, imports and runs it, and ``%mcp skills`` lists it with its servers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from kernel_driver import KernelDriver, Reply, running_kernel

pytestmark = pytest.mark.slow

SAVE = '''%%mcp_execute --servers demo
from servers.demo import aggregate_sales, list_regions
from skills import save_skill

def biggest_country(region: str) -> dict:
    """The country with the most revenue in a sales region, with that region's order count."""
    orders = {r["region"]: r["orders"] for r in list_regions()["regions"]}
    rows = aggregate_sales(group_by="country", region=region)["groups"]
    top = max(rows, key=lambda row: row["value"])
    return {"region": region, "orders": orders[region], "country": top["key"]}

first = biggest_country("EU")
save_skill(biggest_country)
'''


def text(reply: Reply) -> str:
    return reply.stdout + reply.stderr + "".join(b.get("text/plain", "") for b in reply.bundles)


@pytest.fixture(scope="module")
def kernel(kernelspec: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelDriver]:
    env = {**os.environ, "MCP_KERNEL_DATA_DIR": str(tmp_path_factory.mktemp("data"))}  # not the user's skills
    with running_kernel(kernelspec, env) as kernel:
        yield kernel


def test_a_saved_skill_is_found_imported_and_listed_after_a_restart(kernel: KernelDriver) -> None:
    saved = kernel.execute(SAVE)
    assert saved.status == "ok", text(saved)
    assert "Saved skill 'biggest_country' v1 (calls demo)" in text(saved)
    before = kernel.execute("%%mcp_execute --servers demo\nfirst")
    assert before.status == "ok", text(before)

    kernel.km.restart_kernel(now=True)
    kernel.kc.wait_for_ready(timeout=60)

    found = kernel.execute('%mcp search "country revenue"')
    assert found.status == "ok", text(found)
    line = next(line for line in text(found).splitlines() if "biggest_country" in line)
    assert line.split()[:2] == ["skills", "biggest_country"] and line.endswith("(calls demo)"), text(found)
    assert "1 skill(s)" in text(found)

    used = kernel.execute(
        "%%mcp_execute --servers demo\nfrom skills.biggest_country import biggest_country\nbiggest_country('EU')"
    )
    assert used.status == "ok", text(used)
    assert text(used).count("'country'") >= 1
    assert used.bundles[0]["text/plain"] == before.bundles[0]["text/plain"], "the same answer as before"

    listed = kernel.execute("%mcp skills")
    assert listed.status == "ok", text(listed)
    assert "biggest_country" in text(listed) and "calls demo; v1" in text(listed)
