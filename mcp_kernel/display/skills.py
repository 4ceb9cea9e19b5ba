"""How saved skills look: a store's list (name, what it does, the servers it calls) and one skill's source.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import SkillList
>>> print(to_text(SkillList(store="/data/skills", skills=[])))
skills in /data/skills
  (none)  save one in a cell: from skills import save_skill; save_skill(fn)
"""

from __future__ import annotations

from ..models import Skill, SkillList
from ..text import calls_text
from .dispatch import renders, renders_sections
from .formatting import Sections

__all__ = ["skill_list_sections", "skill_text"]


@renders_sections(SkillList)
def skill_list_sections(obj: SkillList) -> tuple[str, Sections]:
    rows: list[tuple[str, object]] = []
    for skill in obj.skills:
        versions = obj.versions.get(skill.name, [skill.version])
        older = f"; older: v{', v'.join(map(str, versions[:-1]))}" if len(versions) > 1 else ""
        rows.append((skill.name, f"{skill.summary} ({calls_text(skill.servers)}; v{skill.version}{older})"))
    rows += [(name, f"BROKEN: {error}") for name, error in obj.broken.items()]
    empty = ("(none)", "save one in a cell: from skills import save_skill; save_skill(fn)")
    return f"skills in {obj.store}", [("", rows or [empty])]


@renders(Skill)
def skill_text(obj: Skill) -> str:
    head = f"# skill {obj.name} v{obj.version}, saved {obj.saved_at}; {calls_text(obj.servers)}\n"
    head += f"# from skills.{obj.name} import {obj.name}\n"
    return head + obj.source
