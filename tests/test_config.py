"""mcp.json loading: the mcpServers format, ${VAR} expansion, search order and precise errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_kernel.config import ServerConfig, find_config_file, load_config
from mcp_kernel.errors import ConfigError, ServerNotFound


def write(tmp_path: Path, data: object, name: str = "mcp.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_claude_desktop_format_with_stdio_and_http(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "mcpServers": {
                "fs": {
                    "command": "npx",
                    "args": ["-y", "server-filesystem", "/tmp"],
                    "env": {"A": "1"},
                    "cwd": "/",
                },
                "web": {"type": "http", "url": "http://127.0.0.1:9000/mcp", "headers": {"X-Key": "k"}},
                "web2": {"url": "https://example.invalid/mcp"},
                "typed": {"type": "stdio", "command": "srv"},
            }
        },
    )
    cfg = ServerConfig.from_file(path)
    fs = cfg.get("fs")
    assert (fs.transport, fs.command, fs.args, fs.env, fs.cwd) == (
        "stdio",
        "npx",
        ["-y", "server-filesystem", "/tmp"],
        {"A": "1"},
        "/",
    )
    web = cfg.get("web")
    assert (web.transport, web.url, web.headers) == ("http", "http://127.0.0.1:9000/mcp", {"X-Key": "k"})
    assert cfg.get("web2").transport == "http"
    assert cfg.get("typed").command == "srv"
    assert cfg.names() == ["demo", "fs", "typed", "web", "web2"]


def test_variables_are_expanded_from_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "mcpServers": {
                "s": {
                    "command": "${TOOL_HOME}/bin/srv",
                    "args": ["--token=${TOKEN}", "${MISSING:-fallback}"],
                    "env": {"KEY": "${TOKEN}"},
                }
            }
        },
    )
    spec = ServerConfig.from_file(path, env={"TOOL_HOME": "/opt/t", "TOKEN": "s3cret"}).get("s")
    assert spec.command == "/opt/t/bin/srv"
    assert spec.args == ["--token=s3cret", "fallback"]
    assert spec.env == {"KEY": "s3cret"}


def test_an_unset_variable_names_the_server_field_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, {"mcpServers": {"s": {"command": "srv", "env": {"KEY": "${NOPE_NOT_SET}"}}}})
    with pytest.raises(ConfigError) as err:
        ServerConfig.from_file(path, env={}).get("s")
    assert "server 's'" in str(err.value) and "env.KEY" in str(err.value) and "NOPE_NOT_SET" in str(err.value)


def test_arguments_stay_a_list_and_never_reach_a_shell(tmp_path: Path) -> None:
    hostile = "x; rm -rf / && echo $(whoami)"
    path = write(tmp_path, {"mcpServers": {"s": {"command": "echo", "args": [hostile]}}})
    assert ServerConfig.from_file(path).get("s").args == [hostile]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ([], "expected a JSON object"),
        ({"servers": {}}, "no 'mcpServers'"),
        ({"mcpServers": []}, "'mcpServers' must be an object"),
        ({"mcpServers": {"s": "python"}}, "server 's': expected an object"),
        ({"mcpServers": {"s": {"args": []}}}, "server 's': field 'command' is missing"),
        ({"mcpServers": {"s": {"type": "http"}}}, "server 's': field 'url' is missing"),
        ({"mcpServers": {"s": {"command": 42}}}, "server 's', field 'command': expected a string"),
        ({"mcpServers": {"s": {"command": "x", "args": "a b"}}}, "field 'args': expected a list of strings"),
        ({"mcpServers": {"s": {"command": "x", "args": [1]}}}, "field 'args': expected a list of strings"),
        ({"mcpServers": {"s": {"command": "x", "env": {"A": 1}}}}, "field 'env': expected an object"),
        ({"mcpServers": {"s": {"command": "x", "colour": "red"}}}, "unknown field(s) ['colour']"),
        ({"mcpServers": {"s": {"type": "carrier-pigeon", "url": "http://x"}}}, "field 'type' must be one of"),
        ({"mcpServers": {"s": {"url": "ftp://x"}}}, "url must start with http"),
        ({"mcpServers": {"s": {"command": "  "}}}, "must not be empty"),
    ],
)
def test_malformed_files_name_the_file_server_and_field(
    tmp_path: Path, content: object, expected: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as err:
        ServerConfig.from_file(path).get("s")  # a shape error at load, a value error when the server is used
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_a_missing_file_given_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.json")


def test_unknown_server_lists_the_known_ones(tmp_path: Path) -> None:
    cfg = ServerConfig.from_file(write(tmp_path, {"mcpServers": {"alpha": {"command": "a"}}}))
    with pytest.raises(ServerNotFound) as err:
        cfg.get("beta")
    assert "'beta'" in str(err.value) and "alpha" in str(err.value) and str(tmp_path) in str(err.value)


def test_search_order_explicit_then_cwd_then_user_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.setenv("MCP_KERNEL_CONFIG_DIR", str(user))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert find_config_file() is None
    assert load_config().servers == {}
    write(user, {"mcpServers": {"u": {"command": "u"}}})
    assert find_config_file() == user / "mcp.json"
    write(work, {"mcpServers": {"w": {"command": "w"}}})
    assert find_config_file() == work / "mcp.json"
    assert "w" in load_config().servers
    explicit = write(tmp_path, {"mcpServers": {"e": {"command": "e"}}}, "other.json")
    assert list(load_config(explicit).servers) == ["e"]


def test_demo_is_built_in_unless_the_file_overrides_it(tmp_path: Path) -> None:
    assert ServerConfig().get("demo").args == ["-m", "mcp_kernel.demo"]
    cfg = ServerConfig.from_file(write(tmp_path, {"mcpServers": {"demo": {"command": "mine"}}}))
    assert cfg.get("demo").command == "mine"


def test_deeply_nested_json_is_a_config_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = '{"mcpServers": {"s": {"command": "x", "args": ' + "[" * 100_000 + "]" * 100_000 + "}}}"
    with pytest.raises(ConfigError, match="nested too deeply"):
        ServerConfig.from_file(write(tmp_path, deep))
    shallow_enough = {"mcpServers": {"s": {"command": "x", "args": [[[[[["a"]]]]]]}}}
    with pytest.raises(ConfigError, match="expected a list of strings"):
        ServerConfig.from_file(write(tmp_path, shallow_enough, "other.json"))


@pytest.mark.parametrize("names", [("sales-db", "sales_db"), ("Sales", "sales"), ("Demo",)])
def test_names_that_share_a_bindings_directory_are_refused_at_load(
    tmp_path: Path, names: tuple[str, ...]
) -> None:
    path = write(tmp_path, {"mcpServers": {name: {"command": "srv"} for name in names}})
    with pytest.raises(ConfigError) as err:
        ServerConfig.from_file(path)
    shown = [*names, "demo"] if names == ("Demo",) else names
    assert all(repr(name) in str(err.value) for name in shown) and "bindings directory" in str(err.value)


def test_add_refuses_a_name_that_shares_a_bindings_directory(tmp_path: Path) -> None:
    import sys

    from mcp_kernel.commands import build_parser, parse
    from mcp_kernel.session import Session

    path = write(
        tmp_path, {"mcpServers": {"sales-db": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}}
    )
    parser = build_parser("%mcp", "magic")
    with Session(config_file=str(path)) as session:
        args = parse(parser, ["add", "sales_db", "--", sys.executable, "-m", "mcp_kernel.demo"])
        with pytest.raises(ConfigError, match="'sales-db' and 'sales_db'"):
            args.handler(session, args)
        assert "sales_db" not in session.server_names()


def settings_path(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_config_set_edits_only_the_mcpkernel_table_and_keeps_comments(tmp_path: Path) -> None:
    import tomllib

    from mcp_kernel.settings import write_setting

    path = settings_path(
        tmp_path,
        "# my settings\n[Other]\ntimeout = 5  # not ours\n\n[MCPKernel]\n"
        "# Seconds to wait\n# timeout = 30.0\nmemory_mb = 512\n",
    )
    write_setting("timeout", 60.0, path)
    text = path.read_text()
    data = tomllib.loads(text)
    assert data["Other"] == {"timeout": 5}, "another table's key of the same name is left alone"
    assert data["MCPKernel"] == {"memory_mb": 512, "timeout": 60.0}
    assert "# my settings" in text and "# not ours" in text and "# Seconds to wait" in text
    fresh = tmp_path / "fresh" / "config.toml"
    write_setting("cache", False, fresh)
    assert tomllib.loads(fresh.read_text()) == {"MCPKernel": {"cache": False}}


@pytest.mark.parametrize(
    "text", ["[MCPKernel]\ntimeout = \n", "[MCPKernel]\ncolour = 'red'\n", "MCPKernel = 3\n"]
)
def test_config_set_refuses_a_broken_file_and_leaves_it_as_it_was(tmp_path: Path, text: str) -> None:
    from mcp_kernel.settings import write_setting

    path = settings_path(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)):
        write_setting("timeout", 60.0, path)
    assert path.read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"], "no temp file is left behind"


def test_the_oauth_block_is_read_as_claude_code_writes_it_and_unknown_keys_are_named() -> None:
    def spec(oauth: object, env: dict[str, str] | None = None) -> object:
        data = {"mcpServers": {"web": {"type": "http", "url": "https://h/mcp", "oauth": oauth}}}
        return ServerConfig.from_dict(data, source="mcp.json", env=env or {}).get("web")

    got = spec(
        {
            "clientId": "app",
            "clientSecret": "${APP_SECRET}",
            "scopes": ["read", "write"],
            "callbackPort": 8765,
            "clientMetadataUrl": "https://app.example/client.json",
        },
        {"APP_SECRET": "s3cret-value"},
    )
    assert got.oauth.client_secret == "s3cret-value" and got.oauth.scope == "read write"
    assert got.oauth.callback_port == 8765 and got.oauth.grant == "authorization_code"
    assert "s3cret-value" not in repr(got) + got.model_dump_json()
    with pytest.raises(ConfigError, match=r"server 'web', field 'oauth': unknown key\(s\) \['redirectUri'\]"):
        spec({"redirectUri": "x"})
    with pytest.raises(ConfigError, match=r"field 'oauth.callbackPort': expected a port number"):
        spec({"callbackPort": "8765"})
    with pytest.raises(
        ConfigError, match=r"oauth.grant: Input should be 'authorization_code' or 'client_credentials'"
    ):
        spec({"grant": "password"})
    with pytest.raises(
        ConfigError,
        match="client_credentials grant needs 'clientId' and one of 'clientSecret' or 'privateKey'",
    ):
        spec({"grant": "client_credentials"})
    with pytest.raises(ConfigError, match=r"APP_SECRET\} is not set"):
        spec({"clientSecret": "${APP_SECRET}"})
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['oauth'\] for a stdio server"):
        ServerConfig.from_dict({"mcpServers": {"s": {"command": "x", "oauth": {}}}}, source="mcp.json")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("timeout", "-3", "should not be less than 0.001"),
        ("memory_mb", "8", "should not be less than 16"),
        ("cell_timeout", "7200", "should not be greater than 3600"),
        ("timeout", "abc", "needs a float"),
        ("timeout", "nan", "needs a finite number, not nan"),
        ("connect_timeout", "inf", "needs a finite number"),
        ("rate_limit", "-inf", "needs a finite number"),
        ("session_idle_timeout", "NaN", "needs a finite number"),
    ],
)
def test_a_setting_out_of_its_range_is_refused_by_name(name: str, text: str, message: str) -> None:
    from mcp_kernel.settings import coerce_setting

    with pytest.raises(ConfigError, match=f"Setting '{name}'.*{message}"):
        coerce_setting(name, text)
    assert coerce_setting("memory_mb", "512") == 512


def test_a_settings_file_with_a_value_out_of_range_names_file_and_setting(tmp_path: Path) -> None:
    from mcp_kernel.settings import load_settings

    path = settings_path(tmp_path, "[MCPKernel]\nmemory_mb = 1\n")
    with pytest.raises(ConfigError, match=f"{path}: setting 'memory_mb'"):
        load_settings(path=path)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_settings_file_with_nan_or_infinity_names_file_and_setting(tmp_path: Path, value: str) -> None:
    from mcp_kernel.settings import load_settings

    path = settings_path(tmp_path, f"[MCPKernel]\ntimeout = {value}\n")  # TOML has nan and inf literals
    with pytest.raises(ConfigError, match=f"{path}: setting 'timeout'.*finite number"):
        load_settings(path=path)


def test_config_set_refuses_nan_and_leaves_the_file_alone(tmp_path: Path) -> None:
    from mcp_kernel.settings import write_setting

    path = settings_path(tmp_path, "[MCPKernel]\ntimeout = 5.0\n")
    with pytest.raises(ConfigError, match=r"setting 'timeout'.*finite number"):
        write_setting("timeout", float("nan"), path)
    assert path.read_text() == "[MCPKernel]\ntimeout = 5.0\n"


def test_sandbox_limits_given_by_a_person_are_one_usage_error() -> None:
    from mcp_kernel.errors import UsageError
    from mcp_kernel.session import Session

    with (
        Session() as session,
        pytest.raises(
            UsageError,
            match=r"memory_mb must be greater than or equal to 16 "
            r"\(got -5\)",
        ),
    ):
        session.policy(memory_mb=-5)
