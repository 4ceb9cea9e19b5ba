"""How mcp-kernel reads ``mcp.json``: the servers it declares, checked once and expanded on use.

``mcp.json`` uses the ``mcpServers`` format of Claude Desktop, Claude Code and Cursor::

    {"mcpServers": {
        "demo": {"command": "python", "args": ["-m", "mcp_kernel.demo"]},
        "web":  {"type": "http", "url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ${TOKEN:-}"}}
    }}

``${VAR}`` (and ``${VAR:-default}``) are expanded from the environment in a server's strings when that
server is first used, so an unset variable stops only the server that needs it. Header and ``env`` values
never reach an output (see :class:`~mcp_kernel.models.ServerSpec`). Commands are kept as argument lists
and never pass through a shell. The settings (``MCPKernel``, ``config.toml``) are :mod:`mcp_kernel.settings`.

>>> cfg = ServerConfig.from_dict({"mcpServers": {"d": {"command": "python", "args": ["-V"]}}}, source="x")
>>> cfg.get("d").describe()
'python -V'
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, ServerNotFound
from .paths import config_dir

if TYPE_CHECKING:  # pydantic models load on first use, keeping `%load_ext` and `--help` fast
    from .models import ServerSpec

__all__ = [
    "CONFIG_FILENAME",
    "ServerConfig",
    "check_server_ids",
    "demo_spec",
    "expand_env",
    "find_config_file",
    "load_config",
    "starter_mcp_json",
]

CONFIG_FILENAME = "mcp.json"

_TRANSPORT_TYPES = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "sse": "http",
}
_STDIO_KEYS = {"type", "command", "args", "env", "cwd", "approve"}
_HTTP_KEYS = {"type", "url", "headers", "oauth", "approve"}
# The ``oauth`` block as Claude Code writes it; the value each key must hold.
_OAUTH_KEYS = {
    "clientId": (str, "a string"),
    "clientSecret": (str, "a string"),
    "scopes": (list, "a list of strings"),
    "callbackPort": (int, "a port number"),
    "clientMetadataUrl": (str, "a string"),
    "privateKey": (str, "a PEM private key, a path to a PEM file, or ${VAR}"),
    "grant": (str, "'authorization_code' or 'client_credentials'"),
}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def demo_spec(name: str = "demo") -> ServerSpec:
    """The bundled demo server, run with this interpreter; always available as ``demo``."""
    from .models import ServerSpec  # pydantic models load on first use (see TYPE_CHECKING above)

    return ServerSpec(name=name, command=sys.executable, args=["-m", "mcp_kernel.demo"])


def _expand(value: str, where: str, env: Mapping[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in env:
            return env[var]
        if default is not None:
            return default
        raise ConfigError(
            f"{where}: environment variable ${{{var}}} is not set. Set it, or write ${{{var}:-default}}."
        )

    return _VAR.sub(repl, value)


def expand_env(value: str, where: str, env: Mapping[str, str] | None = None) -> str:
    """``${VAR}`` and ``${VAR:-default}`` in ``value`` expanded as Claude Code does; an unset variable is a
    ``ConfigError`` naming ``where``.

    >>> expand_env("Bearer ${TOKEN:-none}", "demo.headers", {})
    'Bearer none'
    """
    return _expand(value, where, os.environ if env is None else env)


def _shown(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message (deeply nested values included)."""
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, 60, 60
    return shown.repr(value)


def _need(kind: type, value: Any, where: str, what: str) -> Any:
    # `kind` is str, list or dict: a value of the right kind is a list (a dict) exactly when `kind` is list (dict).
    if not isinstance(value, kind) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        raise ConfigError(f"{where}: expected {what}, got {_shown(value)}.")
    if isinstance(value, dict) and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where}: expected {what} (string keys and string values).")
    return value


def _declare_server(name: str, entry: Any, source: str) -> dict[str, Any]:
    """Check one ``mcpServers`` entry's shape; return its fields as written (``${VAR}`` not expanded yet)."""
    where = f"{source}: server {name!r}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object with 'command' or 'url', got {type(entry).__name__}.")
    kind = entry.get("type")
    if kind is not None and kind not in _TRANSPORT_TYPES:
        raise ConfigError(
            f"{where}: field 'type' must be one of {sorted(_TRANSPORT_TYPES)}, got {_shown(kind)}."
        )
    transport = _TRANSPORT_TYPES.get(kind or "", "http" if "url" in entry else "stdio")
    allowed = _STDIO_KEYS if transport == "stdio" else _HTTP_KEYS
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {unknown} for a {transport} server; allowed: {sorted(allowed)}."
        )
    fields: dict[str, Any] = {"name": name}
    if transport == "stdio":
        if "command" not in entry:
            raise ConfigError(f"{where}: field 'command' is missing (or give 'url' for an HTTP server).")
        fields["command"] = _need(str, entry["command"], f"{where}, field 'command'", "a string")
        if not fields["command"].strip():
            raise ConfigError(f"{where}, field 'command': must not be empty.")
        fields["args"] = _need(list, entry.get("args", []), f"{where}, field 'args'", "a list of strings")
        fields["env"] = _need(dict, entry.get("env", {}), f"{where}, field 'env'", "an object of strings")
        if entry.get("cwd") is not None:
            fields["cwd"] = _need(str, entry["cwd"], f"{where}, field 'cwd'", "a string")
    else:
        if "url" not in entry:
            raise ConfigError(f"{where}: field 'url' is missing.")
        fields["url"] = _need(str, entry["url"], f"{where}, field 'url'", "a string")
        fields["headers"] = _need(
            dict, entry.get("headers", {}), f"{where}, field 'headers'", "an object of strings"
        )
        if "oauth" in entry:
            fields["oauth"] = _declare_oauth(entry["oauth"], where)
        if kind == "sse":
            fields["sse"] = True  # the legacy HTTP+SSE transport of 2024-11-05 servers
    if "approve" in entry:
        fields["approve"] = _declare_approve(entry["approve"], where)
    return fields


def _declare_approve(value: Any, where: str) -> str | dict[str, str]:
    """Check an ``approve`` key: a mode for every tool, or ``{"*": mode, "tool": mode}`` (see approvals.py)."""
    from .approvals import checked_mode  # ~20 ms of imports: only for a file that sets approvals

    try:
        if isinstance(value, dict):
            return {str(tool): checked_mode(mode, f"approve.{tool}") for tool, mode in value.items()}
        return checked_mode(value, "approve")
    except ValueError as exc:
        raise ConfigError(
            f'{where}, field {exc}, e.g. "approve": "destructive" or {{"*": "never", "send_report": "always"}}.'
        ) from None


def _declare_oauth(block: Any, where: str) -> dict[str, Any]:
    """Check an ``oauth`` block's keys and value types (``${VAR}`` in its strings are expanded on use)."""
    if not isinstance(block, dict):
        raise ConfigError(
            f'{where}, field \'oauth\': expected an object such as {{"clientId": "...", "scopes": ["..."]}}, '
            f"got {_shown(block)}."
        )
    unknown = sorted(set(block) - set(_OAUTH_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}, field 'oauth': unknown key(s) {unknown}; allowed: {sorted(_OAUTH_KEYS)}."
        )
    for key, value in block.items():
        kind, what = _OAUTH_KEYS[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{where}, field 'oauth.{key}': expected {what}, got {_shown(value)}.")
        if kind is not int:
            _need(kind, value, f"{where}, field 'oauth.{key}'", what)
    return dict(block)


def _expand_server(written: dict[str, Any], source: str, env: Mapping[str, str]) -> ServerSpec:
    """The spec of one declared server with ``${VAR}`` expanded; a missing variable names it and the server."""
    from pydantic import ValidationError  # pydantic models load on first use (see TYPE_CHECKING above)

    from .models import ServerSpec

    where = f"{source}: server {written['name']!r}"
    fields: dict[str, Any] = {}
    for key, value in written.items():
        if key == "name" or isinstance(value, bool):
            fields[key] = value
        elif isinstance(value, str):
            fields[key] = _expand(value, f"{where}, field {key!r}", env)
        elif isinstance(value, list):
            fields[key] = [_expand(v, f"{where}, field {key!r}", env) for v in value]
        else:
            fields[key] = {
                k: _expand(v, f"{where}, field '{key}.{k}'", env)
                if isinstance(v, str)
                else [_expand(item, f"{where}, field '{key}.{k}'", env) for item in v]
                if isinstance(v, list)
                else v
                for k, v in value.items()
            }
    try:
        spec = ServerSpec(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"oauth.{err['loc'][1]}: {err['msg']}"
            if err["loc"][:1] == ("oauth",) and len(err["loc"]) > 1
            else err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}.") from None
    if spec.oauth is not None and spec.oauth.private_key:
        from .keys import signing_key  # cryptography loads only where a key is given

        signing_key(
            spec.oauth.private_key, f"{where}, field 'oauth.privateKey'"
        )  # a bad key fails here, named
    return spec.as_written(written)


class _ExpandedOnUse(Mapping[str, "ServerSpec"]):
    """Declared servers by name; each one's ``${VAR}`` are expanded when it is first looked up, so an unset
    variable only stops the server that uses it."""

    def __init__(self, declared: dict[str, dict[str, Any]], source: str, env: Mapping[str, str]) -> None:
        self._declared, self._source, self._env = declared, source, env
        self._specs: dict[str, ServerSpec] = {}

    def __getitem__(self, name: str) -> ServerSpec:
        if name not in self._specs:
            self._specs[name] = _expand_server(self._declared[name], self._source, self._env)
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared)

    def __contains__(self, name: object) -> bool:
        return name in self._declared  # Mapping's own would look the server up, and so expand it

    def __len__(self) -> int:
        return len(self._declared)

    def declared(self, name: str) -> ServerSpec:
        """The spec as written, variables not expanded and not validated: for listing, never for starting."""
        # pydantic models load on first use (see TYPE_CHECKING above)
        from .models import OAuthSettings, ServerSpec

        fields = dict(self._declared[name])
        if "oauth" in fields:
            fields["oauth"] = OAuthSettings.model_construct(**fields["oauth"])
        return ServerSpec.model_construct(**fields).as_written(self._declared[name])


def check_server_ids(names: Iterable[str], where: str) -> None:
    """Refuse names that map to one bindings directory (``sales-db`` and ``sales_db`` -> ``servers/sales_db``)."""
    from .names import server_id  # names loads unicodedata: only when ids are checked

    seen: dict[str, str] = {}
    for name in names:
        sid = server_id(name)
        if sid in seen and seen[sid] != name:
            raise ConfigError(
                f"{where}: servers {seen[sid]!r} and {name!r} would share one bindings directory "
                f"(servers/{sid}); rename one of them."
            )
        seen.setdefault(sid, name)


@dataclass(frozen=True)
class ServerConfig:
    """The servers a config file declares, by name, plus the file they came from.

    The bundled demo server is always available as ``demo`` unless the file defines its own ``demo``.
    ``${VAR}`` in a server's fields are expanded when that server is first used.
    """

    servers: Mapping[str, ServerSpec] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Any, *, source: str, env: Mapping[str, str] | None = None) -> ServerConfig:
        """Parse an already-decoded ``mcp.json`` document (every entry's shape is checked now)."""
        env = os.environ if env is None else env
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object with an 'mcpServers' object at the top.")
        servers = data.get("mcpServers")
        if servers is None:
            raise ConfigError(
                f"{source}: no 'mcpServers' object found (the Claude Desktop / Claude Code format)."
            )
        if not isinstance(servers, dict):
            raise ConfigError(f"{source}: 'mcpServers' must be an object mapping names to servers.")
        declared = {}
        for name, entry in servers.items():
            if not name.strip():
                raise ConfigError(f"{source}: a server has an empty name.")
            declared[name] = _declare_server(name, entry, source)
        check_server_ids(["demo", *declared] if "demo" not in declared else declared, source)
        return cls(servers=_ExpandedOnUse(declared, source, env), source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> ServerConfig:
        """Read and parse one ``mcp.json`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such file. Create it, or pass another file with --config."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read it ({exc}).") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
        except RecursionError:
            raise ConfigError(
                f"{path}: nested too deeply to read; an mcp.json needs only a few levels."
            ) from None
        return cls.from_dict(data, source=str(path), env=env)

    def names(self) -> list[str]:
        """Configured server names, plus ``demo``."""
        return sorted({*self.servers, "demo"})

    def get(self, name: str) -> ServerSpec:
        """The spec of server ``name``, variables expanded; raises ``ServerNotFound`` listing the known names."""
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

    def declared(self, name: str) -> ServerSpec:
        """Server ``name`` as written in the file (``${VAR}`` unexpanded): enough to list it, never to start it."""
        if isinstance(self.servers, _ExpandedOnUse) and name in self.servers:
            return self.servers.declared(name)
        return self.get(name)


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


def starter_mcp_json() -> str:
    """An example mcp.json with the demo server and commented alternatives in the README's format."""
    return (
        json.dumps(
            {
                "mcpServers": {
                    "demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]},
                    "files": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-filesystem", "${HOME}"],
                    },
                    "web": {
                        "type": "http",
                        "url": "http://127.0.0.1:8000/mcp",
                        "headers": {"Authorization": "Bearer ${TOKEN:-}"},
                    },
                }
            },
            indent=2,
        )
        + "\n"
    )
