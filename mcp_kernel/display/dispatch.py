"""How a result finds its look: :func:`to_text` and :func:`to_html` are ``functools.singledispatch``
functions, and each renderer module registers its types on them with :func:`renders`.

>>> from mcp_kernel.models import Notice
>>> bundle(Notice(text="saved"))["text/plain"]
'saved'
>>> print(to_text({"unrendered": True}))
{
  "unrendered": true
}
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from ..models import FileView, _Model
from ..sandbox.policy import SandboxPolicy
from ..terminal import printable
from .formatting import Sections, key_value_text
from .templates import environment, template

__all__ = [
    "bundle",
    "register_formatters",
    "rendered_types",
    "renders",
    "renders_sections",
    "to_html",
    "to_json",
    "to_text",
]

T = TypeVar("T")


@functools.singledispatch
def to_text(obj: Any) -> str:
    """Readable text for a result object; control characters from servers shown as escapes, not obeyed.

    A type no renderer claims reads as its JSON, as ``--json`` prints it (a string reads as itself).
    """
    if isinstance(obj, str):
        return printable(obj)
    return to_json(obj)


@functools.singledispatch
def to_html(obj: Any) -> str:
    """Self-contained HTML for a result object (no scripts, no stylesheets: inline styles only).

    A type with no HTML of its own shows its text in a ``<pre>``.
    """
    return environment().get_template("display/text.html.j2").render(text=to_text(obj), title=None)


def to_json(obj: Any) -> str:
    """Machine-readable JSON for ``--json``."""
    if isinstance(obj, BaseModel):
        return obj.model_dump_json(indent=2)
    return json.dumps(obj, indent=2, default=str)


def renders(
    cls: type, html: str | Callable[[Any], str] | None = None
) -> Callable[[Callable[[T], str]], Callable[[T], str]]:
    """Register the decorated function as the text of ``cls``; ``html`` is a template name or a function.

    Without ``html`` the type's HTML is its text in a ``<pre>``, even when a base class has HTML of its own.
    """

    def register(text: Callable[[T], str]) -> Callable[[T], str]:
        @functools.wraps(text)  # to_text.dispatch(cls) names the renderer
        def shown(obj: T) -> str:
            return printable(text(obj))

        to_text.register(cls, shown)
        to_html.register(cls, template(html) if isinstance(html, str) else html or to_html.dispatch(object))
        return text

    return register


def renders_sections(
    cls: type,
) -> Callable[[Callable[[T], tuple[str, Sections]]], Callable[[T], tuple[str, Sections]]]:
    """Register the decorated function, ``obj -> (title, sections)``, as both the text and the HTML of ``cls``:
    the type is shown as titled key/value tables."""

    def register(sections: Callable[[T], tuple[str, Sections]]) -> Callable[[T], tuple[str, Sections]]:
        @functools.wraps(sections)
        def html(obj: T) -> str:
            title, rows = sections(obj)
            return environment().get_template("display/kv.html.j2").render(title=title, sections=rows)

        @functools.wraps(sections)
        def text(obj: T) -> str:
            return key_value_text(*sections(obj))

        renders(cls, html=html)(text)
        return sections

    return register


def rendered_types() -> set[type]:
    """Every type a renderer is registered for."""
    return {cls for cls in to_text.registry if cls is not object}


def bundle(obj: Any) -> dict[str, str]:
    """The notebook mime bundle: ``text/plain`` and ``text/html`` only (a JSON entry would hide the HTML);
    a Markdown file is ``text/markdown`` instead of HTML, so the frontend renders it (and sanitises it)."""
    if isinstance(obj, FileView) and obj.path.lower().endswith((".md", ".markdown")):
        return {"text/plain": to_text(obj), "text/markdown": obj.text}
    return {"text/plain": to_text(obj), "text/html": to_html(obj)}


def register_formatters(shell: Any) -> None:
    """Teach an IPython shell to display every registered type (and any other result model) as a bundle.

    Called when the extension loads (``%load_ext mcp_kernel``, or the MCP kernel at start).
    """
    from ..plugins import Plugin  # here: the plugin store (hashing, archives) loads only for a shell

    formatter = shell.display_formatter.mimebundle_formatter
    for cls in {*rendered_types(), _Model, Plugin, SandboxPolicy}:
        formatter.for_type(cls, bundle)
