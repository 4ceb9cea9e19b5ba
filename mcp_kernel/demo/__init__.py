"""The bundled demo: a sales-data MCP server (``python -m mcp_kernel.demo``) and ``mcp-kernel demo``.

Importing this package is cheap: the server (and the mcp SDK) load only when it runs.
"""
