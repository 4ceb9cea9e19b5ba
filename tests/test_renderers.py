"""Data never depends on presentation: models carry no display code; display.py's one registry reaches
IPython through `for_type` when the extension loads (the kernel path is tests/e2e/test_magics_in_kernel.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from mcp_kernel.display import bundle
from mcp_kernel.models import Introspection, ServerInfo, ServerSpec, ToolInfo
from mcp_kernel.plugins import Plugin, new_metadata
from mcp_kernel.sandbox.policy import SandboxPolicy
from mcp_kernel.vfs import VirtualFS

PACKAGE = Path(__file__).resolve().parent.parent / "mcp_kernel"
MODELS = sorted(f"models/{path.name}" for path in (PACKAGE / "models").glob("*.py"))
DATA_MODULES = [*MODELS, "vfs.py", "plugins.py", "sandbox/policy.py"]


def imported_modules(path: Path) -> set[str]:
    """Every name a file imports, at any level (top of file or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= {getattr(node, "module", None) or "", *(alias.name for alias in node.names)}
    return found


@pytest.mark.parametrize("module", DATA_MODULES)
def test_data_modules_never_import_display(module: str) -> None:
    imports = imported_modules(PACKAGE / module)
    assert not [name for name in imports if name.split(".")[-1] == "display"], imports


@pytest.mark.slow
def test_models_import_without_display_in_a_fresh_interpreter() -> None:
    code = (
        "import sys, mcp_kernel.models as m, mcp_kernel.vfs, mcp_kernel.plugins, mcp_kernel.sandbox.policy\n"
        "spec = m.ServerSpec(name='d', command='python'); repr(spec); spec.model_dump_json()\n"
        "print('mcp_kernel.display' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def plugin() -> Plugin:
    meta = new_metadata(
        "demo", "demo", ServerInfo(name="demo"), tool_count=0, tool_hashes={}, generator_version="1"
    )
    return Plugin(metadata=meta, files={"servers/demo/__init__.py": ""})


@pytest.mark.slow
def test_loading_the_extension_lets_ipython_display_every_result() -> None:
    objects = [
        Introspection(
            server_name="demo", server=ServerInfo(name="demo"), tools=[ToolInfo(name="query_sales")]
        ),
        VirtualFS({"servers/demo/a.py": "x = 1"}).tree(),
        SandboxPolicy(servers=("demo",)),
        ServerSpec(name="d", command="python"),
        plugin(),
    ]
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mcp_kernel")
    try:
        for obj in objects:
            data, _ = shell.display_formatter.format(obj)
            assert {k: data[k] for k in ("text/plain", "text/html")} == bundle(obj), type(obj).__name__
    finally:
        shell.run_line_magic("unload_ext", "mcp_kernel")
