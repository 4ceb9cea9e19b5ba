"""Skills in a cell's path: what a cell costs with none, with a store of 20 saved skills that did not change,
importing one of them, and saving one (its check and write included).

Run: ``python benchmarks/bench_skills.py``. The baseline in the same process is the same cell run with no
skills at all (``skills=False``); every other figure is a ratio to it. The goal: a store that did not change
costs a cell nothing a person can see (well under 1 ms); saving is a fraction of the cell.
"""

from __future__ import annotations

import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import median_ms

from mcp_kernel.session import Session
from mcp_kernel.skills import SkillStore

SKILL = "def s{n}(x: int = 1) -> int:\n    'Skill number {n}.'\n    return x + {n}\n"
SAVE = "from skills import save_skill\ndef again(x: int = 1) -> int:\n    'Saved each run.'\n    return x\nsave_skill(again)\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Session() as session:
        store = SkillStore(Path(tmp) / "skills", max_mb=64)
        for n in range(20):
            store.save(f"s{n}", SKILL.format(n=n))
        policy = session.policy([])
        run = partial(session.execute, policy=policy)
        run("x = 1", skills=store)  # the session exists and its skills directory is written
        rows = [
            ("no skills (baseline)", partial(run, "x + 1", skills=False)),
            ("20 skills, unchanged", partial(run, "x + 1", skills=store)),
            ("import one of them", partial(run, "from skills.s7 import s7\ns7(x)", skills=store)),
            ("save one (a new version)", partial(run, SAVE, skills=store)),
        ]
        base = None
        print(f"{'cell':28} {'median ms':>10} {'vs baseline':>12}")
        for label, cell in rows:
            took = median_ms(cell, 60)
            base = base or took
            print(f"{label:28} {took:10.2f} {took / base:11.2f}x")


if __name__ == "__main__":
    main()
