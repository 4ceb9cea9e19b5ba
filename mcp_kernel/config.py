"""Where mcp-kernel keeps its files, and how it reads ``mcp.json``.

``mcp.json`` uses the ``mcpServers`` format of Claude Desktop, Claude Code and Cursor::

    {"mcpServers": {
        "demo": {"command": "python", "args": ["-m", "mcp_kernel.demo"]},
        "web":  {"type": "http", "url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ${TOKEN:-}"}}
    }}

``${VAR}`` (and ``${VAR:-default}``) are expanded from the environment in every string. Commands are
kept as argument lists and never pass through a shell.

>>> cfg = ServerConfig.from_dict({"mcpServers": {"d": {"command": "python", "args": ["-V"]}}}, source="x")
>>> cfg.get("d").describe()
'python -V'
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from traitlets import Bool, Dict, Float, Int, Unicode
from traitlets.config import Configurable

from .errors import ConfigError, ServerNotFound

if TYPE_CHECKING:  # pydantic models load on first use, keeping `%load_ext` and `--help` fast
    from .models import ServerSpec

__all__ = [
    "APP_NAME",
    "MCPKernel",
    "ServerConfig",
    "demo_spec",
    "find_config_file",
    "load_config",
    "cache_dir",
    "config_dir",
    "data_dir",
    "log_dir",
]

APP_NAME = "mcp-kernel"
CONFIG_FILENAME = "mcp.json"

_TRANSPORT_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamable_http": "http"}
_STDIO_KEYS = {"type", "command", "args", "env", "cwd"}
_HTTP_KEYS = {"type", "url", "headers"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _dir(env_var: str, kind: str) -> Path:
    value = os.environ.get(env_var)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME))


def config_dir() -> Path:
    """User config directory (``$MCP_KERNEL_CONFIG_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_CONFIG_DIR", "config")


def data_dir() -> Path:
    """User data directory: plugins and sandbox workspaces (``$MCP_KERNEL_DATA_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_DATA_DIR", "data")


def cache_dir() -> Path:
    """User cache directory: the compiled sandbox component (``$MCP_KERNEL_CACHE_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_CACHE_DIR", "cache")


def log_dir() -> Path:
    """Where each stdio server's stderr is logged (``$MCP_KERNEL_LOG_DIR`` overrides it)."""
    return _dir("MCP_KERNEL_LOG_DIR", "log")


def demo_spec(name: str = "demo") -> ServerSpec:
    """The bundled demo server, run with this interpreter; always available as ``demo``."""
    from .models import ServerSpec

    return ServerSpec(name=name, command=sys.executable, args=["-m", "mcp_kernel.demo"])


def _expand(value: str, where: str, env: Mapping[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in env:
            return env[var]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable ${{{var}}} is not set. Set it, or write ${{{var}:-default}}.")

    return _VAR.sub(repl, value)


def _need(kind: type, value: Any, where: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
        raise ConfigError(f"{where}: expected {what}, got {json.dumps(value)[:80]}.")
    if kind is dict and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"{where}: expected {what} (string keys and string values).")
    return value


def _parse_server(name: str, entry: Any, source: str, env: Mapping[str, str]) -> ServerSpec:
    from pydantic import ValidationError

    from .models import ServerSpec

    where = f"{source}: server {name!r}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object with 'command' or 'url', got {type(entry).__name__}.")
    kind = entry.get("type")
    if kind is not None and kind not in _TRANSPORT_TYPES:
        hint = " (SSE servers are not supported: use streamable HTTP)" if kind == "sse" else ""
        raise ConfigError(f"{where}: field 'type' must be one of {sorted(_TRANSPORT_TYPES)}, got {kind!r}{hint}.")
    transport = _TRANSPORT_TYPES.get(kind or "", "http" if "url" in entry else "stdio")
    allowed = _STDIO_KEYS if transport == "stdio" else _HTTP_KEYS
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown} for a {transport} server; allowed: {sorted(allowed)}.")
    fields: dict[str, Any] = {"name": name}
    if transport == "stdio":
        if "command" not in entry:
            raise ConfigError(f"{where}: field 'command' is missing (or give 'url' for an HTTP server).")
        command = _need(str, entry["command"], f"{where}, field 'command'", "a string")
        if not command.strip():
            raise ConfigError(f"{where}, field 'command': must not be empty.")
        fields["command"] = _expand(command, f"{where}, field 'command'", env)
        args = _need(list, entry.get("args", []), f"{where}, field 'args'", "a list of strings")
        fields["args"] = [_expand(a, f"{where}, field 'args'", env) for a in args]
        server_env = _need(dict, entry.get("env", {}), f"{where}, field 'env'", "an object of strings")
        fields["env"] = {k: _expand(v, f"{where}, field 'env.{k}'", env) for k, v in server_env.items()}
        if entry.get("cwd") is not None:
            cwd = _need(str, entry["cwd"], f"{where}, field 'cwd'", "a string")
            fields["cwd"] = _expand(cwd, f"{where}, field 'cwd'", env)
    else:
        if "url" not in entry:
            raise ConfigError(f"{where}: field 'url' is missing.")
        url = _need(str, entry["url"], f"{where}, field 'url'", "a string")
        fields["url"] = _expand(url, f"{where}, field 'url'", env)
        headers = _need(dict, entry.get("headers", {}), f"{where}, field 'headers'", "an object of strings")
        fields["headers"] = {k: _expand(v, f"{where}, field 'headers.{k}'", env) for k, v in headers.items()}
    try:
        return ServerSpec(**fields)
    except ValidationError as exc:
        problems = "; ".join(err["msg"] for err in exc.errors())
        raise ConfigError(f"{where}: {problems}.") from None


@dataclass(frozen=True)
class ServerConfig:
    """The servers a config file declares, by name, plus the file they came from.

    The bundled demo server is always available as ``demo`` unless the file defines its own ``demo``.
    """

    servers: dict[str, ServerSpec] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Any, *, source: str, env: Mapping[str, str] | None = None) -> ServerConfig:
        """Parse an already-decoded ``mcp.json`` document."""
        env = os.environ if env is None else env
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object with an 'mcpServers' object at the top.")
        servers = data.get("mcpServers")
        if servers is None:
            raise ConfigError(f"{source}: no 'mcpServers' object found (the Claude Desktop / Claude Code format).")
        if not isinstance(servers, dict):
            raise ConfigError(f"{source}: 'mcpServers' must be an object mapping names to servers.")
        specs = {}
        for name, entry in servers.items():
            if not name.strip():
                raise ConfigError(f"{source}: a server has an empty name.")
            specs[name] = _parse_server(name, entry, source, env)
        return cls(servers=specs, source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> ServerConfig:
        """Read and parse one ``mcp.json`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file. Create it, or pass another file with --config.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read it ({exc}).") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        return cls.from_dict(data, source=str(path), env=env)

    def names(self) -> list[str]:
        """Configured server names, plus ``demo``."""
        return sorted({*self.servers, "demo"})

    def get(self, name: str) -> ServerSpec:
        """The spec of server ``name``; raises ``ServerNotFound`` listing the known names."""
        if name in self.servers:
            return self.servers[name]
        if name == "demo":
            return demo_spec()
        where = f" in {self.source}" if self.source else " (no mcp.json found)"
        raise ServerNotFound(
            f"Server {name!r} is not configured{where}. Known servers: {', '.join(self.names())}. "
            "Add it to mcp.json or pass --config FILE.",
            server=name,
        )


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use: ``explicit``, else ``./mcp.json``, else the user config dir's, else None."""
    if explicit is not None:
        return Path(explicit)
    for candidate in (Path.cwd() / CONFIG_FILENAME, config_dir() / CONFIG_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> ServerConfig:
    """Load the servers from the first config file found (see :func:`find_config_file`)."""
    path = find_config_file(explicit)
    return ServerConfig() if path is None else ServerConfig.from_file(path)


class MCPKernel(Configurable):
    """Settings of mcp-kernel, as traitlets: ``%config MCPKernel.timeout = 60`` changes one in a notebook.

    The Jupyter kernel of the same name inherits these, so a kernel config file can set them too.

    >>> MCPKernel(timeout=60).timeout
    60.0
    """

    timeout = Float(30.0, help="Seconds to wait for one MCP request (and per sandboxed tool call).").tag(config=True)
    connect_timeout = Float(30.0, help="Seconds to wait for a server to start and finish the handshake.").tag(
        config=True)
    memory_mb = Int(256, help="Memory limit of a sandboxed cell, in MiB.").tag(config=True)
    cell_timeout = Float(30.0, help="Wall-clock limit of a sandboxed cell, in seconds.").tag(config=True)
    fuel = Int(0, help="Instruction budget (wasmtime fuel) of a sandboxed cell; 0 means the default.").tag(
        config=True)
    disk_mb = Int(256, help="Most a sandbox session's /workspace may hold, in MiB.").tag(config=True)
    output_limit_kb = Int(1024, help="Most output a sandboxed cell may print, in KiB.").tag(config=True)
    rate_limit = Float(200.0, help="Most calls per second to one tool from the sandbox; 0 means no limit.").tag(
        config=True)
    cache = Bool(True, help="Cache results of read-only or idempotent tools called from the sandbox.").tag(
        config=True)
    cache_ttl = Float(60.0, help="Seconds a cached tool result is reused before the tool is asked again.").tag(
        config=True)
    tokenize_pii = Bool(False, help="Replace personal data (e-mails, phones, cards, IBANs, IPs) in what leaves "
                        "the sandbox with placeholders; tools get the real values back.").tag(config=True)
    pii_patterns = Dict(help="More kinds of personal data to replace: {NAME: regex}.").tag(config=True)
    max_sessions = Int(20, help="Most sandbox sessions alive at once in this process (the longest-idle one is "
                       "closed to make room).").tag(config=True)
    session_idle_timeout = Float(3600.0, help="Seconds after which an idle sandbox session is closed; 0 means "
                                 "never.").tag(config=True)
    config_file = Unicode("", help="mcp.json to read servers from (default: ./mcp.json, then the user dir).").tag(
        config=True)


SETTINGS_FILENAME = "config.toml"


def settings_file() -> Path:
    """The user settings file (TOML, section ``[MCPKernel]``)."""
    return config_dir() / SETTINGS_FILENAME


def _trait_names() -> list[str]:
    return sorted(MCPKernel.class_trait_names(config=True))


def read_settings_file(path: Path | None = None) -> dict[str, Any]:
    """The ``[MCPKernel]`` values of the settings file, checked against the traits ({} when absent)."""
    import tomllib

    path = path or settings_file()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix it, or recreate it with `mcp-kernel config init "
                          "--force`.") from None
    section = data.get("MCPKernel", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [MCPKernel] must be a table of settings.")
    unknown = sorted(set(section) - set(_trait_names()))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {', '.join(_trait_names())}.")
    return section


def load_settings(settings: MCPKernel | None = None, path: Path | None = None) -> MCPKernel:
    """Apply the settings file to ``settings`` (a new ``MCPKernel`` by default) and return it."""
    from traitlets import TraitError

    settings = settings if settings is not None else MCPKernel()
    for name, value in read_settings_file(path).items():
        try:
            setattr(settings, name, value)
        except TraitError as exc:
            raise ConfigError(f"{path or settings_file()}: setting {name!r}: {exc}") from None
    return settings


def coerce_setting(name: str, text: str) -> Any:
    """Parse ``text`` as a value for setting ``name``; ``ConfigError`` names the setting and the type."""
    from traitlets import TraitError

    if name not in _trait_names():
        raise ConfigError(f"Unknown setting {name!r}; known: {', '.join(_trait_names())}.")
    trait = MCPKernel.class_traits()[name]
    try:
        if isinstance(trait, Bool):
            lowered = text.strip().lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(text)
            value: Any = lowered in {"true", "1", "yes"}
        elif isinstance(trait, Int):
            value = int(text)
        elif isinstance(trait, Float):
            value = float(text)
        else:
            value = text
        MCPKernel(**{name: value})
    except (ValueError, TraitError):
        raise ConfigError(f"Setting {name!r} needs a {type(trait).__name__.lower()}, got {text!r}.") from None
    return value


def write_setting(name: str, value: Any, path: Path | None = None) -> Path:
    """Set one value in the settings file, keeping its comments; create the file when missing."""
    path = path or settings_file()
    literal = json.dumps(value) if not isinstance(value, bool) else ("true" if value else "false")
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else ["[MCPKernel]"]
    pattern = re.compile(rf"^\s*#?\s*{re.escape(name)}\s*=")
    for i, line in enumerate(lines):
        if pattern.match(line):
            lines[i] = f"{name} = {literal}"
            break
    else:
        if "[MCPKernel]" not in (line.strip() for line in lines):
            lines.append("[MCPKernel]")
        lines.append(f"{name} = {literal}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    read_settings_file(path)  # refuse to leave a file we cannot read back
    return path


def starter_settings() -> str:
    """A commented settings file listing every setting at its default."""
    out = ["# mcp-kernel settings. In a notebook, `%config MCPKernel.<name> = value` overrides them for the",
           "# session; `mcp-kernel config set NAME VALUE` edits this file.", "", "[MCPKernel]"]
    defaults = MCPKernel()
    for name in _trait_names():
        trait = MCPKernel.class_traits()[name]
        value = getattr(defaults, name)
        literal = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        out += [f"# {trait.help}", f"# {name} = {literal}", ""]
    return "\n".join(out)


def starter_mcp_json() -> str:
    """An example mcp.json with the demo server and commented alternatives in the README's format."""
    return json.dumps({"mcpServers": {
        "demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]},
        "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "${HOME}"]},
        "web": {"type": "http", "url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ${TOKEN:-}"}},
    }}, indent=2) + "\n"
