"""pyproject.toml declares every package mcp_kernel imports directly, and caps the APIs it builds on."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def declared() -> dict[str, str]:
    """The dependencies and every extra's (an optional package, e.g. pandas for `--as dataframe`, is imported
    where used and declared in its extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [
        d for extra in project.get("optional-dependencies", {}).values() for d in extra
    ]
    out = {}
    for dep in deps:
        name = re.match(r"[A-Za-z0-9_.-]+", dep).group(0)  # type: ignore[union-attr]
        out[re.sub(r"[-_.]+", "-", name).lower()] = dep
    return out


def imported_top_level() -> set[str]:
    names = set()
    for path in (ROOT / "mcp_kernel").rglob("*.py"):
        if "guest" in path.relative_to(ROOT / "mcp_kernel").parts:
            continue  # runs inside the WebAssembly component, not in this environment
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"mcp_kernel", "__future__"}


def test_every_directly_imported_package_is_declared_with_a_lower_bound() -> None:
    dists = packages_distributions()
    deps = declared()
    for module in sorted(imported_top_level()):
        keys = [re.sub(r"[-_.]+", "-", dist).lower() for dist in dists.get(module, [module])]
        # A namespace package several distributions share (opentelemetry): one of them declared is enough.
        for key in [k for k in keys if k in deps] or keys if len(keys) > 1 else keys:
            assert key in deps, f"mcp_kernel imports {module} (from {key}) but pyproject does not declare it"
            assert ">=" in deps[key], f"{deps[key]} needs a lower bound"


def test_the_apis_we_build_on_are_capped() -> None:
    deps = declared()
    assert "<51" in deps["wasmtime"] and "<0.26" in deps["componentize-py"]
