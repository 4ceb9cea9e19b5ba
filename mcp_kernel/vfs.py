"""The progressive virtual filesystem: ``/mcp-tools`` held in memory, browsed a level at a time.

Paths are validated before anything touches a disk: no ``..``, no absolute path outside
``/mcp-tools``, no NUL or backslash, no empty component, bounded length and depth.

>>> fs = VirtualFS({"servers/demo/query_sales.py": "def query_sales(): ..."})
>>> [e.name for e in fs.listdir("/mcp-tools/servers")]
['demo']
>>> fs.read("/mcp-tools/servers/demo/query_sales.py")[:3]
'def'
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .errors import InvalidPath, VFSError

__all__ = ["ROOT", "Entry", "Stat", "TreeNode", "VirtualFS", "normalize_path"]

ROOT = "/mcp-tools"
MAX_PATH = 4096
MAX_COMPONENT = 255
MAX_DEPTH = 16


def normalize_path(path: str) -> str:
    """The path relative to ``/mcp-tools`` ('' for the root), or ``InvalidPath`` naming the rule broken.

    >>> normalize_path("/mcp-tools/servers/demo/")
    'servers/demo'
    >>> normalize_path("servers/../../etc/passwd")
    Traceback (most recent call last):
    ...
    mcp_kernel.errors.InvalidPath: Invalid path 'servers/../../etc/passwd': '..' is not allowed.
    """
    if not isinstance(path, str):
        raise InvalidPath(f"Invalid path {path!r}: expected a string.")
    shown = repr(path) if len(path) <= 120 else repr(path[:117] + "...")
    if "\0" in path:
        raise InvalidPath(f"Invalid path {shown}: NUL bytes are not allowed.")
    if "\\" in path:
        raise InvalidPath(f"Invalid path {shown}: use '/' as the separator, not '\\'.")
    if len(path) > MAX_PATH:
        raise InvalidPath(f"Invalid path {shown}: longer than {MAX_PATH} characters.")
    rel = path
    if path.startswith("/"):
        if path == ROOT or path == ROOT + "/":
            return ""
        if not path.startswith(ROOT + "/"):
            raise InvalidPath(f"Invalid path {shown}: absolute paths must be under {ROOT}.")
        rel = path[len(ROOT) + 1 :]
    rel = rel.rstrip("/")
    if rel in ("", "."):
        return ""
    parts = rel.split("/")
    for part in parts:
        if part == "..":
            raise InvalidPath(f"Invalid path {shown}: '..' is not allowed.")
        if part in ("", "."):
            raise InvalidPath(f"Invalid path {shown}: empty or '.' components are not allowed.")
        if len(part) > MAX_COMPONENT:
            raise InvalidPath(f"Invalid path {shown}: a component is longer than {MAX_COMPONENT} characters.")
    if len(parts) > MAX_DEPTH:
        raise InvalidPath(f"Invalid path {shown}: deeper than {MAX_DEPTH} levels.")
    return "/".join(parts)


class Entry(BaseModel):
    """One item of a directory listing."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    kind: Literal["dir", "file"]
    size: int = 0


class Stat(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    path: str
    kind: Literal["dir", "file"]
    size: int
    tokens_estimate: int


class TreeNode(BaseModel):
    """A directory tree for display: ``children`` is empty for files."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    path: str
    kind: Literal["dir", "file"]
    size: int = 0
    children: list[TreeNode] = []


class VirtualFS:
    """Files under ``/mcp-tools``, keyed by their path relative to it."""

    def __init__(self, files: Mapping[str, str] | None = None) -> None:
        self._files: dict[str, str] = {}
        self.version = 0  # bumped on every change, so a synced copy knows when it is current
        if files:
            self.update(files)

    # ---- changes ---------------------------------------------------------------------------------
    def add(self, path: str, text: str) -> str:
        """Add or replace one file; return its normalised path."""
        rel = normalize_path(path)
        if not rel:
            raise InvalidPath(f"Invalid path {path!r}: the root is a directory, not a file.")
        for existing in self._files:
            if existing.startswith(rel + "/"):
                raise VFSError(f"Cannot write file {ROOT}/{rel}: it is a directory.")
            if rel.startswith(existing + "/"):
                raise VFSError(f"Cannot write {ROOT}/{rel}: {ROOT}/{existing} is a file.")
        self._files[rel] = text
        self.version += 1
        return rel

    def update(self, files: Mapping[str, str]) -> None:
        """Add many files (all paths are checked before any is added)."""
        checked = {normalize_path(p): t for p, t in files.items()}
        for rel, text in checked.items():
            self.add(rel, text)

    def remove_prefix(self, prefix: str) -> int:
        """Remove every file under ``prefix``; return how many."""
        rel = normalize_path(prefix)
        doomed = [p for p in self._files if not rel or p == rel or p.startswith(rel + "/")]
        for path in doomed:
            del self._files[path]
        self.version += bool(doomed)
        return len(doomed)

    # ---- reading ---------------------------------------------------------------------------------
    @property
    def files(self) -> dict[str, str]:
        """A copy of every file: relative path -> text."""
        return dict(self._files)

    def _is_dir(self, rel: str) -> bool:
        return rel == "" or any(p.startswith(rel + "/") for p in self._files)

    def exists(self, path: str) -> bool:
        rel = normalize_path(path)
        return rel in self._files or self._is_dir(rel)

    def read(self, path: str) -> str:
        """The text of one file."""
        rel = normalize_path(path)
        if rel in self._files:
            return self._files[rel]
        if self._is_dir(rel):
            raise VFSError(f"{ROOT}/{rel} is a directory; list it with `vfs {ROOT}/{rel}`.")
        raise VFSError(
            f"No file {ROOT}/{rel}. List what exists with `vfs {ROOT}/{rel.rsplit('/', 1)[0] if '/' in rel else ''}`."
        )

    def listdir(self, path: str = ROOT) -> list[Entry]:
        """The entries directly inside a directory, directories first, then by name."""
        rel = normalize_path(path)
        if rel in self._files:
            raise VFSError(f"{ROOT}/{rel} is a file; read it with `cat {ROOT}/{rel}`.")
        if not self._is_dir(rel):
            raise VFSError(f"No directory {ROOT}/{rel}.")
        prefix = rel + "/" if rel else ""
        dirs: set[str] = set()
        files: dict[str, int] = {}
        for p, text in self._files.items():
            if not p.startswith(prefix):
                continue
            head, sep, _ = p[len(prefix) :].partition("/")
            if sep:
                dirs.add(head)
            else:
                files[head] = len(text.encode())
        return [Entry(name=d, kind="dir") for d in sorted(dirs)] + [
            Entry(name=f, kind="file", size=s) for f, s in sorted(files.items())
        ]

    def stat(self, path: str) -> Stat:
        """Size in bytes and a token estimate (bytes / 4) of a file, or of everything under a directory."""
        rel = normalize_path(path)
        kind: Literal["dir", "file"]
        if rel in self._files:
            size, kind = len(self._files[rel].encode()), "file"
        elif self._is_dir(rel):
            prefix = rel + "/" if rel else ""
            size, kind = sum(len(t.encode()) for p, t in self._files.items() if p.startswith(prefix)), "dir"
        else:
            raise VFSError(f"No file or directory {ROOT}/{rel}.")
        return Stat(
            path=f"{ROOT}/{rel}".rstrip("/"), kind=kind, size=size, tokens_estimate=math.ceil(size / 4)
        )

    def tree(self, path: str = ROOT, depth: int | None = None) -> TreeNode:
        """A nested view of a directory, ``depth`` levels deep (all when None)."""
        rel = normalize_path(path)
        if rel in self._files:
            return TreeNode(
                name=rel.rsplit("/", 1)[-1],
                path=f"{ROOT}/{rel}",
                kind="file",
                size=len(self._files[rel].encode()),
            )
        entries = self.listdir(rel)
        children = []
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.kind == "file" or (depth is not None and depth <= 1):
                children.append(
                    TreeNode(name=entry.name, path=f"{ROOT}/{child}", kind=entry.kind, size=entry.size)
                )
            else:
                children.append(self.tree(child, None if depth is None else depth - 1))
        name = rel.rsplit("/", 1)[-1] if rel else ROOT
        return TreeNode(
            name=name,
            path=f"{ROOT}/{rel}".rstrip("/") or ROOT,
            kind="dir",
            size=sum(c.size for c in children),
            children=children,
        )

    def walk(self) -> Iterable[tuple[str, str]]:
        """Every (relative path, text), sorted by path."""
        return sorted(self._files.items())

    # ---- disk ------------------------------------------------------------------------------------
    def materialize(self, directory: str | os.PathLike[str]) -> Path:
        """Write the tree into ``directory`` (``generate --out``), never deleting what mcp-kernel did not write.

        ``directory`` must be new, empty, or one an earlier call wrote: a marker file there lists the files
        it wrote. Those are replaced (each atomically) or removed when no longer in the tree; anything else
        in the directory is left alone. A non-empty directory without the marker is refused.
        """
        target = Path(directory)
        if target.is_symlink():
            raise InvalidPath(f"Refusing to write the tree through a symlink: {target}.")
        if target.exists() and not target.is_dir():
            raise VFSError(
                f"Cannot write the tree into {target}: it is a file. Choose a new or empty directory."
            )
        previous = _written_before(target)
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        wanted = {tuple(rel.split("/")): text for rel, text in self._files.items()}
        _write_files(target, wanted)
        for parts in sorted(previous - set(wanted), key=len, reverse=True):
            stale = target.joinpath(*parts)
            if stale.is_file() and not stale.is_symlink():
                stale.unlink()
            for parent in stale.relative_to(target).parents:
                if parent.parts and (target / parent).is_dir() and not any((target / parent).iterdir()):
                    (target / parent).rmdir()
        marker = {"written_by": "mcp-kernel generate --out", "files": sorted("/".join(p) for p in wanted)}
        _write_files(target, {(MARKER,): json.dumps(marker, indent=1) + "\n"})
        return target

    def sync(self, directory: str | os.PathLike[str]) -> Path:
        """Update ``directory`` in place to hold exactly this tree (for a directory already mounted).

        The directory is the session's own: the sandbox has it open and sees the changes. Each file is
        replaced atomically; files no longer in the tree are removed; nothing is written through a symlink.
        """
        target = Path(directory)
        if target.is_symlink():
            raise InvalidPath(f"Refusing to write the tree through a symlink: {target}.")
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        wanted = {tuple(rel.split("/")): text for rel, text in self._files.items()}
        _write_files(target, wanted)
        for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            rel = path.relative_to(target).parts
            if path.is_symlink() or (path.is_file() and rel not in wanted):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return target


MARKER = ".mcp-kernel-tree.json"


def _written_before(target: Path) -> set[tuple[str, ...]]:
    """The files an earlier ``materialize`` wrote into ``target``; refuses a foreign, non-empty directory."""
    if not target.is_dir() or not any(target.iterdir()):
        return set()
    marker = target / MARKER
    if not marker.is_file() or marker.is_symlink():
        raise VFSError(
            f"Refusing to write the tree into {target}: it is not empty and mcp-kernel did not write it "
            f"(no {MARKER}). Nothing was changed; choose a new or empty directory."
        )
    try:
        listed = json.loads(marker.read_text(encoding="utf-8"))["files"]
        return {tuple(normalize_path(path).split("/")) for path in listed}
    except (OSError, ValueError, KeyError, TypeError, InvalidPath) as exc:
        raise VFSError(
            f"Refusing to write the tree into {target}: its {MARKER} is unreadable ({exc}). Nothing was "
            "changed; choose a new or empty directory."
        ) from None


def _write_files(target: Path, files: Mapping[tuple[str, ...], str]) -> None:
    """Write each file under ``target`` atomically (temp file + rename), skipping unchanged ones, never
    through a symlink."""
    for parts, text in sorted(files.items()):
        dest = target.joinpath(*parts)
        parent = dest.parent
        for ancestor in [*reversed(dest.relative_to(target).parents)][1:]:
            if (target / ancestor).is_symlink():
                raise InvalidPath(f"Refusing to write through a symlink: {target / ancestor}.")
        parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        try:
            if not dest.is_symlink() and dest.read_text(encoding="utf-8") == text:
                continue
        except OSError:
            pass
        tmp = parent / f".{dest.name}.{secrets.token_hex(4)}.tmp"
        # "x" is O_CREAT|O_EXCL, which refuses an existing name, a symlink included, on every platform;
        # newline="" writes the tree's bytes as they are (no CRLF on Windows).
        with open(tmp, "x", encoding="utf-8", newline="", opener=lambda p, f: os.open(p, f, 0o644)) as fh:
            fh.write(text)
        os.replace(tmp, dest)
