"""Skills in a sandbox session: what its ``/mcp-tools/skills`` holds, what a cell may import, what it saved.

Each sandbox session sees its owner's skills (:class:`~mcp_kernel.skills.SkillStore`) in a read-only
directory of its own mounted at ``/mcp-tools/skills``: the ``skills`` package (``save_skill``), one module per
skill (its latest version), the index, and the servers' generated ``SKILL.md`` files that the mount covers.
``save_skill`` in a cell writes to ``/workspace/.mcp-skills/outbox``; after the cell the host takes what is
there, checks it and saves it in the owner's store (:func:`take_saved`).

For example::

    changed = sync(box, store, bindings.vfs)           # before a cell: True when the guest must re-import
    check_imports("from skills.rev import rev", store, policy)
    notes = take_saved(box, store)                    # after it: ["Saved skill 'rev' v1 (calls demo) ..."]
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PolicyViolation, SkillError
from ..text import calls_text

if TYPE_CHECKING:
    from ..skills import SkillStore
    from ..vfs import VirtualFS
    from .policy import SandboxPolicy
    from .session import Sandbox

__all__ = ["OUTBOX", "check_imports", "discard_saved", "imported_skills", "sync", "take_saved"]

OUTBOX = ".mcp-skills/outbox"  # under the session's workspace
MAX_SAVES_PER_CELL = 20
_ENTRY_BYTES = 1 << 20


@functools.cache
def package_text() -> str:
    """The ``skills`` package's ``__init__.py`` (``save_skill``), as the guest imports it."""
    return (resources.files("mcp_kernel.sandbox") / "guest" / "skills_package.py").read_text("utf-8")


def sync(box: Sandbox, store: SkillStore | None, tree: VirtualFS) -> bool:
    """Make ``box``'s skills directory hold ``store``'s latest skills (and the tree's ``skills/`` files the
    mount covers); return whether anything changed since its last cell (the guest then re-imports them)."""
    if box.skills_dir is None:
        return False
    key = (None if store is None else (store.root, store.stamp()), tree.version)
    seen_key, seen = box.skills_seen
    if key == seen_key:  # most cells: one small read tells nothing changed
        return False
    wanted = {"__init__.py": package_text()}
    wanted.update(
        {path[len("skills/") :]: text for path, text in tree.files.items() if path.startswith("skills/")}
    )
    if store is not None:
        wanted.update({path[len("skills/") :]: text for path, text in store.files().items()})
    box.skills_seen = (key, wanted)
    if wanted == seen:
        return False
    root = box.skills_dir
    for rel, text in wanted.items():
        if seen.get(rel) != text:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    for rel in set(seen) - set(wanted):
        with contextlib.suppress(FileNotFoundError):
            (root / rel).unlink()
    return bool(seen)  # the first sync of a session has nothing imported to forget


def imported_skills(code: str) -> set[str]:
    """The skills ``code`` imports (``from skills.x import ...``, ``import skills.x``, ``from skills import x``);
    none when it does not parse (the sandbox then says where)."""
    if "skills" not in code:  # most cells: no parse
        return set()
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("skills."))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == "skills":
                found.update(a.name for a in node.names if a.name not in ("save_skill", "remove_skill"))
            elif node.module.startswith("skills."):
                found.add(node.module.split(".")[1])
    return found


def check_imports(code: str, store: SkillStore | None, policy: SandboxPolicy) -> None:
    """Refuse, before it runs, a cell importing a skill that calls servers the cell may not use."""
    names = imported_skills(code)
    if not names or store is None:
        return
    allowed = set(policy.servers)
    for name, servers in sorted(store.servers_of(names).items()):
        missing = [s for s in servers if s not in allowed]
        if missing:
            raise PolicyViolation(
                f"This cell imports skill {name!r}, which calls {', '.join(missing)}; the cell may not use "
                f"{'that server' if len(missing) == 1 else 'those servers'}. Allow "
                f"{'it' if len(missing) == 1 else 'them'} for the cell (the servers it may call), or do "
                "without the skill."
            )


def take_saved(box: Sandbox, store: SkillStore | None, error: str | None = None) -> list[str]:
    """Save what the cell's ``save_skill`` calls left in the outbox (each checked by the store), and remove
    what its ``remove_skill`` calls named; return a line for each: done, or refused, with why. A cell that
    ended with an ``error`` does neither (a skill is code that worked). The outbox is emptied."""
    outbox = box.workspace / OUTBOX
    if not outbox.is_dir():
        return []
    notes = []
    try:
        if outbox.resolve() != box.workspace.resolve() / OUTBOX:  # a link the cell made to elsewhere
            return [
                "Not saved: the skills outbox is not a directory of the workspace (the cell replaced it)."
            ]
        entries = sorted(p for p in outbox.iterdir() if p.suffix == ".json")
        if error is not None and entries:
            return [
                f"Not saved: {len(entries)} skill(s), because the cell ended with {error}; a cell saves skills "
                "only when it ends well."
            ]
        for n, path in enumerate(entries):
            if n >= MAX_SAVES_PER_CELL:
                notes.append(
                    f"Only {MAX_SAVES_PER_CELL} skills are saved per cell; {len(entries) - n} were not."
                )
                break
            notes.append(_take_one(path, store))
    finally:
        discard_saved(box)
    return notes


def discard_saved(box: Sandbox) -> None:
    """Forget what a stopped cell's ``save_skill`` calls left (a cell that did not end saves nothing)."""
    place = box.workspace / ".mcp-skills"
    if place.is_symlink():
        place.unlink()  # the link, never what it points at
    else:
        shutil.rmtree(place, ignore_errors=True)


def _take_one(path: Path, store: SkillStore | None) -> str:
    name = "?"
    try:  # one bad entry is reported, the others are still saved
        if path.is_symlink() or path.stat().st_size > _ENTRY_BYTES:
            raise SkillError("an entry in the skills outbox is not one save_skill wrote.")
        entry = json.loads(path.read_text("utf-8"))
        if isinstance(entry, dict) and isinstance(entry.get("remove"), str):
            return _remove_one(entry, store)
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            raise SkillError("an entry in the skills outbox is not one save_skill wrote.")
        name = str(entry.get("name"))[:80]
        description = entry.get("description")
        if store is None:
            raise SkillError(f"skill {name!r}: this server keeps no skills (its operator turned them off).")
        skill = store.save(name, entry["source"], description if isinstance(description, str) else None)
    except SkillError as exc:
        return f"Not saved: {exc}"
    except OSError as exc:  # the store's disk: said without the host's paths
        return f"Not saved: skill {name!r}: the skills store could not be written ({exc.strerror or exc})."
    except (ValueError, RecursionError, MemoryError):  # what a cell wrote into its outbox itself
        return f"Not saved: skill {name!r}: an entry in the skills outbox is not one save_skill wrote."
    return (
        f"Saved skill {skill.name!r} v{skill.version} ({calls_text(skill.servers)}): "
        f"from skills.{skill.name} import {skill.name}"
    )


def _remove_one(entry: dict[str, object], store: SkillStore | None) -> str:
    name, version = str(entry["remove"])[:80], entry.get("version")
    try:
        if store is None:
            raise SkillError(f"skill {name!r}: this server keeps no skills.")
        gone = store.remove(name, version if isinstance(version, int) else None)
    except SkillError as exc:
        return f"Not removed: {exc}"
    except OSError as exc:
        return f"Not removed: skill {name!r}: the skills store could not be written ({exc.strerror or exc})."
    return f"Removed skill {name!r} (version {', '.join(map(str, gone))})."
