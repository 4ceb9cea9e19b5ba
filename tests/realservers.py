"""Real MCP servers for the tests: our own edge-case servers, npm-installed ones, and processes on ports."""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_kernel.models import ServerSpec

ROOT = Path(__file__).resolve().parent.parent
SERVERS = Path(__file__).resolve().parent / "servers"
NODE_BIN = ROOT / "node_modules" / ".bin"


def our_server(name: str, *, spec_name: str | None = None) -> ServerSpec:
    """A spec for one of our own edge-case servers in tests/servers/."""
    return ServerSpec(name=spec_name or name, command=sys.executable, args=[str(SERVERS / f"{name}.py")])


def node_bin(name: str) -> str:
    """Path of an npm-installed executable; fails with the fix when `npm ci` was not run."""
    path = NODE_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: run `npm ci` in {ROOT} (the README's test command does).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def running(cmd: list[str], port: int, env: dict[str, str] | None = None, timeout: float = 30) -> Any:
    """Run a server process until its TCP port answers; stop it afterwards."""
    from mcp_kernel.demo.tour import listening_process

    return listening_process(cmd, port, env=env, startup_timeout=timeout, name=cmd[0])


def own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory of the test's own (the audit file, parked sessions); a fixture where it is used:
    ``data = pytest.fixture(own_data_dir)``."""
    monkeypatch.setenv("MCP_KERNEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def mailer_session() -> Iterator[Any]:
    """A core session with the demo and the mailer, bindings generated; a module's fixture where it is used:
    ``session = pytest.fixture(scope="module", name="session")(mailer_session)``."""
    from mcp_kernel.session import Session

    with Session() as session:
        session.add_server(our_server("mailer"))
        session.generate("demo")
        session.generate("mailer")
        yield session


def sent(session: Any) -> int:
    """How many messages reached the mailer (asked outside the sandbox: no rule guards it, nothing audits it)."""
    value = session.call("mailer", "outbox", {}).value
    return len(value["result"] if isinstance(value, dict) else value)
