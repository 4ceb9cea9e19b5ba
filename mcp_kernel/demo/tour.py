"""``mcp-kernel demo``: the main job, end to end, on the bundled demo server.

>>> from mcp_kernel.session import Session

For example::

    with Session() as session:
        report = run_tour(session)
    len(report.introspection.tools) > 5
    # True
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from ..errors import ServerStartError
from ..models import DemoReport, ServerSpec

__all__ = ["demo_http_server", "listening_process", "run_tour"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def listening_process(
    cmd: list[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    startup_timeout: float = 30.0,
    name: str = "server",
    stderr: Any = subprocess.PIPE,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` until it accepts connections on loopback ``port``; stop it on exit. ``stderr``: where its
    stderr goes (a pipe, read if it fails to start; give a file for a long run that writes much there)."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=stderr, env=None if env is None else {**os.environ, **env}
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                err = (
                    proc.stderr.read().decode(errors="replace")
                    if proc.stderr and proc.poll() is not None
                    else ""
                )
                raise ServerStartError(
                    f"{name} did not start listening on port {port} ({' '.join(cmd)}).",
                    server=name,
                    log_tail=err[-2000:],
                )
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@contextlib.contextmanager
def demo_http_server(port: int | None = None, *, startup_timeout: float = 20.0) -> Iterator[str]:
    """Run the demo server over streamable HTTP on loopback; yield its URL; stop it on exit."""
    port = port or _free_port()
    cmd = [sys.executable, "-m", "mcp_kernel.demo", "--http", str(port)]
    with listening_process(cmd, port, startup_timeout=startup_timeout, name="the demo HTTP server"):
        yield f"http://127.0.0.1:{port}/mcp"


TASK = """\
from servers.demo import query_sales, list_regions

orders = query_sales(limit=5000)["rows"]          # every order stays inside the sandbox
regions = list_regions()["regions"]
big = [o for o in orders if o["amount"] >= 5000]
best = max(regions, key=lambda r: r["revenue"])
print(f"{len(orders)} orders, {len(big)} of at least 5,000 EUR")
print(f"best region: {best['region']} with {best['revenue']:,.0f} EUR")
"""
TASK_TOOLS = ("query_sales", "list_regions")


def run_tour(session: Any, *, http: bool = False, on_progress: Any = None) -> DemoReport:
    """The main job on the demo server: introspect, generate bindings, run a sandboxed cell, count tokens."""
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        name = "demo"
        if http:
            url = stack.enter_context(demo_http_server())
            name = "demo-http"
            session.add_server(ServerSpec(name=name, url=url), replace=True)
            stack.callback(session.remove_server, name)
        introspection = session.introspect(name)
        generated = session.generate(name)
        tree = session.tree(f"/mcp-tools/servers/{generated.server_id}")
        code = TASK.replace("servers.demo", f"servers.{generated.server_id}")
        execution = session.execute(code, session.policy([name]), on_progress=on_progress)
        tokens = session.tokens([name], tools=list(TASK_TOOLS))
    return DemoReport(
        transport="http" if http else "stdio",
        introspection=introspection,
        generated=generated,
        tree=tree,
        code=code,
        execution=execution,
        tokens=tokens,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
