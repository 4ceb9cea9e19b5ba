"""One real wasmtime engine with the real guest component, shared by the sandbox tests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mcp_kernel.errors import ToolCallError
from mcp_kernel.sandbox import Engine, Sandbox


class EchoHost:
    """A host handler with real logic: echoes calls, refuses the tool named 'refuse'."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def call_tool(self, server: str, tool: str, params_json: str, scope: object = None) -> str:
        params = json.loads(params_json)
        self.calls.append((server, tool, params))
        if tool == "refuse":
            raise ToolCallError(f"{server}.{tool} refused: {params.get('why', 'no reason')}")
        if tool == "explode":
            raise RuntimeError("host bug")
        return json.dumps({"server": server, "tool": tool, "params": params})


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    with Engine() as eng:
        eng.component()
        yield eng


@pytest.fixture()
def host() -> EchoHost:
    return EchoHost()


@pytest.fixture()
def sandbox(engine: Engine, host: EchoHost, tmp_path) -> Iterator[Sandbox]:
    tools = tmp_path / "mcp-tools"
    (tools / "servers" / "fake").mkdir(parents=True)
    (tools / "servers" / "__init__.py").write_text("")
    (tools / "servers" / "fake" / "__init__.py").write_text(
        "def echo(**params):\n    from _mcp_runtime import call_tool\n    return call_tool('fake', 'echo', params)\n"
    )
    with Sandbox(engine, host=host, tools_dir=tools, workspace=tmp_path / "workspace") as sb:
        yield sb
