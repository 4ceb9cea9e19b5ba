"""``skills list|show|remove|export|import``: functions code saved with ``save_skill``, per owner.

The kernel and the CLI share the user's store; ``--caller NAME`` manages one serve caller's instead (an
operator's view: serve's callers each have their own).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import SkillError, UsageError
from ..models import Notice, SkillInfo, SkillList
from .command import Command

NEEDS_NAME = {"show", "remove"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "show", "remove", "export", "import"],
        help="list (default); show/remove NAME; export FILE [NAME ...]; import FILE",
    )
    parser.add_argument("target", nargs="?", help="the skill, or the archive for export and import")
    parser.add_argument("names", nargs="*", help="export: the skills to write (default: all)")
    parser.add_argument(
        "--version", type=int, metavar="N", help="show/remove: this version (default: latest/all)"
    )
    parser.add_argument("--caller", metavar="NAME", help="a serve caller's skills instead of the user's")


def run(session: Any, args: argparse.Namespace) -> Any:
    if args.caller is not None:
        from ..skills import skill_store  # blake3 and tarfile: only once skills are used

        store = skill_store(session.settings, args.caller)
    else:
        store = session.skills
    if args.action in NEEDS_NAME and not args.target:
        raise UsageError(f"skills {args.action} needs a skill name: skills {args.action} NAME")
    if args.action == "list":
        skills, broken, versions = [], {}, {}
        for name in store.names():
            try:
                skills.append(store.load(name))
                versions[name] = store.versions(name)
            except SkillError as exc:
                broken[name] = str(exc)
        infos = [SkillInfo(**s.model_dump(exclude={"source"})) for s in skills]
        return SkillList(store=str(store.root), skills=infos, versions=versions, broken=broken)
    if args.action == "show":
        return store.load(args.target, args.version)
    if args.action == "remove":
        gone = store.remove(args.target, args.version)
        return Notice(
            text=f"removed skill {args.target!r} (version {', '.join(map(str, gone))}) from {store.root}"
        )
    if not args.target:
        raise UsageError(f"skills {args.action} needs an archive: skills {args.action} FILE")
    if args.action == "export":
        written = store.export(args.target, args.names or None)
        return Notice(
            text=f"exported {len(written)} skill(s) ({', '.join(s.name for s in written)}) to {args.target}"
        )
    saved = store.import_(args.target)
    listed = ", ".join(f"{s.name} v{s.version}" for s in saved)
    return Notice(text=f"imported {len(saved)} skill(s) ({listed}) into {store.root}")


COMMAND = Command(
    "skills",
    "List, show, remove, export and import the functions code saved with save_skill (checked like plugins).",
    configure,
    run,
)
