"""Skills from inside the sandbox: a cell saves a function with ``save_skill``, later cells and sessions import it.

A real Session with the demo server and the real wasmtime sandbox; each test keeps its skills in a store of
its own (``skills=store``), one test uses the user's store that the settings point at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from mcp_kernel.errors import PolicyViolation, SandboxTimeout
from mcp_kernel.models import ExecutionResult
from mcp_kernel.session import Session
from mcp_kernel.settings import MCPKernel
from mcp_kernel.skills import SkillStore

pytestmark = pytest.mark.slow

SAVE_REGION_REVENUE = '''
from servers.demo import list_regions, aggregate_sales
from skills import save_skill

def region_revenue(region: str) -> float:
    """Revenue of one sales region, for a region the demo lists."""
    names = [r["region"] for r in list_regions()["regions"]]
    if region not in names:
        raise ValueError(f"no region {region}")
    groups = aggregate_sales(group_by="region")["groups"]
    return {g["key"]: g["value"] for g in groups}[region]

save_skill(region_revenue)
region_revenue("EU")
'''
USE_REGION_REVENUE = "from skills.region_revenue import region_revenue\nregion_revenue('EU')"


@pytest.fixture(scope="module")
def skills_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-skills")


@pytest.fixture(scope="module")
def session(skills_dir: Path) -> Iterator[Session]:
    with Session(settings=MCPKernel(skills_dir=str(skills_dir)), timeout=30) as s:
        s.generate("demo")
        yield s


@pytest.fixture()
def store(tmp_path: Path) -> SkillStore:
    return SkillStore(tmp_path / "skills")


def run(
    session: Session,
    code: str,
    store: SkillStore | Literal[False],
    servers: list[str] | None = None,
    **limits: Any,
) -> ExecutionResult:
    """Run a cell with ``store``'s skills (False: none), allowed to call demo unless ``servers`` says otherwise."""
    policy = session.policy(["demo"] if servers is None else servers, **limits)
    return session.execute(code, policy, skills=store)


@pytest.fixture()
def saved(session: Session, store: SkillStore) -> float:
    """``region_revenue`` saved in ``store`` by a cell; the value it gave there."""
    result = run(session, SAVE_REGION_REVENUE, store)
    assert result.error is None, result.error
    assert isinstance(result.value, float) and result.value > 0
    return result.value


def test_a_saved_function_is_kept_with_the_imports_it_needs(session: Session, store: SkillStore) -> None:
    result = run(session, SAVE_REGION_REVENUE, store)
    assert result.error is None, result.error
    assert "Saved skill 'region_revenue' v1 (calls demo)" in (result.note or "")
    skill = store.load("region_revenue")
    assert skill.servers == ["demo"] and skill.version == 1
    assert skill.description == "Revenue of one sales region, for a region the demo lists."
    assert skill.signature == "def region_revenue(region: str) -> float"
    head, _, body = skill.source.partition("\n\n\n")
    imports = [
        re.fullmatch(r"from (servers\.demo(?:\.\w+)?) import (\w+)", line) for line in head.splitlines()
    ]
    assert all(imports) and [m[2] for m in imports if m] == ["aggregate_sales", "list_regions"], head
    assert body.startswith("def region_revenue(region: str) -> float:")
    assert "save_skill" not in skill.source, "only the function, not the cell around it"


def test_another_sandbox_session_imports_and_runs_the_skill(
    session: Session, store: SkillStore, saved: float
) -> None:
    first = session.current_sandbox
    other = session.open_sandbox()
    try:
        assert run(session, "'region_revenue' in dir()", store).value is False, "a session of its own"
        result = run(session, USE_REGION_REVENUE, store)
        assert result.error is None, result.error
        assert result.value == saved
    finally:
        session.use_sandbox(first)
        session.close_sandbox(other)


def test_a_new_session_on_the_same_user_store_imports_the_skill(session: Session, skills_dir: Path) -> None:
    result = session.execute(SAVE_REGION_REVENUE, session.policy(["demo"]))  # the user's store
    assert "Saved skill 'region_revenue'" in (result.note or "")
    assert (skills_dir / "region_revenue" / f"v{session.skills.versions('region_revenue')[-1]}.py").is_file()
    with Session(settings=MCPKernel(skills_dir=str(skills_dir)), timeout=30) as fresh:
        fresh.generate("demo")
        again = fresh.execute(USE_REGION_REVENUE, fresh.policy(["demo"]))
    assert again.error is None, again.error
    assert again.value == result.value


def test_saving_again_makes_a_new_version_that_the_next_cell_imports(
    session: Session, store: SkillStore
) -> None:
    save = (
        "from skills import save_skill\ndef answer():\n    'The answer.'\n    return {n}\nsave_skill(answer)"
    )
    use = "from skills.answer import answer\nanswer()"
    assert "Saved skill 'answer' v1" in (run(session, save.format(n=1), store).note or "")
    assert run(session, use, store).value == 1
    assert "Saved skill 'answer' v2" in (run(session, save.format(n=2), store).note or "")
    assert run(session, use, store).value == 2, (
        "the same session imported the new version, not its cached one"
    )
    assert store.versions("answer") == [1, 2]


def test_a_function_using_a_notebook_variable_is_not_saved(session: Session, store: SkillStore) -> None:
    code = (
        "from skills import save_skill\nrate = 3\n"
        "def scaled(x):\n    'Scaled by the rate.'\n    return x * rate\n"
        "save_skill(scaled)"
    )
    result = run(session, code, store)
    assert result.error is not None and result.error.type == "ValueError"
    assert "variable 'rate'" in result.error.message
    assert store.names() == []


def test_source_text_importing_numpy_is_not_saved_saying_why(session: Session, store: SkillStore) -> None:
    code = (
        "from skills import save_skill\n"
        "save_skill('import numpy\\ndef norm(v):\\n    \"Length of v.\"\\n    return numpy.linalg.norm(v)\\n',"
        " name='norm')"
    )
    result = run(session, code, store)
    assert result.error is None, result.error
    assert "Not saved: Skill 'norm' imports 'numpy'" in (result.note or "")
    assert store.names() == []


@pytest.mark.parametrize(
    "importing",
    [
        "from skills.region_revenue import region_revenue",
        "import skills.region_revenue",
        "from skills import region_revenue",
    ],
)
def test_a_cell_not_allowed_to_call_the_skills_server_is_refused_before_it_runs(
    session: Session, store: SkillStore, saved: float, importing: str
) -> None:
    with pytest.raises(PolicyViolation, match="imports skill 'region_revenue', which calls demo"):
        run(session, f"ran_anyway = True\n{importing}", store, servers=[])
    assert run(session, "'ran_anyway' in dir()", store).value is False


def test_a_skill_imported_past_the_check_still_cannot_call_a_server_the_cell_may_not(
    session: Session, store: SkillStore, saved: float
) -> None:
    code = "import importlib\nimportlib.import_module('skills.region_revenue').region_revenue('EU')"
    result = run(session, code, store, servers=[])
    assert result.error is not None and "Server 'demo' is not allowed in this cell" in result.error.message
    assert result.value is None


def test_a_skill_may_build_on_another_and_calls_its_servers(
    session: Session, store: SkillStore, saved: float
) -> None:
    code = (
        "from skills import save_skill\nfrom skills.region_revenue import region_revenue\n"
        "def eu_revenue():\n    'Revenue of the EU region.'\n    return region_revenue('EU')\n"
        "save_skill(eu_revenue)"
    )
    result = run(session, code, store)
    assert "Saved skill 'eu_revenue' v1 (calls demo)" in (result.note or "")
    skill = store.load("eu_revenue")
    assert skill.skills == ["region_revenue"] and skill.servers == ["demo"]
    assert skill.source.startswith("from skills.region_revenue import region_revenue\n")
    assert run(session, "from skills.eu_revenue import eu_revenue\neu_revenue()", store).value == saved


def test_a_forged_outbox_entry_is_checked_like_any_save(session: Session, store: SkillStore) -> None:
    entry = {"name": "forged", "source": "import os\ndef other():\n    'Not forged.'\n", "description": None}
    code = (
        "import json, os\nos.makedirs('/workspace/.mcp-skills/outbox', exist_ok=True)\n"
        f"open('/workspace/.mcp-skills/outbox/0000.json', 'w').write({json.dumps(entry)!r})"
    )
    result = run(session, code, store)
    assert "Not saved: Skill 'forged' defines no top-level function named 'forged'" in (result.note or "")
    assert store.names() == []
    assert run(session, "import os\nos.path.exists('/workspace/.mcp-skills')", store).value is False


def test_a_cell_stopped_by_its_time_limit_saves_nothing(session: Session, store: SkillStore) -> None:
    code = (
        "from skills import save_skill\ndef quick():\n    'Quick.'\n    return 1\n"
        "save_skill(quick)\nwhile True: pass"
    )
    with pytest.raises(SandboxTimeout):
        run(session, code, store, timeout=1)
    assert store.names() == []
    after = run(session, "1 + 1", store)
    assert after.value == 2 and "Saved" not in (after.note or ""), "the next cell did not save it either"
    assert store.names() == []


def test_the_index_is_readable_inside_the_sandbox(session: Session, store: SkillStore, saved: float) -> None:
    index = run(session, "open('/mcp-tools/skills/INDEX.md').read()", store).value
    assert (
        "- region_revenue: def region_revenue(region: str) -> float: "
        "Revenue of one sales region, for a region the demo lists. (calls demo; v1)"
    ) in index
    source = run(session, "open('/mcp-tools/skills/region_revenue.py').read()", store).value
    assert source == store.load("region_revenue").source


def test_search_tree_and_read_show_the_skill(session: Session, store: SkillStore, saved: float) -> None:
    hits = [h for h in session.search("region revenue", skills=store).hits if h.server == "skills"]
    assert [(h.tool, h.calls) for h in hits] == [("region_revenue", ["demo"])]
    assert all(h.server != "skills" for h in session.search("region revenue", skills=False).hits)
    names = [child.name for child in session.tree("/mcp-tools/skills", skills=store).children or []]
    assert {"INDEX.md", "region_revenue.py"} <= set(names)
    read = session.read("/mcp-tools/skills/region_revenue.py", skills=store)
    assert read.text == store.load("region_revenue").source


def test_without_skills_a_cell_cannot_import_or_save_them(
    session: Session, store: SkillStore, saved: float
) -> None:
    assert run(session, USE_REGION_REVENUE, store).value == saved  # imported in this session first
    result = run(session, USE_REGION_REVENUE, False)
    assert result.error is not None and result.error.type == "ModuleNotFoundError"
    assert "region_revenue" in result.error.message
    refused = run(session, "from skills import save_skill\ndef f():\n    'F.'\nsave_skill(f)", False)
    assert "Not saved" in (refused.note or "") and "keeps no skills" in (refused.note or "")


def test_a_cell_that_raises_after_saving_saves_nothing(session: Session, store: SkillStore) -> None:
    code = SAVE_REGION_REVENUE.replace('region_revenue("EU")', 'region_revenue("nowhere")')
    result = run(session, code, store)
    assert result.error is not None and result.error.type == "ValueError"
    assert (
        result.note is not None
        and "Not saved: 1 skill(s), because the cell ended with ValueError" in result.note
    )
    assert store.names() == []
    assert run(session, "1 + 1", store).note is None, "nothing is left over for the next cell"


def test_a_cell_refused_for_a_skills_servers_does_not_keep_later_cells_on_an_old_version(
    session: Session, store: SkillStore
) -> None:
    store.save("which", "def which():\n    'Which version.'\n    return 'v1'\n")
    store.save("needs_demo", "from servers.demo import list_regions\ndef needs_demo():\n    'Demo.'\n")
    handle = session.open_sandbox(use=False)
    assert (
        session.execute(
            "from skills.which import which\nwhich()", session.policy([]), sandbox=handle, skills=store
        ).value
        == "v1"
    )
    store.save("which", "def which():\n    'Which version.'\n    return 'v2'\n")
    with pytest.raises(PolicyViolation):
        session.execute(
            "from skills.needs_demo import needs_demo", session.policy([]), sandbox=handle, skills=store
        )
    after = session.execute(
        "from skills.which import which\nwhich()", session.policy([]), sandbox=handle, skills=store
    )
    assert after.value == "v2", "the refused cell changed nothing, the next one imports the new version"


def test_an_outbox_entry_that_is_a_json_bomb_is_refused_and_the_cells_result_kept(
    session: Session, store: SkillStore
) -> None:
    code = (
        "import os\nos.makedirs('/workspace/.mcp-skills/outbox', exist_ok=True)\n"
        "open('/workspace/.mcp-skills/outbox/0000.json', 'w').write('[' * 500000)\n42"
    )
    result = run(session, code, store)
    assert result.value == 42 and result.note is not None
    assert "Not saved: skill '?': an entry in the skills outbox is not one save_skill wrote." in result.note
    assert store.names() == []


def test_a_cell_removes_a_skill_it_no_longer_wants(session: Session, store: SkillStore, saved: float) -> None:
    store.save("region_revenue", store.load("region_revenue").source)  # v2
    one = run(session, "from skills import remove_skill\nremove_skill('region_revenue', version=1)", store)
    assert one.note == "Removed skill 'region_revenue' (version 1)."
    assert store.versions("region_revenue") == [2]
    rest = run(
        session,
        "from skills import remove_skill\nremove_skill('region_revenue')\nremove_skill('nothing')",
        store,
    )
    assert rest.note is not None and rest.note.splitlines() == [
        "Removed skill 'region_revenue' (version 2).",
        "Not removed: No skill named 'nothing' (saved skills: none yet); save one with save_skill(fn).",
    ]
    assert store.names() == []
    gone = run(session, USE_REGION_REVENUE, store)
    assert gone.error is not None and gone.error.type == "ModuleNotFoundError"
