"""The settings of mcp-kernel: the ``MCPKernel`` traitlets and the user's settings file, ``config.toml``.

``%config MCPKernel.timeout = 60`` changes one in a notebook; ``mcp-kernel config set timeout 60`` writes
it to the file (section ``[MCPKernel]``), which every new session reads. The servers (``mcp.json``) are
:mod:`mcp_kernel.config`.

>>> coerce_setting("timeout", "60")
60.0
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode
from traitlets.config import Configurable

from .errors import ConfigError
from .limits import APPROVAL_MODES, CACHE_TTL_MAX_S, CELL_TIMEOUT_MAX_S, DISK_MB, MEMORY_MB, OUTPUT_LIMIT_KIB
from .paths import config_dir

__all__ = [
    "SETTINGS_FILENAME",
    "FiniteFloat",
    "MCPKernel",
    "coerce_setting",
    "load_settings",
    "read_settings_file",
    "replace_file",
    "settings_file",
    "starter_settings",
    "write_setting",
]


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
    max_calls = Int(
        0,
        min=0,
        help="Most tool calls one sandboxed cell or execute may make to servers; 0 means no cap (cache hits "
        "are free). serve caps an execute at --max-calls (default 50).",
    ).tag(config=True)
    max_calls_per_tool = Dict(
        value_trait=Int(min=0),
        help='Most calls one cell or execute may make to one tool: {"server.tool": N}.',
    ).tag(config=True)
    approve = Enum(
        list(APPROVAL_MODES),
        "never",
        help="Which sandboxed calls ask a person first in the kernel and the CLI: always, destructive (tools "
        "not annotated read-only or harmless) or never. serve asks by serve_approve (default destructive).",
    ).tag(config=True)
    approve_tools = Dict(
        value_trait=Enum(list(APPROVAL_MODES)),
        help='The approval rule of a server or one tool, over approve: {"demo": "never", "demo.send_report": '
        '"always"}. A server\'s "approve" key in mcp.json sets the same; these settings win.',
    ).tag(config=True)
    approval_timeout = FiniteFloat(
        300.0,
        min=1,
        help="Seconds a person has to answer an approval; after that the call is denied.",
    ).tag(config=True)
    audit = Bool(
        True,
        help="Record every call to a tool that is not read-only in the audit trail (the user data "
        "directory's audit/audit.jsonl; hashes and sizes of the arguments, never their values).",
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
    serve_max_calls = Int(
        50,
        min=0,
        help="Most tool calls one execute of `mcp-kernel serve` may make to servers (--max-calls); 0 means no cap.",
    ).tag(config=True)
    serve_approve = Enum(
        list(APPROVAL_MODES),
        "destructive",
        help="Which calls of `mcp-kernel serve` (execute and exposed tools) ask the agent's user first "
        "(serve --approve); the rules of approve_tools and mcp.json apply over it.",
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
    serve_task_after = FiniteFloat(
        5.0,
        min=0,
        help="Seconds an execute runs before serve answers it with a task (clients that declare the Tasks "
        "extension, 2026-07-28): the client then polls tasks/get instead of holding the request open.",
    ).tag(config=True)
    serve_task_keep = FiniteFloat(
        3600.0,
        min=1,
        help="Seconds serve keeps a finished task for tasks/get (at most 100 finished tasks per caller).",
    ).tag(config=True)
    serve_park_dir = Unicode(
        "",
        help="`mcp-kernel serve`: where idle sandbox sessions are parked (0o600 files, restored on the next "
        "execute by their own caller, on any replica sharing the directory, and after a restart); empty: "
        "<data dir>/parked; 'none': never park (serve --park-dir).",
    ).tag(config=True)
    serve_park_after = FiniteFloat(
        600.0,
        min=0,
        help="`mcp-kernel serve`: seconds a sandbox session is idle before it is parked and dropped from "
        "memory (serve --park-after).",
    ).tag(config=True)
    serve_park_expiry = FiniteFloat(
        7 * 86400.0, min=1, help="`mcp-kernel serve`: seconds a parked session is kept before it is removed."
    ).tag(config=True)
    serve_park_limit_mb = Int(
        1024,
        min=1,
        help="`mcp-kernel serve`: MiB of parked sessions one caller may keep (its oldest go first).",
    ).tag(config=True)
    serve_replica = Unicode(
        "",
        help="`mcp-kernel serve`: this replica's name, the first part of every session handle it makes "
        "(letters, digits and '-'); empty: the host's name (a Kubernetes pod's name) (serve --replica).",
    ).tag(config=True)
    skills_dir = Unicode(
        "",
        help="Where saved skills are kept (functions code saved with save_skill); empty: <data dir>/skills. "
        "The kernel and the CLI use its top level; each serve caller has a directory of its own in it.",
    ).tag(config=True)
    skills_max = Int(200, min=1, help="Most skills (names) one owner may keep.").tag(config=True)
    skills_max_mb = Int(
        16, min=1, help="Most MiB one owner's skills may take on disk, every kept version counted."
    ).tag(config=True)
    skill_max_kb = Int(
        64, min=1, max=1024, help="Most KiB one skill's source may hold (its imports included)."
    ).tag(config=True)
    serve_skills = Enum(
        ["caller", "shared", "off"],
        "caller",
        help="`mcp-kernel serve`: whose skills a caller saves and finds: 'caller', its own (callers never see "
        "each other's); 'shared', the one store of the kernel and CLI, for every caller; 'off', none "
        "(serve --skills).",
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
