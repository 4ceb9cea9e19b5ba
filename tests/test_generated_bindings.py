"""Bindings generated for every test server type-check (mypy, tsc) and run in the sandbox on the real servers.

The lean binding shape only counts if what a model reads still works: the same files are checked by mypy
(with a caller that uses them right and one that uses them wrong), by tsc, and imported and called inside
the WebAssembly sandbox against every server.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import node_bin, our_server
from test_codegen import tsc_check

from mcp_kernel.models import ServerSpec
from mcp_kernel.session import Session
from mcp_kernel.vfs import VirtualFS

pytestmark = pytest.mark.slow

SERVERS = ["demo", "schemas", "many_tools", "crashy", "everything", "filesystem"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files")
    (path / "a.txt").write_text("alpha\nbeta\n")
    return path


@pytest.fixture(scope="module")
def session(root: Path) -> Iterator[Session]:
    with Session() as s:
        for name in ("schemas", "many_tools", "crashy"):
            s.add_server(our_server(name))
        s.add_server(ServerSpec(name="everything", command=node_bin("mcp-server-everything"), args=["stdio"]))
        s.add_server(
            ServerSpec(name="filesystem", command=node_bin("mcp-server-filesystem"), args=[str(root)])
        )
        for name in SERVERS:
            s.generate(name, languages=("python", "typescript"))
        yield s


GOOD = """
from servers.crashy import ok
from servers.demo import query_sales, aggregate_sales
from servers.everything import echo, get_sum
from servers.filesystem import edit_file, read_text_file
from servers.many_tools import tool_249
from servers.schemas import create_order, lookup, tree

rows = query_sales(region="EU", limit=3)["rows"]
amount: float = sum(r["amount"] for r in rows)
groups: list[str] = [g["key"] for g in aggregate_sales(group_by="region")["groups"]]
order = create_order(customer="c1", items=[{"sku": "A", "qty": 1}], ship_to={"city": "Paris", "country": "FR"},
                     priority="high")
arguments: dict[str, object] = order["arguments"]
lookup(key=3, nested={"deep": {"value": None}}, filters={"a": "b"})
tree(root={"label": "a", "children": [{"label": "b"}]})
text: str = read_text_file(path="/x", head=1)["content"]
edit_file(path="/x", edits=[{"oldText": "a", "newText": "b"}], dryRun=True)
echo(message="hi"), get_sum(a=1, b=2.5), tool_249(x=1)
fine: str = ok()["result"]
"""

BAD = """
from servers.demo import query_sales
from servers.filesystem import edit_file
from servers.schemas import create_order

query_sales(region="Mars")
query_sales(limit="ten")
count: str = query_sales()["total_matches"]
create_order(customer="c1", items=[{"sku": "A"}])
create_order(customer="c1", items=[], priority="urgent")
edit_file(path="/x", edits=[{"old": "a", "newText": "b"}])
query_sales("EU")
"""


def mypy(tree: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-warn-return-any",
            "--no-incremental",
            "--cache-dir",
            str(tree / ".mypy_cache"),
            *files,
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_servers_bindings_type_check_with_mypy_and_tsc(session: Session, tmp_path: Path) -> None:
    files = session.vfs.files
    assert {f"servers/{s}/__init__.pyi" for s in SERVERS} <= set(files)
    tree = VirtualFS(files).materialize(tmp_path / "tree")
    (tree / "good.py").write_text(GOOD)
    (tree / "bad.py").write_text(BAD)
    # --no-warn-return-any: a binding returns what the runtime decoded, typed by its annotation
    checked = mypy(tree, "servers", "_mcp_runtime.pyi", "good.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    wrong = mypy(tree, "servers", "_mcp_runtime.pyi", "bad.py")
    lines = sorted({int(n) for n in re.findall(r"^bad\.py:(\d+): error", wrong.stdout, re.M)})
    assert lines == [6, 7, 8, 9, 10, 11, 12], wrong.stdout  # every wrong call, and only those, is caught
    tsc_check(files, tmp_path / "ts")


def test_every_servers_bindings_run_in_the_sandbox(session: Session, root: Path) -> None:
    code = f"""
import json
from servers.crashy import ok
from servers.demo import query_sales
from servers.everything import echo
from servers.filesystem import read_text_file
from servers.many_tools import tool_249
from servers.schemas import create_order, tree

print(json.dumps({{
    "demo": len(query_sales(region="EU", limit=2)["rows"]),
    "schemas": create_order(customer="c1", items=[{{"sku": "A", "qty": 1}}], note=None)["arguments"],
    "tree": tree(root={{"label": "a"}})["arguments"],
    "many_tools": tool_249(x=7),
    "crashy": ok(),
    "everything": echo(message="hi"),
    "filesystem": read_text_file(path={str(root / "a.txt")!r}, head=1)["content"],
}}))
"""
    result = session.execute(code, session.policy(SERVERS))
    assert result.error is None, result.error
    out = json.loads(result.stdout)
    assert out["demo"] == 2
    # defaults are sent, None (not given) is left out
    assert out["schemas"] == {
        "customer": "c1",
        "items": [{"sku": "A", "qty": 1}],
        "priority": "normal",
        "gift": False,
    }
    assert out["tree"] == {"root": {"label": "a"}}
    assert out["many_tools"] == {"tool": "tool_249", "arguments": {"x": 7}}
    assert (
        out["crashy"] == {"result": "fine"}
        and out["everything"] == "Echo: hi"
        and out["filesystem"] == "alpha"
    )
    assert [c.server for c in result.calls] == [
        "demo",
        "schemas",
        "schemas",
        "many_tools",
        "crashy",
        "everything",
        "filesystem",
    ]
