"""The bindings tree: generated code per server in the virtual filesystem, synced to disk for the sandbox.

For example::

    bindings = Bindings(servers)
    bindings.generate("demo").files[:2]
    # ['servers/__init__.py', 'servers/demo/__init__.py']
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MCPKernelError, SkillError, ToolNotFound
from .models import FileView, GenerateReport, PluginInfo, Skill, TokenReport
from .names import server_id
from .servers import Servers
from .vfs import ROOT, TreeNode, VirtualFS, normalize_path

if TYPE_CHECKING:
    from .plugins import PluginStore

__all__ = ["Bindings"]


class Bindings:
    """Generated bindings of the servers in ``servers``: the VFS, which servers have bindings, plugins."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.vfs = VirtualFS()
        self.generated: dict[str, tuple[str, ...]] = {}
        self._synced: dict[Path, int] = {}
        self.generations: dict[str, int] = {}  # server id -> how many times its bindings were generated
        self._seen_changes: dict[str, int] = {}
        self._lock = threading.Lock()

    def generate(
        self,
        server: str,
        *,
        languages: tuple[str, ...] = ("python",),
        out: str | None = None,
        refresh: bool = False,
    ) -> GenerateReport:
        """Generate bindings, manifest, skill and resource index for ``server`` into the VFS (and into ``out``
        if given)."""
        from .codegen import generate, resource_index  # the generator: only when bindings are built

        started = time.perf_counter()
        registry = self.servers.registry
        if refresh or server not in registry.servers():
            self.servers.introspect(server, refresh=refresh)
        info, tools = registry.info(server), registry.tools(server)
        files = generate(info, tools, server_name=server, languages=languages)
        # The tools are usable without the resource index; `%mcp resources` shows the server's error.
        with contextlib.suppress(MCPKernelError):
            files.update(resource_index(server, self.servers.resources(server)))
        sid = server_id(server)
        with self._lock:
            self.vfs.remove_prefix(f"servers/{sid}")
            self.vfs.remove_prefix(f"skills/{sid}")
            self.vfs.update(files)
            self.generated[server] = tuple(languages)
            self.generations[sid] = self.generations.get(sid, 0) + 1
        written = str(VirtualFS(files).materialize(out)) if out is not None else None
        return GenerateReport(
            server=server,
            server_id=sid,
            tools=len(tools),
            languages=list(languages),
            files=sorted(files),
            bytes=sum(len(t.encode()) for t in files.values()),
            out=written,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def ensure(self, servers: tuple[str, ...] | list[str]) -> None:
        """Generate bindings for each of ``servers`` that has none yet."""
        for server in servers:
            if server not in self.generated:
                self.generate(server)

    def refresh_changed(self, servers: tuple[str, ...] | list[str]) -> None:
        """Regenerate the bindings of each server that said its tools changed since they were generated."""
        for server in servers:
            if server not in self.servers.pool:
                continue
            self.servers.ensure(
                server
            )  # a tool list past its ttlMs is listed again (a difference is a change)
            changes = self.servers.pool.get(server).list_changes
            if changes != self._seen_changes.get(server, 0):
                self._seen_changes[server] = changes
                self.generate(server, languages=self.generated.get(server, ("python",)), refresh=True)

    def sync(self, directory: Path) -> Path:
        """Write the tree to ``directory`` if it changed since the last sync there (the sandbox's /mcp-tools)."""
        with self._lock:
            if self._synced.get(directory) != self.vfs.version or not directory.exists():
                self.vfs.sync(directory)
                self._synced[directory] = self.vfs.version
        return directory

    def _ensure_path(self, path: str) -> str:
        """Generate on demand the server a path points into; return the normalised path."""
        rel = normalize_path(path)
        parts = rel.split("/") if rel else []
        if len(parts) >= 2 and parts[0] in ("servers", "skills") and not self.vfs.exists(rel):
            for name in self.servers.names():
                if server_id(name) == parts[1] and name not in self.generated:
                    self.generate(name)
        elif len(parts) <= 1 and not self.vfs.files:
            for name in self.servers.names():
                self.generate(name)
        return rel

    def tree(
        self, path: str = ROOT, depth: int | None = None, extra: Mapping[str, str] | None = None
    ) -> TreeNode:
        """The VFS tree at ``path`` (servers are generated on first visit), with ``extra`` files (a caller's
        skills) added to it."""
        rel = self._ensure_path(path)
        return (VirtualFS({**self.vfs.files, **extra}) if extra else self.vfs).tree(rel, depth)

    def read(self, path: str, extra: Mapping[str, str] | None = None) -> FileView:
        """One file of the VFS (or of ``extra``)."""
        rel = self._ensure_path(path)
        text = extra[rel] if extra and rel in extra else self.vfs.read(rel)
        return FileView(path=f"{ROOT}/{rel}", text=text, size=len(text.encode()))

    def server_files(self, server: str) -> dict[str, str]:
        """The generated files of one server (bindings and skill)."""
        sid = server_id(server)
        return {
            p: t for p, t in self.vfs.files.items() if p.startswith((f"servers/{sid}/", f"skills/{sid}/"))
        }

    def tokens(
        self,
        servers: Sequence[str] | None = None,
        *,
        tools: Sequence[str] | None = None,
        skills: Sequence[Skill] = (),
    ) -> TokenReport:
        """Up-front versus progressive tokens for ``servers`` (see :meth:`Session.tokens
        <mcp_kernel.session.Session.tokens>`), with saved ``skills`` as one more row."""
        # the tokenizer (tokens) and the templates (codegen) load only when a report is asked for
        from .codegen import binding_paths
        from .tokens import upfront_vs_progressive

        names = list(servers or self.servers.registry.servers() or self.servers.names())
        data = {}
        for name in names:
            self.ensure([name])
            server_tools = self.servers.registry.tools(name)
            data[name] = (server_tools, self.server_files(name), binding_paths(name, server_tools))
        read: dict[str, set[str]] | None = None
        if tools is not None:
            read = {name: set() for name in names}
            for item in tools:
                if item.startswith("skills.") and "skills" not in names:
                    read.setdefault("skills", set()).add(item.split(".", 1)[1])
                    continue
                server, _, tool = (
                    item.rpartition(".") if "." in item and item.split(".")[0] in names else ("", "", item)
                )
                owners = [server] if server else [n for n in names if any(t.name == tool for t in data[n][0])]
                if not owners:
                    raise ToolNotFound(f"No tool {item!r} in {', '.join(names)}.", tool=item)
                for owner in owners:
                    read[owner].add(tool)
        unknown = (read or {}).get("skills", set()) - {skill.name for skill in skills}
        if unknown:
            raise SkillError(f"No saved skill(s) {', '.join(sorted(unknown))}; see `skills list`.")
        return upfront_vs_progressive(data, read=read, skills=skills)

    # ---- the plugin store --------------------------------------------------------------------------
    def plugin_store(self, store: str | None = None) -> PluginStore:
        from .plugins import PluginStore  # the plugin store: only when plugins are saved or loaded

        return PluginStore(store) if store else PluginStore()

    def save_plugin(self, server: str, *, store: str | None = None) -> Path:
        """Save ``server``'s generated bindings (generating them first if needed) in the plugin store."""
        from .codegen import GENERATOR_VERSION, schema_hash  # the generator and the plugin store: only here
        from .plugins import SHARED_FILES, Plugin, new_metadata

        self.ensure([server])
        sid = server_id(server)
        files = {
            p: t
            for p, t in self.vfs.files.items()
            if p.startswith((f"servers/{sid}/", f"skills/{sid}/")) or p in SHARED_FILES
        }
        registry = self.servers.registry
        tools = registry.tools(server)
        meta = new_metadata(
            sid,
            server,
            registry.info(server),
            tool_count=len(tools),
            tool_hashes={t.name: schema_hash(t) for t in tools},
            generator_version=GENERATOR_VERSION,
        )
        return self.plugin_store(store).save(Plugin(metadata=meta, files=files))

    def load_plugin(self, server_id: str, *, store: str | None = None) -> PluginInfo:
        """Mount a saved plugin's bindings into the VFS without introspecting its server."""
        plugin = self.plugin_store(store).load(server_id)
        sid = plugin.metadata.server_id
        with self._lock:
            self.vfs.remove_prefix(f"servers/{sid}")
            self.vfs.remove_prefix(f"skills/{sid}")
            self.vfs.update(plugin.files)
            languages = (
                ("python", "typescript") if any(p.endswith(".ts") for p in plugin.files) else ("python",)
            )
            self.generated[plugin.metadata.server_name] = languages
        return self.plugin_info(server_id, store=store, plugin=plugin, check_live=False)

    def plugin_info(
        self, server_id: str, *, store: str | None = None, plugin: Any = None, check_live: bool = True
    ) -> PluginInfo:
        """A plugin's metadata, and whether the live server's schemas still match (``stale``)."""
        from .codegen import schema_hash  # the generator: only when a plugin is checked

        plugin = plugin or self.plugin_store(store).load(server_id)
        meta = plugin.metadata
        stale: bool | None = None
        changed: list[str] = []
        name = meta.server_name
        if check_live and (name in self.servers.registry.servers() or name in self.servers.names()):
            try:
                live = {t.name: schema_hash(t) for t in self.servers.tools(name)}
            except MCPKernelError:
                live = None
            if live is not None:
                changed = sorted(
                    n for n in set(live) | set(meta.tool_hashes) if live.get(n) != meta.tool_hashes.get(n)
                )
                stale = bool(changed)
        return PluginInfo(
            metadata=meta.model_dump(mode="json"),
            files=len(plugin.files),
            bytes=sum(len(t.encode()) for t in plugin.files.values()),
            stale=stale,
            changed_tools=changed,
        )
