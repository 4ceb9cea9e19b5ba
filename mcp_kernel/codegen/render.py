"""jinja2, set up once: the templates in ``mcp_kernel/templates/`` that every generated file comes from.

Templates are code, not HTML, so autoescape is off: every untrusted value reaches a template through an
explicit filter (``pystr``, ``json``, ``md``) or text escaped before (:mod:`.text`).

>>> static("python/servers.py.j2").splitlines()[0]
'\"\"\"Generated MCP tool bindings: ``from servers.<server> import <tool>``.\"\"\"'
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Sequence
from typing import Any

import blake3
import jinja2

from ..paths import cache_dir
from .plans import Plan
from .text import md
from .views import View

_OPTIONS: dict[str, Any] = {
    "autoescape": False,  # code, not HTML: every untrusted value goes through an explicit filter below
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "auto_reload": False,
}


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """jinja2's own bytecode cache, kept in the user cache directory, so a new process (every CLI command)
    skips parsing and compiling the templates (jinja2 compiles one again when its source changed). The one
    addition: jinja2 raises when it cannot write there, which must not stop a generation."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a full or read-only cache: compiled again next time
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    # compiled code depends on the jinja2 version and the options too, which the cache's own keys do not hold
    tag = blake3.blake3(repr([jinja2.__version__, sorted(_OPTIONS.items())]).encode()).hexdigest()[:12]
    directory = cache_dir() / f"templates-{tag}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return _CompiledTemplates(str(directory))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mcp_kernel", "templates"),
        bytecode_cache=_compiled_templates(),
        **_OPTIONS,
    )
    env.filters["pystr"] = repr
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.filters["md"] = md
    return env


_SEPARATOR = "\0"  # between the bindings one render produces; escaped wherever schema text can reach


def template(name: str) -> jinja2.Template:
    """A compiled template, from jinja2's own cache (``auto_reload`` off: a look-up of ~3 us, no file check)."""
    return _environment().get_template(name)


@functools.cache
def static(name: str) -> str:
    """A template without variables, rendered once (a render costs ~33 us; four run in every generate)."""
    return template(name).render()


def cached_renders(
    name: str, plans: Sequence[Plan], keyed: Sequence[tuple[Any, View]], server_name: str
) -> list[tuple[Plan, View, str]]:
    """Each tool's binding: from its plan's cache, else rendered (all misses in one template call)."""
    texts: list[str | None] = [
        p.rendered.get((name, key, server_name)) for p, (key, _) in zip(plans, keyed, strict=True)
    ]
    missing = [i for i, text in enumerate(texts) if text is None]
    if missing:
        rendered = render_each(name, [keyed[i][1] for i in missing], server_name=server_name)
        for i, text in zip(missing, rendered, strict=True):
            texts[i] = plans[i].rendered[(name, keyed[i][0], server_name)] = text
    return [(p, v, t) for p, (_, v), t in zip(plans, keyed, texts, strict=True) if t is not None]


def render_each(name: str, views: Sequence[Any], **context: Any) -> list[str]:
    """Render ``name`` once for every view in one pass (one template call per server, not per tool)."""
    if not views:
        return []
    parts = template(name).render(views=views, sep=_SEPARATOR, **context).split(_SEPARATOR)
    return parts[:-1]
