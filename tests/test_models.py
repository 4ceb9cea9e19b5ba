"""The models package: one import path for every model, whichever module it lives in, and models whose
references to models of other modules resolve."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel

import mcp_kernel.models as models

MODELS = [getattr(models, name) for name in models.__all__ if name not in {"REDACTED", "_Model"}]


def test_every_public_name_is_exported_once_from_the_package() -> None:
    assert sorted(models.__all__) == sorted(set(models.__all__))
    assert all(hasattr(models, name) for name in models.__all__)
    assert all(isinstance(cls, type) and issubclass(cls, BaseModel) for cls in MODELS)


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_each_model_builds_its_schema(cls: type[BaseModel]) -> None:
    """A reference to a model of another module (DemoReport's ExecutionResult, say) resolves on first use."""
    assert cls.model_json_schema()["title"] == cls.__name__
    assert cls.__module__.startswith("mcp_kernel.models.")


def test_a_report_spanning_modules_builds_from_its_own_module_in_a_fresh_interpreter() -> None:
    code = (
        "from mcp_kernel.models.commands import DemoReport\n"
        "from mcp_kernel.models.tools import Introspection\n"
        "from mcp_kernel.models.servers import ServerInfo\n"
        "r = DemoReport(transport='stdio', introspection=Introspection(server_name='d', "
        "server=ServerInfo(name='d'), tools=[]))\n"
        "print(DemoReport.model_validate_json(r.model_dump_json()) == r)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
