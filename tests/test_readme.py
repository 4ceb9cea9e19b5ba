"""The README's two opening commands are the ones a newcomer pastes, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_opens_with_install_and_demo_then_the_test_command() -> None:
    first, second = readme_commands()
    assert first == "pip install . && mcp-kernel demo"
    assert "pytest" in second


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test_command = readme_commands()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in lines
