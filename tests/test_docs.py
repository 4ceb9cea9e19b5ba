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
        assert list((ROOT / "mcp_kernel").rglob(module)), f"architecture.md names {module}, which does not exist"
