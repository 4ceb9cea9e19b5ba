"""The conventions CI enforces, run with the rest of the suite: lint, format, types, size, deferred imports.

ruff and mypy read their settings from pyproject.toml ([tool.ruff], [tool.mypy]); their caches go under
.pytest_cache, not the repository's root. The size rule: no module of the package over 600 lines and no
class over 300, unless the class's docstring says why it must be one piece (it contains ``One piece
because``). A function-level import says why it is deferred (start-up cost, an optional dependency) in a
comment on its line or the line above; consecutive imports share the comment of the first.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mcp_kernel"
CACHE = ROOT / ".pytest_cache"
LINTED = ["mcp_kernel", "tests", "benchmarks", "conftest.py"]
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 300
ONE_PIECE = "One piece because"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_finds_nothing() -> None:
    done = run("ruff", "check", "--cache-dir", str(CACHE / "ruff"), "--output-format", "concise", *LINTED)
    assert done.returncode == 0, f"`ruff check` found problems:\n{done.stdout}{done.stderr}"


def test_ruff_format_changes_nothing() -> None:
    done = run("ruff", "format", "--check", "--cache-dir", str(CACHE / "ruff"), *LINTED)
    assert done.returncode == 0, (
        f"not formatted (run `ruff format {' '.join(LINTED)}`):\n{done.stdout}{done.stderr}"
    )


def test_mypy_finds_nothing() -> None:
    done = run("mypy", "--cache-dir", str(CACHE / "mypy"))  # files and settings: [tool.mypy]
    assert done.returncode == 0, f"mypy found problems:\n{done.stdout}{done.stderr}"


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_or_class_is_too_long() -> None:
    too_long = []
    for path in package_modules():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.ClassDef):
                continue
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > MAX_CLASS_LINES and ONE_PIECE not in (ast.get_docstring(node) or ""):
                too_long.append(
                    f"{name}:{node.lineno} class {node.name}: {size} lines (at most {MAX_CLASS_LINES}, "
                    f"or its docstring says '{ONE_PIECE} ...')"
                )
    assert not too_long, "split these (one concept per module):\n" + "\n".join(too_long)


def comment_lines(text: str) -> set[int]:
    """The lines that carry a comment."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return {token.start[0] for token in tokens if token.type == tokenize.COMMENT}


def unexplained_imports(text: str) -> list[int]:
    """The lines of function-level imports with no comment saying why they wait (see the module doc)."""
    carry = comment_lines(text)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        previous: ast.stmt | None = None
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            explained = False
            previous = None
            for child in block:
                if isinstance(child, ast.Import | ast.ImportFrom):
                    own = any(
                        line in carry
                        for line in range(child.lineno - 1, (child.end_lineno or child.lineno) + 1)
                    )
                    # a run of imports shares the comment of its first
                    follows = isinstance(previous, ast.Import | ast.ImportFrom) and explained
                    explained = own or follows
                    if in_function and not explained:
                        found.append(child.lineno)
                previous = child
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt | ast.ExceptHandler):
                inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                visit(child, inner)

    visit(ast.parse(text), in_function=False)
    return found


def test_unexplained_imports_finds_a_bare_function_level_import() -> None:
    text = (
        "import os\n"
        "def f():\n"
        "    # the SDK costs 0.3 s: only when a server is used\n"
        "    import mcp\n"
        "    import mcp.client\n"
        "\n"
        "    from x import y\n"
        "    print()\n"
        "    import json\n"
        "    import re  # a reason\n"
    )
    assert unexplained_imports(text) == [9]


def test_every_function_level_import_says_why() -> None:
    unexplained = []
    for path in package_modules():
        for line in unexplained_imports(path.read_text(encoding="utf-8")):
            unexplained.append(f"{path.relative_to(ROOT)}:{line}")
    assert not unexplained, (
        "a function-level import says why it waits (start-up cost, an optional dependency) in a comment "
        "on its line or the line above:\n" + "\n".join(unexplained)
    )
