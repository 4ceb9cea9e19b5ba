"""The plugin store: round trips, every tamper case, permissions, crashes mid-save, concurrent saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from mcp_kernel.errors import PluginError, PluginIntegrityError
from mcp_kernel.models import ServerInfo
from mcp_kernel.plugins import Plugin, PluginFormatError, PluginStore, new_metadata


def make_plugin(server_id: str = "demo", marker: str = "v1", files: int = 10, size: int = 200) -> Plugin:
    content = {f"servers/{server_id}/tool_{i}.py": f"# {marker}\n" + "x" * size for i in range(files)}
    content[f"servers/{server_id}/manifest.json"] = json.dumps({"marker": marker})
    meta = new_metadata(
        server_id,
        server_id,
        ServerInfo(name=server_id, version=marker),
        tool_count=files,
        tool_hashes={f"tool_{i}": marker for i in range(files)},
        generator_version="1",
    )
    return Plugin(metadata=meta, files=content)


@pytest.fixture()
def store(tmp_path: Path) -> PluginStore:
    return PluginStore(tmp_path / "plugins")


def current(store: PluginStore, server_id: str) -> Path:
    """The version directory a plugin's pointer file names (``<store>/<id>`` holds its name)."""
    return store.root / ".versions" / (store.root / server_id).read_text().strip()


def test_round_trip(store: PluginStore) -> None:
    plugin = make_plugin()
    path = store.save(plugin)
    assert path == store.root / "demo"
    loaded = store.load("demo")
    assert loaded.files == plugin.files and loaded.metadata == plugin.metadata
    assert store.ids() == ["demo"]


def test_saving_again_replaces_and_cleans_up(store: PluginStore) -> None:
    store.save(make_plugin(marker="v1"))
    store.save(make_plugin(marker="v2"))
    assert store.load("demo").metadata.server.version == "v2"
    versions = [p for p in (store.root / ".versions").iterdir() if p.is_dir()]
    assert len(versions) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="file modes: Windows keeps files private with ACLs")
def test_permissions(store: PluginStore) -> None:
    store.save(make_plugin())
    directory = current(store, "demo")
    assert oct(store.root.stat().st_mode & 0o777) == "0o700"
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    for name in ("metadata.json", "vfs.json", "checksum.blake3"):
        assert oct((directory / name).stat().st_mode & 0o777) == "0o600", name


@pytest.mark.parametrize("name", ["metadata.json", "vfs.json", "checksum.blake3"])
def test_a_flipped_byte_in_any_file_is_refused(store: PluginStore, name: str) -> None:
    store.save(make_plugin())
    path = current(store, "demo") / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(PluginIntegrityError, match="'demo'"):
        store.load("demo")


@pytest.mark.parametrize("name", ["metadata.json", "vfs.json", "checksum.blake3"])
def test_truncated_or_deleted_files_are_refused(store: PluginStore, name: str) -> None:
    store.save(make_plugin())
    path = current(store, "demo") / name
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(PluginIntegrityError):
        store.load("demo")
    path.unlink()
    with pytest.raises(PluginIntegrityError, match="missing"):
        store.load("demo")


def test_an_added_file_is_refused(store: PluginStore) -> None:
    store.save(make_plugin())
    (current(store, "demo") / "extra.py").write_text("import os")
    with pytest.raises(PluginIntegrityError, match="unexpected"):
        store.load("demo")


def test_swapped_checksums_between_two_plugins_are_refused(store: PluginStore) -> None:
    store.save(make_plugin("alpha"))
    store.save(make_plugin("beta"))
    a, b = (
        current(store, "alpha") / "checksum.blake3",
        current(store, "beta") / "checksum.blake3",
    )
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)
    for name in ("alpha", "beta"):
        with pytest.raises(PluginIntegrityError, match="checksum mismatch"):
            store.load(name)


def test_a_whole_plugin_swapped_under_another_name_is_refused(store: PluginStore) -> None:
    store.save(make_plugin("alpha"))
    store.save(make_plugin("beta"))
    alpha_dir = current(store, "alpha")
    beta_dir = current(store, "beta")
    for name in ("metadata.json", "vfs.json", "checksum.blake3"):
        (beta_dir / name).write_bytes((alpha_dir / name).read_bytes())
    with pytest.raises(PluginIntegrityError, match="names 'alpha'"):
        store.load("beta")


def test_unknown_format_version_is_refused(store: PluginStore) -> None:
    store.save(make_plugin())
    directory = current(store, "demo")
    meta = json.loads((directory / "metadata.json").read_text())
    meta["format_version"] = 99
    rewrite(directory, metadata=json.dumps(meta).encode())
    with pytest.raises(PluginFormatError, match="format version 99"):
        store.load("demo")


def test_a_vfs_path_escaping_the_tree_is_refused(store: PluginStore) -> None:
    store.save(make_plugin())
    directory = current(store, "demo")
    rewrite(directory, vfs=json.dumps({"../../etc/cron.d/evil": "x"}).encode())
    with pytest.raises(PluginIntegrityError, match="escapes the tree"):
        store.load("demo")


def rewrite(directory: Path, *, metadata: bytes | None = None, vfs: bytes | None = None) -> None:
    """Replace a file and recompute the checksum, as an attacker who knows the format would."""
    from mcp_kernel.plugins import _digest

    if metadata is not None:
        (directory / "metadata.json").write_bytes(metadata)
    if vfs is not None:
        (directory / "vfs.json").write_bytes(vfs)
    parts = {n: (directory / n).read_bytes() for n in ("metadata.json", "vfs.json")}
    (directory / "checksum.blake3").write_text(_digest(parts) + "\n")


@pytest.mark.parametrize(
    "pointer", ["../../outside", "/etc", "alpha-1-ab", "demo-1-ab/../../x", "demo-x-ab", ""]
)
def test_a_pointer_naming_anything_but_a_version_of_its_plugin_is_refused(
    store: PluginStore, pointer: str
) -> None:
    store.save(make_plugin())
    store.save(make_plugin("alpha"))
    (store.root / "demo").write_text(pointer + "\n")
    with pytest.raises(PluginIntegrityError, match="outside the store"):
        store.load("demo")
    (store.root / "demo").write_text("demo-1-" + "a" * 600)
    with pytest.raises(PluginIntegrityError, match="outside the store"):
        store.load("demo")
    (store.root / "demo").unlink()
    (store.root / "demo").mkdir()
    with pytest.raises(PluginIntegrityError, match="not a plugin pointer"):
        store.load("demo")


def test_a_version_directory_linked_out_of_the_store_is_refused(store: PluginStore, tmp_path: Path) -> None:
    store.save(make_plugin())
    version = current(store, "demo")
    outside = tmp_path / "outside"
    version.rename(outside)
    try:
        version.symlink_to(outside, target_is_directory=True)
    except OSError:
        pytest.skip("this Windows account may not create symlinks (the attack needs one too)")
    with pytest.raises(PluginIntegrityError, match="outside the store"):
        store.load("demo")


def old_layout(store: PluginStore, server_id: str) -> None:
    """Turn a plugin's pointer into the symlink that stores written before pointer files hold."""
    name = (store.root / server_id).read_text().strip()
    (store.root / server_id).unlink()
    os.symlink(os.path.join(".versions", name), store.root / server_id)


@pytest.mark.skipif(sys.platform == "win32", reason="the old layout's symlinks were only ever made on POSIX")
def test_a_store_of_the_old_symlink_layout_is_read_and_its_next_save_writes_a_pointer(
    store: PluginStore,
) -> None:
    store.save(make_plugin(marker="old"))
    old_layout(store, "demo")
    assert store.ids() == ["demo"]
    assert store.load("demo").metadata.server.version == "old"
    store.save(make_plugin(marker="new"))
    assert not (store.root / "demo").is_symlink() and (store.root / "demo").is_file()
    assert store.load("demo").metadata.server.version == "new"
    assert len([p for p in (store.root / ".versions").iterdir() if p.is_dir()]) == 1
    old_layout(store, "demo")
    store.remove("demo")
    assert store.ids() == [] and not [p for p in (store.root / ".versions").iterdir() if p.is_dir()]


@pytest.mark.skipif(sys.platform == "win32", reason="the old layout's symlinks were only ever made on POSIX")
def test_an_old_layout_link_pointing_outside_the_store_is_refused(store: PluginStore, tmp_path: Path) -> None:
    store.save(make_plugin())
    outside = tmp_path / "outside"
    outside.mkdir()
    os.unlink(store.root / "demo")
    os.symlink(outside, store.root / "demo")
    with pytest.raises(PluginIntegrityError, match="outside the store"):
        store.load("demo")


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "x" * 300, "a\0b", ".hidden", "..", "-rf"])
def test_hostile_server_ids_are_refused(store: PluginStore, bad: str) -> None:
    with pytest.raises(PluginError, match="Invalid plugin id"):
        store.load(bad)
    with pytest.raises((PluginError, ValueError)):
        store.save(make_plugin(bad))
    assert not any(store.root.parent.glob("x*")) if store.root.exists() else True


def test_missing_plugin_says_how_to_make_one(store: PluginStore) -> None:
    with pytest.raises(PluginError, match="--save-plugin"):
        store.load("absent")


def test_export_and_import_verify(store: PluginStore, tmp_path: Path) -> None:
    store.save(make_plugin())
    archive = store.export("demo", tmp_path / "demo.plugin")
    other = PluginStore(tmp_path / "other")
    assert other.import_(archive).metadata.server_id == "demo"
    assert other.load("demo").files == store.load("demo").files
    tampered = tmp_path / "tampered.plugin"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.endswith("vfs.json"):
                data = data.replace(b"x", b"y", 1)
            member.size = len(data)
            import io

            dst.addfile(member, io.BytesIO(data))
    third = PluginStore(tmp_path / "third")
    with pytest.raises(PluginIntegrityError, match="checksum mismatch"):
        third.import_(tampered)
    assert third.ids() == []


SAVER = """
import sys, time
sys.path.insert(0, {tests!r})
from test_plugins import make_plugin
from mcp_kernel.plugins import PluginStore
store = PluginStore({root!r})
marker = sys.argv[1]
n = 0
while True:
    store.save(make_plugin(marker=f"{{marker}}-{{n}}", files=200, size=2000))
    n += 1
    if len(sys.argv) > 2 and n >= int(sys.argv[2]):
        break
"""


def saver(root: Path, marker: str, count: int | None = None) -> subprocess.Popen[bytes]:
    code = SAVER.format(tests=str(Path(__file__).parent), root=str(root))
    args = [sys.executable, "-c", code, marker] + ([str(count)] if count else [])
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_a_save_killed_mid_way_leaves_a_loadable_plugin(store: PluginStore) -> None:
    store.save(make_plugin(marker="original", files=200, size=2000))
    for delay in (0.35, 0.5, 0.65, 0.8, 1.0):
        proc = saver(store.root, "killed")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = store.load("demo")  # never a mix: old or one complete new version
        marker = loaded.metadata.server.version
        assert marker == "original" or marker.startswith("killed-")
        assert all(
            text.startswith(f"# {marker}\n") for path, text in loaded.files.items() if path.endswith(".py")
        )


@pytest.mark.slow
def test_two_processes_saving_at_once_end_with_one_complete_plugin(store: PluginStore) -> None:
    procs = [saver(store.root, "a", 15), saver(store.root, "b", 15)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    loaded = store.load("demo")
    marker = loaded.metadata.server.version
    assert marker in ("a-14", "b-14")
    assert all(
        text.startswith(f"# {marker}\n") for path, text in loaded.files.items() if path.endswith(".py")
    )
    assert len([p for p in (store.root / ".versions").iterdir() if p.is_dir()]) == 1


@pytest.mark.slow
def test_generate_save_load_in_a_fresh_session_and_staleness(tmp_path: Path) -> None:
    from mcp_kernel.session import Session

    with Session() as first:
        first.generate("demo", languages=("python", "typescript"))
        first.bindings.save_plugin("demo", store=str(tmp_path / "store"))
    with Session() as fresh:
        info = fresh.load_plugin("demo", store=str(tmp_path / "store"))
        assert info.metadata["tool_count"] >= 8
        assert "demo" not in fresh.registry.servers(), "loading a plugin does not introspect"
        assert fresh.read("/mcp-tools/servers/demo/query_sales.ts").text.startswith("// Generated")
        result = fresh.execute(
            "from servers.demo import list_regions\nlen(list_regions()['regions'])", fresh.policy(["demo"])
        )
        assert result.value == 5
        assert fresh.bindings.plugin_info("demo", store=str(tmp_path / "store")).stale is False
    store = PluginStore(tmp_path / "store")
    plugin = store.load("demo")
    changed = dict(plugin.metadata.tool_hashes, query_sales="0" * 64)
    store.save(
        Plugin(metadata=plugin.metadata.model_copy(update={"tool_hashes": changed}), files=plugin.files)
    )
    with Session() as later:
        info = later.bindings.plugin_info("demo", store=str(tmp_path / "store"))
        assert info.stale is True and info.changed_tools == ["query_sales"]


def bomb(path: Path, kind: str, size: int = 512 << 20) -> Path:
    """A small .tar.gz claiming `size` bytes: a huge vfs.json, or a huge pax header tarfile would buffer."""
    import zlib

    if kind == "pax header":
        head = tarfile.TarInfo("././@PaxHeader")
        head.type = tarfile.XHDTYPE
    else:
        head = tarfile.TarInfo("demo/vfs.json")
    head.size = size
    gz = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    with path.open("wb") as out:
        out.write(gz.compress(head.tobuf(format=tarfile.USTAR_FORMAT)))
        for _ in range(size // len(chunk)):
            out.write(gz.compress(chunk))
        out.write(gz.compress(bytes(1024)) + gz.flush())
    return path


# Peak memory from VmHWM: ru_maxrss would count the parent's pages a forked child starts with.
IMPORT_AND_MEASURE = """
import re, sys
from mcp_kernel.errors import PluginIntegrityError
from mcp_kernel.plugins import PluginStore
try:
    PluginStore(sys.argv[2]).import_(sys.argv[1])
except PluginIntegrityError as exc:
    print("refused:", exc)
status = open("/proc/self/status").read()
print("peak MiB:", int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["huge file", "pax header"])
def test_an_archive_that_unpacks_to_gigabytes_is_refused_in_bounded_memory(tmp_path: Path, kind: str) -> None:
    archive = bomb(tmp_path / "bomb.plugin", kind)
    assert archive.stat().st_size < 4 << 20, "the archive itself is small"
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_MEASURE, str(archive), str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "refused:" in out.stdout and "may hold" in out.stdout, out.stdout
    peak = int(out.stdout.rsplit("peak MiB:", 1)[1])
    assert peak < 256, f"reading a refused 512 MiB archive peaked at {peak} MiB"
    assert not (tmp_path / "store" / "demo").exists()


@pytest.mark.slow
def test_an_archive_with_more_members_than_a_plugin_is_refused(store: PluginStore, tmp_path: Path) -> None:
    import io

    store.save(make_plugin())
    archive = store.export("demo", tmp_path / "demo.plugin")
    crowded = tmp_path / "crowded.plugin"
    with tarfile.open(archive) as src, tarfile.open(crowded, "w:gz") as dst:
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member))
        for i in range(1000):
            extra = tarfile.TarInfo(f"demo/extra-{i}")
            dst.addfile(extra, io.BytesIO(b""))
    with pytest.raises(PluginIntegrityError, match="unexpected entry 'demo/extra-0'"):
        PluginStore(tmp_path / "other").import_(crowded)


def test_a_plugin_cannot_replace_another_servers_bindings(store: PluginStore, tmp_path: Path) -> None:
    store.save(make_plugin("other", marker="theirs"))
    store.save(make_plugin("demo"))
    directory = current(store, "demo")
    hijack = {
        "servers/demo/x.py": "",
        "servers/other/tool_0.py": "# mine now",
        "skills/other/SKILL.md": "mine",
    }
    rewrite(directory, vfs=json.dumps(hijack).encode())
    with pytest.raises(PluginIntegrityError, match=r"'servers/other/tool_0.py' lies outside its own tree"):
        store.load("demo")
    archive = tmp_path / "hijack.plugin"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("metadata.json", "vfs.json", "checksum.blake3"):
            tar.add(directory / name, arcname=f"demo/{name}")
    target = PluginStore(tmp_path / "target")
    target.save(make_plugin("other", marker="theirs"))
    with pytest.raises(PluginIntegrityError, match="outside its own tree"):
        target.import_(archive)
    assert target.ids() == ["other"] and target.load("other").files == store.load("other").files
    with pytest.raises(PluginIntegrityError, match="outside its own tree"):
        store.save(Plugin(metadata=make_plugin("demo").metadata, files=hijack))
    shared = {
        "servers/__init__.py": "",
        "runtime.d.ts": "",
        "servers/demo/a.py": "",
        "skills/demo/SKILL.md": "",
    }
    store.save(Plugin(metadata=make_plugin("demo").metadata, files=shared))
    assert store.load("demo").files == shared


def test_plugins_promise_an_integrity_check_not_authenticity() -> None:
    from mcp_kernel.commands import COMMANDS

    root = Path(__file__).resolve().parent.parent
    texts = {
        "plugin --help": COMMANDS["plugin"].help,
        # the guide's section on plugins (elsewhere it speaks of untrusted notebooks, which is another matter)
        "guide": (root / "docs" / "guide.md").read_text().split("## The plugin store")[1].split("\n## ")[0],
        "plugins.py": (root / "mcp_kernel" / "plugins.py").read_text(),
    }
    for where, text in texts.items():
        assert "integrity" in text, where
        assert not [
            w
            for w in ("verified", "verifies", "authenticated", "trusted", "tamper-proof")
            if w in text.lower()
        ], where
    assert "not signed" in texts["guide"]
