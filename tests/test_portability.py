"""mcp_kernel runs where Jupyter runs: no POSIX-only import or call without a fallback, the fast tier passes
on a simulated platform without them (tests/platform_sim.py), and the macOS/Windows workflow is valid."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from platform_sim import POSIX_ATTRIBUTES, POSIX_MODULES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mcp_kernel"
WORKFLOW = ROOT / ".github" / "workflows" / "platforms.yml"
# Exceptions a fallback catches: an import that fails, an attribute a platform lacks.
FALLBACKS = {"ImportError", "ModuleNotFoundError", "AttributeError", "Exception"}


def _is_platform_check(test: ast.expr, modules: dict[str, str]) -> bool:
    """Whether ``test`` asks which platform this is: sys.platform, os.name, platform.system(), or
    hasattr/getattr on os or signal."""
    for node in ast.walk(test):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (modules.get(node.value.id), node.attr) in {("sys", "platform"), ("os", "name")}
        ):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("hasattr", "getattr")
        ):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Name) and modules.get(first.id) in POSIX_ATTRIBUTES:
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "system":
            return True
    return False


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break)


def _catches_fallback(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in FALLBACKS for n in names)


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST], modules: dict[str, str]) -> bool:
    """Whether ``node`` runs only after a platform check, or inside a ``try`` with a fallback."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if (
            isinstance(parent, ast.If | ast.IfExp | ast.While)
            and child is not parent.test
            and _is_platform_check(parent.test, modules)
        ):
            return True
        if isinstance(parent, ast.BoolOp):
            earlier = parent.values[: parent.values.index(child)] if child in parent.values else []
            if any(_is_platform_check(v, modules) for v in earlier):
                return True
        if (
            isinstance(parent, ast.Try)
            and child in parent.body
            and any(map(_catches_fallback, parent.handlers))
        ):
            return True
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and child in block:
                before = block[: block.index(child)]
                if any(
                    isinstance(s, ast.If) and _is_platform_check(s.test, modules) and _exits(s.body)
                    for s in before
                ):
                    return True  # `if not hasattr(os, "killpg"): return` earlier in the same block
        child, parent = parent, parents.get(parent)
    return False


def posix_only_uses(source: str) -> list[str]:
    """Each POSIX-only import or os/signal attribute in ``source`` that no platform check or fallback guards,
    as ``line: what``."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    modules = {"sys": "sys", "os": "os", "signal": "signal", "platform": "platform"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(
                {(a.asname or a.name).partition(".")[0]: a.name.partition(".")[0] for a in node.names}
            )
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Import):
            posix = [a.name for a in node.names if a.name.partition(".")[0] in POSIX_MODULES]
            what = f"import {', '.join(posix)}" if posix else None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.partition(".")[0]
            if top in POSIX_MODULES:
                what = f"from {node.module} import ..."
            elif top in POSIX_ATTRIBUTES and any(a.name in POSIX_ATTRIBUTES[top] for a in node.names):
                what = f"from {top} import {', '.join(a.name for a in node.names)}"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = modules.get(node.value.id)
            if module in POSIX_ATTRIBUTES and node.attr in POSIX_ATTRIBUTES[module]:
                what = f"{module}.{node.attr}"
        if what and not _guarded(node, parents, modules):
            found.append(f"{node.lineno}: {what}")  # type: ignore[attr-defined]
    return sorted(found, key=lambda s: int(s.partition(":")[0]))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import fcntl\n", ["1: import fcntl"]),
        ("def f():\n    import termios\n", ["2: import termios"]),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", []),
        ("import os\nos.killpg(1, 9)\n", ["2: os.killpg"]),
        ("import os as o\nx = o.O_NOFOLLOW\n", ["2: os.O_NOFOLLOW"]),
        ("from os import getuid\n", ["1: from os import getuid"]),
        ("import signal\nsig = signal.SIGKILL\n", ["2: signal.SIGKILL"]),
        ("import os\nif hasattr(os, 'killpg'):\n    os.killpg(1, 9)\n", []),
        ("import os\ndef f():\n    if not hasattr(os, 'getuid'):\n        return\n    os.getuid()\n", []),
        ("import os, sys\nif sys.platform == 'win32':\n    pass\nelse:\n    os.setsid()\n", []),
        ("import os\nok = hasattr(os, 'getuid') and os.getuid() == 0\n", []),
        ("import os\ndef f():\n    if os.name == 'nt':\n        x = 1\n    os.getuid()\n", ["5: os.getuid"]),
    ],
)
def test_the_scan_finds_unguarded_posix_only_uses_and_accepts_guarded_ones(
    source: str, found: list[str]
) -> None:
    assert posix_only_uses(source) == found


def test_no_module_uses_posix_only_modules_or_functions_without_a_fallback() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "guest" in path.relative_to(PACKAGE).parts:
            continue  # runs inside the WebAssembly sandbox (WASI), never on the host's platform
        uses = posix_only_uses(path.read_text(encoding="utf-8"))
        if uses:
            found[str(path.relative_to(ROOT))] = uses
    assert not found, f"POSIX-only without a platform check or fallback (Windows lacks them): {found}"


def test_the_package_imports_without_fcntl() -> None:
    """The issue's check, verbatim: no fcntl (as on Windows), and the kernel's extension still loads."""
    code = (
        "import sys; sys.modules['fcntl'] = None; import mcp_kernel, mcp_kernel.plugins, mcp_kernel.display"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.slow
def test_the_fast_tier_passes_on_a_simulated_platform_without_posix() -> None:
    """The fast tier, in a subprocess, with tests/platform_sim.py taking POSIX-only modules and names away
    from mcp_kernel (tests marked ``posix`` are deselected there)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.platform_sim",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
        "-n",  # in this process, where the plugin surely is: no workers to start (a third less CPU)
        "0",
    ]
    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MCP_KERNEL_"))},
    )
    tail = (out.stdout + out.stderr)[-4000:]
    assert out.returncode == 0, tail
    assert "simulated platform: mcp_kernel without" in out.stdout, "the plugin was loaded"
    assert " passed" in tail, tail


def test_the_simulation_hides_posix_from_mcp_kernel_only() -> None:
    """What tests/platform_sim.py's ``__import__`` gives mcp_kernel's modules, and everyone else."""
    import signal

    from platform_sim import _import

    ours, theirs = {"__name__": "mcp_kernel.plugins"}, {"__name__": "psutil"}
    with pytest.raises(ModuleNotFoundError, match="simulated platform"):
        _import("fcntl", ours)
    assert _import("fcntl", theirs) is sys.modules["fcntl"]
    seen = _import("os", ours)
    assert not hasattr(seen, "killpg") and not hasattr(seen, "O_NOFOLLOW") and hasattr(os, "killpg")
    assert seen.path is os.path and seen.replace is os.replace and _import("os.path", ours) is seen
    assert (
        not hasattr(_import("signal", ours), "SIGKILL") and _import("signal", ours).SIGTERM == signal.SIGTERM
    )
    assert _import("os", theirs) is os
    with pytest.raises(AttributeError):
        _import("os", ours, None, ("getpgid",)).getpgid  # noqa: B018 (what `from os import getpgid` reads)


def check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against GitHub's workflow schema, which ships in the package (it fetches nothing)."""
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    return subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_workflow_is_a_valid_github_workflow(tmp_path: Path) -> None:
    out = check_workflow(WORKFLOW)
    assert out.returncode == 0 and "ok -- validation done" in out.stdout, out.stdout + out.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "run-on:"))
    assert check_workflow(broken).returncode != 0, "the schema catches a misspelt key"


def test_the_workflow_runs_the_fast_tier_and_the_demo_on_macos_and_windows() -> None:
    import yaml

    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    matrix = [job["strategy"]["matrix"] for job in jobs.values()]
    assert {"macos-latest", "windows-latest"} <= {os_ for m in matrix for os_ in m["os"]}
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert 'python -m pytest -m "not slow"' in runs and "mcp-kernel demo" in runs
