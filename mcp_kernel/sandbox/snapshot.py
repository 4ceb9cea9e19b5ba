"""The variables of a sandbox session's last good cell, kept on the host so a trap does not lose them.

After each cell that ends well the guest sends what changed in its variables (each name pickled on its own,
cell-defined functions as their code, modules by name); a trap (fuel, memory, a stop inside pure Python)
ends the guest instance, and the fresh one gets these values back before its first cell. What could not be
kept is named, never silently dropped. The same values are what ``serve`` will park for an idle session.

>>> snapshot = Snapshot(limit_bytes=1 << 20)
>>> snapshot.apply(snapshot.parse('{"set": {"x": ["pickle", "gAVLKi4="]}, "skip": {"conn": "not picklable: socket"}}'))
>>> snapshot.info()
SnapshotInfo(cell=1, kept=['x'], not_kept={'conn': 'not picklable: socket'}, bytes=5)
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from ..errors import SandboxError

__all__ = ["KINDS", "Snapshot", "SnapshotInfo", "SnapshotUpdate"]

KINDS = ("pickle", "function", "module")


class SnapshotInfo(BaseModel):
    """What a snapshot holds: the names kept, and each name that could not be kept with why."""

    cell: int = Field(description="how many updates it took (0: none yet)")
    kept: list[str]
    not_kept: dict[str, str] = Field(default_factory=dict)
    bytes: int = 0

    def describe(self, limit: int = 12) -> str:
        """One sentence for a person: ``x, rows: kept; conn: could not be kept (not picklable: socket)``."""
        parts = []
        if self.kept:
            parts.append(f"{_names(self.kept, limit)} came back")
        if self.not_kept:
            reasons = "; ".join(
                f"{name} ({why})" for name, why in list(sorted(self.not_kept.items()))[:limit]
            )
            more = len(self.not_kept) - limit
            parts.append(f"could not be kept: {reasons}" + (f" and {more} more" if more > 0 else ""))
        return "; ".join(parts) if parts else "there were no variables to keep"


@dataclass
class SnapshotUpdate:
    """One cell's changes, checked, before it is applied (a cell whose guest traps never applies its own)."""

    values: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    skip: dict[str, str] = field(default_factory=dict)


class Snapshot:
    """Per-session values by name, bounded in size; ``restore_request`` is what a fresh guest is given."""

    def __init__(self, limit_bytes: int = 64 << 20) -> None:
        self.limit_bytes = limit_bytes
        self.cell = 0
        self._values: dict[str, tuple[str, bytes]] = {}
        self._not_kept: dict[str, str] = {}

    @property
    def bytes(self) -> int:
        return sum(len(data) for _, data in self._values.values())

    def parse(self, update_json: str) -> SnapshotUpdate:
        """Check the guest's update (JSON ``{"set", "drop", "skip"}``); raise ``SandboxError`` if it is not one."""
        try:
            data = json.loads(update_json)
            values = {
                str(name): (str(kind), base64.b64decode(text, validate=True))
                for name, (kind, text) in dict(data.get("set") or {}).items()
            }
            drop = [str(name) for name in data.get("drop") or []]
            skip = {str(name): str(why)[:300] for name, why in dict(data.get("skip") or {}).items()}
        except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
            raise SandboxError(f"not a snapshot update: {exc}") from None
        if any(kind not in KINDS for kind, _ in values.values()):
            raise SandboxError("not a snapshot update: unknown kind of value")
        size = sum(
            len(d)
            for n, (_, d) in self._values.items()
            if n not in values and n not in drop and n not in skip
        )
        size += sum(len(d) for _, d in values.values())
        if size > self.limit_bytes:  # the guest checks too; the host's word is the one that counts
            raise SandboxError(f"the snapshot would hold {size:,} bytes; the limit is {self.limit_bytes:,}")
        return SnapshotUpdate(values, drop, skip)

    def apply(self, update: SnapshotUpdate) -> None:
        for name in update.drop:
            self._values.pop(name, None)
            self._not_kept.pop(name, None)
        for name, why in update.skip.items():
            self._values.pop(name, None)
            self._not_kept[name] = why
        for name, value in update.values.items():
            self._values[name] = value
            self._not_kept.pop(name, None)
        self.cell += 1

    def restore_request(self) -> dict[str, list[str]]:
        """The values as the guest takes them back: ``{name: [kind, base64]}``."""
        return {
            name: [kind, base64.b64encode(data).decode("ascii")]
            for name, (kind, data) in self._values.items()
        }

    def restored(self, names: list[str], failed: dict[str, str]) -> SnapshotInfo:
        """Record what a fresh guest took back; what it reports: the names back, and every name not kept.

        Names that could not be kept, or not restored, are gone from the session from now on.
        """
        info = SnapshotInfo(
            cell=self.cell, kept=sorted(names), not_kept={**self._not_kept, **failed}, bytes=self.bytes
        )
        for name in failed:
            self._values.pop(name, None)
        self._not_kept.clear()
        return info

    def info(self) -> SnapshotInfo:
        return SnapshotInfo(
            cell=self.cell, kept=sorted(self._values), not_kept=dict(self._not_kept), bytes=self.bytes
        )

    def dump(self) -> dict[str, object]:
        """What a parked session keeps (JSON): the values, the names not kept, and the cell count."""
        return {"cell": self.cell, "values": self.restore_request(), "not_kept": dict(self._not_kept)}

    def load(self, dumped: dict[str, object]) -> None:
        """Take back what :meth:`dump` gave (``SandboxError`` if it is not that)."""
        update = self.parse(
            json.dumps({"set": dumped.get("values") or {}, "skip": dumped.get("not_kept") or {}})
        )
        self.clear()
        self.apply(update)
        self.cell = int(str(dumped.get("cell") or 0))

    def __bool__(self) -> bool:
        return bool(self._values or self._not_kept)

    def clear(self) -> None:
        self._values.clear()
        self._not_kept.clear()
        self.cell = 0


def _names(names: list[str], limit: int) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
