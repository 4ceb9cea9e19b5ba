"""Skills the code saved (see :mod:`mcp_kernel.skills`): one version's record, with or without its source,
and a store's list of them.

>>> info = SkillInfo(name="rev", version=1, description="Revenue by region. More.", signature="def rev()",
...     servers=[], skills=[], saved_at="", size=0, checksum="")
>>> info.summary
'Revenue by region.'
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..text import calls_text, summary_line
from .base import _Model

__all__ = ["Skill", "SkillInfo", "SkillList"]


class SkillInfo(BaseModel):
    """What a saved skill is: its record, without the source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int
    description: str
    signature: str  # ``def name(args) -> returns``
    servers: list[str]  # the servers it calls, its imported skills' included
    skills: list[str]  # the skills it imports
    saved_at: str
    size: int
    checksum: str

    @property
    def summary(self) -> str:
        """The description's first line."""
        return summary_line(self.description)

    def index_line(self) -> str:
        """Its line in the skills' index and in a search answer at ``signature`` detail.

        >>> info = SkillInfo(name="rev", version=2, description="Revenue by region.", signature="def rev(q: str)",
        ...     servers=["demo"], skills=[], saved_at="", size=0, checksum="")
        >>> info.index_line()
        'def rev(q: str): Revenue by region. (calls demo; v2)'
        """
        return f"{self.signature}: {self.summary} ({calls_text(self.servers)}; v{self.version})"


class Skill(SkillInfo):
    """A saved skill with its source."""

    source: str


class SkillList(_Model):
    """The skills of one store: the latest version of each, and those that failed their checks."""

    store: str
    skills: list[SkillInfo]
    versions: dict[str, list[int]] = Field(default_factory=dict)
    broken: dict[str, str] = Field(default_factory=dict)
