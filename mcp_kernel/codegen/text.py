"""Text in generated files: escaped for where it lands, and cut to the words a binding keeps.

Schema text is untrusted: it only ever lands inside escaped docstrings (:func:`doc`), ``/** */`` comments
(:func:`tsdoc`) or Markdown (:func:`md`), never in code.

>>> lead("Read a file. Handles every encoding under the sun and a few more besides.", 30)
'Read a file.'
"""

from __future__ import annotations

import re

DOC_WIDTH = 116  # docstring lines stay within about this many columns
LEAD_CHARS = 160  # a docstring keeps the description's first sentences up to about this length
MAX_DOC = 400  # no single sentence or argument description longer than this lands in a binding


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\r": "\\r", "\t": "    "}
_SPECIAL = re.compile('[\\\\"\r\t\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]')


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"


def doc(text: str) -> str:
    """Text safe inside a triple-quoted (non-raw) docstring: every quote, backslash and control escaped.

    >>> print(doc('say "hi" \\\\ bye'))
    say \\"hi\\" \\\\ bye
    """
    return _SPECIAL.sub(_escape_char, text)


def tsdoc(text: str) -> str:
    """Text safe inside a /** */ comment: no way to close it, no control characters."""
    cleaned = "".join(
        ch if ch == "\n" or (ord(ch) >= 32 and ch not in "\u2028\u2029\x7f") else f"\\u{ord(ch):04x}"
        for ch in text.strip()
    )
    cleaned = cleaned.replace("*/", "*\\/").replace("/*", "/\\*")
    return "\n * ".join(line.rstrip() for line in cleaned.split("\n"))


def md(text: str) -> str:
    """Untrusted text for the skill's Markdown body: no raw HTML, no fence breaking."""
    return text.replace("\0", "").replace("<", "&lt;").replace("```", "'''").strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Words that say nothing about a parameter beyond its name and type.
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "this",
        "that",
        "these",
        "is",
        "are",
        "be",
        "it",
        "its",
        "if",
        "or",
        "and",
        "any",
        "given",
        "specified",
        "provided",
        "optional",
        "required",
        "value",
        "values",
        "parameter",
        "param",
        "argument",
        "arg",
        "input",
        "field",
        "name",
        "only",
        "string",
        "str",
        "number",
        "integer",
        "int",
        "float",
        "boolean",
        "bool",
        "object",
        "array",
        "list",
    ]
)


def clip(text: str) -> str:
    return text if len(text) <= MAX_DOC else text[: MAX_DOC - 1].rstrip() + "…"


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The first sentences of a description's first paragraph, up to about ``limit`` characters, on one line.

    >>> lead("Read a file. Handles every encoding under the sun and a few more besides.", 30)
    'Read a file.'
    """
    paragraph = " ".join(_PARAGRAPH.split(text.strip(), maxsplit=1)[0].split())
    sentences = _SENTENCE_END.split(paragraph)
    out = sentences[0]
    for sentence in sentences[1:]:
        if len(out) + 1 + len(sentence) > limit:
            break
        out += " " + sentence
    return clip(out)


def words(text: str) -> set[str]:
    return set(_WORD.findall(_CAMEL_BOUNDARY.sub(" ", text).lower()))


def lines(text: str, width: int) -> list[str]:
    """``text`` (one line, single-spaced) broken at spaces into lines of at most ``width`` characters (at
    least 40; a longer word stands alone): what ``textwrap.wrap(text, width, break_long_words=False,
    break_on_hyphens=False)`` gives for such text, at a quarter of its cost.

    >>> lines("aaa bbb ccc", 7)
    ['aaa bbb ccc']
    """
    if len(text) <= width:
        return [text]
    width = max(width, 40)
    words = text.split(" ")
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def informative(description: str, known: set[str]) -> bool:
    """Whether a parameter's description says anything that the tool's parameter names and its first
    sentences (``known`` words) do not: ``path: The path.`` does not, nor ``region: Only orders from
    this region.`` on a tool that queries orders."""
    return any(w not in known and w not in _FILLER for w in _WORD.findall(description.lower()))


def md_inline(text: str) -> str:
    """Untrusted text on one Markdown line."""
    return " ".join(md(text).split())
