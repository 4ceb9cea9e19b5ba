"""Where mcp-kernel keeps its files, and how it reads ``mcp.json``.

``mcp.json`` uses the ``mcpServers`` format of Claude Desktop, Claude Code and Cursor::

    {"mcpServers": {
        "demo": {"command": "python", "args": ["-m", "mcp_kernel.demo"]},
        "web":  {"type": "http", "url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ${TOKEN:-}"}}
    }}

``${VAR}`` (and ``${VAR:-default}``) are expanded from the environment in a server's strings when that
server is first used, so an unset variable stops only the server that needs it. Header and ``env`` values
never reach an output (see :class:`~mcp_kernel.models.ServerSpec`). Commands are kept as argument lists
and never pass through a shell.

>>> cfg = ServerConfig.from_dict({"mcpServers": {"d": {"command": "python", "args": ["-V"]}}}, source="x")
>>> cfg.get("d").describe()
'python -V'
"""

from __future__ import annotations

import json
import math
import os
import re
import reprlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode
from traitlets.config import Configurable

from .errors import ConfigError, ServerNotFound
from .limits import CACHE_TTL_MAX_S, CELL_TIMEOUT_MAX_S, DISK_MB, MEMORY_MB, OUTPUT_LIMIT_KIB
from .paths import APP_NAME, cache_dir, config_dir, data_dir, log_dir

if TYPE_CHECKING:  # pydantic models load on first use, keeping `%load_ext` and `--help` fast
    from .models import ServerSpec

__all__ = [
    "APP_NAME",
    "MCPKernel",
    "ServerConfig",
    "cache_dir",
    "check_server_ids",
    "config_dir",
    "data_dir",
    "demo_spec",
    "find_config_file",
    "load_config",
    "log_dir",
    "replace_file",
]

CONFIG_FILENAME = "mcp.json"

_TRANSPORT_TYPES = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "sse": "http",
}
_STDIO_KEYS = {"type", "command", "args", "env", "cwd"}
_HTTP_KEYS = {"type", "url", "headers", "oauth"}
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
    return fields


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


class FiniteFloat(Float):
    """A float setting that refuses NaN and the infinities, which pass every ``min``/``max`` check (a NaN
    compares false with anything) and then break each use: ``timeout = nan`` stalls every call.

    >>> MCPKernel(timeout=float("nan"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    traitlets.traitlets.TraitError: ... needs a finite number, not nan
    """

    def validate(self, obj: Any, value: Any) -> float:
        if isinstance(value, float) and not math.isfinite(value):  # before the range: -inf is not "too small"
            raise TraitError(
                f"The '{self.name}' trait of {type(obj).__name__} needs a finite number, not {value}"
            )
        return float(super().validate(obj, value))


class MCPKernel(Configurable):
    """Settings of mcp-kernel, as traitlets: ``%config MCPKernel.timeout = 60`` changes one in a notebook.

    The Jupyter kernel of the same name inherits these, so a kernel config file can set them too.

    >>> MCPKernel(timeout=60).timeout
    60.0
    """

    timeout = FiniteFloat(
        30.0, min=0.001, help="Seconds to wait for one MCP request (and per sandboxed tool call)."
    ).tag(config=True)
    connect_timeout = FiniteFloat(
        30.0, min=0.001, help="Seconds to wait for a server to start and finish the handshake."
    ).tag(config=True)
    memory_mb = Int(
        256, min=MEMORY_MB[0], max=MEMORY_MB[1], help="Memory limit of a sandboxed cell, in MiB."
    ).tag(config=True)
    cell_timeout = FiniteFloat(
        30.0, min=0.001, max=CELL_TIMEOUT_MAX_S, help="Wall-clock limit of a sandboxed cell, in seconds."
    ).tag(config=True)
    fuel = Int(
        0, min=0, help="Instruction budget (wasmtime fuel) of a sandboxed cell; 0 means the default."
    ).tag(config=True)
    disk_mb = Int(
        256, min=DISK_MB[0], max=DISK_MB[1], help="Most a sandbox session's /workspace may hold, in MiB."
    ).tag(config=True)
    snapshot_limit_mb = Int(
        64,
        min=0,
        max=4096,
        help="Most the variables kept after each sandboxed cell that "
        "ended well may hold, in MiB (they come back after a trap); 0 keeps none.",
    ).tag(config=True)
    output_limit_kb = Int(
        1024,
        min=OUTPUT_LIMIT_KIB[0],
        max=OUTPUT_LIMIT_KIB[1],
        help="Most output a sandboxed cell may print, in KiB.",
    ).tag(config=True)
    rate_limit = FiniteFloat(
        200.0, min=0, help="Most calls per second to one tool from the sandbox; 0 means no limit."
    ).tag(config=True)
    cache = Bool(True, help="Cache results of read-only or idempotent tools called from the sandbox.").tag(
        config=True
    )
    cache_ttl = FiniteFloat(
        60.0,
        min=0,
        max=CACHE_TTL_MAX_S,
        help="Seconds a cached tool result is reused before the tool is asked again.",
    ).tag(config=True)
    tokenize_pii = Bool(
        False,
        help="Replace personal data (e-mails, phones, cards, IBANs, IPs) in what leaves "
        "the sandbox with placeholders; tools get the real values back.",
    ).tag(config=True)
    pii_patterns = Dict(help="More kinds of personal data to replace: {NAME: regex}.").tag(config=True)
    max_sessions = Int(
        20,
        min=1,
        help="Most sandbox sessions alive at once in this process, for all callers together "
        "(a caller's own longest-idle one is closed to make room; another caller's never is).",
    ).tag(config=True)
    max_sessions_per_caller = Int(
        8,
        min=1,
        help="Most sandbox sessions one authenticated caller of serve may keep "
        "(its own longest-idle one is closed to make room).",
    ).tag(config=True)
    memory_budget_mb = Int(
        0,
        min=0,
        help="Most memory (sum of the sessions' limits, MiB) the sandbox sessions of "
        "this process may reserve; 0 means no budget beyond max_sessions.",
    ).tag(config=True)
    memory_budget_per_caller_mb = Int(
        2048,
        min=0,
        help="Most memory (MiB) the sandbox sessions of one "
        "authenticated caller of serve may reserve; 0 means no budget.",
    ).tag(config=True)
    max_executes_per_caller = Int(
        4,
        min=1,
        help="Most executes one caller of serve may run at once; the next is "
        "refused at once, and other callers are never held up.",
    ).tag(config=True)
    serve_max_timeout = FiniteFloat(
        600.0,
        min=0.001,
        max=CELL_TIMEOUT_MAX_S,
        help="Largest `timeout` (seconds) an agent may give serve's execute (serve --max-timeout).",
    ).tag(config=True)
    serve_max_memory_mb = Int(
        1024,
        min=MEMORY_MB[0],
        max=MEMORY_MB[1],
        help="Largest `memory_mb` an agent may give serve's execute (serve --max-memory).",
    ).tag(config=True)
    session_idle_timeout = FiniteFloat(
        3600.0, min=0, help="Seconds after which an idle sandbox session is closed; 0 means never."
    ).tag(config=True)
    http_header_timeout = FiniteFloat(
        10.0,
        min=0.1,
        max=600,
        help="`serve --http`: seconds a connection has to send a complete request head before it is closed.",
    ).tag(config=True)
    http_max_connections = Int(
        1000,
        min=1,
        max=100_000,
        help="`serve --http`: most connections served at once (open event streams count); beyond that, 503.",
    ).tag(config=True)
    roots = List(
        Unicode(),
        help="Directories offered to servers that ask for roots (roots/list); empty by default "
        "because some servers (server-filesystem) replace their own directories with any roots sent.",
    ).tag(config=True)
    sign_in = Enum(
        ["auto", "local", "paste"],
        "auto",
        help="How to sign in to servers that need OAuth: 'local' "
        "catches the browser's redirect on this machine, 'paste' asks for the address the browser ended "
        "on (a remote kernel, JupyterHub); 'auto' pastes on JupyterHub or when the port is taken.",
    ).tag(config=True)
    config_file = Unicode(
        "", help="mcp.json to read servers from (default: ./mcp.json, then the user dir)."
    ).tag(config=True)


SETTINGS_FILENAME = "config.toml"


def settings_file() -> Path:
    """The user settings file (TOML, section ``[MCPKernel]``)."""
    return config_dir() / SETTINGS_FILENAME


def _trait_names() -> list[str]:
    return sorted(MCPKernel.class_trait_names(config=True))


def _settings_in(text: str, path: Path) -> dict[str, Any]:
    """The ``[MCPKernel]`` table of a settings text, checked against the traits' names."""
    import tomllib  # tomllib: only when a settings file is read

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc}). Fix it, or recreate it with `mcp-kernel config init --force`."
        ) from None
    section = data.get("MCPKernel", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [MCPKernel] must be a table of settings.")
    unknown = sorted(set(section) - set(_trait_names()))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {', '.join(_trait_names())}.")
    return section


def read_settings_file(path: Path | None = None) -> dict[str, Any]:
    """The ``[MCPKernel]`` values of the settings file, checked against the traits ({} when absent)."""
    path = path or settings_file()
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc}). Fix it, or recreate it with `mcp-kernel config init --force`."
        ) from None
    return _settings_in(text, path)


def load_settings(settings: MCPKernel | None = None, path: Path | None = None) -> MCPKernel:
    """Apply the settings file to ``settings`` (a new ``MCPKernel`` by default) and return it."""
    path = path or settings_file()
    return _apply(read_settings_file(path), settings if settings is not None else MCPKernel(), path)


def _apply(values: dict[str, Any], settings: MCPKernel, path: Path) -> MCPKernel:
    for name, value in values.items():
        try:
            setattr(settings, name, value)
        except TraitError as exc:
            raise ConfigError(f"{path}: setting {name!r}: {exc}") from None
    return settings


def coerce_setting(name: str, text: str) -> Any:
    """Parse ``text`` as a value for setting ``name``; ``ConfigError`` names the setting and the type."""
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
    except ValueError:
        kind = "float" if isinstance(trait, Float) else type(trait).__name__.lower()  # not "finitefloat"
        raise ConfigError(f"Setting {name!r} needs a {kind}, got {text!r}.") from None
    try:
        MCPKernel(**{name: value})
    except TraitError as exc:  # out of the setting's range, e.g. a timeout of -3 s
        raise ConfigError(f"Setting {name!r}: {exc}") from None
    return value


def write_setting(name: str, value: Any, path: Path | None = None) -> Path:
    """Set one value in the ``[MCPKernel]`` table of the settings file, keeping its comments and other tables.

    The new text is checked (TOML, names, values) before it atomically replaces the file; a file that is
    already broken is refused, not rewritten.
    """
    import tomlkit  # tomlkit: only for `config set`

    path = path or settings_file()
    text = ""
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        _settings_in(text, path)
    document = tomlkit.parse(text)
    if "MCPKernel" not in document:
        document["MCPKernel"] = tomlkit.table()
    document["MCPKernel"][name] = value
    new_text = tomlkit.dumps(document)
    _apply(_settings_in(new_text, path), MCPKernel(), path)
    replace_file(path, new_text)
    return path


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the new one, never half of it."""
    import tempfile  # tempfile: only when a file is written

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def starter_settings() -> str:
    """A commented settings file listing every setting at its default."""
    out = [
        "# mcp-kernel settings. In a notebook, `%config MCPKernel.<name> = value` overrides them for the",
        "# session; `mcp-kernel config set NAME VALUE` edits this file.",
        "",
        "[MCPKernel]",
    ]
    defaults = MCPKernel()
    for name in _trait_names():
        trait = MCPKernel.class_traits()[name]
        value = getattr(defaults, name)
        literal = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        out += [f"# {trait.help}", f"# {name} = {literal}", ""]
    return "\n".join(out)


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
