"""The skills of one owner on disk: versions written atomically, records with a keyed checksum, export and
import; and which store each serve caller gets.

For example::

    store = SkillStore("/tmp/skills")
    store.save("double", "def double(x):\\n    'Twice x.'\\n    return 2 * x\\n").version
    # 1
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hmac
import io
import json
import logging
import os
import re
import secrets
import tarfile
import threading
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

import blake3
from filelock import FileLock
from pydantic import ValidationError

from ..errors import SkillError, SkillIntegrityError
from ..models import Skill
from ..paths import data_dir, replace, write_new
from .source import NAME, check_source, validate_name

__all__ = ["CallerSkills", "SkillStore", "skill_store"]

log = logging.getLogger(__name__)

_VERSION_FILE = re.compile(r"v([1-9][0-9]{0,5})\.(py|json)")
_ARCHIVE_BYTES = 64 << 20  # the most an exported archive may unpack to
MAX_VERSIONS = 20  # kept per skill: a save past it removes the oldest


class SkillStore:
    """One owner's skills on disk (thread- and process-safe saves; reads check every checksum)."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        max_skills: int = 200,
        max_kb: int = 64,
        max_mb: int = 16,
    ) -> None:
        self.root = Path(root) if root is not None else data_dir() / "skills"
        self.max_skills, self.max_bytes, self.max_total = max_skills, max_kb << 10, max_mb << 20
        self._cache: tuple[bytes, list[Skill]] | None = None

    # ---- reading ------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """The names with at least one saved version (not checked)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if NAME.fullmatch(p.name) and self.versions(p.name))

    def versions(self, name: str) -> list[int]:
        """The saved versions of ``name``, oldest first (those whose record exists)."""
        directory = self.root / validate_name(name)
        if not directory.is_dir():
            return []
        found = [_VERSION_FILE.fullmatch(p.name) for p in directory.iterdir()]
        return sorted(int(m[1]) for m in found if m and m[2] == "json")

    def load(self, name: str, version: int | None = None) -> Skill:
        """A skill's latest (or given) version, checked; SkillError if there is none, SkillIntegrityError if
        its files were changed or written by anything but this store."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none yet"
            raise SkillError(
                f"No skill named {name!r} (saved skills: {known}); save one with save_skill(fn)."
            )
        if version is None:
            version = versions[-1]
        if version not in versions:
            raise SkillError(
                f"Skill {name!r} has no version {version} (it has {', '.join(map(str, versions))})."
            )
        directory = self.root / name
        record_path, source_path = directory / f"v{version}.json", directory / f"v{version}.py"
        try:
            record = _read_regular(record_path, 64 << 10)
            source = _read_regular(source_path, self.max_bytes * 4)
        except OSError as exc:
            raise SkillIntegrityError(
                f"Skill {name!r} v{version} cannot be read ({exc}); remove it."
            ) from None
        return _verified(record, source, self._key(create=False), f"Skill {name!r} v{version}", name, version)

    def latest(self) -> list[Skill]:
        """Every skill's latest version that passes its checks (a damaged one is left out; :meth:`load`
        names what is wrong with it); cached until the store changes."""
        stamp = _stamp(self.root)
        if self._cache is not None and self._cache[0] == stamp and stamp:
            return self._cache[1]
        found: dict[str, Skill] = {}
        try:
            for name in self.names():
                with contextlib.suppress(SkillError):
                    found[name] = self.load(name)
        except OSError as exc:  # a store that cannot be read holds nothing usable; cells go on without it
            log.warning("skill store %s cannot be read: %s", self.root, exc)
            return []
        # The servers a skill calls include those of the skills it imports as they are now, not as they were
        # when it was saved (an imported skill saved again may call more).
        skills = [s.model_copy(update={"servers": _calls(s.name, found, set())}) for s in found.values()]
        self._cache = (stamp, skills)
        return skills

    def stamp(self) -> bytes:
        """What changes with every save and removal through any store object on this root (b"" before the
        first): what a reader compares to know it is current."""
        return _stamp(self.root)

    def servers_of(self, names: Iterable[str]) -> dict[str, list[str]]:
        """The servers each of ``names`` calls (its imported skills' included); unknown names are left out."""
        found = {skill.name: skill.servers for skill in self.latest()}
        return {name: found[name] for name in names if name in found}

    # ---- writing ------------------------------------------------------------------------------------
    def save(self, name: str, source: str, description: str | None = None) -> Skill:
        """Check ``source`` and save it as ``name``'s next version; the earlier ones stay until removed."""
        fields = check_source(name, source, description, max_bytes=self.max_bytes)
        servers = set(fields["servers"])
        for other in fields["skills"]:
            try:
                servers.update(self.load(other).servers)
            except SkillIntegrityError:
                raise
            except SkillError:
                raise SkillError(
                    f"Skill {name!r} imports skills.{other}, which is not a saved skill; save {other} first."
                ) from None
        fields["servers"] = sorted(servers)
        self._ensure_root()
        with FileLock(str(self.root / ".lock"), timeout=30):
            names = self.names()
            if name not in names and len(names) >= self.max_skills:
                raise SkillError(
                    f"This store holds {len(names)} skills, its limit (setting skills_max); remove some "
                    "(mcp-kernel skills remove NAME) before saving another."
                )
            alike = [n for n in names if n != name and n.lower() == name.lower()]
            if alike:  # one directory on macOS and Windows
                raise SkillError(
                    f"Skill {name!r} differs from skill {alike[0]!r} only in case; name it otherwise."
                )
            versions = self.versions(name)
            version = (versions[-1] if versions else 0) + 1
            data = source.encode("utf-8")
            held = sum(p.stat().st_size for n in names for p in (self.root / n).iterdir())
            if held + 2 * len(data) > self.max_total:
                raise SkillError(
                    f"This store holds {held / 1048576:.1f} MiB of skills, near its {self.max_total >> 20} MiB "
                    "(setting skills_max_mb); remove old versions or skills (mcp-kernel skills remove) first."
                )
            record = {
                "name": name,
                "version": version,
                **fields,
                "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "size": len(data),
            }
            record["checksum"] = _digest(record, data, self._key(create=True))
            directory = self.root / name
            directory.mkdir(mode=0o700, exist_ok=True)
            _write_atomic(directory / f"v{version}.py", data)
            _write_atomic(directory / f"v{version}.json", json.dumps(record, indent=1).encode())
            for old in versions[: max(0, len(versions) + 1 - MAX_VERSIONS)]:  # the oldest past the most kept
                self._unlink(name, old)
            _touch(self.root)
        return Skill(**record, source=source)

    def remove(self, name: str, version: int | None = None) -> list[int]:
        """Remove a version of ``name`` (default: every version); return the versions removed."""
        if not self.versions(name):
            self.load(name, version)  # raises, naming what there is
        with FileLock(str(self.root / ".lock"), timeout=30):  # a version saved meanwhile goes too
            versions = self.versions(name)
            gone = versions if version is None else [v for v in versions if v == version]
            if not gone:
                self.load(name, version)
            for v in gone:
                self._unlink(name, v)
            with contextlib.suppress(OSError):
                (self.root / name).rmdir()
            _touch(self.root)
        return gone

    def _unlink(self, name: str, version: int) -> None:
        for suffix in ("json", "py"):  # the record first: a half-removed version is not a version
            with contextlib.suppress(FileNotFoundError):
                (self.root / name / f"v{version}.{suffix}").unlink()

    # ---- sharing ------------------------------------------------------------------------------------
    def export(self, file: str | os.PathLike[str], names: Iterable[str] | None = None) -> list[Skill]:
        """Write the latest version of ``names`` (default: all), and of the skills they import, to a .tar.gz a
        person can read: per skill its source and its record with a plain blake3 checksum. Refuses a skill
        that fails its checks."""
        chosen = list(names) if names is not None else self.names()
        skills = [self.load(name) for name in chosen]
        for skill in skills:  # the skills they import go with them (the list grows while it is walked)
            skills += [self.load(other) for other in skill.skills if other not in {s.name for s in skills}]
        if not skills:
            raise SkillError("No skills to export; save one with save_skill(fn) first.")
        out = Path(file)
        tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
        try:
            with tarfile.open(tmp, "w:gz") as tar:
                for skill in skills:
                    record = skill.model_dump(exclude={"source"})
                    data = skill.source.encode("utf-8", "surrogatepass")
                    record["checksum"] = _digest(record, data, None)
                    for member, body in (
                        (f"{skill.name}.py", data),
                        (f"{skill.name}.json", json.dumps(record, indent=1).encode()),
                    ):
                        info = tarfile.TarInfo(member)
                        info.size, info.mode, info.mtime = len(body), 0o600, 0
                        tar.addfile(info, io.BytesIO(body))
            os.replace(tmp, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return skills

    def import_(self, file: str | os.PathLike[str]) -> list[Skill]:
        """Check every skill of an exported archive (its checksum, then the same checks as a save) and save
        each as a new version here; nothing is saved unless all pass."""
        parts: dict[str, bytes] = {}
        try:
            with open(file, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
                total = 0
                for member in tar:
                    if not member.isfile() or "/" in member.name or member.name in parts:
                        raise SkillIntegrityError(f"{file}: unexpected entry {member.name[:200]!r}; refused.")
                    total += member.size
                    if member.size > self.max_bytes * 4 or total > _ARCHIVE_BYTES:
                        raise SkillIntegrityError(
                            f"{file}: {member.name[:200]} is too large for a skill; refused."
                        )
                    parts[member.name] = tar.extractfile(member).read(self.max_bytes * 4 + 1)  # type: ignore[union-attr]
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise SkillIntegrityError(f"{file}: not a readable skills archive ({exc}).") from None
        names = sorted({p.rsplit(".", 1)[0] for p in parts})
        if not names or set(parts) != {f"{n}.{s}" for n in names for s in ("py", "json")}:
            raise SkillIntegrityError(f"{file}: a skills archive holds <name>.py and <name>.json per skill.")
        checked: list[tuple[Skill, list[str]]] = []  # each skill, and the skills its source imports
        for name in names:
            skill = _verified(
                parts[f"{name}.json"], parts[f"{name}.py"], None, f"{file}: skill {name!r}", name, None
            )
            fields = check_source(name, skill.source, skill.description, max_bytes=self.max_bytes)
            checked.append((skill, fields["skills"]))
        # Everything that would refuse a save is checked before the first one: what each imports is in the
        # archive or here, and the new names fit the limit.
        here = set(self.names())
        for skill, imports in checked:
            missing = [o for o in imports if o not in names and o not in here]
            if missing:
                raise SkillError(
                    f"{file}: skill {skill.name!r} imports {', '.join(missing)}, which neither the archive nor "
                    "this store holds; export them together."
                )
        if len(here | set(names)) > self.max_skills:
            raise SkillError(
                f"{file}: importing it would make {len(here | set(names))} skills, more than this store's "
                f"{self.max_skills} (setting skills_max); remove some first."
            )
        # Skills that import each other are saved in an order where each finds the ones it imports; if a save
        # fails all the same (a full disk), the versions saved before it are removed again.
        saved: list[Skill] = []
        pending = {s.name: (s, imports) for s, imports in checked}
        try:
            while pending:
                ready = [s for s, imports in pending.values() if all(o not in pending for o in imports)]
                if not ready:
                    raise SkillError(f"{file}: skills {sorted(pending)} import each other in a circle.")
                for skill in ready:
                    saved.append(self.save(skill.name, skill.source, skill.description))
                    del pending[skill.name]
        except BaseException:
            for skill in saved:
                with contextlib.suppress(SkillError, OSError):
                    self.remove(skill.name, skill.version)
            raise
        return saved

    # ---- what the sandbox and the tree see ------------------------------------------------------------
    def files(self) -> dict[str, str]:
        """The tree's view of the latest skills: ``skills/<name>.py`` and ``skills/INDEX.md`` (one line each)."""
        skills = self.latest()
        if not skills:
            return {}
        lines = ["# Skills: `from skills.<name> import <name>`\n"]
        lines += [f"- {skill.name}: {skill.index_line()}" for skill in skills]
        return {
            "skills/INDEX.md": "\n".join(lines) + "\n",
            **{f"skills/{s.name}.py": s.source for s in skills},
        }

    # ---- internals -----------------------------------------------------------------------------------
    def _ensure_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _key(self, *, create: bool) -> bytes | None:
        path = self.root / ".key"
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            if not create:
                raise SkillIntegrityError(
                    f"{self.root} has skill files but no key (.key): they were not saved by a skill store; "
                    "refused. Remove them and save the skills again."
                ) from None
            with contextlib.suppress(FileExistsError):
                _write_atomic(path, secrets.token_bytes(32), exclusive=True)
            key = path.read_bytes()
        if len(key) != 32:
            raise SkillIntegrityError(f"{path} is not a skill store key; remove the store's damaged files.")
        return key


class CallerSkills:
    """The skills each of serve's callers finds, imports and saves to, as its operator chose (serve --skills):
    ``caller``, a store of its own; ``shared``, the user's (the kernel's and the CLI's); ``off``, none."""

    def __init__(self, settings: object, shared: Callable[[], SkillStore], mode: str = "caller") -> None:
        self.settings, self.shared, self.mode = settings, shared, mode
        self._stores: dict[str, SkillStore] = {}
        self._lock = threading.Lock()

    def of(self, caller: str | None) -> SkillStore | Literal[False]:
        """``caller``'s skills (None: the caller of a serve without auth), or False when skills are off."""
        if self.mode == "off":
            return False
        if self.mode == "shared":
            return self.shared()
        with self._lock:
            key = caller or ""
            if key not in self._stores:
                self._stores[key] = skill_store(self.settings, key)
            return self._stores[key]


def skill_store(settings: object, caller: str | None = None) -> SkillStore:
    """The store of the kernel and CLI (``caller`` None), or of one serve caller (its own directory, named
    by a hash of who it is), sized by the settings."""
    root = Path(str(getattr(settings, "skills_dir", "") or data_dir() / "skills")).expanduser()
    if caller is not None:
        root = root / ".callers" / blake3.blake3(caller.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return SkillStore(
        root,
        max_skills=getattr(settings, "skills_max", 200),
        max_kb=getattr(settings, "skill_max_kb", 64),
        max_mb=getattr(settings, "skills_max_mb", 16),
    )


def _calls(name: str, skills: dict[str, Skill], seen: set[str]) -> list[str]:
    """The servers skill ``name`` calls, through the skills it imports (each once)."""
    seen.add(name)
    skill = skills[name]
    servers = set(skill.servers)
    for other in skill.skills:
        if other in skills and other not in seen:
            servers.update(_calls(other, skills, seen))
    return sorted(servers)


def _digest(record: dict, source: bytes, key: bytes | None) -> str:
    """blake3 over the record (without its checksum, keys sorted) and the source: keyed by the store's key,
    or plain in an archive."""
    body = json.dumps({k: v for k, v in record.items() if k != "checksum"}, sort_keys=True).encode()
    hasher = blake3.blake3(key=key) if key is not None else blake3.blake3()
    hasher.update(body + b"\0" + source)
    return hasher.hexdigest()


def _verified(
    record_bytes: bytes, source_bytes: bytes, key: bytes | None, what: str, name: str, version: int | None
) -> Skill:
    try:
        record = json.loads(record_bytes)
        source = source_bytes.decode("utf-8")
        skill = Skill(**record, source=source)
    except (ValueError, TypeError, ValidationError):
        raise SkillIntegrityError(f"{what}: its record is not a skill record; refused.") from None
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise SkillIntegrityError(
            f"{what}: its record holds text that is not valid Unicode; refused."
        ) from None
    if not hmac.compare_digest(_digest(record, source_bytes, key), skill.checksum):
        raise SkillIntegrityError(
            f"{what}: its checksum does not match; the file was changed or not written by this store. "
            "Refused: remove it (mcp-kernel skills remove) and save it again."
        )
    if (
        skill.name != name
        or (version is not None and skill.version != version)
        or skill.size != len(source_bytes)
    ):
        raise SkillIntegrityError(f"{what}: its record names another skill or version; refused.")
    return skill


def _read_regular(path: Path, limit: int) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise OSError(f"{path.name} is not a regular file")
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path.name} is larger than a skill may be")
    return data


def _write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to a new temp file (0o600) beside ``path``, then move it there."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        write_new(tmp, data)
        if exclusive:
            os.link(tmp, path)  # fails if another process made the key first
        else:
            replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _touch(root: Path) -> None:
    """Mark the store changed (what :meth:`SkillStore.latest`'s cache checks)."""
    marker = root / ".changed"
    marker.write_bytes(secrets.token_bytes(8))


def _stamp(root: Path) -> bytes:
    """What the store's last change wrote to its marker (b"" before the first)."""
    try:
        return (root / ".changed").read_bytes()
    except OSError:
        return b""
