"""Loading mcp-kernel into an IPython shell (``%load_ext mcp_kernel``, or the MCP kernel at start).

For example::

    %load_ext mcp_kernel
"""

from __future__ import annotations

from typing import Any

from .settings import MCPKernel, load_settings

__all__ = ["load", "unload"]

_LOADED: dict[int, Any] = {}


def load(shell: Any, settings: MCPKernel | None = None) -> Any:
    """Register the magics in ``shell`` once; return the ``MCPMagics`` instance."""
    from .magics import MCPMagics  # the magics load IPython's machinery: only in a shell

    if id(shell) in _LOADED:
        return _LOADED[id(shell)]
    if settings is None:
        settings = MCPKernel(parent=shell)
    load_settings(settings)  # the user's config.toml; `%config MCPKernel.x = y` overrides it later
    if settings not in shell.configurables:
        shell.configurables.append(settings)  # so `%config MCPKernel.timeout = 60` reaches it
    magics = MCPMagics(shell, settings)
    shell.register_magics(magics)
    from .display import register_formatters  # jinja2 and the renderers: only in a shell

    register_formatters(shell)  # results display as tables in notebooks; models carry no display code
    if getattr(shell, "kernel", None) is not None:  # a live view needs a frontend: not a terminal IPython
        from .apps.results import result_bundle  # only in a kernel's shell
        from .models import CallResult

        shell.display_formatter.mimebundle_formatter.for_type(CallResult, result_bundle)
    from .magics.completion import matcher  # only in a shell

    shell.Completer.custom_matchers.append(matcher(lambda: magics.session))  # Tab on %mcp lines
    _LOADED[id(shell)] = magics
    return magics


def unload(shell: Any) -> None:
    """Stop this shell's servers; the magics stay registered (IPython cannot unregister them)."""
    magics = _LOADED.pop(id(shell), None)
    if magics is not None:
        magics.close()
