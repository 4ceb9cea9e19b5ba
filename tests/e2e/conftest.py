"""A real MCP kernel, started through jupyter_client, shared by the end-to-end tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.manager import start_new_kernel
from kernel_driver import KernelDriver


@pytest.fixture(scope="module")
def kernel(kernelspec: str) -> Iterator[KernelDriver]:
    km, kc = start_new_kernel(kernel_name=kernelspec, startup_timeout=60)
    try:
        yield KernelDriver(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
