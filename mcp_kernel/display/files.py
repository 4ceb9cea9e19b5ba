"""How the generated file tree looks: a directory tree, one file, and a report of the bindings generated.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.vfs import VirtualFS
>>> print(to_text(VirtualFS({"servers/demo/query.py": "x = 1", "servers/demo/index.md": "# demo"}).tree()))
/mcp-tools/
└── servers/
    └── demo/
        ├── index.md  (6 B)
        └── query.py  (5 B)
"""

from __future__ import annotations

from ..models import FileView, GenerateReport
from ..vfs import TreeNode
from .dispatch import renders
from .formatting import filesize

__all__ = ["file_view_text", "generate_report_text", "tree_text"]


@renders(TreeNode, html="display/tree.html.j2")
def tree_text(obj: TreeNode) -> str:
    lines: list[str] = []

    def walk(node: TreeNode, prefix: str, last: bool, top: bool) -> None:
        label = node.name + ("/" if node.kind == "dir" else f"  ({filesize(node.size)})")
        lines.append(label if top else f"{prefix}{'└── ' if last else '├── '}{label}")
        child_prefix = "" if top else prefix + ("    " if last else "│   ")
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False)

    walk(obj, "", True, True)
    return "\n".join(lines)


@renders(FileView, html="display/file.html.j2")
def file_view_text(obj: FileView) -> str:
    return obj.text


@renders(GenerateReport, html="display/generate.html.j2")
def generate_report_text(obj: GenerateReport) -> str:
    head = (
        f"generated {obj.tools} tool bindings for {obj.server} ({', '.join(obj.languages)}): "
        f"{len(obj.files)} files, {filesize(obj.bytes)} in {obj.duration_ms:.1f} ms"
    )
    extra = [f"written to {obj.out}"] if obj.out else []
    extra += [f"saved as plugin {obj.plugin}"] if obj.plugin else []
    return "\n".join([head, *extra, *(f"  /mcp-tools/{f}" for f in obj.files)])
