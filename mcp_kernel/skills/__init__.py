"""Skills the code writes: functions saved from the sandbox, kept per owner, found by search, imported later.

A cell saves a function that worked with ``save_skill(fn)`` (the sandbox's ``skills`` package); when the cell
ends, the host checks its source (:func:`check_source`) and keeps it here as a new version. Later cells, in
any session of the same owner, ``from skills.<name> import <name>``; search finds it beside the tools.

Layout (``<store>`` is the user data dir's ``skills/`` for the kernel and the CLI; each serve caller has
``<store>/.callers/<hash>/``)::

    <store>/<name>/v<N>.py      the source: the function and the imports it needs
    <store>/<name>/v<N>.json    name, version, description, signature, servers it calls, skills it imports,
                                saved time, and a checksum over all of it and the source

A version is written source first, then its record, each atomically (a version exists once its record
does); the highest version is the one imported. The checksum is a blake3 MAC keyed by the store's own key
(``.key``, 0o600), so a file written into the store by anything but the store, or changed after, is refused
(:class:`~mcp_kernel.errors.SkillIntegrityError`). An exported archive carries plain blake3 checksums
instead (another store has another key), and an import checks every skill again before saving it.

For example::

    store = SkillStore("/tmp/skills")
    store.save("double", "def double(x):\\n    '''Twice x.'''\\n    return 2 * x\\n").version
    # 1
    store.load("double").description
    # 'Twice x.'
"""

from __future__ import annotations

from ..models import Skill, SkillInfo
from .source import check_source, validate_name
from .store import CallerSkills, SkillStore, skill_store

__all__ = ["CallerSkills", "Skill", "SkillInfo", "SkillStore", "check_source", "skill_store", "validate_name"]
