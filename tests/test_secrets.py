"""Secrets in mcp.json never reach an output: header and env values are redacted in every rendering.

A canary secret is set in the environment and used through `${VAR}` in headers and env; every CLI
output (text and --json, stdout and stderr), every display bundle (text/plain and text/html) and every
error message is searched for it. The spec's attributes must hold it, so the test can fail.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_kernel.display import bundle
from mcp_kernel.errors import ConfigError, MCPKernelError
from mcp_kernel.session import Session

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CANARY = f"mk-canary-{secrets.token_hex(8)}"


@pytest.fixture()
def config(tmp_path: Path, demo_http_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MK_CANARY", CANARY)
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "web": {
                        "type": "http",
                        "url": demo_http_url,
                        "headers": {"Authorization": "Bearer ${MK_CANARY}"},
                    },
                    "local": {
                        "command": sys.executable,
                        "args": ["-m", "mcp_kernel.demo"],
                        "env": {"API_TOKEN": "${MK_CANARY}"},
                    },
                    "broken": {
                        "command": sys.executable,
                        "args": [str(ROOT / "tests/servers/exit_early.py")],
                        "env": {"EXAMPLE_API_KEY": "${MK_CANARY}"},
                    },
                }
            }
        )
    )
    yield path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_kernel", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=120,
    )


def test_the_canary_reaches_the_spec_and_no_output(config: Path) -> None:
    with Session(config_file=str(config)) as session:
        web, local = session.servers.spec("web"), session.servers.spec("local")
        assert web.headers["Authorization"] == f"Bearer {CANARY}", "the value a connection uses is expanded"
        assert local.env["API_TOKEN"] == CANARY
        assert session.call("web", "list_regions").is_error is False, (
            "the header was sent and the server answered"
        )
        shown = [
            repr(web),
            str(web),
            repr(local),
            web.describe(),
            local.model_dump_json(),
            json.dumps(local.model_dump()),
        ]
        for obj in (
            web,
            local,
            session.servers.listing(),
            session.servers.validate(),
            session.introspect("local"),
        ):
            shown += bundle(obj).values()
        with pytest.raises(MCPKernelError) as failed:
            session.introspect("broken")
        shown.append(str(failed.value))
        shown.append(session.connection("local").log_path.read_text())
    assert "&lt;redacted&gt;" in bundle(web)["text/html"] and "<redacted>" in bundle(local)["text/plain"]
    leaks = [text for text in shown if CANARY in text]
    assert not leaks, leaks[0][:500]


@pytest.mark.parametrize(
    "args",
    [
        ["server", "list"],
        ["server", "info", "web"],
        ["server", "info", "local"],
        ["server", "validate"],
        ["introspect", "web"],
        ["introspect", "local"],
        ["introspect", "broken"],
        ["logs", "broken"],
        ["call", "local", "list_regions"],
        ["debug"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_no_cli_output_shows_the_canary(config: Path, args: list[str], as_json: bool) -> None:
    out = cli(*args, "--config", str(config), *(["--json"] if as_json else []))
    assert out.returncode in (0, 1), out.stderr
    assert CANARY not in out.stdout and CANARY not in out.stderr, (out.stdout + out.stderr)[:2000]
    if args[:2] == ["server", "info"]:
        assert "<redacted>" in out.stdout


def test_an_unset_variable_stops_only_its_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MK_UNSET_TOKEN", raising=False)
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "needs": {
                        "type": "http",
                        "url": "http://127.0.0.1:9/mcp",
                        "headers": {"X-Key": "${MK_UNSET_TOKEN}"},
                    },
                    "fine": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]},
                }
            }
        )
    )
    ok = cli("introspect", "fine", "--config", str(path))
    assert ok.returncode == 0, ok.stderr
    assert cli("introspect", "demo", "--config", str(path)).returncode == 0
    failed = cli("server", "info", "needs", "--config", str(path))
    assert failed.returncode == 1 and failed.stderr.startswith("error: ") and "Traceback" not in failed.stderr
    assert "MK_UNSET_TOKEN" in failed.stderr and "server 'needs'" in failed.stderr
    with Session(config_file=str(path)) as session, pytest.raises(ConfigError, match="MK_UNSET_TOKEN"):
        session.servers.spec("needs")


def test_server_list_shows_a_server_whose_variable_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MK_UNSET_TOKEN", raising=False)
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "needs": {
                        "type": "http",
                        "url": "http://127.0.0.1:9/mcp",
                        "headers": {"X-Key": "${MK_UNSET_TOKEN}"},
                    }
                }
            }
        )
    )
    listed = cli("server", "list", "--config", str(path))
    assert listed.returncode == 0, listed.stderr
    assert "needs" in listed.stdout and "http://127.0.0.1:9/mcp" in listed.stdout
