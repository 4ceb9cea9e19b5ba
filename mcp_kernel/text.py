"""Small text rules shared by the tree, search and the displays.

>>> summary_line("Query sales. Rows are paged.")
'Query sales.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["calls_text", "summary_line"]


def summary_line(text: str, limit: int = 120) -> str:
    """The first sentence (or line) of a description, trimmed to ``limit`` characters."""
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def calls_text(servers: Sequence[str]) -> str:
    """How a skill's servers read wherever it is shown.

    >>> calls_text(["demo", "files"]), calls_text([])
    ('calls demo, files', 'calls no server')
    """
    return f"calls {', '.join(servers) or 'no server'}"
