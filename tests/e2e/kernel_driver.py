"""Drive a real kernel through jupyter_client and collect what it sends for each request."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from queue import Empty
from typing import Any


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
        # A live display (build progress, the running line) opens empty and is emptied at the end: not a result.
        return [c["data"] for c in self.of("display_data") + self.of("execute_result") if c["data"]]


class KernelDriver:
    def __init__(self, km: Any, kc: Any) -> None:
        self.km, self.kc = km, kc

    def execute(self, code: str, timeout: float = 120, on_message: Any = None) -> Reply:
        msg_id = self.kc.execute(code)
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            messages.append(msg)
            if on_message is not None:
                on_message(msg)
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        return Reply(status=reply["content"]["status"], messages=messages, reply=reply["content"])

    def converse(
        self,
        code: str,
        answers: Sequence[str | None] = (),
        *,
        allow_stdin: bool = True,
        delay: float = 0.0,
        timeout: float = 120,
    ) -> tuple[Reply, list[str]]:
        """Execute ``code`` as a person at the frontend: each ``input_request`` gets the next of ``answers``
        (None: left unanswered; past the end: "n"), typed ``delay`` seconds after it was asked. Returns what
        the kernel sent and the prompts it asked with."""
        msg_id = self.kc.execute(code, allow_stdin=allow_stdin)
        pending, prompts, messages = list(answers), [], []
        ends = time.monotonic() + timeout
        while True:
            assert time.monotonic() < ends, f"no idle within {timeout:g} s; asked {prompts}"
            try:
                request = self.kc.get_stdin_msg(timeout=0.05)
            except Empty:
                request = None
            if request is not None and request["msg_type"] == "input_request":
                prompts.append(request["content"]["prompt"])
                answer = pending.pop(0) if pending else "n"
                if answer is not None:
                    time.sleep(delay)  # the person takes this long (only when a test asks for it)
                    self.kc.input(answer)
            try:
                msg = self.kc.get_iopub_msg(timeout=0.05)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            messages.append(msg)
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        return Reply(status=reply["content"]["status"], messages=messages, reply=reply["content"]), prompts

    def alive(self) -> bool:
        return self.km.is_alive() and self.execute("1+1").bundles[0]["text/plain"] == "2"


@contextmanager
def running_kernel(
    kernelspec: str = "mcp", env: Mapping[str, str] | None = None, *, now: bool = False
) -> Iterator[KernelDriver]:
    """A kernel of ``kernelspec`` started through jupyter_client (with ``env`` if given), shut down after."""
    from jupyter_client.manager import start_new_kernel  # jupyter_client: only where a kernel is started

    extra = {} if env is None else {"env": dict(env)}
    km, kc = start_new_kernel(kernel_name=kernelspec, startup_timeout=60, **extra)
    try:
        yield KernelDriver(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=now)
