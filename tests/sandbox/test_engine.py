"""The component cache: built once, verified on load, rebuilt when corrupt or foreign."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcp_kernel.sandbox import Engine, Sandbox
from mcp_kernel.sandbox.engine import cache_status, guest_source_hash

pytestmark = [pytest.mark.slow, pytest.mark.long]


def test_warm_load_uses_the_cache(engine: Engine) -> None:
    with Engine() as warm:
        warm.component()
        assert (
            "deserialize_s" in warm.timings
            and "compile_s" not in warm.timings
            and "build_s" not in warm.timings
        )


def test_a_warm_start_needs_only_the_compiled_form(engine: Engine, tmp_path: Path) -> None:
    components = tmp_path / "cache" / "components"
    components.mkdir(parents=True)
    for compiled in (Path(engine_cache_dir()) / "components").glob("compiled-*"):
        shutil.copy(compiled, components / compiled.name)
    with Engine(tmp_path / "cache") as eng:
        eng.component()
        assert "deserialize_s" in eng.timings and "build_s" not in eng.timings, "the component is not needed"
        with Sandbox(eng) as sb:
            assert sb.execute("1 + 1").value == 2


def test_a_corrupt_compiled_entry_is_rebuilt_not_trusted(engine: Engine, tmp_path: Path) -> None:
    source = Path(engine_cache_dir()) / "components"
    cache = tmp_path / "cache"
    shutil.copytree(source, cache / "components")
    compiled = next((cache / "components").glob("compiled-*.cwasm"))
    data = bytearray(compiled.read_bytes())
    data[len(data) // 2] ^= 0xFF
    compiled.write_bytes(bytes(data))
    with Engine(cache) as eng:
        eng.component()
        assert "compile_s" in eng.timings, "a corrupt entry must be compiled again"
        with Sandbox(eng) as sb:
            assert sb.execute("1 + 1").value == 2
    assert compiled.read_bytes() != bytes(data)


def test_a_file_checked_once_is_trusted_only_while_unchanged(engine: Engine, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(Path(engine_cache_dir()) / "components", cache / "components")
    compiled = next((cache / "components").glob("compiled-*.cwasm"))
    with Engine(cache) as eng:
        eng.component()
        assert "compile_s" not in eng.timings
    stamp = compiled.with_name(compiled.name + ".checked")
    digest = compiled.with_name(compiled.name + ".blake3").read_text().strip()
    assert stamp.read_text().startswith(f"{digest} {compiled.stat().st_size} ")  # hashed once, then recorded
    with Engine(cache) as eng:  # unchanged: loaded on the stamp
        eng.component()
        assert "compile_s" not in eng.timings
    data = bytearray(compiled.read_bytes())
    data[len(data) // 3] ^= 0xFF
    with open(compiled, "r+b") as fh:  # rewritten in place: same size and inode, a new modification time
        fh.write(bytes(data))
    with Engine(cache) as eng:
        eng.component()
        assert "compile_s" in eng.timings, "a file changed after its check must be hashed again"


def test_a_truncated_component_is_rebuilt(engine: Engine, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(Path(engine_cache_dir()) / "components", cache / "components")
    wasm = next((cache / "components").glob("guest-*.wasm"))
    wasm.write_bytes(wasm.read_bytes()[:1000])
    for compiled in (cache / "components").glob("compiled-*"):
        compiled.unlink()
    with Engine(cache) as eng:
        eng.component()
        assert "build_s" in eng.timings
    assert wasm.stat().st_size > 1_000_000


def test_cache_status_and_source_hash(engine: Engine) -> None:
    assert len(guest_source_hash()) == 64
    assert cache_status().startswith("built")


def engine_cache_dir() -> str:
    from mcp_kernel.paths import cache_dir

    return str(cache_dir())
