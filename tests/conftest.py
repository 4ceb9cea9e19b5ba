"""Shared fixtures: real MCP servers (ours and third-party ones from npm), isolated user directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import free_port, node_bin, running

from mcp_kernel.models import ServerSpec


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep logs, config and data of the test run out of the user's real directories."""
    base = tmp_path_factory.mktemp("user-dirs")
    keys = ("MCP_KERNEL_LOG_DIR", "MCP_KERNEL_CONFIG_DIR", "MCP_KERNEL_DATA_DIR", "MCP_KERNEL_CACHE_DIR")
    saved = {k: os.environ.get(k) for k in keys}
    # The compiled sandbox component is kept between runs (building it takes ~12 s); everything else is fresh.
    os.environ["MCP_KERNEL_CACHE_DIR"] = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "mcp-kernel")
    os.environ["MCP_KERNEL_LOG_DIR"] = str(base / "logs")
    os.environ["MCP_KERNEL_CONFIG_DIR"] = str(base / "config")
    os.environ["MCP_KERNEL_DATA_DIR"] = str(base / "data")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


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


@pytest.fixture(scope="session")
def kernelspec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The 'mcp' kernelspec installed into a temp prefix that Jupyter is told to search first."""
    from mcp_kernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    install(prefix=str(prefix))
    saved = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"), saved]))
    yield "mcp"
    if saved is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = saved
