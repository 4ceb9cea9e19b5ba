"""Bindings, manifests and skills generated from tool schemas (jinja2 templates in ``templates/``).

For one server this produces, as ``{vfs path: text}``::

    _mcp_runtime.pyi                         declares the runtime for type checkers (the sandbox provides it)
    servers/__init__.py
    servers/<server_id>/__init__.py          re-exports every tool function
    servers/<server_id>/_call.py             call(): the one helper every binding's body calls
    servers/<server_id>/__init__.pyi         the index: one line per tool (typed signature, first sentence)
    servers/<server_id>/<tool>.py            one typed, keyword-only function per tool; its body is one call
    servers/<server_id>/_types.py            result and nested argument types, declared once per server, and
                                             call(): what every binding star-imports
    servers/<server_id>/<tool>.ts            TypeScript binding (with languages=("python", "typescript"))
    runtime.d.ts                             declares callTool() for the TypeScript bindings
    servers/<server_id>/manifest.json        server info, every tool's full schemas and their blake3 hash
    servers/<server_id>/RESOURCES.md         one line per resource and template (by :func:`resource_index`)
    skills/<server_id>/SKILL.md              a Claude Code skill for the server

A binding is what a model reads before it calls a tool, so it carries the interface and nothing else: the
signature, the first sentences of the description, the ``Args`` that say more than their name, one import
line (``from ._types import *``) and one line of body, ``return call(server, tool, locals())``. Types
shared by several tools (a result shape, an enum) are declared once in ``_types.py``; the complete schemas
stay in the manifest.

Every binding reaches one host entry point, ``_mcp_runtime.call_tool(server, tool, params)``: the sandbox
guest provides that module, and on the host :func:`host_runtime` does. Schema text is untrusted: it only
ever lands inside escaped docstrings, ``repr()`` literals or JSON strings, never in code or a comment.

Output is deterministic: the same input gives byte-identical files. Work is cached per tool, keyed by the
tool's full definition (so by its schema hash and more), which makes regenerating an unchanged server cheap;
:func:`clear_cache` drops it.

The modules, in the order data flows through them::

    types.py         JSON Schema -> a small type model: the one reading of a schema
    python.py        that model as Python type expressions; typescript.py: as TypeScript
    plans.py         one tool's plan (parameters, docstring, types), cached by the tool's definition
    declarations.py  names for the types a server's tools share, and what _types.py declares
    views.py         one tool's signature with those names filled in
    render.py        jinja2 and the templates in mcp_kernel/templates/
    files.py         every file for one server (generate), the index, the resource index
    manifest.py      manifest.json and schema_hash; names.py, text.py: names and escaped text
    host.py          the host side of _mcp_runtime

>>> from mcp_kernel.models import ServerInfo, ToolInfo
>>> files = generate(ServerInfo(name="demo"), [ToolInfo(name="get-sum", input_schema={"type": "object",
...     "properties": {"a": {"type": "number"}}, "required": ["a"]})], server_name="demo")
>>> print(files["servers/demo/get_sum.py"].split("\\n\\n\\n")[1], end="")
def get_sum(*, a: float) -> Any:
    \"\"\"get-sum\"\"\"
    return call('demo', 'get-sum', locals())
"""

from __future__ import annotations

from ..names import python_identifier, server_id
from .files import LANGUAGES, SHARED_PATHS, binding_paths, generate, index_lines, resource_index
from .host import host_runtime
from .manifest import GENERATOR_VERSION, schema_hash
from .plans import clear_cache
from .text import lines as _lines  # noqa: F401  (tests/test_codegen.py checks it against textwrap)

__all__ = [
    "GENERATOR_VERSION",
    "LANGUAGES",
    "SHARED_PATHS",
    "binding_paths",
    "clear_cache",
    "generate",
    "host_runtime",
    "index_lines",
    "python_identifier",
    "resource_index",
    "schema_hash",
    "server_id",
]
