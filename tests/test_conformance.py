"""The official MCP conformance suite, both pinned versions (one per protocol era), against mcp-kernel's
client, against ``mcp-kernel serve``, and against the suite's fixtures served directly
(tests/servers/conformance_fixtures.py, the upstream a gateway fronts).

Every scenario is held to its entry in its suite's expected file (``tests/conformance/expected*.toml``). A
``pass`` must report exactly its number of checks, all passed, counted from the suite's ``checks.json``: the
suite's exit code is 0 and it prints "Passed 0/0 ... PASSED" when the client never ran. A ``fail`` must still
fail, so that a fix makes the entry, and docs/conformance.md, be updated.
"""

from __future__ import annotations

import concurrent.futures
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import suite
from realservers import free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.npm]

EXPECTED = {era: suite.expected(s) for era, s in suite.SUITES.items()}
Runs = dict[str, dict[str, concurrent.futures.Future[suite.Outcome]]]  # era -> scenario -> outcome


def cases(target: str) -> list[Any]:
    """Every (era, scenario) of ``target``'s tables, as test parameters."""
    return [
        pytest.param(era, name, id=f"{era}-{name}")
        for era in EXPECTED
        for name in sorted(EXPECTED[era][target])
    ]


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    why = suite.missing()
    if why:
        pytest.fail(why)


@pytest.fixture(scope="module")
def client_outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    """The selected client scenarios of both suites, started at the first test that needs one."""
    selected = [
        (str(item.callspec.params["era"]), str(item.callspec.params["scenario"]))
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_client_scenario"
    ]
    with concurrent.futures.ThreadPoolExecutor(suite.WORKERS) as pool:
        runs: Runs = {}
        for era, s in suite.SUITES.items():
            run = [n for e, n in selected if e == era and EXPECTED[era]["client"][n].status != "excluded"]
            runs[era] = suite.start_clients(
                s, run, tmp_path_factory.mktemp(f"conformance-client-{era}"), pool
            )
        yield runs


def _explain(outcome: suite.Outcome) -> str:
    failures = "\n  ".join(outcome.failures) or "(none)"
    return (
        f"{outcome.scenario}: {outcome.summary()} checks passed; failed or warned:\n  {failures}\n"
        f"--- the suite's output (end) ---\n{outcome.log[-3000:]}"
    )


def _hold(expectation: suite.Expectation, outcome: suite.Outcome) -> None:
    if expectation.status == "pass":
        assert outcome.ok and outcome.total == expectation.checks, (
            f"expected all {expectation.checks} checks to pass. {_explain(outcome)}"
        )
    else:
        assert not outcome.ok, (
            f"{outcome.scenario} now passes ({outcome.summary()}), but expected.toml says {expectation.status!r} "
            f'({expectation.reason}). Make it `status = "pass"` with `checks = {outcome.total}` and run '
            "`python tests/conformance/report.py`."
        )


@pytest.mark.parametrize(("era", "scenario"), cases("client"))
def test_client_scenario(era: str, scenario: str, client_outcomes: Runs) -> None:
    expectation = EXPECTED[era]["client"][scenario]
    if expectation.status == "excluded":
        pytest.skip(f"excluded in {suite.SUITES[era].expected_file}: {expectation.reason}")
    _hold(expectation, client_outcomes[era][scenario].result())


@pytest.fixture(scope="module")
def server_outcomes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str, str], dict[str, suite.Outcome]]:
    """The server scenarios of one suite against one target, run once, at the first test that needs them."""
    done: dict[tuple[str, str], dict[str, suite.Outcome]] = {}

    def outcomes(era: str, target: str) -> dict[str, suite.Outcome]:
        if (era, target) not in done:
            where = tmp_path_factory.mktemp(f"conformance-{target}-{era}")
            done[era, target] = suite.run_against(suite.SUITES[era], target, where)
        return done[era, target]

    return outcomes


@pytest.mark.parametrize(
    ("target", "era", "scenario"),
    [
        pytest.param(target, *case.values, id=f"{target}-{case.id}")
        for target in suite.SERVERS
        for case in cases(target)
    ],
)
def test_server_scenario(
    target: str, era: str, scenario: str, server_outcomes: Callable[[str, str], dict[str, suite.Outcome]]
) -> None:
    """The server scenarios against each server target: serve itself, the fixture server (proof that it has
    what each scenario calls)."""
    expectation = EXPECTED[era][target][scenario]
    if expectation.status == "excluded":
        pytest.skip(f"excluded in {suite.SUITES[era].expected_file}: {expectation.reason}")
    _hold(expectation, server_outcomes(era, target)[scenario])


def test_the_fixture_server_resumes_a_stream_it_closed_for_a_2025_11_25_client() -> None:
    """What the server-sse-polling entry says the suite cannot see (it claims 2025-03-26): for a client at
    2025-11-25, test_reconnection's stream opens with a priming event (id, retry), closes before the result,
    and a GET with Last-Event-ID brings the result."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    with running([sys.executable, str(suite.FIXTURES), str(port)], port), httpx.Client(timeout=10) as http:
        opened = http.post(
            url, headers=headers, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello}
        )
        headers |= {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "test_reconnection"}}
        first = http.post(url, headers=headers, json=call).text
        assert "retry: 500" in first and '"id":1' not in first, first
        last = re.findall(r"^id: (\S+)", first, flags=re.M)[-1]
        resumed = ""
        with http.stream(
            "GET", url, headers={**headers, "Accept": "text/event-stream", "last-event-id": last}
        ) as events:
            for line in events.iter_lines():
                resumed += line + "\n"
                if '"id":1' in line:
                    break
        assert "Reconnection test completed successfully" in resumed, resumed


def test_a_client_that_never_runs_fails_although_the_suite_says_passed(tmp_path: Path) -> None:
    """The issue's trap: the initialize scenario with a client that exits at once prints "Passed 0/0 ...
    OVERALL: PASSED" and exits 0; counted checks say it failed."""
    outcome = suite.run_client(
        suite.SUITES["2025-11-25"], "initialize", tmp_path, command=f"{sys.executable} -c pass"
    )
    assert "Passed: 0/0" in outcome.log and "OVERALL: PASSED" in outcome.log
    assert outcome.total == 0 and not outcome.ok


@pytest.mark.parametrize("era", EXPECTED)
@pytest.mark.parametrize("target", suite.TARGETS)
def test_the_expected_file_names_every_scenario_of_the_installed_suite(target: str, era: str) -> None:
    """Every scenario the installed suite has gets an entry; what its run runs (the requirement set, for a
    suite held to one) is not excluded, and what it does not run is excluded, with the reason."""
    s, kind = suite.SUITES[era], suite.KIND[target]
    entries = EXPECTED[era][target]
    assert sorted(entries) == sorted(suite.scenarios(s, kind))
    run = set(suite.required(s, kind))
    for expectation in entries.values():
        assert expectation.status in suite.STATUSES, expectation
        assert (expectation.checks is not None) == (expectation.status == "pass"), expectation
        assert expectation.status == "pass" or expectation.reason, f"{expectation.scenario}: say why"
        if kind == "server":  # a server run runs every scenario of the set, one after the other
            assert (expectation.scenario in run) == (expectation.status != "excluded"), expectation
        else:
            assert expectation.scenario in run or expectation.status == "excluded", expectation


def test_docs_conformance_md_agrees_with_the_expected_files() -> None:
    """docs/conformance.md is written from a run by tests/conformance/report.py; its rows must say what the
    expected files say (status, reason and note, and for a pass all its checks), so neither drifts."""
    rows = re.findall(
        r"^\| ([\d-]+) \| (\w+) \| `([^`]+)` \| ([\w-]+) \| ([^|]+?) \| ?([^|]*?) ?\|$",
        suite.DOC.read_text(),
        flags=re.M,
    )
    found = {(era, kind, name): (status, checks, words) for era, kind, name, status, checks, words in rows}
    wanted = {
        (era, kind, e.scenario): (e.status, f"{e.checks}/{e.checks}" if e.status == "pass" else None, e.words)
        for era in EXPECTED
        for kind in EXPECTED[era]
        for e in EXPECTED[era][kind].values()
    }
    assert sorted(found) == sorted(wanted), "run `python tests/conformance/report.py`"
    for key, (status, checks, words) in wanted.items():
        assert found[key][0] == status, f"{key}: the doc says {found[key][0]}, the expected file {status}"
        assert found[key][2] == words, f"{key}: the doc's reason is not the expected file's; run the report"
        if checks is not None:
            assert found[key][1] == checks, (
                f"{key}: the doc says {found[key][1]} checks, the expected file {checks}"
            )
