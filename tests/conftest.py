"""Shared fixtures: real MCP servers (ours and third-party ones from npm) and the installed kernel."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import free_port, node_bin, running

from mcp_kernel.models import ServerSpec


@pytest.fixture(scope="session")
def demo_http_url() -> Iterator[str]:
    """The bundled demo server over streamable HTTP on loopback."""
    from mcp_kernel.demo.tour import demo_http_server

    with demo_http_server() as url:
        yield url


@pytest.fixture(scope="session")
def everything_spec() -> ServerSpec:
    """@modelcontextprotocol/server-everything over stdio."""
    return ServerSpec(name="everything", command=node_bin("mcp-server-everything"), args=["stdio"])


@pytest.fixture(scope="session")
def everything_http_url() -> Iterator[str]:
    """@modelcontextprotocol/server-everything in its streamable HTTP mode on loopback."""
    port = free_port()
    with running([node_bin("mcp-server-everything"), "streamableHttp"], port, env={"PORT": str(port)}):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture()
def filesystem_spec(tmp_path: Path) -> ServerSpec:
    """@modelcontextprotocol/server-filesystem over stdio, allowed only into a fresh temp directory."""
    root = tmp_path / "files"
    root.mkdir()
    (root / "hello.txt").write_text("hello from mcp-kernel\n")
    return ServerSpec(name="files", command=node_bin("mcp-server-filesystem"), args=[str(root)])


@pytest.fixture()
def guest_only_cache(tmp_path: Path) -> Path:
    """A component cache (``tmp_path / "cache"``) holding only the guest component this run built: a machine
    after the build and before the compile, so what uses it still compiles the component for this machine.
    Building the guest again costs 40-60 s; tests/sandbox/test_engine.py covers the build."""
    from mcp_kernel.paths import cache_dir  # the run's cache, which the root conftest.py filled
    from mcp_kernel.sandbox.engine import guest_source_hash  # wasmtime: only for a test that compiles

    components = tmp_path / "cache" / "components"
    components.mkdir(parents=True)
    built = cache_dir() / "components" / f"guest-{guest_source_hash()[:32]}.wasm"
    for path in (built, built.with_name(built.name + ".blake3")):
        shutil.copy2(path, components / path.name)
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def kernelspec() -> str:
    """The 'mcp' kernelspec, installed for the whole run by the root conftest.py."""
    from jupyter_client.kernelspec import KernelSpecManager

    assert "mcp" in KernelSpecManager().find_kernel_specs()
    return "mcp"
