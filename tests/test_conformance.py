"""The official MCP conformance suite against mcp-kernel's client, against ``mcp-kernel serve``, and against
the suite's fixtures served directly (tests/servers/conformance_fixtures.py, the upstream a gateway fronts).

Every scenario is held to its entry in ``tests/conformance/expected.toml``. A ``pass`` must report exactly
its number of checks, all passed, counted from the suite's ``checks.json``: the suite's exit code is 0 and
it prints "Passed 0/0 ... PASSED" when the client never ran. A ``fail`` must still fail, so that a fix
makes the entry, and docs/conformance.md, be updated.
"""

from __future__ import annotations

import concurrent.futures
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conformance import suite
from realservers import free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.npm]

EXPECTED = suite.expected()


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    why = suite.missing()
    if why:
        pytest.fail(why)


@pytest.fixture(scope="module")
def client_outcomes(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, concurrent.futures.Future[suite.Outcome]]]:
    """The selected client scenarios, started at the first test that needs one."""
    names = [
        str(item.callspec.params["scenario"])
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_client_scenario"
    ]
    run = [n for n in names if EXPECTED["client"][n].status != "excluded"]
    with concurrent.futures.ThreadPoolExecutor(suite.WORKERS) as pool:
        yield suite.start_clients(run, tmp_path_factory.mktemp("conformance-client"), pool)


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


@pytest.mark.parametrize("scenario", sorted(EXPECTED["client"]))
def test_client_scenario(
    scenario: str, client_outcomes: dict[str, concurrent.futures.Future[suite.Outcome]]
) -> None:
    expectation = EXPECTED["client"][scenario]
    if expectation.status == "excluded":
        pytest.skip(f"excluded in expected.toml: {expectation.reason}")
    _hold(expectation, client_outcomes[scenario].result())


@pytest.fixture(scope="module")
def server_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, suite.Outcome]:
    return suite.run_against_serve(tmp_path_factory.mktemp("conformance-server"))


@pytest.mark.parametrize("scenario", sorted(EXPECTED["server"]))
def test_server_scenario(scenario: str, server_outcomes: dict[str, suite.Outcome]) -> None:
    _hold(EXPECTED["server"][scenario], server_outcomes[scenario])


@pytest.fixture(scope="module")
def fixture_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, suite.Outcome]:
    return suite.run_against_fixture(tmp_path_factory.mktemp("conformance-fixture"))


@pytest.mark.parametrize("scenario", sorted(EXPECTED["fixture"]))
def test_fixture_scenario(scenario: str, fixture_outcomes: dict[str, suite.Outcome]) -> None:
    """The server scenarios against our fixture server: proof that it has what each scenario calls."""
    _hold(EXPECTED["fixture"][scenario], fixture_outcomes[scenario])


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
    outcome = suite.run_client("initialize", tmp_path, command=f"{sys.executable} -c pass")
    assert "Passed: 0/0" in outcome.log and "OVERALL: PASSED" in outcome.log
    assert outcome.total == 0 and not outcome.ok


@pytest.mark.parametrize("target", suite.TARGETS)
def test_expected_toml_names_every_scenario_of_the_installed_suite(target: suite.Target) -> None:
    assert sorted(EXPECTED[target]) == sorted(suite.scenarios(suite.KIND[target]))
    for expectation in EXPECTED[target].values():
        assert expectation.status in suite.STATUSES, expectation
        assert (expectation.checks is not None) == (expectation.status == "pass"), expectation
        assert expectation.status == "pass" or expectation.reason, f"{expectation.scenario}: say why"


def test_docs_conformance_md_agrees_with_expected_toml() -> None:
    """docs/conformance.md is written from a run by tests/conformance/report.py; its rows must say what
    expected.toml says (status, reason and note, and for a pass all its checks), so neither drifts."""
    rows = re.findall(
        r"^\| (client|server|fixture) \| `([^`]+)` \| ([\w-]+) \| ([^|]+?) \| ?([^|]*?) ?\|$",
        suite.DOC.read_text(),
        flags=re.M,
    )
    found = {(kind, name): (status, checks, words) for kind, name, status, checks, words in rows}
    wanted = {
        (kind, e.scenario): (e.status, f"{e.checks}/{e.checks}" if e.status == "pass" else None, e.words)
        for kind in EXPECTED
        for e in EXPECTED[kind].values()
    }
    assert sorted(found) == sorted(wanted), "run `python tests/conformance/report.py`"
    for key, (status, checks, words) in wanted.items():
        assert found[key][0] == status, f"{key}: the doc says {found[key][0]}, expected.toml {status}"
        assert found[key][2] == words, f"{key}: the doc's reason is not expected.toml's; run the report"
        if checks is not None:
            assert found[key][1] == checks, (
                f"{key}: the doc says {found[key][1]} checks, expected.toml {checks}"
            )
