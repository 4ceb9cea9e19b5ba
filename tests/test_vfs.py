"""The virtual filesystem: listing, reading, stats, trees, path validation and materialising."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mcp_kernel.errors import InvalidPath, VFSError
from mcp_kernel.vfs import VirtualFS, normalize_path

FILES = {
    "servers/__init__.py": "",
    "servers/demo/__init__.py": "from .a import a\n",
    "servers/demo/a.py": "def a(): ...\n",
    "servers/demo/manifest.json": "{}",
    "skills/demo/SKILL.md": "---\nname: demo\n---\n",
}


@pytest.fixture()
def fs() -> VirtualFS:
    return VirtualFS(FILES)


def test_listdir_directories_first(fs: VirtualFS) -> None:
    assert [(e.name, e.kind) for e in fs.listdir("/mcp-tools")] == [("servers", "dir"), ("skills", "dir")]
    assert [e.name for e in fs.listdir("/mcp-tools/servers")] == ["demo", "__init__.py"]
    assert [e.name for e in fs.listdir("servers/demo/")] == ["__init__.py", "a.py", "manifest.json"]


def test_read_and_stat(fs: VirtualFS) -> None:
    assert fs.read("/mcp-tools/servers/demo/a.py") == "def a(): ...\n"
    stat = fs.stat("/mcp-tools/servers/demo/a.py")
    assert (stat.kind, stat.size, stat.tokens_estimate) == ("file", 13, 4)
    assert fs.stat("/mcp-tools/servers").size == sum(
        len(t) for p, t in FILES.items() if p.startswith("servers/")
    )


def test_tree_with_depth(fs: VirtualFS) -> None:
    tree = fs.tree()
    assert tree.name == "/mcp-tools" and [c.name for c in tree.children] == ["servers", "skills"]
    shallow = fs.tree("/mcp-tools", depth=1)
    assert all(not c.children for c in shallow.children)
    assert [c.name for c in fs.tree("servers/demo").children] == ["__init__.py", "a.py", "manifest.json"]


def test_missing_and_wrong_kind_errors(fs: VirtualFS) -> None:
    with pytest.raises(VFSError, match=r"No file /mcp-tools/servers/demo/b.py"):
        fs.read("servers/demo/b.py")
    with pytest.raises(VFSError, match="is a directory"):
        fs.read("servers/demo")
    with pytest.raises(VFSError, match="is a file"):
        fs.listdir("servers/demo/a.py")
    with pytest.raises(VFSError, match="is a file"):
        fs.add("servers/demo/a.py/x", "")
    with pytest.raises(VFSError, match="is a directory"):
        fs.add("servers/demo", "")


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("../etc/passwd", "'..' is not allowed"),
        ("/mcp-tools/servers/../../etc", "'..' is not allowed"),
        ("/etc/passwd", "absolute paths must be under /mcp-tools"),
        ("/mcp-toolsX/a", "absolute paths must be under /mcp-tools"),
        ("servers/a\0b", "NUL"),
        ("servers\\demo", "use '/'"),
        ("servers//demo", "empty or '.'"),
        ("servers/./demo", "empty or '.'"),
        ("a/" * 17 + "b", "deeper than 16"),
        ("x" * 256, "longer than 255"),
        ("a/" * 2100, "longer than 4096"),
    ],
)
def test_bad_paths_are_refused_with_the_rule_named(fs: VirtualFS, path: str, rule: str) -> None:
    for call in (fs.read, fs.listdir, fs.stat, fs.exists, normalize_path, lambda p: fs.add(p, "x")):
        with pytest.raises(InvalidPath, match=rule):
            call(path)


def test_normalize_accepts_the_usual_spellings() -> None:
    assert normalize_path("/mcp-tools") == ""
    assert normalize_path("/mcp-tools/") == ""
    assert normalize_path("servers/demo/") == "servers/demo"
    assert normalize_path("/mcp-tools/servers/demo/a.py") == "servers/demo/a.py"


def test_materialize_writes_the_tree_and_replaces_the_old_one(fs: VirtualFS, tmp_path: Path) -> None:
    target = tmp_path / "tree"
    fs.materialize(target)
    assert (target / "servers" / "demo" / "a.py").read_text() == "def a(): ...\n"
    mode = "0o666" if sys.platform == "win32" else "0o644"  # Windows' st_mode says only "not read-only"
    assert oct((target / "servers" / "demo" / "a.py").stat().st_mode & 0o777) == mode
    smaller = VirtualFS({"servers/x/b.py": "b"})
    smaller.materialize(target)
    assert not (target / "servers" / "demo").exists()
    assert (target / "servers" / "x" / "b.py").read_text() == "b"
    assert [p.name for p in tmp_path.iterdir()] == ["tree"], "no staging directories are left behind"
    assert not [p for p in target.rglob("*.tmp")], "no temp files are left behind"


def test_materialize_never_deletes_what_it_did_not_write(fs: VirtualFS, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "notes.txt").write_text("mine")
    with pytest.raises(VFSError, match="not empty and mcp-kernel did not write it"):
        fs.materialize(project)
    assert sorted(p.name for p in project.rglob("*")) == ["notes.txt", "src"], "nothing was changed"
    target = tmp_path / "tree"
    fs.materialize(target)
    (target / "servers" / "mine.txt").write_text("added by hand")
    VirtualFS({"servers/x/b.py": "b"}).materialize(target)
    assert (target / "servers" / "mine.txt").read_text() == "added by hand", "a file added by hand stays"
    assert not (target / "servers" / "demo").exists(), "files an earlier run wrote and the tree dropped go"


@pytest.mark.slow
def test_generate_out_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    out = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "generate", "demo", "--out", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "mcp-kernel did not write it" in out.stderr, out.stderr
    assert [p.name for p in home.iterdir()] == ["thesis.tex"] and (
        home / "thesis.tex"
    ).read_text() == "years of work"
    helped = subprocess.run(
        [sys.executable, "-m", "mcp_kernel", "generate", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "nothing else in it is touched" in " ".join(helped.stdout.split())


@pytest.mark.skipif(sys.platform == "win32", reason="making a symlink needs a privilege on Windows")
def test_materialize_refuses_a_symlinked_target(fs: VirtualFS, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    link = tmp_path / "tree"
    os.symlink(real, link)
    with pytest.raises(InvalidPath, match="symlink"):
        fs.materialize(link)
    assert list(real.iterdir()) == []


def test_remove_prefix(fs: VirtualFS) -> None:
    assert fs.remove_prefix("servers/demo") == 3
    assert not fs.exists("servers/demo")
    assert fs.exists("skills/demo/SKILL.md")
