"""A hostile server's control characters reach every plain-text output shown, never obeyed.

``tests/servers/hostile.py`` puts escape sequences (window title, clear screen, colour, a C1 CSI, a carriage
return) into its server name, tool description, resource names, questions and links.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from realservers import SERVERS

from mcp_kernel.display import bundle
from mcp_kernel.elicitation import Asker, attached
from mcp_kernel.session import Session
from mcp_kernel.terminal import printable

RAW = ("\x1b", "\x07", "\x9b", "\r")


def clean(text: str) -> bool:
    return not any(c in text for c in RAW)


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {"mcpServers": {"hostile": {"command": sys.executable, "args": [str(SERVERS / "hostile.py")]}}}
        )
    )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("command", [["introspect", "hostile"], ["resources", "hostile"]])
def test_the_cli_shows_escapes_instead_of_sending_them(config: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", *command, "--config", str(config)],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert clean(done.stdout) and clean(done.stderr), (done.stdout, done.stderr)
    assert "\\x1b]0;pwned\\x07" in done.stdout


def test_plain_reprs_and_questions_in_a_notebook_or_terminal_are_neutralised(config: Path) -> None:
    shown: list[str] = []
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return "y"

    with Session(config=config) as session:
        plain = [
            bundle(session.introspect("hostile"))["text/plain"],
            bundle(session.servers.resources("hostile"))["text/plain"],
        ]
        with attached(Asker(read, shown.append)):
            session.call(
                "hostile", "ask", {"message": "Sign in \x1b]0;x\x07", "url": "https://x.example/\x1b[2J"}
            )
            session.call(
                "hostile",
                "ask",
                {
                    "message": "Name?\x9b",
                    "schema": {
                        "type": "object",
                        "properties": {"n\x1bm": {"type": "string", "title": "T\x1b[31m"}},
                    },
                },
            )
    assert all(clean(text) for text in [*plain, *shown, *prompts]), [*plain, *shown, *prompts]
    assert "Asks things \\x1b]0;pwned\\x07" in plain[0]
    assert any("https://x.example/\\x1b[2J" in text for text in shown)


def test_printable_keeps_ordinary_text_and_layout() -> None:
    assert printable("naïve 東京 ✓\tcol\nline") == "naïve 東京 ✓\tcol\nline"
    assert printable("a\x00b\x7f\u202e") == "a\\x00b\\x7f\\u202e"
