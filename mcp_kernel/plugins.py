"""The plugin store: generated bindings saved to disk, integrity-checked before they are used again.

Layout (``<store>`` is the user data dir's ``plugins/`` unless told otherwise)::

    <store>/<server_id>/metadata.json      server info, tool count, versions, created time
    <store>/<server_id>/vfs.json           the generated tree: {path: text}
    <store>/<server_id>/checksum.blake3    blake3 over the two files above, in that order

``<store>/<server_id>`` is a pointer file naming a complete, immutable version directory under
``<store>/.versions/``; a save builds the new version beside the old one, fsyncs it, then swaps the
pointer with one atomic ``os.replace``. A crash at any point leaves the old plugin or the new one, never a
mix, and two processes saving at once (one at a time under a ``filelock`` lock) end with one complete
plugin. A pointer, not a symlink, so that one layout works everywhere (Windows needs a privilege to make
symlinks); stores written by older versions, whose ``<store>/<server_id>`` is a symlink, are still read,
and their next save replaces the link with a pointer. Files are 0o600 and directories 0o700 where the
platform has modes; on Windows the user's profile ACL is what keeps them private.

The blake3 checksum is an *integrity check*: it catches a changed, truncated or swapped file, not a
forged plugin (plugins are not signed). What a plugin can do is bounded instead: every path lies under
``servers/<its id>/`` or ``skills/<its id>/`` (plus :data:`SHARED_FILES`), so it cannot replace another
server's bindings, and sizes are capped while reading (:data:`MAX_BYTES`), so an archive cannot exhaust
memory.

For example::

    store = PluginStore("/tmp/plugins")
    store.save(plugin)
    store.load("demo").files["servers/demo/query_sales.py"][:30]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hmac
import io
import json
import os
import re
import secrets
import shutil
import tarfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import blake3
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InvalidPath, PluginError, PluginIntegrityError
from .models import ServerInfo
from .paths import data_dir, replace, write_new
from .versions import installed
from .vfs import normalize_path

__all__ = [
    "FORMAT_VERSION",
    "MAX_BYTES",
    "SHARED_FILES",
    "Plugin",
    "PluginFormatError",
    "PluginMetadata",
    "PluginStore",
    "new_metadata",
    "plugin_paths",
    "validate_server_id",
]

FORMAT_VERSION = 1
FILES = ("metadata.json", "vfs.json")
CHECKSUM_FILE = "checksum.blake3"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_STALE_TMP_SECONDS = 3600
_POINTER_BYTES = 512  # a pointer holds one version directory's name
# Files every server's bindings share, which a plugin may carry besides its own tree.
SHARED_FILES = ("servers/__init__.py", "runtime.d.ts")
# The most each file of a plugin may hold, checked before and while reading (a generated tree of a few
# hundred tools is a few MiB; a compressed archive can claim gigabytes).
MAX_BYTES = {"metadata.json": 1 << 20, "vfs.json": 64 << 20, CHECKSUM_FILE: 1 << 10}


class PluginFormatError(PluginIntegrityError):
    """A plugin written in a format version this mcp-kernel does not know."""


class PluginMetadata(BaseModel):
    """What ``metadata.json`` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = FORMAT_VERSION
    server_id: str
    server_name: str
    server: ServerInfo
    tool_count: int
    tool_hashes: dict[str, str] = Field(default_factory=dict)
    generator_version: str
    mcp_kernel_version: str
    wasmtime_version: str
    created: str


class Plugin(BaseModel):
    """A plugin in memory: metadata plus the generated files."""

    model_config = ConfigDict(frozen=True)

    metadata: PluginMetadata
    files: dict[str, str]


def validate_server_id(server_id: str) -> str:
    """Return ``server_id`` if it is safe as a directory name, else raise ``PluginError``.

    >>> validate_server_id("sales_db")
    'sales_db'
    """
    if not isinstance(server_id, str) or not _ID.match(server_id) or ".." in server_id:
        shown = repr(server_id)[:80]
        raise PluginError(
            f"Invalid plugin id {shown}: use 1-128 letters, digits, '_', '-' or '.', starting with a letter or "
            "digit, with no '..' or '/'."
        )
    return server_id


def _digest(parts: dict[str, bytes]) -> str:
    hasher = blake3.blake3()
    for name in FILES:
        data = parts[name]
        hasher.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def _encode(plugin: Plugin) -> dict[str, bytes]:
    meta = plugin.metadata.model_dump_json(indent=2).encode()
    vfs = json.dumps(plugin.files, indent=1, sort_keys=True, ensure_ascii=False).encode()
    return {"metadata.json": meta, "vfs.json": vfs}


def _decode(server_id: str, parts: dict[str, bytes], checksum: bytes) -> Plugin:
    """Check ``parts`` against ``checksum`` (constant time), then parse them and check every path."""
    expected = checksum.decode("ascii", errors="replace").strip()
    if not hmac.compare_digest(_digest(parts).encode(), expected.encode()):
        raise PluginIntegrityError(
            f"Plugin {server_id!r}: checksum mismatch; a file was changed or truncated. "
            "Nothing was loaded; generate and save it again."
        )
    try:
        raw_meta = json.loads(parts["metadata.json"])
    except ValueError:
        raise PluginIntegrityError(f"Plugin {server_id!r}: metadata.json is not JSON.") from None
    if not isinstance(raw_meta, dict) or raw_meta.get("format_version") != FORMAT_VERSION:
        found = raw_meta.get("format_version") if isinstance(raw_meta, dict) else None
        raise PluginFormatError(
            f"Plugin {server_id!r}: format version {found!r} is not supported (this mcp-kernel "
            f"reads version {FORMAT_VERSION}). Regenerate it with this version."
        )
    try:
        meta = PluginMetadata.model_validate(raw_meta)
        files = json.loads(parts["vfs.json"])
    except (ValidationError, ValueError) as exc:
        raise PluginIntegrityError(f"Plugin {server_id!r}: malformed metadata or vfs.json ({exc}).") from None
    if meta.server_id != server_id:
        raise PluginIntegrityError(
            f"Plugin {server_id!r}: its metadata names {meta.server_id!r}; was it moved or "
            "swapped with another?"
        )
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise PluginIntegrityError(f"Plugin {server_id!r}: vfs.json must map paths to file texts.")
    return Plugin(metadata=meta, files=plugin_paths(server_id, files))


def plugin_paths(server_id: str, files: dict[str, str]) -> dict[str, str]:
    """``files`` if every path stays in the plugin's own tree (``servers/<id>/``, ``skills/<id>/``) or is one of
    :data:`SHARED_FILES`; else ``PluginIntegrityError`` naming the first path that does not.

    >>> plugin_paths("demo", {"servers/other/a.py": ""})
    Traceback (most recent call last):
    ...
    mcp_kernel.errors.PluginIntegrityError: Plugin 'demo': path 'servers/other/a.py' lies outside its own tree (servers/demo/, skills/demo/); a plugin cannot change another server's bindings.
    """
    own = (f"servers/{server_id}/", f"skills/{server_id}/")
    for path in files:
        try:
            rel = normalize_path(path)
        except InvalidPath as exc:
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: vfs.json holds a path that escapes the tree: {exc}"
            ) from None
        if not rel.startswith(own) and rel not in SHARED_FILES:
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: path {path[:200]!r} lies outside its own tree "
                f"({', '.join(own)}); a plugin cannot change another server's bindings."
            )
    return files


def new_metadata(
    server_id: str,
    server_name: str,
    server: ServerInfo,
    *,
    tool_count: int,
    tool_hashes: dict[str, str],
    generator_version: str,
) -> PluginMetadata:
    """Metadata for a plugin created now, with this machine's versions."""
    return PluginMetadata(
        server_id=validate_server_id(server_id),
        server_name=server_name,
        server=server,
        tool_count=tool_count,
        tool_hashes=tool_hashes,
        generator_version=generator_version,
        mcp_kernel_version=installed("mcp-kernel", "unknown"),
        wasmtime_version=installed("wasmtime", "unknown"),
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )


class PluginStore:
    """Saved plugins under one directory."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir() / "plugins"

    # ---- paths -----------------------------------------------------------------------------------
    def _versions(self) -> Path:
        return self.root / ".versions"

    def _link(self, server_id: str) -> Path:
        """The plugin's pointer file (or, in a store written before pointers, its symlink)."""
        return self.root / validate_server_id(server_id)

    def _ensure_root(self) -> None:
        for path in (self.root, self._versions()):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(path, 0o700)

    @contextlib.contextmanager
    def _locked(self, server_id: str) -> Iterator[None]:
        self._ensure_root()
        with FileLock(self._versions() / f"{server_id}.lock", mode=0o600):
            yield

    def _current(self, server_id: str) -> Path | None:
        """The version directory a plugin's pointer (or old-layout symlink) names, unresolved; None if absent.

        Raises ``PluginIntegrityError`` for anything else at the pointer's place, or a pointer that does not
        hold one version name (so it cannot name a path outside ``.versions/``).
        """
        link = self._link(server_id)
        if link.is_symlink():  # the layout before pointer files
            return self.root / os.readlink(link)
        if not link.exists():
            return None
        if not link.is_file():
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: {link} is not a plugin pointer; remove it by hand."
            )
        with link.open("rb") as fh:
            raw = fh.read(_POINTER_BYTES + 1)
        name = raw.decode("utf-8", errors="replace").strip()
        if len(raw) > _POINTER_BYTES or not _version_name(server_id, name):
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: its pointer {link} does not name a version of this plugin "
                f"({name[:80]!r}); it points outside the store. Save the plugin again or remove it."
            )
        return self._versions() / name

    def _resolve(self, server_id: str) -> Path:
        """The version directory a plugin's pointer names, refusing one that leaves the store."""
        current = self._current(server_id)
        if current is None:
            raise PluginError(
                f"No plugin {server_id!r} in {self.root}. Save one with "
                f"`mcp-kernel generate SERVER --save-plugin` (saved: {', '.join(self.ids()) or 'none'})."
            )
        target = current.resolve()
        if target.parent != self._versions().resolve():
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: its pointer leads outside the store ({target})."
            )
        return target

    # ---- operations ------------------------------------------------------------------------------
    def save(self, plugin: Plugin) -> Path:
        """Write ``plugin`` atomically; return the plugin's path. Replaces an older one of the same id."""
        server_id = validate_server_id(plugin.metadata.server_id)
        plugin_paths(server_id, plugin.files)
        parts = _encode(plugin)
        for name, data in parts.items():
            if len(data) > MAX_BYTES[name]:
                raise PluginError(
                    f"Plugin {server_id!r}: {name} would be {len(data):,} bytes, more than the "
                    f"{MAX_BYTES[name]:,} a plugin may hold."
                )
        self._ensure_root()
        tmp = self._versions() / f".tmp-{server_id}-{secrets.token_hex(8)}"
        tmp.mkdir(mode=0o700)
        try:
            for name, data in [*parts.items(), (CHECKSUM_FILE, (_digest(parts) + "\n").encode())]:
                write_new(tmp / name, data)
            _fsync_dir(tmp)
            final = self._versions() / f"{server_id}-{time.time_ns()}-{secrets.token_hex(4)}"
            with self._locked(server_id):
                os.rename(tmp, final)
                pointer_tmp = self.root / f".pointer-{server_id}-{secrets.token_hex(8)}"
                write_new(pointer_tmp, f"{final.name}\n".encode())
                replace(pointer_tmp, self._link(server_id))
                _fsync_dir(self.root)
                self._collect(server_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._link(server_id)

    def _collect(self, server_id: str) -> None:
        """Remove this plugin's versions that its pointer no longer names, and stale temp files (lock held).

        On Windows a version another process is reading cannot be removed yet; it is left for a later save.
        """
        try:
            pointed = self._current(server_id)
        except PluginIntegrityError:
            pointed = None
        current = pointed.name if pointed else None
        now = time.time()
        for entry in self._versions().iterdir():
            name = entry.name
            if name == current or not entry.is_dir():
                continue
            if _version_name(server_id, name) or (
                name.startswith(f".tmp-{server_id}-") and now - entry.stat().st_mtime > _STALE_TMP_SECONDS
            ):
                shutil.rmtree(entry, ignore_errors=True)
        for entry in self.root.glob(f".pointer-{server_id}-*"):  # left by a save that crashed before its swap
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                    entry.unlink()

    def load(self, server_id: str) -> Plugin:
        """Read and integrity-check a plugin; ``PluginIntegrityError`` (nothing loaded) if anything is off."""
        directory = self._resolve(server_id)
        present = sorted(p.name for p in directory.iterdir())
        expected = sorted([*FILES, CHECKSUM_FILE])
        if present != expected:
            missing = sorted(set(expected) - set(present))
            extra = sorted(set(present) - set(expected))
            raise PluginIntegrityError(
                f"Plugin {server_id!r}: files do not match the format "
                f"(missing: {missing or 'none'}, unexpected: {extra or 'none'})."
            )
        parts = {}
        for name in [*FILES, CHECKSUM_FILE]:
            path = directory / name
            if path.is_symlink() or not path.is_file():
                raise PluginIntegrityError(f"Plugin {server_id!r}: {name} is not a regular file.")
            with path.open("rb") as fh:
                parts[name] = _read_at_most(fh, name, f"Plugin {server_id!r}")
        return _decode(server_id, {n: parts[n] for n in FILES}, parts[CHECKSUM_FILE])

    def ids(self) -> list[str]:
        """Ids of the saved plugins (pointers, and old-layout links; not checked)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if _ID.match(p.name) and (p.is_symlink() or p.is_file())
        )

    def remove(self, server_id: str) -> None:
        """Delete a plugin and its versions."""
        self._resolve(server_id)
        with self._locked(server_id):
            os.unlink(self._link(server_id))
            self._collect(server_id)

    def export(self, server_id: str, file: str | os.PathLike[str]) -> Path:
        """Write a plugin that passes its integrity check into one archive file (a tar of its three files)."""
        self.load(server_id)  # refuse to export a plugin that fails its integrity check
        directory = self._resolve(server_id)
        out = Path(file)
        tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            for name in [*FILES, CHECKSUM_FILE]:
                data = (directory / name).read_bytes()
                info = tarfile.TarInfo(f"{server_id}/{name}")
                info.size, info.mode, info.mtime = len(data), 0o600, 0
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)
        return out

    def import_(self, file: str | os.PathLike[str]) -> Plugin:
        """Integrity-check an exported archive and save its plugin; nothing is written unless it passes.

        The archive is read as a stream with every size bounded (:data:`MAX_BYTES`, three members), so a
        small file that claims gigabytes is refused after reading at most what a plugin may hold.
        """
        data: dict[str, bytes] = {}
        server_id = None
        try:
            with (
                open(file, "rb") as raw,
                _Bounded(_decompressed(raw), sum(MAX_BYTES.values()) + (64 << 10), str(file)) as stream,
                tarfile.open(fileobj=stream, mode="r|") as tar,
            ):
                for member in tar:
                    head, _, name = member.name.partition("/")
                    server_id = validate_server_id(head) if server_id is None else server_id
                    if head != server_id or name not in MAX_BYTES or name in data or not member.isfile():
                        raise PluginIntegrityError(
                            f"{file}: unexpected entry {member.name[:200]!r}; an archive holds "
                            f"one plugin's {', '.join(MAX_BYTES)}."
                        )
                    if member.size > MAX_BYTES[name]:
                        raise PluginIntegrityError(
                            f"{file}: {member.name[:200]} is {member.size:,} bytes, more than "
                            f"the {MAX_BYTES[name]:,} a plugin's {name} may hold."
                        )
                    data[name] = _read_at_most(tar.extractfile(member), name, str(file))  # type: ignore[arg-type]
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise PluginIntegrityError(f"{file}: not a readable plugin archive ({exc}).") from None
        missing = sorted(set(MAX_BYTES) - set(data))
        if server_id is None or missing:
            raise PluginIntegrityError(
                f"{file}: not a complete plugin archive (missing: {', '.join(missing)})."
            )
        plugin = _decode(server_id, {n: data[n] for n in FILES}, data[CHECKSUM_FILE])
        self.save(plugin)
        return plugin


def _read_at_most(fh: BinaryIO, name: str, what: str) -> bytes:
    """Read one plugin file, refusing it once it passes its size bound (without reading further)."""
    data = fh.read(MAX_BYTES[name] + 1)
    if len(data) > MAX_BYTES[name]:
        raise PluginIntegrityError(
            f"{what}: {name} holds more than the {MAX_BYTES[name]:,} bytes a plugin may hold."
        )
    return data


def _decompressed(raw: BinaryIO) -> BinaryIO:
    """The archive's bytes: gunzipped when it is gzip (``plugin export`` writes .tar.gz), else as they are."""
    import gzip  # gzip: only for a compressed archive

    magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


class _Bounded(io.RawIOBase):
    """A read-only stream that fails once more than ``limit`` bytes were read through it: tarfile keeps
    headers (pax, long names) in memory, so the bound must hold below it."""

    def __init__(self, inner: BinaryIO, limit: int, what: str) -> None:
        self._inner, self._left, self._what = inner, limit, what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise PluginIntegrityError(
                f"{self._what}: the archive unpacks to more than a plugin may hold; refused."
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._left + 1
        buffer = bytearray(size)
        n = self.readinto(buffer)
        return bytes(buffer[:n])


def _version_name(server_id: str, name: str) -> bool:
    """Whether ``name`` is one of this plugin's version directory names (``<id>-<ns>-<hex>``, no path)."""
    head, _, rest = name.partition(f"{server_id}-")
    stamp, _, token = rest.partition("-")
    return not head and stamp.isdigit() and bool(re.fullmatch(r"[0-9a-f]{1,64}", token))


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable. Windows cannot open a directory as a file; NTFS journals the
    rename itself, so there is nothing to do there."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
