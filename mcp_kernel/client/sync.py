"""The blocking face of a connection, for callers on any thread but the loop's.

Each method runs its ``a*`` twin on the background loop (:mod:`mcp_kernel.runtime`) and waits a little
longer than the call's own timeouts (``GRACE``), so a loop that hangs still gives the caller an answer.

>>> GRACE
5.0
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import runtime
from ..errors import ServerTimeout
from ..models import (
    CallResult,
    Completion,
    PromptList,
    PromptView,
    ResourceList,
    ResourceRead,
    ServerInfo,
    ServerSpec,
    ToolInfo,
)
from .operations import ProgressCallback
from .serverlog import ServerLog

__all__ = ["GRACE", "SyncFacade", "run"]

# How long the synchronous facade waits beyond a call's own timeout before giving up on the loop.
GRACE = 5.0


class SyncFacade:
    """Synchronous twins of a :class:`~mcp_kernel.client.Connection`'s ``a*`` methods."""

    if TYPE_CHECKING:  # what the Connection these methods belong to provides
        from collections.abc import Coroutine

        spec: ServerSpec
        timeout: float
        connect_timeout: float
        _owner: asyncio.Task[None] | None
        _log: ServerLog

        def aclose(self) -> Coroutine[Any, Any, None]: ...

        def aconnect(self) -> Coroutine[Any, Any, ServerInfo]: ...
        def alist_tools(self, *, refresh: bool = False) -> Coroutine[Any, Any, list[ToolInfo]]: ...
        def acall_tool(
            self,
            tool: str,
            arguments: dict[str, Any] | None = None,
            *,
            timeout: float | None = None,
            progress: ProgressCallback | None = None,
        ) -> Coroutine[Any, Any, CallResult]: ...
        def alist_resources(self) -> Coroutine[Any, Any, ResourceList]: ...
        def aread_resource(
            self, uri: str, *, timeout: float | None = None
        ) -> Coroutine[Any, Any, ResourceRead]: ...
        def alist_prompts(self) -> Coroutine[Any, Any, PromptList]: ...
        def aget_prompt(
            self, name: str, arguments: dict[str, str] | None = None
        ) -> Coroutine[Any, Any, PromptView]: ...
        def awatch(
            self, uri: str, on_update: Callable[[str], None]
        ) -> Coroutine[Any, Any, Callable[[], None]]: ...
        def acomplete(
            self,
            ref: Literal["prompt", "resource"],
            name: str,
            argument: str,
            value: str = "",
            context: dict[str, str] | None = None,
        ) -> Coroutine[Any, Any, Completion]: ...

    def connect(self) -> ServerInfo:
        """Start the server if needed; return its handshake info."""
        return run(self.aconnect(), self.connect_timeout + GRACE, self.spec.name)

    def list_tools(self, *, refresh: bool = False) -> list[ToolInfo]:
        """Every tool the server publishes (cached until ``refresh`` or a reconnect)."""
        return run(
            self.alist_tools(refresh=refresh), self.connect_timeout + self.timeout + GRACE, self.spec.name
        )

    def call_tool(
        self,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> CallResult:
        """Call ``tool`` with ``arguments``; see :meth:`acall_tool`."""
        wait = self.connect_timeout + (self.timeout if timeout is None else timeout) + GRACE
        return run(self.acall_tool(tool, arguments, timeout=timeout, progress=progress), wait, self.spec.name)

    def list_resources(self) -> ResourceList:
        """Every resource and resource template; see :meth:`alist_resources`."""
        return run(self.alist_resources(), self.connect_timeout + 2 * self.timeout + GRACE, self.spec.name)

    def read_resource(self, uri: str, *, timeout: float | None = None) -> ResourceRead:
        """Read one resource; see :meth:`aread_resource`."""
        wait = self.connect_timeout + 3 * (self.timeout if timeout is None else timeout) + GRACE
        return run(self.aread_resource(uri, timeout=timeout), wait, self.spec.name)

    def list_prompts(self) -> PromptList:
        return run(self.alist_prompts(), self.connect_timeout + self.timeout + GRACE, self.spec.name)

    def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> PromptView:
        """One prompt filled in; see :meth:`aget_prompt`."""
        return run(
            self.aget_prompt(name, arguments), self.connect_timeout + 2 * self.timeout + GRACE, self.spec.name
        )

    def watch(self, uri: str, on_update: Callable[[str], None]) -> Callable[[], None]:
        """Follow updates of one resource; see :meth:`awatch`."""
        return run(self.awatch(uri, on_update), self.connect_timeout + GRACE, self.spec.name)

    def complete(
        self,
        ref: Literal["prompt", "resource"],
        name: str,
        argument: str,
        value: str = "",
        context: dict[str, str] | None = None,
    ) -> Completion:
        """Suggested values for one argument; see :meth:`acomplete`."""
        return run(
            self.acomplete(ref, name, argument, value, context),
            self.connect_timeout + self.timeout + GRACE,
            self.spec.name,
        )

    def close(self) -> None:
        """Stop the server; safe to call twice."""
        if self._owner is None and self._log.closed:
            return
        with contextlib.suppress(TimeoutError, RuntimeError):
            runtime.run(self.aclose(), timeout=10)


def run(coro: Any, timeout: float, server: str) -> Any:
    """Run ``coro`` on the loop; a calling thread with an asker attached answers the server's questions
    while it waits (only it may read from the person)."""
    from ..elicitation import current  # ~6 ms to import: paid on the first call, not at start-up

    asker = current()
    try:
        if asker is None:
            return runtime.run(coro, timeout)
        future = runtime.submit(coro)
        try:
            return asker.serve(future, timeout)
        except BaseException:
            future.cancel()
            raise
    except TimeoutError:
        raise ServerTimeout(
            f"Server {server!r} did not answer within {timeout:g} s.", server=server
        ) from None
