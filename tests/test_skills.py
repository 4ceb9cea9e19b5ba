"""The skill store on disk: versions, the checks a source must pass, tamper refusal, export and import.

Every test uses a real store in a temp directory; tampering is done the way an attacker or a careless hand
would do it, by editing, copying or linking the store's files.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from mcp_kernel.errors import SkillError, SkillIntegrityError
from mcp_kernel.settings import MCPKernel
from mcp_kernel.skills import SkillStore, check_source, skill_store, validate_name


def source(name: str, doc: str | None = "Does a thing.", body: str = "return 1", imports: str = "") -> str:
    """The text of a one-function skill ``name``."""
    docline = f"    {doc!r}\n" if doc is not None else ""
    return f"{imports}def {name}(x=None):\n{docline}    {body}\n"


@pytest.fixture()
def store(tmp_path: Path) -> SkillStore:
    return SkillStore(tmp_path / "store")


# ---- saving and versions ------------------------------------------------------------------------------


def test_saving_a_name_again_makes_a_new_version_and_keeps_the_old_one(store: SkillStore) -> None:
    first = store.save("double", source("double", "Twice x.", "return 2 * x"))
    second = store.save("double", source("double", "Twice x, again.", "return x + x"))
    assert (first.version, second.version) == (1, 2)
    assert store.versions("double") == [1, 2]
    assert store.load("double").version == 2 and "x + x" in store.load("double").source
    old = store.load("double", 1)
    assert old.version == 1 and "2 * x" in old.source and old.description == "Twice x."
    assert store.names() == ["double"]


def test_the_description_is_the_docstring_unless_one_is_given(store: SkillStore) -> None:
    assert store.save("a", source("a", "From the docstring.")).description == "From the docstring."
    given = store.save("b", source("b", "Docstring."), "Given as an argument.")
    assert given.description == "Given as an argument."
    assert store.save("c", source("c", None), "No docstring needed.").description == "No docstring needed."


@pytest.mark.parametrize(
    "imports",
    [
        "from servers.demo.sales import aggregate_sales\n",
        "import servers.demo\n",
        "from servers import demo\n",
    ],
)
def test_the_servers_a_skill_imports_are_recorded(store: SkillStore, imports: str) -> None:
    saved = store.save("uses_demo", source("uses_demo", imports=imports + "import json\n"))
    assert saved.servers == ["demo"] and saved.skills == []
    assert store.load("uses_demo").servers == ["demo"]


def test_a_skill_calls_the_servers_of_the_skills_it_imports(store: SkillStore) -> None:
    store.save("base", source("base", imports="from servers.demo import list_regions\n"))
    middle = store.save("middle", source("middle", imports="from skills.base import base\n"))
    top = store.save(
        "top", source("top", imports="from skills.middle import middle\nfrom servers import mailer\n")
    )
    assert middle.servers == ["demo"] and middle.skills == ["base"]
    assert top.servers == ["demo", "mailer"] and top.skills == ["middle"]
    assert store.servers_of(["top", "base", "unknown"]) == {"top": ["demo", "mailer"], "base": ["demo"]}


# ---- what a save refuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("class", "not a keyword"),
        ("_private", "private"),
        ("x" * 65, "at most 64"),
        ("two-words", "Python name"),
        ("9lives", "Python name"),
    ],
)
def test_a_name_that_cannot_name_a_skill_is_refused(store: SkillStore, name: str, problem: str) -> None:
    with pytest.raises(SkillError, match=problem):
        validate_name(name)
    with pytest.raises(SkillError, match="cannot name a skill"):
        store.save(name, source(name))
    assert store.names() == []


def test_a_name_of_64_characters_is_allowed(store: SkillStore) -> None:
    name = "n" * 64
    assert store.save(name, source(name)).name == name


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (source("f", imports="import numpy\n"), "imports 'numpy', which is neither the standard library"),
        (source("f", imports="from numpy.linalg import norm\n"), "'numpy.linalg'"),
        (source("f", imports="from . import helper\n"), "relative import"),
        (source("g"), "defines no top-level function named 'f'"),
        ("class f:\n    'A class.'\n", "defines no top-level function named 'f'"),
        (source("f", None), "has no description"),
        ("def f(:\n    pass\n", "does not parse"),
        (source("f", imports="from skills.f import f\n"), "imports itself"),
        (source("f", imports="from skills.missing import missing\n"), "skills.missing, which is not a saved"),
    ],
)
def test_a_source_that_breaks_a_rule_is_refused_saying_which(
    store: SkillStore, text: str, problem: str
) -> None:
    with pytest.raises(SkillError, match=problem):
        store.save("f", text)
    assert store.versions("f") == []


def test_a_source_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    small = SkillStore(tmp_path / "small", max_kb=1)
    padding = "# " + "x" * 1100 + "\n"
    with pytest.raises(SkillError, match=r"more than the 1,024 a skill may hold"):
        small.save("big", padding + source("big"))
    assert small.save("fits", source("fits")).version == 1


def test_the_skill_limit_refuses_a_new_name_but_not_a_new_version(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "store", max_skills=2)
    store.save("one", source("one"))
    store.save("two", source("two"))
    with pytest.raises(SkillError, match="holds 2 skills, its limit"):
        store.save("three", source("three"))
    assert store.save("two", source("two", "Better.")).version == 2
    assert store.names() == ["one", "two"]


# ---- tampering ------------------------------------------------------------------------------------------


def test_an_edited_source_is_refused(store: SkillStore) -> None:
    store.save("double", source("double", "Twice x.", "return 2 * x"))
    path = store.root / "double" / "v1.py"
    path.write_text(path.read_text().replace("2 * x", "__import__('os').system('x')"))
    with pytest.raises(SkillIntegrityError, match="checksum does not match"):
        store.load("double")


def test_an_edited_record_is_refused(store: SkillStore) -> None:
    store.save("regions", source("regions", imports="from servers.demo import list_regions\n"))
    path = store.root / "regions" / "v1.json"
    record = json.loads(path.read_text())
    record["servers"] = []  # hide that it calls demo, to get past a cell's allowed servers
    path.write_text(json.dumps(record))
    with pytest.raises(SkillIntegrityError, match="checksum does not match"):
        store.load("regions")
    assert SkillStore(store.root).servers_of(["regions"]) == {}


def test_a_skill_copied_from_another_store_is_refused(tmp_path: Path) -> None:
    a, b = SkillStore(tmp_path / "a"), SkillStore(tmp_path / "b")
    a.save("double", source("double"))
    b.save("own", source("own"))
    shutil.copytree(a.root / "double", b.root / "double")
    assert a.load("double").version == 1
    with pytest.raises(SkillIntegrityError, match="not written by this store"):
        b.load("double")


def test_a_version_renamed_within_the_store_is_refused(store: SkillStore) -> None:
    store.save("double", source("double"))
    shutil.copytree(store.root / "double", store.root / "triple")
    (store.root / "double" / "v1.py").rename(store.root / "double" / "v2.py")
    (store.root / "double" / "v1.json").rename(store.root / "double" / "v2.json")
    with pytest.raises(SkillIntegrityError, match="names another skill or version"):
        store.load("triple")
    with pytest.raises(SkillIntegrityError, match="names another skill or version"):
        store.load("double")


def test_skill_files_in_a_store_without_a_key_are_refused(tmp_path: Path) -> None:
    a = SkillStore(tmp_path / "a")
    a.save("double", source("double"))
    shutil.copytree(a.root / "double", tmp_path / "keyless" / "double")
    with pytest.raises(SkillIntegrityError, match="no key"):
        SkillStore(tmp_path / "keyless").load("double")


def test_a_symlinked_source_is_refused(store: SkillStore, tmp_path: Path) -> None:
    store.save("double", source("double"))
    path = store.root / "double" / "v1.py"
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_bytes(path.read_bytes())  # the very same bytes: only the link is wrong
    path.unlink()
    path.symlink_to(elsewhere)
    with pytest.raises(SkillIntegrityError, match="not a regular file"):
        store.load("double")


def test_latest_leaves_out_a_tampered_skill_and_keeps_the_others(store: SkillStore) -> None:
    for name in ("alpha", "beta", "gamma"):
        store.save(name, source(name))
    assert [s.name for s in store.latest()] == ["alpha", "beta", "gamma"]
    (store.root / "beta" / "v1.py").write_text(source("beta", body="return 2"))
    assert [s.name for s in SkillStore(store.root).latest()] == ["alpha", "gamma"]


def test_latest_sees_a_save_through_its_cache(store: SkillStore) -> None:
    store.save("alpha", source("alpha"))
    assert [s.version for s in store.latest()] == [1]
    store.save("alpha", source("alpha", "Second."))
    assert [s.version for s in store.latest()] == [2]


# ---- removing -------------------------------------------------------------------------------------------


def test_remove_one_version_then_the_whole_skill(store: SkillStore) -> None:
    for doc in ("One.", "Two.", "Three."):
        store.save("f", source("f", doc))
    assert store.remove("f", 2) == [2]
    assert store.versions("f") == [1, 3] and store.load("f").description == "Three."
    with pytest.raises(SkillError, match="has no version 2"):
        store.remove("f", 2)
    assert store.remove("f") == [1, 3]
    assert store.names() == [] and not (store.root / "f").exists()
    with pytest.raises(SkillError, match="No skill named 'f'"):
        store.load("f")


# ---- export and import ----------------------------------------------------------------------------------


def test_export_then_import_into_another_store_keeps_source_and_dependencies(tmp_path: Path) -> None:
    a, b = SkillStore(tmp_path / "a"), SkillStore(tmp_path / "b")
    a.save("base", source("base", "Base of all.", imports="from servers.demo import list_regions\n"))
    a.save("top", source("top", "On top.", body="return base(x)", imports="from skills.base import base\n"))
    exported = a.export(tmp_path / "skills.tar.gz")
    assert sorted(s.name for s in exported) == ["base", "top"]
    imported = b.import_(tmp_path / "skills.tar.gz")
    assert [s.name for s in imported] == ["base", "top"], "the imported skill first"
    for name in ("base", "top"):
        assert b.load(name).source == a.load(name).source
        assert b.load(name).description == a.load(name).description
    assert b.load("top").servers == ["demo"]


def test_an_archive_member_is_readable_text(store: SkillStore, tmp_path: Path) -> None:
    store.save("double", source("double", "Twice x.", "return 2 * x"))
    store.export(tmp_path / "one.tar.gz", ["double"])
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["double.json", "double.py"]
        assert tar.extractfile("double.py").read().decode() == source("double", "Twice x.", "return 2 * x")  # type: ignore[union-attr]


def rewrite(
    archive: Path, out: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None
) -> Path:
    """Copy ``archive`` to ``out`` with members' bodies replaced (None: dropped) and members added."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    members.update(change)
    members.update(add or {})
    with tarfile.open(out, "w:gz") as tar:
        for name, body in members.items():
            if body is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return out


@pytest.fixture()
def archive(store: SkillStore, tmp_path: Path) -> Path:
    store.save("double", source("double", "Twice x.", "return 2 * x"))
    store.export(tmp_path / "skills.tar.gz")
    return tmp_path / "skills.tar.gz"


def test_an_archive_with_a_changed_source_is_refused_and_nothing_saved(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as tar:
        body = tar.extractfile("double.py").read()  # type: ignore[union-attr]
    changed = rewrite(archive, tmp_path / "changed.tar.gz", {"double.py": body.replace(b"2 * x", b"3 * x")})
    other = SkillStore(tmp_path / "other")
    with pytest.raises(SkillIntegrityError, match="checksum does not match"):
        other.import_(changed)
    assert other.names() == []


@pytest.mark.parametrize(
    "add",
    [{"notes.txt": b"hello"}, {"extra.py": b"x = 1\n"}, {"sub/double.py": b"x = 1\n"}],
    ids=["other-file", "source-without-record", "path-with-slash"],
)
def test_an_archive_with_unexpected_members_is_refused(archive: Path, tmp_path: Path, add: dict) -> None:
    odd = rewrite(archive, tmp_path / "odd.tar.gz", {}, add)
    other = SkillStore(tmp_path / "other")
    with pytest.raises(SkillIntegrityError, match=r"unexpected entry|holds <name>\.py and <name>\.json"):
        other.import_(odd)
    assert other.names() == []


def test_a_file_that_is_no_archive_is_refused(tmp_path: Path, store: SkillStore) -> None:
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar at all")
    with pytest.raises(SkillIntegrityError, match="not a readable skills archive"):
        store.import_(tmp_path / "junk.tar.gz")


def test_an_archive_that_fails_part_way_saves_nothing(tmp_path: Path) -> None:
    a, b = SkillStore(tmp_path / "a"), SkillStore(tmp_path / "b")
    a.save("alone", source("alone"))
    a.save("base", source("base"))
    a.save("top", source("top", imports="from skills.base import base\n"))
    written = a.export(tmp_path / "whole.tar.gz", ["alone", "top"])
    assert sorted(s.name for s in written) == ["alone", "base", "top"], "what top imports goes with it"
    with (
        tarfile.open(tmp_path / "whole.tar.gz") as whole,
        tarfile.open(tmp_path / "partial.tar.gz", "w:gz") as part,
    ):
        for member in whole.getmembers():
            if not member.name.startswith("base."):  # an archive without base, which top imports
                part.addfile(member, whole.extractfile(member))
    with pytest.raises(SkillError, match=r"imports base, which neither the archive nor this store holds"):
        b.import_(tmp_path / "partial.tar.gz")
    assert b.names() == []


# ---- what the tree and the sandbox see, and whose store it is -------------------------------------------


def test_files_give_an_index_line_per_skill_and_each_source(store: SkillStore) -> None:
    assert store.files() == {}
    store.save("rev", source("rev", "Revenue by region.", imports="from servers.demo import list_regions\n"))
    store.save("plain", source("plain", "Plain and simple."))
    files = store.files()
    assert set(files) == {"skills/INDEX.md", "skills/rev.py", "skills/plain.py"}
    lines = [line for line in files["skills/INDEX.md"].splitlines() if line.startswith("- ")]
    assert lines == [
        "- plain: def plain(x=None): Plain and simple. (calls no server; v1)",
        "- rev: def rev(x=None): Revenue by region. (calls demo; v1)",
    ]
    assert files["skills/rev.py"] == store.load("rev").source


def test_each_caller_has_a_store_of_its_own(tmp_path: Path) -> None:
    settings = MCPKernel(skills_dir=str(tmp_path), skills_max=7, skill_max_kb=3)
    user, alice, bob = skill_store(settings), skill_store(settings, "alice"), skill_store(settings, "bob")
    assert user.root == tmp_path
    assert alice.root.parent == bob.root.parent and alice.root.parent.parent == tmp_path
    assert len({user.root, alice.root, bob.root}) == 3
    assert skill_store(settings, "alice").root == alice.root, "the same caller, the same store"
    assert (alice.max_skills, alice.max_bytes) == (7, 3 << 10)
    alice.save("mine", source("mine"))
    user.save("callers", source("callers"))  # a user's skill may have any name, even that of the callers' dir
    assert bob.names() == [] and user.names() == ["callers"] and alice.names() == ["mine"]
    assert alice.load("mine").version == user.load("callers").version == 1


def test_check_source_describes_the_signature() -> None:
    fields = check_source(
        "f", "import json\nasync def f(a, b: int = 2, *args, c, **kw) -> list[int]:\n    'F it.'\n"
    )
    assert fields == {
        "description": "F it.",
        "signature": "async def f(a, b: int=2, *args, c, **kw) -> list[int]",
        "servers": [],
        "skills": [],
    }
    fields = check_source(
        "g",
        "import servers.demo\nfrom servers import other\nfrom servers.third.x import y\ndef g() -> None: 'G.'",
    )
    assert fields["servers"] == ["demo", "other", "third"] and fields["signature"] == "def g() -> None"


# ---- what a hostile cell or archive tried (a review of the feature) -------------------------------------


@pytest.mark.parametrize(
    ("text", "description", "why"),
    [
        (source("f"), "bad \ud800 text", "not valid Unicode"),
        (source("f", body="return 'a\ud800'"), None, "not valid Unicode"),
        (source("f", body="return '<EMAIL_1>'"), None, "<EMAIL_1>: a placeholder for personal data"),
        (source("f"), "Mail <PHONE_3> today.", "<PHONE_3>"),
        (source("f"), "x" * 2001, "more than the 2,000"),
        (source("f", imports="import importlib\n"), None, "imports dynamically"),
        (source("f", body="return __import__('servers.demo')"), None, "imports dynamically"),
        (source("f", imports="import servers\n"), None, "imports the servers package itself"),
        (source("f", imports="from servers import *\n"), None, "imports the servers package itself"),
    ],
)
def test_a_source_that_would_mislead_or_break_a_reader_is_refused(
    store: SkillStore, text: str, description: str | None, why: str
) -> None:
    with pytest.raises(SkillError, match=why):
        store.save("f", text, description)
    assert store.names() == []


def test_save_skill_and_names_differing_only_in_case_are_refused(store: SkillStore) -> None:
    for reserved in ("save_skill", "remove_skill"):
        with pytest.raises(SkillError, match="it is a function of the skills package"):
            store.save(reserved, source(reserved))
    store.save("Rev", source("Rev"))
    with pytest.raises(SkillError, match="differs from skill 'Rev' only in case"):
        store.save("rev", source("rev"))


def test_the_oldest_versions_go_past_twenty_and_the_store_has_a_size_limit(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "store", max_kb=64, max_mb=1)
    for n in range(22):
        store.save("often", source("often", body=f"return {n}"))
    assert store.versions("often") == list(range(3, 23))
    big = source("big", body="return " + repr("x" * 60_000))
    saved = 0
    with pytest.raises(SkillError, match="near its 1 MiB"):
        for n in range(30):
            store.save(f"big{n}", big.replace("def big", f"def big{n}"))
            saved += 1
    held = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
    assert 5 <= saved < 30 and held <= 1 << 20


def test_the_servers_a_skill_calls_follow_the_skills_it_imports_as_they_are_now(store: SkillStore) -> None:
    store.save("inner", source("inner"))
    store.save("outer", source("outer", imports="from skills.inner import inner\n"))
    assert {s.name: s.servers for s in store.latest()} == {"inner": [], "outer": []}
    store.save("inner", source("inner", imports="from servers.demo import list_regions\n"))
    assert {s.name: s.servers for s in SkillStore(store.root).latest()} == {
        "inner": ["demo"],
        "outer": ["demo"],
    }
    assert store.servers_of(["outer"]) == {"outer": ["demo"]}


def test_an_archive_record_with_broken_text_is_refused(store: SkillStore, tmp_path: Path) -> None:
    import blake3

    text = source("f").encode()
    record = {
        "name": "f",
        "version": 1,
        "description": "bad \ud800",
        "signature": "def f(x=None)",
        "servers": [],
        "skills": [],
        "saved_at": "2026-01-01T00:00:00+00:00",
        "size": len(text),
    }
    body = json.dumps(record, sort_keys=True).encode() + b"\0" + text
    record["checksum"] = blake3.blake3(body).hexdigest()
    archive = tmp_path / "broken.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in (("f.py", text), ("f.json", json.dumps(record).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(SkillIntegrityError, match="not valid Unicode"):
        store.import_(archive)
    assert store.names() == []
