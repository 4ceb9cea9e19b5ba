"""Plugin store: save, and load+verify, for a 10-tool and a 250-tool server (real generated bindings).

Run: ``python benchmarks/bench_plugins.py``. The Rust original reports save 2-5 ms and load 1-3 ms for a
typical plugin; the goal here is save <= 2 ms and load+verify <= 1 ms for 10 tools. The baseline in the
same process is reading the same files with no verification (json.loads of the two files).
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_codegen import realistic_tool
from measure import median_ms

from mcp_kernel.codegen import GENERATOR_VERSION, generate, schema_hash
from mcp_kernel.models import ServerInfo
from mcp_kernel.plugins import Plugin, PluginStore, new_metadata


def plugin_for(n: int) -> Plugin:
    tools = [realistic_tool(i) for i in range(n)]
    info = ServerInfo(name=f"bench{n}", version="1")
    files = generate(info, tools, server_name=f"bench{n}", languages=("python", "typescript"))
    meta = new_metadata(
        f"bench{n}",
        f"bench{n}",
        info,
        tool_count=n,
        tool_hashes={t.name: schema_hash(t) for t in tools},
        generator_version=GENERATOR_VERSION,
    )
    return Plugin(metadata=meta, files=files)


def read_raw(directory: Path) -> None:
    """The floor for a load: read and parse the plugin's two JSON files, nothing verified."""
    json.loads((directory / "metadata.json").read_bytes())
    json.loads((directory / "vfs.json").read_bytes())


def main() -> None:
    print(
        f"{'tools':>6} {'size':>9} {'save ms':>8} {'load+verify ms':>15} {'raw read ms':>12} {'verify cost':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = PluginStore(Path(tmp) / "plugins")
        for n, runs in ((10, 200), (250, 30)):
            plugin = plugin_for(n)
            store.save(plugin)
            save = median_ms(partial(store.save, plugin), runs)
            load = median_ms(partial(store.load, plugin.metadata.server_id), runs)
            directory = (store.root / plugin.metadata.server_id).resolve()
            raw = median_ms(partial(read_raw, directory), runs)
            size = sum(p.stat().st_size for p in directory.iterdir())
            print(f"{n:>6} {size / 1024:8.1f}K {save:8.3f} {load:15.3f} {raw:12.3f} {load / raw:11.2f}x")


if __name__ == "__main__":
    main()
