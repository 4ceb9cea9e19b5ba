"""Tab completion of %mcp lines: in a real IPython shell's completer, against the bundled demo server."""

from __future__ import annotations

import warnings

import pytest
from IPython.core.interactiveshell import InteractiveShell

from mcp_kernel.magics.completion import candidates, cell_candidates


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mcp_kernel")
    yield ip


def matches(shell: InteractiveShell, line: str) -> list[str]:
    """What pressing Tab at the end of ``line`` offers, as the last word of the line once completed."""
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", PendingDeprecationWarning
        )  # the classic API, as ipykernel's do_complete
        token, found = shell.complete("", line, len(line))
    return [(line[: len(line) - len(token)] + match).split(" ")[-1] for match in found]


@pytest.mark.slow
def test_commands_servers_and_tools(shell: InteractiveShell) -> None:
    assert {"prompt", "prompts"} <= set(matches(shell, "%mcp pro"))
    assert "demo" in matches(shell, "%mcp call de")
    assert matches(shell, "%mcp call demo query_") == ["query_sales"]
    assert {"get_customer", "list_regions"} <= set(matches(shell, "%mcp call demo "))


def test_prompts_their_arguments_and_the_servers_suggestions(shell: InteractiveShell) -> None:
    assert matches(shell, "%mcp prompt demo ana") == ["analyze_region"]
    assert matches(shell, "%mcp prompt demo analyze_region ") == ["region=", "focus="]
    assert matches(shell, "%mcp prompt demo analyze_region region=L") == ["region=LATAM"]
    assert matches(shell, "%mcp prompt demo analyze_region region=EU focus=se") == ["focus=seasonality"]
    assert matches(shell, "%mcp prompt demo analyze_region region=EU ") == ["focus="]


def test_the_options_of_a_sandboxed_cell_and_their_values(shell: InteractiveShell) -> None:
    assert matches(shell, "%%mcp_execute --ser") == ["--servers"]
    assert {"--timeout", "--memory", "--fuel", "--session", "--interactive"} <= set(
        matches(shell, "%%mcp_execute --")
    )
    assert "--servers" not in matches(shell, "%%mcp_execute --servers demo --")  # given once
    assert matches(shell, "%%mcp_execute --servers de") == ["demo"]
    assert cell_candidates(["--session", "an"], lambda what: {"sessions": ["default", "analysis"]}[what]) == [
        "analysis"
    ]


def test_resource_uris(shell: InteractiveShell) -> None:
    assert matches(shell, "%mcp read demo sales://sch") == ["sales://schema"]


def test_nothing_is_offered_for_what_cannot_be_completed() -> None:
    def nothing_known(what: str, *args: object) -> list[str]:
        from mcp_kernel.errors import ServerNotFound

        if what == "servers":
            return ["demo"]
        raise ServerNotFound("no such server")

    assert candidates(["call", "nope", ""], nothing_known) == []
    assert candidates(["search", ""], nothing_known) == []
    assert candidates(["call", "--json", ""], nothing_known) == ["demo"]
    assert cell_candidates(["--servers", "demo,"], lambda what: ["demo", "files"]) == ["demo,files"]
    assert cell_candidates(["--timeout", "3"], nothing_known) == []


def test_skills_actions_and_the_saved_skills_names(shell: InteractiveShell) -> None:
    assert matches(shell, "%mcp skills sh") == ["show"]
    saved = {"skills": ["revenue_by_region", "region_names"]}
    assert candidates(["skills", "show", "reg"], lambda what: saved[what]) == ["region_names"]
    assert candidates(["skills", "remove", ""], lambda what: saved[what]) == saved["skills"]
    assert candidates(["skills", "export", "re"], lambda what: saved[what]) == []
