"""How result objects look: readable text for terminals (and ``text/plain``) and HTML for notebooks.

Every command returns a value (a pydantic model from :mod:`mcp_kernel.models`); the CLI prints
:func:`to_text` of it, ``--json`` prints :func:`to_json`, and the notebook shows :func:`bundle` of it.

The data never depends on this package: models carry no display code. :func:`to_text` and :func:`to_html`
are ``functools.singledispatch`` functions; each module here registers the types of one subject on them
with ``@renders(Type, html=...)`` (``dispatch.py``), and :func:`register_formatters` hands every registered
type to IPython (``for_type``), which is how notebooks find them. To make a new result type look right, add
a ``<type>_text`` function with ``@renders`` to the module of its subject (``servers``, ``tools``,
``execution``, ``sandbox``, ``tokens``, ``files``, ``plugins``, ``resources``, ``prompts``, ``commands``)
and, for HTML, a template in ``mcp_kernel/templates/display/``.

>>> from mcp_kernel.models import ValidationReport, ValidationRow
>>> print(to_text(ValidationReport(rows=[ValidationRow(name="demo", ok=True, tools=8)])))
server  ok  tools  protocol  time  error
demo    ok  8                0 ms
"""

from __future__ import annotations

# Each subject module registers its renderers when imported; the face imports them all, so that any
# import of mcp_kernel.display (or of one of its modules) sees every type rendered.
from . import audit, commands, files, plugins, prompts, resources, sandbox, servers, skills, tokens  # noqa: F401
from .dispatch import (
    bundle,
    register_formatters,
    rendered_types,
    renders,
    renders_sections,
    to_html,
    to_json,
    to_text,
)
from .execution import CALL_ROWS, CellValue, ExecutionFooter, footer
from .formatting import PREVIEW_CHARS, TEXT_ROWS, filesize, preview, records_text, table
from .resources import content_body
from .templates import environment as _environment  # noqa: F401 (magics/progress.py fills its templates)
from .tools import progress_bundle

__all__ = [
    "CALL_ROWS",
    "PREVIEW_CHARS",
    "TEXT_ROWS",
    "CellValue",
    "ExecutionFooter",
    "bundle",
    "content_body",
    "filesize",
    "footer",
    "preview",
    "progress_bundle",
    "records_text",
    "register_formatters",
    "rendered_types",
    "renders",
    "renders_sections",
    "table",
    "to_html",
    "to_json",
    "to_text",
]
