"""A real MCP kernel, started through jupyter_client, shared by the end-to-end tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel


@dataclass
class Reply:
    """Everything the kernel sent for one execute request."""

    status: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)

    def of(self, msg_type: str) -> list[dict[str, Any]]:
        return [m["content"] for m in self.messages if m["msg_type"] == msg_type]

    @property
    def stdout(self) -> str:
        return "".join(c["text"] for c in self.of("stream") if c["name"] == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(c["text"] for c in self.of("stream") if c["name"] == "stderr")

    @property
    def bundles(self) -> list[dict[str, Any]]:
        return [c["data"] for c in self.of("display_data") + self.of("execute_result")]


class KernelDriver:
    def __init__(self, km: Any, kc: Any) -> None:
        self.km, self.kc = km, kc

    def execute(self, code: str, timeout: float = 120, on_busy: Any = None) -> Reply:
        msg_id = self.kc.execute(code)
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            messages.append(msg)
            if on_busy is not None and msg["msg_type"] == "execute_input":
                on_busy()
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        return Reply(status=reply["content"]["status"], messages=messages, reply=reply["content"])

    def alive(self) -> bool:
        return self.km.is_alive() and self.execute("1+1").bundles[0]["text/plain"] == "2"


@pytest.fixture(scope="module")
def kernel(kernelspec: str) -> Iterator[KernelDriver]:
    km, kc = start_new_kernel(kernel_name=kernelspec, startup_timeout=60)
    try:
        yield KernelDriver(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
