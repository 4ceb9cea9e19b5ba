"""Run the demo server: ``python -m mcp_kernel.demo`` (stdio) or ``--http PORT`` (streamable HTTP)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_kernel.demo", description="The mcp-kernel demo MCP server."
    )
    parser.add_argument(
        "--http", type=int, metavar="PORT", help="serve streamable HTTP on PORT instead of stdio"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on with --http (default 127.0.0.1)"
    )
    args = parser.parse_args(argv)

    from .server import build_server  # the SDK: after --help has had its chance

    server = build_server()
    if args.http is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host=args.host, port=args.http)


if __name__ == "__main__":
    main()
