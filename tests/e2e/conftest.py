"""A real MCP kernel, started through jupyter_client, shared by the end-to-end tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_driver import KernelDriver, running_kernel


@pytest.fixture(scope="module")
def kernel(kernelspec: str) -> Iterator[KernelDriver]:
    with running_kernel(kernelspec) as kernel:
        yield kernel
