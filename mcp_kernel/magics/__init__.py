"""IPython magics: ``%mcp <command>`` and ``%%mcp_execute``."""

from .magics import MCPMagics

__all__ = ["MCPMagics"]
