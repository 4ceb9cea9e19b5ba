"""The jinja2 environment of every HTML renderer: autoescape on, templates from the package, built once.

Templates live in ``mcp_kernel/templates/display/``; ``base.html.j2`` holds the inline styles they share.

>>> from mcp_kernel.models import Notice
>>> print(template("display/notice.html.j2")(Notice(text="<b>saved</b>")))
<div style="line-height: 1.4">&lt;b&gt;saved&lt;/b&gt;</div>
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..text import calls_text, summary_line
from .formatting import filesize, preview

if TYPE_CHECKING:
    import jinja2

__all__ = ["environment", "template"]


@functools.cache
def environment() -> jinja2.Environment:
    """The one jinja2 environment, with the filters the templates use (``pretty``, ``summary``, ``filesize``...)."""
    import jinja2  # here, not at the top: a terminal that never shows HTML does not pay for loading it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mcp_kernel", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
    env.filters["summary"] = summary_line
    env.filters["filesize"] = filesize
    env.filters["preview"] = preview
    env.filters["calls"] = calls_text
    return env


def template(name: str) -> Callable[[Any], str]:
    """An HTML renderer that fills the template ``name`` with the object as ``obj``."""

    def fill(obj: Any) -> str:
        return environment().get_template(name).render(obj=obj)

    fill.__name__ = fill.__qualname__ = f"template({name!r})"  # what to_html.dispatch(cls) shows
    return fill
