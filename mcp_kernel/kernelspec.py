"""Install and remove the "MCP (Python)" kernelspec through jupyter_client's KernelSpecManager.

For example::

    install(user=True)
    # KernelspecResult(action='installed', name='mcp', path='/home/me/.local/share/jupyter/kernels/mcp')
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from .errors import MCPKernelError
from .models import KernelspecResult

__all__ = ["KERNEL_NAME", "install", "kernel_json", "uninstall"]

KERNEL_NAME = "mcp"
_FILES = ("kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def kernel_json(python: str | None = None) -> dict[str, object]:
    """The kernel.json to install, with ``python`` (default: this interpreter) as the kernel's interpreter."""
    spec = json.loads(resources.files("mcp_kernel.resources").joinpath("kernel.json").read_text())
    spec["argv"][0] = python or sys.executable
    return spec


def install(*, user: bool = False, sys_prefix: bool = False, prefix: str | None = None) -> KernelspecResult:
    """Install the kernelspec (system-wide by default, like ``jupyter kernelspec install``)."""
    from jupyter_client.kernelspec import KernelSpecManager  # jupyter_client: only to install the kernel

    if sum([user, sys_prefix, prefix is not None]) > 1:
        raise MCPKernelError("Choose one of --user, --sys-prefix and --prefix.")
    if sys_prefix:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / KERNEL_NAME
        src.mkdir()
        package = resources.files("mcp_kernel.resources")
        for name in _FILES[1:]:
            (src / name).write_bytes(package.joinpath(name).read_bytes())
        (src / "kernel.json").write_text(json.dumps(kernel_json(), indent=2) + "\n")
        try:
            path = KernelSpecManager().install_kernel_spec(str(src), KERNEL_NAME, user=user, prefix=prefix)
        except PermissionError as exc:
            raise MCPKernelError(
                f"Cannot write the kernelspec ({exc}). Use --user, or --sys-prefix in a virtual environment."
            ) from None
    return KernelspecResult(action="installed", name=KERNEL_NAME, path=str(path))


def uninstall() -> KernelspecResult:
    """Remove the kernelspec wherever Jupyter finds it."""
    # jupyter_client: only to remove the kernel
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        path = manager.remove_kernel_spec(KERNEL_NAME)
    except (NoSuchKernel, KeyError):
        raise MCPKernelError(
            "The 'mcp' kernelspec is not installed (see `jupyter kernelspec list`)."
        ) from None
    if Path(path).exists():
        shutil.rmtree(path, ignore_errors=True)
    return KernelspecResult(action="removed", name=KERNEL_NAME, path=str(path))
