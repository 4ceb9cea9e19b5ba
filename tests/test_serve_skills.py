"""Skills through `mcp-kernel serve --http` with two callers, driven by the SDK's own client over real HTTP:
each caller's skills are its own (saved, found, read and imported only by it), and a skill file forged or
changed on disk is never found nor imported."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import blake3
import pytest
from realservers import free_port, running
from test_serve import caller_client, serve_argv

pytestmark = pytest.mark.slow

ALICE, BOB = "alice-" + "a1" * 20, "bob-" + "b2" * 20
SAVE = '''
from servers.demo import list_regions
from skills import save_skill

def regional_orders(region: str) -> int:
    """How many orders a sales region has."""
    return {r["region"]: r["orders"] for r in list_regions()["regions"]}[region]

save_skill(regional_orders)
'''
USE = "from skills.regional_orders import regional_orders\nregional_orders('EU')"


def store_of(data: Path, caller: str) -> Path:
    return data / "skills" / ".callers" / blake3.blake3(caller.encode()).hexdigest()[:24]


def test_each_caller_has_its_own_skills_and_forged_files_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}})
    )
    callers = tmp_path / "callers.json"
    callers.write_text(json.dumps({"alice": ALICE, "bob": BOB}))
    data = tmp_path / "data"
    env = {**__import__("os").environ, "MCP_KERNEL_DATA_DIR": str(data)}
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    place = {"config": str(config)}

    async def main() -> None:
        async with AsyncExitStack() as stack:
            alice, bob = await caller_client(stack, url, ALICE), await caller_client(stack, url, BOB)

            async def tool(client: Any, name: str, **arguments: Any) -> tuple[str, dict[str, Any]]:
                result = await client.call_tool(name, arguments)
                text = "\n".join(b.text for b in result.content if b.type == "text")
                return text, result.structured_content or {}

            saved, _ = await tool(alice, "execute", code=SAVE)
            assert "Saved skill 'regional_orders' v1 (calls demo)" in saved, saved
            used, _ = await tool(alice, "execute", code=USE)  # a new session
            assert used.strip().isdigit() and int(used) > 0, used
            found, _ = await tool(alice, "search_tools", query="orders region")
            assert (
                "skills: def regional_orders(region: str) -> int: How many orders a sales region has."
                in found
            )
            listing, _ = await tool(alice, "read", path="/mcp-tools/skills")
            assert "regional_orders.py" in listing and "INDEX.md" in listing

            # bob finds nothing of alice's, cannot read or import it, and his own skill of that name is his
            assert "regional_orders" not in (await tool(bob, "search_tools", query="orders region"))[0]
            assert "regional_orders" not in (await tool(bob, "read", path="/mcp-tools/skills"))[0]
            assert "ModuleNotFoundError" in (await tool(bob, "execute", code=USE))[0]
            his = SAVE.replace("How many orders", "Bob's count of orders").replace(
                '["orders"] for r', '["orders"] * 0 for r'
            )
            assert "v1" in (await tool(bob, "execute", code=his))[0]
            assert (await tool(bob, "execute", code=USE))[0].strip() == "0"
            assert (await tool(alice, "execute", code=USE))[0].strip() == used.strip(), "alice's is unchanged"

            # an outbox entry written by the code itself, not by save_skill, is checked like any other
            forged_entry = (
                "import json, os\nos.makedirs('/workspace/.mcp-skills/outbox', exist_ok=True)\n"
                "json.dump({'name': '../alice', 'source': 'def x():\\n  \"X.\"\\n'}, "
                "open('/workspace/.mcp-skills/outbox/0000.json', 'w'))"
            )
            assert (
                "Not saved: '../alice' cannot name a skill"
                in (await tool(bob, "execute", code=forged_entry))[0]
            )

            # files placed in alice's store behind serve's back: a forged skill, and her skill changed
            store = store_of(data, "alice")
            source = "def planted() -> str:\n    'Planted.'\n    return 'planted'\n"
            record = {
                "name": "planted",
                "version": 1,
                "description": "Planted.",
                "signature": "def planted() -> str",
                "servers": [],
                "skills": [],
                "saved_at": "2026-01-01T00:00:00+00:00",
                "size": len(source),
            }
            body = json.dumps(record, sort_keys=True).encode() + b"\0" + source.encode()
            record["checksum"] = blake3.blake3(body).hexdigest()  # a checksum, but not with the store's key
            (store / "planted").mkdir()
            (store / "planted" / "v1.py").write_text(source)
            (store / "planted" / "v1.json").write_text(json.dumps(record))
            changed = store / "regional_orders" / "v1.py"
            changed.write_text(changed.read_text().replace("[region]", "[region] + 1000"))
            # a save through serve marks the store changed, so everything in it is read (and checked) again
            other = "from skills import save_skill\ndef twice(x: int) -> int:\n    'Twice x.'\n    return 2 * x\nsave_skill(twice)"
            assert "Saved skill 'twice' v1" in (await tool(alice, "execute", code=other))[0]
            found, _ = await tool(alice, "search_tools", query="", detail="name", limit=200)
            assert "skills.twice" in found and "planted" not in found and "regional_orders" not in found, (
                found
            )
            assert (
                "ModuleNotFoundError"
                in (await tool(alice, "execute", code="from skills.planted import planted"))[0]
            )
            assert "ModuleNotFoundError" in (await tool(alice, "execute", code=USE))[0]

    argv = serve_argv(place, "--http", f"127.0.0.1:{port}", "--callers", str(callers), "--park-dir", "none")
    with running(argv, port, env=env, timeout=60):
        asyncio.run(main())
    listed = __import__("subprocess").run(
        [sys.executable, "-m", "mcp_kernel.cli", "skills", "list", "--caller", "alice"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    broken = {line.split()[0] for line in listed.stdout.splitlines() if "BROKEN" in line}
    assert broken == {"regional_orders", "planted"}, listed.stdout
    assert "checksum does not match" in listed.stdout


def test_a_shared_skill_reaches_agents_through_the_pii_masking(tmp_path: Path) -> None:
    """With ``--skills shared`` agents see the person's skills; what a person wrote in one (an address in its
    docstring) passes the masking like everything else serve sends."""
    from test_serve import stdio_client, text

    from mcp_kernel.settings import MCPKernel
    from mcp_kernel.skills import skill_store

    data = tmp_path / "data"
    settings = MCPKernel(skills_dir=str(data / "skills"))
    skill_store(settings).save("pay_4111111111111111", "def pay_4111111111111111():\n    'Pay.'\n")
    skill_store(settings).save(
        "remind_ana",
        "def remind_ana() -> str:\n    'Remind ana.lopez@example.org of the EU numbers.'\n    return 'ana.lopez@example.org'\n",
    )
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "mcp_kernel.demo"]}}})
    )
    place = {"config": str(config), "env": {**__import__("os").environ, "MCP_KERNEL_DATA_DIR": str(data)}}

    async def main() -> list[str]:
        async with stdio_client(place, "--skills", "shared", "--tokenize-pii") as agent:
            return [
                text(await agent.call_tool("search_tools", {"query": "remind", "detail": detail}))
                for detail in ("name", "signature", "full")
            ] + [
                text(await agent.call_tool("read", {"path": "/mcp-tools/skills/remind_ana.py"})),
                text(await agent.call_tool("read", {"path": "/mcp-tools/skills/INDEX.md"})),
                text(await agent.call_tool("read", {"path": "/mcp-tools/skills"})),
                text(
                    await agent.call_tool(
                        "execute", {"code": "from skills.remind_ana import remind_ana\nremind_ana()"}
                    )
                ),
            ]

    seen = asyncio.run(main())
    assert all("remind_ana" in answer for answer in seen[:5]), seen
    assert not any("ana.lopez" in answer or "4111111111111111" in answer for answer in seen), seen
    assert "pay_<CARD_" in seen[4] and "pay_<CARD_" in seen[5], "the index and the listing name it masked"
    assert "<EMAIL_1>" in seen[1] and "<EMAIL_" in seen[-1], seen
