"""``manifest.json``: server info, every tool's full schemas and their blake3 hash, one tool per line.

>>> from mcp_kernel.models import ToolInfo
>>> len(schema_hash(ToolInfo(name="t")))
64
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import blake3

from ..models import ServerInfo, ToolInfo
from ..versions import own as own_version

GENERATOR_VERSION = "2"

# Encoders made once: json.dumps with any non-default option builds a new encoder on every call.
canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
sorted_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def schema_hash(tool: ToolInfo) -> str:
    """blake3 of a tool's canonical input and output schemas: changes when the contract changes."""
    return _hash(canonical(tool.input_schema), canonical(tool.output_schema))


def _hash(input_json: str, output_json: str) -> str:
    """:func:`schema_hash` from the two schemas already in canonical form (``canonical([a, b])``)."""
    return blake3.blake3(f"[{input_json},{output_json}]".encode()).hexdigest()


def tool_entry(
    tool: ToolInfo, inputs: str, outputs: str, annotations: dict[tuple[Any, ...], str]
) -> tuple[str, str]:
    """A tool's manifest line, before and after its ``"files"`` entry, from its schemas already in
    :func:`canonical` form (``annotations`` caches the JSON of the few sets of annotations tools share).

    The line is the tool's entry with sorted keys and "files" (which depends on the server's id) spliced in
    between "description" and "input_schema", where sorting puts it. The schemas are written in their
    canonical form, the one serialisation that their hash is also made from.
    """
    ann = tool.annotations
    ann_key = (ann.title, ann.read_only, ann.destructive, ann.idempotent, ann.open_world)
    ann_json = annotations.get(ann_key)
    if ann_json is None:
        ann_json = annotations[ann_key] = sorted_json(ann.model_dump(mode="json", exclude_none=True))
    before = f'{{"annotations": {ann_json}, "description": {sorted_json(tool.description)}'
    after = (
        f'"input_schema": {inputs}, "name": {sorted_json(tool.name)}, "output_schema": {outputs}, '
        f'"schema_hash": "{_hash(inputs, outputs)}", "title": {sorted_json(tool.title)}}}'
    )
    return before, after


def manifest(
    server: ServerInfo,
    entries: Sequence[tuple[str, tuple[str, str]]],
    server_name: str,
    sid: str,
    languages: Sequence[str],
) -> str:
    """The manifest of one server; ``entries`` are each tool's (binding name, :func:`tool_entry`)."""
    langs = sorted(languages)
    data = {
        "server_id": sid,
        "server_name": server_name,
        "server": server.model_dump(mode="json"),
        "generator": {"name": "mcp-kernel", "version": own_version(), "format": GENERATOR_VERSION},
        "languages": langs,
    }
    # One tool per line: readable, diff-friendly, and cheap: the JSON of each tool is made once per plan.
    lines = []
    for func, (before, after) in entries:
        paths = ", ".join(
            f'"{lang}": "servers/{sid}/{func}.{"py" if lang == "python" else "ts"}"' for lang in langs
        )  # identifiers and fixed words: nothing to escape
        lines.append(f'{before}, "files": {{{paths}}}, {after}')
    head = json.dumps(data, sort_keys=True, ensure_ascii=False)[:-1]
    return f'{head}, "tools": [\n' + ",\n".join(lines) + "\n]}\n"
