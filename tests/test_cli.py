"""The `mcp-kernel` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_kernel.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def test_version() -> None:
    from mcp_kernel import __version__

    out = cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"mcp-kernel {__version__}"


def test_help_lists_every_registry_command() -> None:
    from mcp_kernel.commands import COMMANDS

    out = cli("--help")
    assert out.returncode == 0
    for name, command in COMMANDS.items():
        if "cli" in command.contexts:
            assert name in out.stdout


def test_introspect_demo_as_table_and_json() -> None:
    table = cli("introspect", "demo")
    assert table.returncode == 0, table.stderr
    assert "query_sales" in table.stdout and "read-only" in table.stdout
    data = json.loads(cli("introspect", "demo", "--json").stdout)
    assert data["server"]["name"] == "demo"
    names = {t["name"] for t in data["tools"]}
    assert {"query_sales", "list_regions"} <= names
    assert all(t["output_schema"] for t in data["tools"])


def test_server_list_info_validate_with_a_config(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "good": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]},
                    "broken": {
                        "command": sys.executable,
                        "args": [str(ROOT / "tests/servers/exit_early.py")],
                    },
                }
            }
        )
    )
    listed = cli("server", "list", "--config", str(config))
    assert listed.returncode == 0
    assert "good" in listed.stdout and "broken" in listed.stdout and "demo" in listed.stdout
    info = json.loads(cli("server", "info", "good", "--config", str(config), "--json").stdout)
    assert info["args"] == ["-m", "mcp_kernel.demo"]
    report = cli("server", "validate", "--config", str(config), "--json")
    assert report.returncode == 1, "a failing server makes validate exit non-zero"
    rows = {row["name"]: row for row in json.loads(report.stdout)["rows"]}
    assert rows["good"]["ok"] and rows["good"]["tools"] > 5
    assert not rows["broken"]["ok"] and "missing API key" in rows["broken"]["error"]
    ok = cli("server", "validate", "good", "--config", str(config))
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_call_a_tool() -> None:
    out = cli("call", "demo", "query_sales", '{"region": "EU", "limit": 2}', "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["is_error"] is False


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["introspect", "nosuch"], 1, "Server 'nosuch' is not configured"),
        (["introspect"], 2, "the following arguments are required: server"),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        (["call", "demo", "list_regions", "{bad json"], 2, "arguments are not valid JSON"),
        (["call", "demo", "list_regions", "[1]"], 2, "must be a JSON object"),
        (["server", "info"], 2, "server info needs a server name"),
        (["introspect", "demo", "--config", "/nonexistent/mcp.json"], 1, "no such file"),
        (["introspect", "demo", "--timeout", "-1"], 2, "--timeout: expected a number of seconds above 0"),
        (["execute", "-", "--timeout", "nan"], 2, "--timeout: expected a number of seconds above 0"),
        (["serve", "--http", "127.0.0.1:99999"], 2, "a port from 1 to 65535"),
    ],
)
def test_expected_failures_print_one_clear_line_and_no_traceback(
    args: list[str], code: int, message: str
) -> None:
    out = cli(*args)
    assert out.returncode == code
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ")


def test_a_malformed_config_names_file_server_and_field(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"x": {"args": []}}}))
    out = cli("server", "list", "--config", str(config))
    assert out.returncode == 1
    assert str(config) in out.stderr and "server 'x'" in out.stderr and "'command'" in out.stderr


def test_a_failing_server_quotes_its_stderr(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "broken": {"command": sys.executable, "args": [str(ROOT / "tests/servers/exit_early.py")]}
                }
            }
        )
    )
    out = cli("introspect", "broken", "--config", str(config))
    assert out.returncode == 1
    assert "missing API key" in out.stderr and "Traceback" not in out.stderr


def test_demo_runs_the_tour_over_stdio_and_http() -> None:
    out = cli("demo")
    assert out.returncode == 0, out.stderr
    for step in (
        "== 1. Introspect",
        "== 2. Generate",
        "== 3. Run code in the WebAssembly sandbox",
        "== 4. Tokens",
    ):
        assert step in out.stdout
    assert (
        "3000 orders" in out.stdout and "2 tool calls" in out.stdout and "stayed in the sandbox" in out.stdout
    )
    http = cli("demo", "--http")
    assert http.returncode == 0, http.stderr
    assert "over http" in http.stdout and "3000 orders" in http.stdout


def test_config_init_set_get_show(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MCP_KERNEL_CONFIG_DIR": str(tmp_path / "cfg")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_kernel", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    init = run("config", "init")
    assert init.returncode == 0 and "config.toml" in init.stdout and "mcp.json" in init.stdout
    assert "# timeout = 30.0" in (tmp_path / "cfg" / "config.toml").read_text()
    assert run("config", "init").stdout.startswith("nothing written")
    assert run("config", "set", "timeout", "45").returncode == 0
    got = json.loads(run("config", "get", "timeout", "--json").stdout)
    assert got["rows"] == [
        {
            "name": "timeout",
            "value": 45.0,
            "source": str(tmp_path / "cfg" / "config.toml"),
            "help": got["rows"][0]["help"],
        }
    ]
    assert "# Seconds to wait" in (tmp_path / "cfg" / "config.toml").read_text(), "comments are kept"
    shown = run("config", "show")
    assert "memory_mb" in shown.stdout and "default" in shown.stdout
    bad = run("config", "set", "memory_mb", "lots")
    assert bad.returncode == 1 and "needs a int" in bad.stderr
    unknown = run("config", "get", "colour")
    assert unknown.returncode == 1 and "Unknown setting 'colour'" in unknown.stderr
    listed = run("server", "list")
    assert listed.returncode == 0 and "files" in listed.stdout, "init's example mcp.json loads"


def test_debug_reports_versions_paths_and_status() -> None:
    out = cli("debug", "--json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["versions"]["mcp"] != "not installed"
    assert set(data["paths"]) == {"config", "data", "cache", "logs"}
    assert "sandbox component" in data["status"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completions_come_from_the_parser(shell: str) -> None:
    out = cli("completions", shell)
    assert out.returncode == 0
    for name in ("introspect", "search", "server", "completions"):
        assert name in out.stdout
    if shell == "bash":
        check = subprocess.run(["bash", "-n"], input=out.stdout, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr


def test_install_and_uninstall_the_kernelspec(tmp_path: Path) -> None:
    import os

    prefix = tmp_path / "prefix"
    out = cli("install", "--prefix", str(prefix))
    assert out.returncode == 0, out.stderr
    # The suite's cache holds the component (conftest builds it), so install only checks it is there.
    assert "sandbox component: already built" in out.stdout
    spec_dir = prefix / "share" / "jupyter" / "kernels" / "mcp"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["display_name"] == "MCP (Python)"
    assert spec["argv"][:3] == [sys.executable, "-m", "mcp_kernel.kernel"]
    assert (spec_dir / "logo-64x64.png").read_bytes()[:4] == b"\x89PNG"
    env = {**os.environ, "JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    removed = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "uninstall"], capture_output=True, text=True, env=env, timeout=60
    )
    assert removed.returncode == 0, removed.stderr
    assert not spec_dir.exists()


def test_install_can_leave_the_sandbox_build_to_the_first_cell(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MCP_KERNEL_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "install", "--prefix", str(tmp_path / "p"), "--no-build"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "not built (--no-build)" in out.stdout
    assert not (tmp_path / "cache" / "components").exists()


def test_the_repo_kernelspec_matches_what_install_writes() -> None:
    from mcp_kernel.kernelspec import kernel_json

    committed = json.loads((ROOT / "kernelspec" / "mcp" / "kernel.json").read_text())
    assert committed == kernel_json(python="python")
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (ROOT / "kernelspec" / "mcp" / logo).read_bytes() == (
            ROOT / "mcp_kernel" / "resources" / logo
        ).read_bytes()


def test_generate_vfs_cat_and_search(tmp_path: Path) -> None:
    out = cli("generate", "demo", "--lang", "python,typescript", "--out", str(tmp_path / "tree"), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["tools"] >= 8 and "servers/demo/query_sales.ts" in report["files"]
    assert (tmp_path / "tree" / "servers" / "demo" / "query_sales.py").is_file()
    tree = cli("vfs", "/mcp-tools/servers/demo")
    assert tree.returncode == 0 and "query_sales.py" in tree.stdout and "manifest.json" in tree.stdout
    cat = cli("cat", "/mcp-tools/servers/demo/get_customer.py")
    assert cat.returncode == 0 and "def get_customer(" in cat.stdout
    bad = cli("cat", "/mcp-tools/../etc/passwd")
    assert bad.returncode == 1 and "'..' is not allowed" in bad.stderr
    missing = cli("cat", "/mcp-tools/servers/demo/nope.py")
    assert missing.returncode == 1 and "No file" in missing.stderr
    for detail, expect in (("name", "demo.get_customer"), ("summary", "profile"), ("full", '"customer_id"')):
        found = cli("search", "customer", "--detail", detail)
        assert found.returncode == 0 and expect in found.stdout, found.stdout


def test_execute_a_file_and_stdin_in_the_sandbox(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "from servers.demo import aggregate_sales\n"
        "groups = aggregate_sales(group_by='region')['groups']\n"
        "print(len(groups))\n"
    )
    out = cli("execute", str(script), "--servers", "demo", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["stdout"] == "5\n" and [c["tool"] for c in result["calls"]] == ["aggregate_sales"]
    piped = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "execute", "-", "--timeout", "1"],
        input="while True: pass",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert piped.returncode == 1 and "SandboxTimeout" not in piped.stderr and "1 s time limit" in piped.stderr
    unknown = cli("execute", str(script), "--servers", "nosuch")
    assert unknown.returncode == 2 and "unknown server(s) ['nosuch']" in unknown.stderr


def test_tokens_and_plugins_from_the_command_line(tmp_path: Path) -> None:
    report = json.loads(cli("tokens", "demo", "--tools", "query_sales,list_regions", "--json").stdout)
    assert report["task_defined"] and report["upfront"] > report["progressive"] > 0
    store = str(tmp_path / "store")
    saved = cli("generate", "demo", "--save-plugin", "--store", store)
    assert saved.returncode == 0 and "saved as plugin" in saved.stdout
    listed = cli("plugin", "list", "--store", store)
    assert "demo" in listed.stdout and "8 tools" in listed.stdout
    info = cli("plugin", "info", "demo", "--store", store, "--json")
    assert json.loads(info.stdout)["stale"] is False
    archive = tmp_path / "demo.plugin"
    assert cli("plugin", "export", "demo", str(archive), "--store", store).returncode == 0
    assert cli("plugin", "remove", "demo", "--store", store).returncode == 0
    assert "demo" not in cli("plugin", "list", "--store", store).stdout.split("\n", 1)[1]
    assert cli("plugin", "import", str(archive), "--store", store).returncode == 0
    missing = cli("plugin", "load", "ghost", "--store", store)
    assert missing.returncode == 1 and "No plugin 'ghost'" in missing.stderr
    bad = cli("plugin", "info", "../etc", "--store", store)
    assert bad.returncode == 1 and "Invalid plugin id" in bad.stderr


def test_the_command_line_skips_the_iri_grammar_and_a_notebook_kernel_keeps_it() -> None:
    # rfc3987-syntax builds a grammar when jsonschema imports it (~2.5 s); only our own process goes without.
    cli_run = (
        "import sys\nfrom mcp_kernel.cli import main\nrc = main(['call', 'demo', 'list_regions'])\n"
        "print(rc, sys.modules.get('rfc3987_syntax', 'absent'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", cli_run], capture_output=True, text=True, cwd=ROOT, timeout=180
    )
    assert out.stdout.split()[-2:] == ["0", "None"], out.stdout[-500:] + out.stderr[-2000:]
    library = "import sys, jsonschema\nimport mcp_kernel.session\nprint(sys.modules.get('rfc3987_syntax', 'absent'))"
    out = subprocess.run(
        [sys.executable, "-c", library], capture_output=True, text=True, cwd=ROOT, timeout=180
    )
    assert out.returncode == 0 and out.stdout.strip() != "None", "importing mcp-kernel blocks nothing"
