"""Text on its way to a terminal: what a server wrote is shown, never obeyed.

Tool descriptions, resource names, questions, links and results come from servers, and a terminal acts on
control characters: ``ESC ] 0 ;`` sets the window title, ``ESC [ 2 J`` clears the screen, ``\\r`` writes
over a line, C1 ``\\x9b`` starts a sequence on some terminals, bidi overrides reorder what is read. Every
plain-text output goes through :func:`printable`, which shows them as escapes instead. HTML needs none of
this (jinja2 escapes it).

>>> printable("ok\\x1b]0;pwned\\x07 done\\tand\\nmore\\u202e")
'ok\\\\x1b]0;pwned\\\\x07 done\\tand\\nmore\\\\u202e'
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character a terminal would act on shown as an escape (tab, newline kept)."""
    return text if text.isprintable() else _CONTROL.sub(_visible, text)
