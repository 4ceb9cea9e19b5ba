"""Parked sandbox sessions: written to a directory when idle or evicted, restored by their own caller only,
from any process that shares the directory; tampered, expired and forged parcels are refused."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_kernel.errors import SandboxError, SessionLimit, SessionNotFound
from mcp_kernel.sandbox import Engine, Sandbox
from mcp_kernel.sandbox.parking import ParkingLot
from mcp_kernel.sandbox.sessions import SandboxSessions

pytestmark = pytest.mark.slow

WORK = """
import collections, math
rows = [{"region": r, "n": i} for i, r in enumerate(["EU", "NA", "EU"])]
totals = collections.Counter(r["region"] for r in rows)
def double(x):
    return 2 * x
conn = open("/workspace/notes.txt", "w"); conn.write("kept on disk"); conn.flush()
import _mcp_runtime as rt
rt.set_state("cursor", {"page": 3})
"""


def replica(engine: Engine, root: Path, name: str, lot: Path, **options: object) -> SandboxSessions:
    """One replica's sessions: its own workspaces, the shared lot."""

    def factory(handle: str) -> Sandbox:
        workspace = root / name / f"ws-{time.monotonic_ns()}"
        return Sandbox(engine, workspace=workspace, name=handle, remove_workspace=True)

    return SandboxSessions(
        factory, max_sessions=3, idle_timeout_s=None, parking=ParkingLot(lot), replica=name, **options
    )


@pytest.fixture()
def pair(engine: Engine, tmp_path: Path) -> Iterator[tuple[SandboxSessions, SandboxSessions]]:
    a = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=3600)
    b = replica(engine, tmp_path, "b", tmp_path / "lot", park_after_s=3600)
    yield a, b
    a.close_all()
    b.close_all()


def test_a_parked_session_comes_back_on_another_replica_for_its_caller_only(
    pair: tuple[SandboxSessions, SandboxSessions], tmp_path: Path
) -> None:
    a, b = pair
    handle = a.open(owner="ann")
    assert handle.startswith("a.")
    a.get(handle, owner="ann").execute(WORK)
    assert a.park_all() == 1 and handle not in a
    [parcel] = list((tmp_path / "lot").glob("*/*.park"))
    assert stat.S_IMODE(parcel.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "lot").stat().st_mode) == 0o700
    assert stat.S_IMODE(parcel.parent.stat().st_mode) == 0o700
    assert handle.encode() not in parcel.name.encode(), "the file is named by a hash, never by the handle"

    with pytest.raises(SessionNotFound, match="opened on replica 'a'"):
        b.get(handle, owner="bob")  # another caller: as for a handle that never existed
    assert parcel.exists(), "a refused restore leaves the parcel"

    sandbox = b.get(handle, owner="ann")
    first = sandbox.execute("sorted(totals.items()), double(21), math.pi > 3")
    assert first.value == [[["EU", 2], ["NA", 1]], 42, True]
    assert "parked" in (first.note or "") and "restored here" in (first.note or "")
    assert "conn" in (first.note or ""), "what could not be kept is named"
    back = sandbox.execute(
        "import _mcp_runtime as rt\nopen('/workspace/notes.txt').read(), rt.get_state('cursor')"
    )
    assert back.value == ["kept on disk", {"page": 3}] and back.note is None
    assert not parcel.exists(), "restored: the parcel is gone, the session lives on b"
    with pytest.raises(SessionNotFound, match="it was closed, or never existed"):
        a.get(handle, owner="ann")  # a has neither the session nor its parcel now


def test_idle_sessions_park_and_a_closed_one_leaves_nothing(engine: Engine, tmp_path: Path) -> None:
    sessions = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=0.2)
    try:
        handle = sessions.open(owner=None)
        sessions.get(handle, owner=None).execute("x = 7")
        time.sleep(0.3)
        assert sessions.expire() == [handle] and handle not in sessions
        assert sessions.get(handle, owner=None).execute("x").value == 7
        sessions.close(handle)
        assert list((tmp_path / "lot").glob("*/*.park")) == []
        with pytest.raises(SessionNotFound):
            sessions.get(handle, owner=None)
    finally:
        sessions.close_all()


def test_a_session_closed_to_make_room_is_parked_not_lost(engine: Engine, tmp_path: Path) -> None:
    sessions = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=None)
    try:
        handles = [sessions.open(owner="ann") for _ in range(3)]
        for n, handle in enumerate(handles):
            sessions.get(handle, owner="ann").execute(f"n = {n}")
            time.sleep(0.01)
        sessions.open(owner="ann")  # the fourth: the longest idle goes to the lot
        assert handles[0] not in sessions
        assert sessions.get(handles[0], owner="ann").execute("n").value == 0
    finally:
        sessions.close_all()


def test_a_tampered_parcel_is_refused_and_removed(
    pair: tuple[SandboxSessions, SandboxSessions], tmp_path: Path
) -> None:
    a, b = pair
    handle = a.open(owner="ann")
    a.get(handle, owner="ann").execute("x = 1")
    a.park_all()
    [parcel] = list((tmp_path / "lot").glob("*/*.park"))
    data = bytearray(parcel.read_bytes())
    data[-5] ^= 0xFF
    parcel.write_bytes(bytes(data))
    with pytest.raises(SandboxError, match="changed on disk"):
        b.get(handle, owner="ann")
    assert not parcel.exists()


def test_a_parcel_written_for_another_owner_is_not_restored(tmp_path: Path) -> None:
    # The header names the owner: a parcel copied under another caller's handle does not match its hash,
    # and one whose owner was edited fails the owner check before anything is read.
    lot = ParkingLot(tmp_path / "lot")
    assert lot.claim("a.nothing-here", "ann") is None
    path = lot.path("a.h", "ann")
    assert path.parent != lot.path("a.h", "bob").parent, "each owner's parcels in a directory of its own"
    path.parent.mkdir()
    path.write_bytes(b'{"format": 1, "handle": "a.h", "owner": "bob", "parked_at": %d}\n' % time.time())
    assert lot.claim("a.h", "ann") is None and path.exists()


def test_expired_parcels_are_removed_and_each_caller_is_bounded(engine: Engine, tmp_path: Path) -> None:
    sessions = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=None)
    try:
        handle = sessions.open(owner="ann")
        sessions.get(handle, owner="ann").execute("big = 'x' * 300_000")
        sessions.park_all()
        lot = ParkingLot(tmp_path / "lot", expiry_s=0.0)
        time.sleep(0.01)
        assert lot.parcels() == [] and list((tmp_path / "lot").glob("*/*.park")) == []

        small = ParkingLot(tmp_path / "small", limit_mb_per_owner=1)
        box = Sandbox(engine, workspace=tmp_path / "ws", name="w", remove_workspace=True)
        try:
            box.execute("data = __import__('os').urandom(700_000)")
            small.park("a.one", "ann", box)
            small.park("a.two", "ann", box)  # past 1 MiB together: ann's oldest goes
            small.park("b.three", "bob", box)  # bob's own budget
            assert [h["handle"] for _, h in sorted(small.parcels(), key=lambda i: i[1]["parked_at"])] == [
                "a.two",
                "b.three",
            ]
            box.execute("more = __import__('os').urandom(1_200_000)")
            with pytest.raises(SandboxError, match="more than the 1 MiB one caller may park"):
                small.park("a.four", "ann", box)
        finally:
            box.close()
    finally:
        sessions.close_all()


def test_the_parked_workspace_cannot_reach_outside_on_restore(engine: Engine, tmp_path: Path) -> None:
    # A parcel's workspace is extracted with tarfile's data filter: a hand-made member that climbs out is
    # refused, so a parcel (which only a parking replica writes) cannot write outside the workspace.
    import io
    import tarfile

    from mcp_kernel.sandbox.parking import Parcel

    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    parcel = Parcel("a.h", None, time.time(), {"values": {}}, {}, None, evil.getvalue())
    box = Sandbox(engine, workspace=tmp_path / "ws", name="w", remove_workspace=True)
    try:
        with pytest.raises(SandboxError, match="could not be restored"):
            parcel.apply(box)
        assert not (tmp_path / "escaped.txt").exists()
    finally:
        box.close()


def test_with_parking_a_full_server_parks_another_callers_idle_session(
    engine: Engine, tmp_path: Path
) -> None:
    # Without a lot, another caller's session is never closed to make room (it would lose that caller's
    # work; tests/test_serve_http.py); parked, nothing is lost, so the longest idle one of anyone's goes.
    sessions = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=None)
    try:
        theirs = sessions.open(owner="bob")
        sessions.get(theirs, owner="bob").execute("mine = 'bob'")
        for _ in range(2):
            sessions.get(sessions.open(owner="ann"), owner="ann").execute("1")
        sessions.get(theirs, owner="bob").last_used -= 10  # idle 10 s: not one about to run a cell
        sessions.open(owner="cy")  # the fourth of max_sessions=3: bob's, the longest idle, is parked
        assert theirs not in sessions
        # bob comes back while the others are busy-fresh: refused for now, the parcel left as it was
        with pytest.raises(SessionLimit):
            sessions.get(theirs, owner="bob")
        assert len(list((tmp_path / "lot").glob("*/*.park"))) == 1
        for handle in sessions.handles():
            sessions.get(handle).last_used -= 10
        assert sessions.get(theirs, owner="bob").execute("mine").value == "bob"
    finally:
        sessions.close_all()


def test_the_placeholders_of_a_masking_session_come_back_with_it(engine: Engine, tmp_path: Path) -> None:
    # With --tokenize-pii the guest holds placeholders; the values behind them live on the host. A restored
    # session's bridge has made no tokenizer yet: it gets the parked one, so a placeholder in a restored
    # variable still reaches the tool as the real value, and the same value keeps its placeholder.
    from mcp_kernel.pii import PIITokenizer

    class MaskingHost:
        pii: PIITokenizer | None = None

        def call_tool(self, server: str, tool: str, params_json: str, scope: object = None) -> str:
            return params_json

    old, new = MaskingHost(), MaskingHost()
    old.pii = PIITokenizer({"EMPLOYEE": r"EMP-\d{6}"})
    shown, _ = old.pii.tokenize("write to ann@example.org about EMP-123456")
    box = Sandbox(engine, host=old, workspace=tmp_path / "old", name="a.h", remove_workspace=True)
    fresh = Sandbox(engine, host=new, workspace=tmp_path / "new", name="a.h", remove_workspace=True)
    try:
        box.execute(f"note = {shown!r}")
        lot = ParkingLot(tmp_path / "lot")
        lot.park("a.h", "ann", box)
        parcel = lot.claim("a.h", "ann")
        assert parcel is not None
        parcel.apply(fresh)
        assert new.pii is not None and new.pii.restore(shown) == "write to ann@example.org about EMP-123456"
        assert new.pii.tokenize("EMP-123456 again")[0] == "<EMPLOYEE_1> again"
        assert fresh.execute("note").value == shown
    finally:
        box.close()
        fresh.close()


def test_a_lost_park_directory_closes_sessions_unparked_and_serving_goes_on(
    engine: Engine, tmp_path: Path
) -> None:
    import shutil

    sessions = replica(engine, tmp_path, "a", tmp_path / "lot", park_after_s=0.1)
    try:
        handle = sessions.open(owner="ann")
        sessions.get(handle, owner="ann").execute("x = 1")
        shutil.rmtree(tmp_path / "lot")
        (tmp_path / "lot").write_text("not a directory")  # nothing can be written there now
        time.sleep(0.2)
        assert sessions.expire() == [handle]  # no exception: logged, closed
        other = sessions.open(owner="bob")  # serving goes on
        assert sessions.get(other, owner="bob").execute("2 + 2").value == 4
        with pytest.raises(SessionNotFound):
            sessions.get(handle, owner="ann")
    finally:
        sessions.close_all()


def test_a_restore_that_fails_leaves_no_fresh_session_and_puts_the_parcel_back(
    pair: tuple[SandboxSessions, SandboxSessions], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_kernel.sandbox.parking import Parcel

    a, b = pair
    handle = a.open(owner="ann")
    a.get(handle, owner="ann").execute("x = 41")
    a.park_all()

    def full_disk(self: Parcel, sandbox: Sandbox) -> None:
        raise SandboxError("The parked session's files could not be restored ([Errno 28] No space left)")

    monkeypatch.setattr(Parcel, "apply", full_disk)
    for _ in range(2):  # the same answer twice: never a fresh session under the handle
        with pytest.raises(SandboxError, match="No space left"):
            b.get(handle, owner="ann")
        assert handle not in b
    monkeypatch.undo()
    assert b.get(handle, owner="ann").execute("x + 1").value == 42


def test_two_calls_restoring_one_session_never_run_on_an_unrestored_one(
    pair: tuple[SandboxSessions, SandboxSessions],
) -> None:
    import concurrent.futures

    a, b = pair
    handle = a.open(owner="ann")
    a.get(handle, owner="ann").execute("x = 41")
    a.park_all()

    def use() -> object:
        try:
            return b.get(handle, owner="ann").execute("x + 1").value
        except SessionNotFound as exc:  # the other call is restoring it this moment
            return type(exc).__name__

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(lambda _: use(), range(4)))
    assert 42 in seen and set(seen) <= {42, "SessionNotFound"}, seen
    assert b.get(handle, owner="ann").execute("x").value == 41


def test_a_restore_waits_for_a_session_on_its_way_to_the_lot(engine: Engine, tmp_path: Path) -> None:
    # Parking takes a session out of memory first and writes it after: a call arriving in between waits for
    # the parcel instead of being told the session does not exist (CI saw that once, under load).
    import threading

    lot = ParkingLot(tmp_path / "lot")
    box = Sandbox(engine, workspace=tmp_path / "ws", name="a.h", remove_workspace=True)
    try:
        box.execute("x = 1")
        assert not lot.holds("a.h", "ann")
        lot.expect("a.h", "ann")
        writer = threading.Timer(0.5, lambda: lot.park("a.h", "ann", box))
        writer.start()
        started = time.monotonic()
        assert lot.holds("a.h", "ann") and time.monotonic() - started >= 0.4
        writer.join()
    finally:
        box.close()
