"""Search ranking: which tool comes first for what an agent types, for two rankers over the same hits.

Run: ``python benchmarks/bench_search.py`` (after ``npm ci``: server-everything and server-filesystem are
two of the servers). The tools are what the demo server, our test servers (tests/servers/, with
``many_tools``' 250 look-alikes as noise) and the two npm servers publish, introspected live. Each query
of :data:`QUERIES` names the tool a person would want first; a ranker scores by the mean reciprocal rank
of that tool (MRR) and by how often it comes first (top-1).

Both rankers order the same hits (every word of the query in a tool's name, title or description, as
``ToolRegistry.search`` finds them); only the order differs:

- substring weights (``ToolRegistry.search``): 10 for a word in the name, 5 in the title, 1 in the
  description, summed; ties by server and name;
- BM25 (SQLite FTS5, ``bm25()`` with the same 10/5/1 column weights, words as prefixes): rarer words and
  shorter fields count more; a hit FTS5 does not find (a word inside another word) comes after, in the
  first ranker's order.

Measured when FTS5 was tried for issue #27 (53 queries over 316 tools of 15 servers): substring weights
MRR 0.943, top-1 48/53; FTS5 bm25 MRR 0.943, top-1 48/53 (it wins "text message", loses "customer"). No
better, so ``ToolRegistry.search`` keeps the substring weights.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mcp_kernel.client import ConnectionPool
from mcp_kernel.models import ServerInfo, ServerSpec, ToolInfo
from mcp_kernel.registry import ToolRegistry

ROOT = Path(__file__).resolve().parent.parent
OURS = [
    "asker",
    "board",
    "canary",
    "crashy",
    "dyn",
    "hang",
    "library",
    "mailer",
    "many_tools",
    "schemas",
    "slow",
    "spawner",
]

# (what is typed, the tool wanted first). Words an agent would try, not the tools' own names only.
QUERIES: list[tuple[str, str]] = [
    ("read file", "files.read_text_file"),  # read_file is deprecated in favour of it
    ("write file", "files.write_file"),
    ("list directory", "files.list_directory"),
    ("directory sizes", "files.list_directory_with_sizes"),
    ("rename", "files.move_file"),
    ("file metadata", "files.get_file_info"),
    ("search files", "files.search_files"),
    ("create directory", "files.create_directory"),
    ("directory tree", "files.directory_tree"),
    ("edit", "files.edit_file"),
    ("echo", "everything.echo"),
    ("sum numbers", "everything.get-sum"),
    ("environment variables", "everything.get-env"),
    ("image", "everything.get-tiny-image"),
    ("gzip", "everything.gzip-file-as-resource"),
    ("long running operation", "everything.trigger-long-running-operation"),
    ("sampling", "everything.trigger-sampling-request"),
    ("url elicitation", "everything.trigger-url-elicitation"),
    ("logging", "everything.toggle-simulated-logging"),
    ("revenue forecast", "demo.forecast_revenue"),
    ("customer profile", "demo.get_customer"),
    ("best customers", "demo.top_customers"),
    ("regions", "demo.list_regions"),
    ("products", "demo.list_products"),
    ("sales by month", "demo.aggregate_sales"),
    ("orders", "demo.query_sales"),
    ("email", "mailer.send_email"),
    ("text message", "mailer.send_sms"),
    ("book room", "library.book"),
    ("cancelled", "slow.cancellations"),
    ("notice", "board.post"),
    ("unlock account", "canary.unlock"),
    ("bank details", "canary.lookup"),
    ("read", "files.read_text_file"),
    ("move", "files.move_file"),
    ("numbers", "everything.get-sum"),
    ("customer", "demo.get_customer"),
    ("phone", "mailer.send_sms"),
    ("compare files", "files.read_multiple_files"),
    ("statement", "canary.send_statement"),
    ("resource links", "everything.get-resource-links"),
    ("annotations", "everything.get-annotated-message"),
    ("structured content", "everything.get-structured-content"),
    ("environment", "everything.get-env"),
    ("child", "spawner.child_pid"),
    ("client capabilities", "library.whoami"),
    ("notify", "canary.notify"),
    ("allowed directories", "files.list_allowed_directories"),
    ("overwrite", "files.write_file"),
    ("diff", "files.edit_file"),
    ("crash", "crashy.crash"),
    ("research", "everything.simulate-research-query"),
    ("subscription updates", "everything.toggle-subscriber-updates"),
]

Ranker = Callable[[ToolRegistry, str], list[str]]


def introspected() -> ToolRegistry:
    """The registry of every server above, introspected live (a server that does not start is left out)."""
    specs = [ServerSpec(name="demo", command=sys.executable, args=["-m", "mcp_kernel.demo"])]
    specs += [
        ServerSpec(name=name, command=sys.executable, args=[str(ROOT / "tests" / "servers" / f"{name}.py")])
        for name in OURS
    ]
    bin_ = ROOT / "node_modules" / ".bin"
    specs.append(ServerSpec(name="everything", command=str(bin_ / "mcp-server-everything"), args=["stdio"]))
    specs.append(
        ServerSpec(name="files", command=str(bin_ / "mcp-server-filesystem"), args=[tempfile.mkdtemp()])
    )
    registry = ToolRegistry()
    with ConnectionPool(timeout=30, connect_timeout=30) as pool:
        for spec in specs:
            try:
                pool.add(spec)
                registry.register(spec.name, ServerInfo(name=spec.name), pool.list_tools(spec.name))
            except Exception as exc:
                print(f"left out {spec.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return registry


def substring_weights(registry: ToolRegistry, query: str) -> list[str]:
    return [f"{hit.server}.{hit.tool}" for hit in registry.search(query, detail="name", limit=10_000).hits]


def fts5_bm25(registry: ToolRegistry, query: str) -> list[str]:
    hits = substring_weights(registry, query)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE tools USING fts5(key UNINDEXED, name, title, description)")
    for server in registry.servers():
        for tool in registry.tools(server):
            db.execute(
                "INSERT INTO tools VALUES (?, ?, ?, ?)",
                (f"{server}.{tool.name}", _words(tool.name), _title(tool), tool.description),
            )
    words = [w for w in re.split(r"\W+", query.lower()) if w]
    match = " OR ".join(f'"{w}"*' for w in words)
    rank = (
        {
            key: i
            for i, (key,) in enumerate(
                db.execute(
                    "SELECT key FROM tools WHERE tools MATCH ? ORDER BY bm25(tools, 10.0, 5.0, 1.0)", (match,)
                )
            )
        }
        if words
        else {}
    )
    order = {key: i for i, key in enumerate(hits)}
    return sorted(hits, key=lambda key: (rank.get(key, len(rank)), order[key]))


def _words(name: str) -> str:
    return re.sub(r"[_\-]+", " ", name)


def _title(tool: ToolInfo) -> str:
    return tool.title or tool.annotations.title or ""


def scores(registry: ToolRegistry, ranker: Ranker) -> tuple[float, int, list[tuple[str, int | None]]]:
    """(MRR, top-1 hits, each query's rank of its wanted tool: None when it is not among the hits)."""
    ranks: list[tuple[str, int | None]] = []
    for query, wanted in QUERIES:
        found = ranker(registry, query)
        ranks.append((query, found.index(wanted) + 1 if wanted in found else None))
    mrr = sum(1 / r for _, r in ranks if r) / len(ranks)
    return mrr, sum(r == 1 for _, r in ranks), ranks


def main() -> None:
    registry = introspected()
    count = sum(len(registry.tools(s)) for s in registry.servers())
    print(f"{len(QUERIES)} queries over {count} tools of {len(registry.servers())} servers")
    results = {
        "substring weights": scores(registry, substring_weights),
        "FTS5 bm25": scores(registry, fts5_bm25),
    }
    for name, (mrr, top1, _) in results.items():
        print(f"{name:>18}: MRR {mrr:.3f}, top-1 {top1}/{len(QUERIES)}")
    print("rank of the wanted tool, per query (substring weights / FTS5 bm25):")
    for (query, old), (_, new) in zip(results["substring weights"][2], results["FTS5 bm25"][2], strict=True):
        print(f"  {query!r:>28}: {old} / {new}")


if __name__ == "__main__":
    main()
