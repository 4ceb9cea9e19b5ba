"""The public API is exactly what __all__ says, and the error tree has one root."""

from __future__ import annotations

import inspect

import pytest

import mcp_kernel
from mcp_kernel import errors


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in mcp_kernel.__all__:
        assert hasattr(mcp_kernel, name), name
    public = {
        n for n in dir(mcp_kernel) if not n.startswith("_") and not inspect.ismodule(getattr(mcp_kernel, n))
    }
    assert public - {"annotations"} <= set(mcp_kernel.__all__)


def test_every_error_descends_from_the_root_and_is_drawn_in_the_docstring() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MCPKernelError)
        assert name in errors.__doc__


@pytest.mark.slow
def test_importing_the_package_does_not_import_the_mcp_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, mcp_kernel, mcp_kernel.cli; print('mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_names_resolve_to_their_modules() -> None:
    from mcp_kernel.session import Session

    assert mcp_kernel.Session is Session
    try:
        mcp_kernel.NotAThing  # noqa: B018
    except AttributeError as exc:
        assert "NotAThing" in str(exc)
    else:
        raise AssertionError("unknown names must raise AttributeError")
