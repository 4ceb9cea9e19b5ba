"""Prompts over real servers: list, get with arguments, shown as a conversation; missing arguments."""

from __future__ import annotations

import pytest
from realservers import our_server
from test_display import HOSTILE, assert_safe_html

from mcp_kernel.client import ConnectionPool
from mcp_kernel.display import to_text
from mcp_kernel.errors import PromptArgumentMissing, PromptNotFound, UsageError
from mcp_kernel.models import ServerSpec

pytestmark = pytest.mark.slow


@pytest.fixture()
def pool():
    with ConnectionPool([our_server("library")], timeout=20, connect_timeout=20) as p:
        yield p


def test_prompts_are_listed_with_their_arguments(pool: ConnectionPool) -> None:
    prompts = {p.name: p for p in pool.get("library").list_prompts().prompts}
    assert set(prompts) == {"summarize", "discuss"}
    assert [(a.name, a.required) for a in prompts["summarize"].arguments] == [
        ("title", True),
        ("style", False),
    ]
    assert "style?" in to_text(pool.get("library").list_prompts())


def test_a_prompt_is_a_readable_conversation(pool: ConnectionPool) -> None:
    view = pool.get("library").get_prompt("discuss", {"topic": "tea"})
    assert [(m.role, m.text) for m in view.messages] == [
        ("user", "What do you think about tea?"),
        ("assistant", "tea is worth a conversation."),
    ]
    text = to_text(view)
    assert "[user]" in text and "[assistant]" in text
    summary = pool.get("library").get_prompt("summarize", {"title": "Dune", "style": "long"})
    assert summary.messages[0].text == "Summarize 'Dune' in a long paragraph."


def test_a_missing_required_argument_is_named(pool: ConnectionPool) -> None:
    with pytest.raises(PromptArgumentMissing) as caught:
        pool.get("library").get_prompt("summarize", {"style": "long"})
    assert isinstance(caught.value, UsageError)
    assert "'title'" in str(caught.value) and "title=..." in str(caught.value)


def test_an_unknown_prompt_lists_the_known_ones(pool: ConnectionPool) -> None:
    with pytest.raises(PromptNotFound, match="summarize"):
        pool.get("library").get_prompt("nope")


def test_server_everything_prompts(everything_spec: ServerSpec) -> None:
    with ConnectionPool([everything_spec], timeout=20) as pool:
        prompts = {p.name: p for p in pool.get("everything").list_prompts().prompts}
        assert len(prompts) == 4 and "args-prompt" in prompts
        view = pool.get("everything").get_prompt("args-prompt", {"city": "Paris"})
        assert "Paris" in view.messages[0].text
        with pytest.raises(PromptArgumentMissing, match="'city'"):
            pool.get("everything").get_prompt("args-prompt", {})


def test_the_prompt_command_takes_key_value_words() -> None:
    from mcp_kernel.commands import build_parser, parse
    from mcp_kernel.session import Session

    parser = build_parser("mcp-kernel")
    with Session() as session:
        session.add_server(our_server("library"))
        args = parse(parser, ["prompt", "library", "summarize", "title=Dune", "style=a b"])
        assert args.handler(session, args).messages[0].text == "Summarize 'Dune' in a a b paragraph."
        bad = parse(parser, ["prompt", "library", "summarize", "Dune"])
        with pytest.raises(UsageError, match="KEY=VALUE"):
            bad.handler(session, bad)


def test_prompt_html_is_escaped_and_readable_untrusted(pool: ConnectionPool) -> None:
    from mcp_kernel.models import PromptArgumentInfo, PromptInfo, PromptList, PromptMessageView, PromptView

    objects = [
        pool.get("library").list_prompts(),
        pool.get("library").get_prompt("discuss", {"topic": HOSTILE}),
        PromptList(
            server=HOSTILE,
            prompts=[
                PromptInfo(name=HOSTILE, description=HOSTILE, arguments=[PromptArgumentInfo(name=HOSTILE)])
            ],
        ),
        PromptView(
            server=HOSTILE,
            prompt=HOSTILE,
            description=HOSTILE,
            messages=[PromptMessageView(role=HOSTILE, text=HOSTILE)],
        ),
    ]
    for obj in objects:
        assert_safe_html(obj)


# ---- completion/complete ----------------------------------------------------------------------------------
def test_the_cli_shows_what_a_server_suggests_for_an_argument() -> None:
    import json
    import subprocess
    import sys

    def complete(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_kernel", "complete", *words],
            capture_output=True,
            text=True,
            timeout=120,
        )

    prompt = complete("demo", "analyze_region", "region=e", "--json")
    assert prompt.returncode == 0, prompt.stderr
    assert json.loads(prompt.stdout)["values"] == ["EU"]
    template = complete("demo", "sales://regions/{region}", "region")
    assert template.returncode == 0 and template.stdout.split()[-5:] == ["EU", "NA", "APAC", "LATAM", "MEA"]


def test_a_server_without_completions_says_so(pool: ConnectionPool) -> None:
    from mcp_kernel.errors import CapabilityNotOffered

    with pytest.raises(CapabilityNotOffered, match="declares no `completions` capability"):
        pool.get("library").complete("prompt", "summarize", "style", "l")
