"""``plugin list|info|load|remove|export|import``: saved bindings, integrity-checked before use."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import MCPKernelError, UsageError
from ..models import Notice, PluginList
from .command import Command

NEEDS_NAME = {"info", "load", "remove", "export"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["list", "info", "load", "remove", "export", "import"],
        help="list; info/load/remove SERVER; export SERVER FILE; import FILE",
    )
    parser.add_argument("target", nargs="?", help="plugin (server id), or the archive for import")
    parser.add_argument("file", nargs="?", help="export: the archive to write")
    parser.add_argument("--store", metavar="DIR", help="plugin store directory (default: the user data dir)")


def run(session: Any, args: argparse.Namespace) -> Any:
    store = session.bindings.plugin_store(args.store)
    if args.action in NEEDS_NAME and not args.target:
        raise UsageError(f"plugin {args.action} needs a plugin name: plugin {args.action} SERVER")
    if args.action == "list":
        infos, broken = [], {}
        for plugin_id in store.ids():
            try:
                infos.append(session.bindings.plugin_info(plugin_id, store=args.store, check_live=False))
            except MCPKernelError as exc:
                broken[plugin_id] = str(exc)
        return PluginList(store=str(store.root), plugins=infos, broken=broken)
    if args.action == "info":
        return session.bindings.plugin_info(args.target, store=args.store)
    if args.action == "load":
        return session.load_plugin(args.target, store=args.store)
    if args.action == "remove":
        store.remove(args.target)
        return Notice(text=f"removed plugin {args.target!r} from {store.root}")
    if args.action == "export":
        if not args.file:
            raise UsageError("plugin export needs a file: plugin export SERVER FILE")
        return Notice(text=f"exported plugin {args.target!r} to {store.export(args.target, args.file)}")
    if not args.target:
        raise UsageError("plugin import needs an archive: plugin import FILE")
    plugin = store.import_(args.target)
    return Notice(
        text=f"imported plugin {plugin.metadata.server_id!r} ({len(plugin.files)} files) into {store.root}"
    )


COMMAND = Command(
    "plugin",
    "List, inspect, load, remove, export and import saved bindings (a blake3 integrity "
    "check, not a signature).",
    configure,
    run,
)
