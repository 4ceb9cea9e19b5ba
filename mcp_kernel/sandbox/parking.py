"""Parked sandbox sessions: an idle session written to a directory and dropped from memory, restored on use.

What is parked is what a trap already keeps (:class:`~mcp_kernel.sandbox.snapshot.Snapshot`: the variables
of the last cell that ended well, what could not be kept named), plus the session's key/value state, its
``/workspace`` files and, when serve masks personal data, the session's placeholders. One mechanism, two
uses: a fresh guest takes the snapshot back after a trap, and a fresh session on any replica that shares the
directory takes a parcel back after parking (or after ``serve`` restarted).

A parcel is one file in a directory of its owner's, both named by hashes (a caller's name or handle never
becomes a path): a JSON header line (format, handle, owner, when, sizes, a blake3 checksum of the rest) and a
gzipped tar. Files are 0o600 in 0o700 directories and written atomically; a restore first renames the file to claim it, so two replicas
never both restore one session. Only the caller that parked a session restores it; anyone else is told the
session does not exist, as for a forged handle. The directory is bounded per caller (the oldest parcels of
that caller go first) and parcels expire.

For example::

    lot = ParkingLot(tmp_path / "parked")
    lot.park("a.x1", "ann", sandbox)          # then sandbox.close()
    lot.claim("a.x1", "ann").apply(fresh)     # the next cell of `fresh` gets the variables back
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from ..errors import SandboxError

__all__ = ["Parcel", "ParkingLot"]

FORMAT = 1
_SUFFIX = ".park"


@dataclass
class Parcel:
    """One parked session as read back: what :meth:`apply` gives a fresh sandbox."""

    handle: str
    owner: str | None
    parked_at: float
    snapshot: dict[str, Any]
    state: dict[str, str]
    pii: dict[str, Any] | None
    workspace: bytes = field(repr=False)  # a tar of the workspace's files
    raw: bytes = field(default=b"", repr=False)  # the file as claimed (ParkingLot.unclaim puts it back)

    def apply(self, sandbox: Any) -> None:
        """Give ``sandbox`` (fresh, no cell run yet) this session's files, state and placeholders; its next
        cell takes the variables back and says so."""
        try:
            with tarfile.open(fileobj=io.BytesIO(self.workspace), mode="r:") as tar:
                tar.extractall(
                    sandbox.workspace, filter="data"
                )  # no links out, no absolute paths, no devices
        except (tarfile.TarError, OSError) as exc:
            raise SandboxError(
                f"The parked session's files could not be restored ({exc}); open a new one."
            ) from None
        for key, value in self.state.items():
            sandbox.state.set(key, value)
        if self.pii is not None and hasattr(sandbox.host, "pii"):  # a bridge: its tokenizer is made on use
            from ..pii import PIITokenizer  # its patterns compile only for a session that tokenizes

            sandbox.host.pii = PIITokenizer.restored(self.pii)
        idle = time.time() - self.parked_at
        sandbox.resume(self.snapshot, f"This session was parked ({_ago(idle)}) and restored here")


class ParkingLot:
    """Parcels in ``directory``: at most ``limit_mb_per_owner`` MiB per owner, each kept ``expiry_s``."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        limit_mb_per_owner: int = 1024,
        expiry_s: float = 7 * 86400,
    ) -> None:
        self.directory = Path(directory)
        self.limit_bytes = limit_mb_per_owner << 20
        self.expiry_s = expiry_s
        self._swept = 0.0
        # Sessions on their way here (out of memory, not yet written): a restore waits for them.
        self._moving: dict[tuple[str | None, str], threading.Event] = {}
        self._moving_lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):  # a directory an operator made (a shared volume) keeps its mode
            os.chmod(self.directory, 0o700)

    def path(self, handle: str, owner: str | None) -> Path:
        """Where ``owner``'s parcel of ``handle`` is: in a directory of that owner's, so one caller's parks
        never look at another's parcels (both names hashed: neither becomes a path)."""
        return self._owner_dir(owner) / (_digest(handle, 40) + _SUFFIX)

    def _owner_dir(self, owner: str | None) -> Path:
        return self.directory / ("o-" + _digest("" if owner is None else "=" + owner, 24))

    # ---- park --------------------------------------------------------------------------------------
    def expect(self, handle: str, owner: str | None) -> None:
        """``owner``'s session ``handle`` was taken out of memory to be parked: until :meth:`park` has
        written it (or failed), :meth:`holds` waits for it rather than say there is none."""
        with self._moving_lock:
            self._moving[(owner, handle)] = threading.Event()

    def _arrived(self, handle: str, owner: str | None) -> None:
        with self._moving_lock:
            moving = self._moving.pop((owner, handle), None)
        if moving is not None:
            moving.set()

    def park(self, handle: str, owner: str | None, sandbox: Any) -> int:
        """Write ``sandbox``'s session as ``handle``'s parcel (replacing an earlier one); its size in bytes.

        ``SandboxError`` when it cannot be written (a full or missing disk included) or is larger than one
        owner may park; the owner's other parcels are then as they were.
        """
        try:
            return self._park(handle, owner, sandbox)
        finally:
            self._arrived(handle, owner)

    def _park(self, handle: str, owner: str | None, sandbox: Any) -> int:
        try:
            payload = _payload(sandbox)
        except OSError as exc:
            raise SandboxError(f"Could not park sandbox session {_short(handle)}: {exc}") from None
        if len(payload) > self.limit_bytes:
            raise SandboxError(
                f"Sandbox session {_short(handle)} holds {len(payload):,} bytes to park, more than the "
                f"{self.limit_bytes >> 20} MiB one caller may park; it was closed instead."
            )
        header = {
            "format": FORMAT,
            "handle": handle,
            "owner": owner,
            "parked_at": time.time(),
            "bytes": len(payload),
            "blake3": blake3.blake3(payload).hexdigest(),
        }
        target = self.path(handle, owner)
        try:
            self._write(target, json.dumps(header).encode() + b"\n" + payload)
            self._make_room(owner, keep=target)  # after the write: a failed one removes nothing
        except OSError as exc:
            raise SandboxError(f"Could not park sandbox session {_short(handle)}: {exc}") from None
        return len(payload)

    def _write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # a name of this writer's own: replicas in containers on one volume all run as pid 1
        partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    # ---- restore ----------------------------------------------------------------------------------
    def holds(self, handle: str, owner: str | None, wait_s: float = 60.0) -> bool:
        """Whether ``owner`` has a parcel of ``handle`` here (read from its header; nothing is claimed); a
        session on its way here is waited for, up to ``wait_s``."""
        with self._moving_lock:
            moving = self._moving.get((owner, handle))
        if moving is not None:
            moving.wait(wait_s)
        header = _header(self.path(handle, owner))
        return header is not None and header.get("handle") == handle and header.get("owner") == owner

    def claim(self, handle: str, owner: str | None) -> Parcel | None:
        """``handle``'s parcel, taken out of the lot, when ``owner`` parked it; None when there is none (or
        it expired, or it is another owner's: the caller cannot tell these apart). A parcel that fails its
        checksum is removed and refused with ``SandboxError``. :meth:`unclaim` puts a parcel back."""
        target = self.path(handle, owner)
        claimed = target.with_name(f".{target.name}.{secrets.token_hex(6)}.claimed")
        try:
            os.rename(target, claimed)  # atomic: of two replicas restoring at once, one gets it
        except OSError:  # none (or the lot is unreadable: there is nothing to restore from)
            return None
        try:
            data = claimed.read_bytes()
        except OSError as exc:
            raise SandboxError(
                f"The parked sandbox session could not be read ({exc}); open a new one."
            ) from None
        finally:
            claimed.unlink(missing_ok=True)
        line, _, payload = data.partition(b"\n")  # the header of what was claimed, not of what was looked at
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise SandboxError("The parked sandbox session is not one this version reads; open a new one.")
        if header.get("handle") != handle or header.get("owner") != owner:
            self._write(target, data)  # not this caller's: as it was
            return None
        if time.time() - float(header.get("parked_at", 0)) > self.expiry_s:
            return None
        if blake3.blake3(payload).hexdigest() != header.get("blake3"):
            raise SandboxError(
                f"The parked sandbox session {_short(handle)} was changed on disk (its checksum does not "
                "match); it was removed. Open a new session."
            )
        parcel = _parcel(header, payload)
        parcel.raw = data
        return parcel

    def unclaim(self, parcel: Parcel) -> None:
        """Put a claimed parcel back as it was (its restore failed); quiet if it cannot be."""
        with contextlib.suppress(OSError):
            self._write(self.path(parcel.handle, parcel.owner), parcel.raw)

    def forget(self, handle: str, owner: str | None) -> None:
        """Remove ``owner``'s parcel of ``handle`` (the session was closed)."""
        self.path(handle, owner).unlink(missing_ok=True)

    # ---- bounds -----------------------------------------------------------------------------------
    def parcels(self) -> list[tuple[Path, dict[str, Any]]]:
        """Every parcel's path and header, of every owner (expired ones are removed on the way)."""
        self._sweep(force=True)
        found = []
        for path in self.directory.glob("o-*/*" + _SUFFIX):
            header = _header(path)
            if header is not None:
                found.append((path, header))
        return found

    def _make_room(self, owner: str | None, keep: Path) -> None:
        """Remove ``owner``'s oldest parcels, ``keep`` aside, until its parcels fit its limit: its own
        directory only, by the files' times and sizes (no parcel is opened), so parking does not slow as
        others park."""
        self._sweep()
        mine = sorted(_files(self._owner_dir(owner)), key=lambda item: item[1])
        total = sum(length for _, _, length in mine)
        for path, _, length in mine:
            if total <= self.limit_bytes:
                break
            if path != keep:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
                total -= length

    def _sweep(self, force: bool = False) -> None:
        """Remove every owner's expired parcels, at most once a minute (each park would otherwise pay)."""
        now = time.time()
        if not force and now - self._swept < 60:
            return
        self._swept = now
        try:
            owner_dirs = list(self.directory.glob("o-*"))
        except OSError:  # the lot is unreachable now: the next sweep tries again
            owner_dirs = []
        for owner_dir in owner_dirs:
            for path, written, _ in _files(owner_dir):
                if now - written > self.expiry_s:
                    with contextlib.suppress(OSError):
                        path.unlink(missing_ok=True)


def _files(directory: Path) -> list[tuple[Path, float, int]]:
    """The parcels in ``directory``: path, time written, size."""
    found = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                with contextlib.suppress(OSError):
                    info = entry.stat()
                    found.append((Path(entry.path), info.st_mtime, info.st_size))
    return found


def _digest(text: str, length: int) -> str:
    return blake3.blake3(text.encode()).hexdigest()[:length]


def _payload(sandbox: Any) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        pii = getattr(sandbox.host, "pii", None)
        for name, value in (
            ("snapshot.json", sandbox.snapshot.dump()),
            ("state.json", sandbox.state.dump()),
            ("pii.json", pii.dump() if pii is not None else None),
        ):
            _add(tar, name, json.dumps(value).encode())
        workspace = io.BytesIO()
        with tarfile.open(fileobj=workspace, mode="w:") as files:
            root = Path(sandbox.workspace)
            for path in sorted(root.rglob("*")):
                if path.is_symlink() or not (path.is_file() or path.is_dir()):
                    continue  # the guest cannot make links; anything else is not the session's
                files.add(path, arcname=str(path.relative_to(root)), recursive=False)
        _add(tar, "workspace.tar", workspace.getvalue())
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _parcel(header: dict[str, Any], payload: bytes) -> Parcel:
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            members = {name: _read(tar, name) for name in ("snapshot.json", "state.json", "pii.json")}
            workspace = _read(tar, "workspace.tar")
        return Parcel(
            handle=str(header["handle"]),
            owner=header.get("owner"),
            parked_at=float(header["parked_at"]),
            snapshot=json.loads(members["snapshot.json"]),
            state=json.loads(members["state.json"]),
            pii=json.loads(members["pii.json"]),
            workspace=workspace,
        )
    except (tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise SandboxError(f"The parked sandbox session could not be read ({exc}); open a new one.") from None


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    if member is None:
        raise KeyError(name)
    return member.read()


def _header(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as stream:
            header = json.loads(stream.readline(4096))
    except (OSError, ValueError):
        return None
    return header if isinstance(header, dict) and header.get("format") == FORMAT else None


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _short(handle: str) -> str:
    return repr(handle[:16] + "…" if len(handle) > 16 else handle)
