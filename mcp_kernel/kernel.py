"""The "MCP (Python)" Jupyter kernel: IPython with mcp-kernel loaded and closed with the kernel.

Run by Jupyter as ``python -m mcp_kernel.kernel -f {connection_file}`` (see ``kernelspec/mcp/kernel.json``).
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from traitlets import List

from .settings import MCPKernel as Settings
from .versions import own as own_version

__all__ = ["MCPKernel"]


class MCPKernel(IPythonKernel, Settings):
    """IPython plus ``%mcp`` and ``%%mcp_execute``; its settings are the ``MCPKernel`` traitlets."""

    implementation = "mcp-kernel"
    implementation_version = own_version()
    banner = (
        f"mcp-kernel {own_version()}: IPython with MCP magics.\n"
        "  %mcp help            every command (add, introspect, generate, search, tokens, ...)\n"
        "  %%mcp_execute        run a cell in the WebAssembly sandbox with MCP tool bindings\n"
    )

    help_links = List(
        [
            {"text": "Python Reference", "url": "https://docs.python.org/3/"},
            {"text": "IPython Reference", "url": "https://ipython.readthedocs.io/en/stable/"},
            {"text": "mcp-kernel (%mcp help)", "url": "https://pypi.org/project/mcp-kernel/"},
            {"text": "Model Context Protocol", "url": "https://modelcontextprotocol.io"},
        ]
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from .extension import load  # the magics: once the kernel starts, not when its module is read

        self._mcp_magics = load(self.shell, settings=self)
        # Load the compiled sandbox in the background while the user reads the notebook, so the first
        # %%mcp_execute cell does not pay for it (~0.3 s with a warm cache).
        self._mcp_magics.session.warm_up()

    def do_shutdown(self, restart: bool) -> dict[str, Any]:  # type: ignore[override]
        from .extension import unload  # loaded with load

        unload(self.shell)
        return super().do_shutdown(restart)


if __name__ == "__main__":
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=MCPKernel)
