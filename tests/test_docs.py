"""Docs stay true: the reference is what the registry generates; every command is in it; links resolve."""

from __future__ import annotations

import re
from pathlib import Path

from mcp_kernel.commands import COMMANDS
from mcp_kernel.reference import render_reference

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_reference_is_what_the_registry_generates() -> None:
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == render_reference(), "run `python -m mcp_kernel.reference > docs/reference.md`"


def test_every_command_is_documented() -> None:
    reference = render_reference()
    for name in COMMANDS:
        assert f"## `{name}`" in reference
    guide = (ROOT / "docs" / "guide.md").read_text()
    for name in ("introspect", "generate", "search", "tokens", "plugin", "policy", "stats", "debug"):
        assert name in guide


def test_relative_links_in_docs_resolve() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_architecture_names_real_modules() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    for module in re.findall(r"\b([a-z_]+\.py)\b", text):
        assert list((ROOT / "mcp_kernel").rglob(module)), (
            f"architecture.md names {module}, which does not exist"
        )


def test_readme_and_architecture_name_exactly_the_one_context_commands() -> None:
    for context in ("magic", "cli"):
        names = [name for name, command in COMMANDS.items() if command.contexts == (context,)]
        listed = ", ".join(f"`{n}`" for n in names[:-1]) + f" and `{names[-1]}`"
        for page in (ROOT / "README.md", ROOT / "docs" / "architecture.md"):
            assert listed in " ".join(page.read_text().split()), (
                f"{page.name} must say {context}-only: {listed}"
            )
    assert "Every `%mcp` command is also" not in (ROOT / "README.md").read_text()


def test_no_doc_promises_a_build_time_it_does_not_keep() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "guide.md"):
        text = page.read_text()
        assert not re.search(r"about \d+ s", text), f"{page.name} promises a build time"
        assert "up to a couple of minutes" in " ".join(text.split())


def test_architecture_names_real_functions_and_figures() -> None:
    import importlib

    from mcp_kernel.sandbox.engine import TICK_SECONDS

    text = (ROOT / "docs" / "architecture.md").read_text()
    homes = {
        "Session": "session",
        "Bridge": "sandbox.bridge",
        "Sandbox": "sandbox.session",
        "ConnectionPool": "client",
        "Connection": "client",
        "ServerSpec": "models",
        "MCPKernel": "settings",
    }
    for owner, attr in re.findall(r"`([A-Z][A-Za-z]+)\.([a-z_]+)`", text):
        cls = getattr(importlib.import_module(f"mcp_kernel.{homes[owner]}"), owner)
        assert hasattr(cls, attr), f"architecture.md names {owner}.{attr}, which does not exist"
    for name in re.findall(r"`([a-z_]+)`", text):
        if name in {"to_text", "to_html", "bundle", "renders", "register_formatters"}:
            assert hasattr(importlib.import_module("mcp_kernel.display"), name)
    assert "every 10 ms" in text and TICK_SECONDS == 0.01
