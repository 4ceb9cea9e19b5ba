"""``config show|get|set|init``: the effective settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError
from ..models import SettingRow, SettingsReport
from .command import Command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["show", "get", "set", "init"],
        help="show: every setting; get NAME; set NAME VALUE; init: starter config and mcp.json",
    )
    parser.add_argument("name", nargs="?", help="setting name (get, set)")
    parser.add_argument("value", nargs="?", help="new value (set)")
    parser.add_argument("--force", action="store_true", help="init: overwrite existing files")


def run(session: Any, args: argparse.Namespace) -> Any:
    # traitlets settings: only for `config`
    from ..config import CONFIG_FILENAME, starter_mcp_json
    from ..paths import config_dir
    from ..settings import (
        MCPKernel,
        coerce_setting,
        load_settings,
        read_settings_file,
        replace_file,
        settings_file,
        starter_settings,
        write_setting,
    )

    if args.action == "init":
        written = []
        for path, text in (
            (settings_file(), starter_settings()),
            (config_dir() / CONFIG_FILENAME, starter_mcp_json()),
        ):
            if path.exists() and not args.force:
                continue
            replace_file(path, text)
            written.append(str(path))
        return SettingsReport(file=str(settings_file()), rows=[], written=written)
    if args.action == "set":
        if not args.name or args.value is None:
            raise UsageError("config set needs a name and a value: config set timeout 60")
        write_setting(args.name, coerce_setting(args.name, args.value))
    elif args.action == "get" and not args.name:
        raise UsageError("config get needs a setting name: config get timeout")
    from_file = read_settings_file()
    settings = load_settings() if args.action == "set" else session.settings
    defaults = MCPKernel()
    rows = []
    for name in sorted(MCPKernel.class_trait_names(config=True)):
        if args.action in ("get", "set") and name != args.name:
            continue
        value = getattr(settings, name)
        if value != getattr(defaults, name) and (name not in from_file or from_file[name] != value):
            source = "session (%config)"
        elif name in from_file:
            source = str(settings_file())
        else:
            source = "default"
        rows.append(
            SettingRow(name=name, value=value, source=source, help=MCPKernel.class_traits()[name].help)
        )
    if args.action in ("get", "set") and not rows:
        coerce_setting(args.name, "")  # raises the error that lists the known names
    return SettingsReport(file=str(settings_file()), rows=rows)


COMMAND = Command(
    "config",
    "Show, get or set settings (and where each value comes from), or write starters.",
    configure,
    run,
)
