"""The host side of ``call-tool``: the only way sandboxed code reaches an MCP server.

Every call from the guest passes, in order: the server allowlist, the tool's existence, a size limit on
the parameters, JSON decoding, validation against the tool's input schema (then, with ``tokenize_pii``,
placeholders restored to the values they hide), then either the result cache (tools annotated read-only or
idempotent only) or the bridge's guards (guards.py: the call budget, approvals, the audit trail), a per-tool rate limit
and a real call over the pooled connection with a timeout. Each call is recorded (calllog.py: server, tool,
time, bytes in and out, cached, error). With :attr:`Bridge.views` (a sandbox session's bridge), the whole
result of a call to a tool with an MCP Apps view is kept for the cell's ``show()`` (views.py); such a call
is served from the cache only once its result is kept, since the cache holds a result's value alone.

Cache hints (``ttlMs``, ``cacheScope``, 2026-07-28) exist only on lists and reads (``CACHEABLE_METHODS`` of
the protocol's types), never on ``tools/call``: a tool's result is cached by its annotations and the cell's
policy alone. A resource read is cached only when its server hinted a positive ``ttlMs``, for the shorter
of that and the policy's age; 0 or no hint (the 2025 era) reaches the server every time. The cache is this
bridge's, and a bridge serves one sandbox session, which has one caller: a ``private`` read is never served
to another caller (serve gives each caller its own sessions), and no cache here is shared across callers.

For example::

    bridge = Bridge(lookup=registry.tool, acall=session.servers.acall, servers=["demo"])
    bridge.call_tool("demo", "list_regions", "{}")
    # '[{"region": "APAC", ...}]'
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import blake3
import cachetools

from ..approvals import Approvals
from ..errors import Interrupted, MCPKernelError, PolicyViolation, SandboxTimeout, ToolCallError
from ..models import BridgeStats, CallRecord, CallResult, ToolInfo
from ..runtime import Scope, ScopeStopped
from .budget import CallBudget
from .calllog import CallLog
from .guards import Guard, GuardedCall, admit, outcome_of, settle
from .params import ParamsCheck, warm_jsonschema
from .views import CellViews

__all__ = [
    "Bridge",
    "BridgeStats",
    "CallRecord",
    "RateLimiter",
    "ResultCache",
    "canonical_json",
]

ToolLookup = Callable[[str, str], ToolInfo]
# acall(server, tool, params, timeout, progress) -> a coroutine that makes the real call on the loop thread.
ToolCaller = Callable[[str, str, dict[str, Any], float, Any], Coroutine[Any, Any, CallResult]]
# Beyond a call's own timeout (which the connection enforces with a readable error), how long to wait.
_CALL_GRACE_S = 2.0


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so equal values hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ResultCache:
    """An LRU of tool results keyed by blake3(server, tool, canonical params), bounded in entries, bytes and age.

    An entry older than ``max_age_s`` is never served: a read-only tool's answer changes when the world
    does (an edited file, a new order), so the cache saves repeats within a short while, not forever.

    The byte bound is cachetools' ``LRUCache`` with ``getsizeof``; the entry bound evicts from the same LRU.
    The age is checked here, not by ``TTLCache``: a cell's policy may change ``max_age_s`` (see
    :meth:`Bridge.apply`) and the new age must hold for entries already stored, while ``TTLCache`` fixes an
    entry's expiry when it is stored (and its ``ttl`` cannot change).

    An entry may carry an age of its own (a server's ``ttlMs``): the shorter of the two holds.

    >>> cache = ResultCache(max_age_s=60)
    >>> cache.put(b"k", '{"rows": 1}')
    >>> cache.get(b"k")
    '{"rows": 1}'
    >>> cache.put(b"fresh-for-0s", "[]", max_age_s=0)
    >>> cache.get(b"fresh-for-0s") is None
    True
    """

    def __init__(
        self, max_entries: int = 1000, max_bytes: int = 64 * 1024 * 1024, max_age_s: float = 60.0
    ) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        # (when stored, the result's JSON, its own age bound); its size is the JSON's length
        self._items: cachetools.LRUCache[bytes, tuple[float, str, float]] = cachetools.LRUCache(
            max_bytes, getsizeof=lambda item: len(item[1])
        )
        self._lock = threading.Lock()

    @staticmethod
    def key(server: str, tool: str, params: Any) -> bytes:
        return blake3.blake3(canonical_json([server, tool, params]).encode("utf-8", "replace")).digest()

    def get(self, key: bytes) -> str | None:
        with self._lock:
            item = self._items.get(key)  # a hit becomes the most recently used
            if item is None:
                return None
            stored, value, own_age = item
            if time.monotonic() - stored > min(self.max_age_s, own_age):
                del self._items[key]
                return None
            return value

    def put(self, key: bytes, value: str, max_age_s: float | None = None) -> None:
        """Keep ``value`` under ``key``, no longer than ``max_age_s`` if given (and the cache's age)."""
        own_age = float("inf") if max_age_s is None else max_age_s
        if len(value) > self.max_bytes or min(self.max_age_s, own_age) <= 0:
            return
        with self._lock:
            self._items[key] = (
                time.monotonic(),
                value,
                own_age,
            )  # evicts the least recent until the bytes fit
            while len(self._items) > self.max_entries:
                self._items.popitem()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def max_bytes(self) -> int:
        return int(self._items.maxsize)

    @property
    def size_bytes(self) -> int:
        return int(self._items.currsize)


class RateLimiter:
    """At most ``per_second`` calls per tool in any one-second window (None: unlimited): a call past it is
    given the next free slot and waits for it, so a loop of 1,000 calls is paced, not failed.

    >>> limiter = RateLimiter(2)
    >>> [round(limiter.reserve("demo", "t", now=10.0), 1) for _ in range(3)]
    [0.0, 0.0, 1.0]
    """

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._slots: dict[
            tuple[str, str], list[float]
        ] = {}  # each tool's slots of the last second, and later
        self._lock = threading.Lock()

    def reserve(self, server: str, tool: str, now: float | None = None) -> float:
        """Take the next free slot for a call of ``server``.``tool``; the seconds to wait for it (0: go now)."""
        if self.per_second is None:
            return 0.0
        now = time.monotonic() if now is None else now
        limit = max(1, int(self.per_second))
        span = limit / self.per_second  # 1 s; longer for a rate under one call a second
        with self._lock:
            slots = self._slots.setdefault((server, tool), [])
            del slots[: bisect.bisect_right(slots, now - span)]  # out of every window from now on
            at = now if len(slots) < limit else max(now, slots[-limit] + span)
            bisect.insort(slots, at)
        return at - now


class Bridge:
    """Checks, caches, guards, forwards and records every tool call made from the sandbox."""

    def __init__(
        self,
        *,
        lookup: ToolLookup,
        acall: ToolCaller,
        servers: Iterable[str] = (),
        max_param_bytes: int = 1024 * 1024,
        rate_limit: float | None = 200.0,
        timeout: float = 30.0,
        cache: ResultCache | None = None,
        use_cache: bool = True,
        aread: Callable[[str, str, float], Any] | None = None,
        max_resource_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.lookup = lookup
        self.acall = acall
        # How resources are read: given, or the read of the object whose ``acall`` this is (a Session).
        self.aread = aread
        self.max_resource_bytes = max_resource_bytes
        self.servers = frozenset(servers)
        self.max_param_bytes = max_param_bytes
        self.timeout = timeout
        self.cache = cache if cache is not None else ResultCache()
        self.use_cache = use_cache
        self.limiter = RateLimiter(rate_limit)
        self.log = CallLog()
        # Placeholders for personal data in this session (see pii.py): restored in params once they are valid.
        self.pii: Any = None
        self.on_progress: Callable[[str, str, float, float | None, str | None], None] | None = None
        self.restore_pii = False
        # Who answers the questions servers ask during this cell's calls (None: they are declined).
        self.asker: Any = None
        # The run's call budget and approvals (fresh ones with each cell's policy) and the guards after them
        # (the audit).
        self.budget = CallBudget()
        self.approvals = Approvals()
        self.guards: tuple[Guard, ...] = ()
        self.caller = "notebook"  # who runs the code, as the audit names them
        self.views: CellViews | None = None  # the cell's results for show(), when its sandbox shows views
        self.params = ParamsCheck()
        warm_jsonschema()

    def apply(self, policy: Any) -> None:
        """Take the allowlist and limits of the next cell's ``SandboxPolicy`` (counters and cache stay) and
        start its call budget and approvals."""
        self.servers = frozenset(policy.servers)
        self.max_param_bytes = policy.max_param_bytes
        self.timeout = policy.tool_timeout_s
        self.use_cache = policy.cache
        self.restore_pii = policy.tokenize_pii
        self.cache.max_age_s = policy.cache_ttl_s
        if self.limiter.per_second != policy.rate_limit:
            self.limiter = RateLimiter(policy.rate_limit)
        self.budget = CallBudget(policy.max_calls, policy.max_calls_per_tool)
        self.approvals = Approvals(policy.approve, policy.approve_tools, policy.approval_timeout_s)
        if self.views is not None:
            self.views.servers = self.servers

    @property
    def on_call(self) -> Callable[[CallRecord], None] | None:
        """Told of each call as it ends (a live "N calls" display), outside the log's lock."""
        return self.log.on_call

    @on_call.setter
    def on_call(self, sink: Callable[[CallRecord], None] | None) -> None:
        self.log.on_call = sink

    # ---- the host function ------------------------------------------------------------------
    def call_tool(
        self, server: str, tool: str, params_json: str, scope: Scope | None = None, asker: Any = None
    ) -> str:
        """Run one call from the guest; return the result's JSON or raise an ``MCPKernelError``.

        ``scope`` is the cell's: stopping it cancels the call on the server and raises ``Interrupted``
        (or ``SandboxTimeout`` when the cell's deadline passed). ``asker`` asks the person an approval
        (default: the cell's, :attr:`asker`).
        """
        started, cell = time.perf_counter(), self.log.cell
        bytes_in = len(params_json.encode("utf-8", "replace"))
        try:
            value, cached = self._call(server, tool, params_json, bytes_in, scope or Scope(), asker)
        except MCPKernelError as exc:
            self.log.ended(
                cell, server, tool, started=started, bytes_in=bytes_in, arguments=params_json, error=exc
            )
            raise
        self.log.ended(
            cell,
            server,
            tool,
            started=started,
            bytes_in=bytes_in,
            arguments=params_json,
            value=value,
            cached=cached,
        )
        return value

    def _call(
        self, server: str, tool: str, params_json: str, bytes_in: int, scope: Scope, asker: Any = None
    ) -> tuple[str, bool]:
        if server not in self.servers:
            allowed = ", ".join(sorted(self.servers)) or "none"
            raise PolicyViolation(
                f"Server {server!r} is not allowed in this cell (allowed: {allowed}). "
                f"Add it with --servers {','.join(sorted({*self.servers, server}))}."
            )
        info = self.lookup(server, tool)
        if bytes_in > self.max_param_bytes:
            raise PolicyViolation(
                f"Parameters for {server}.{tool} are {bytes_in:,} bytes; the limit is {self.max_param_bytes:,}. "
                "Send less per call."
            )
        try:
            params = json.loads(params_json)
        except json.JSONDecodeError as exc:
            raise ToolCallError(
                f"Parameters for {server}.{tool} are not valid JSON: {exc.msg}.", server=server, tool=tool
            ) from None
        if not isinstance(params, dict):
            raise ToolCallError(
                f"Parameters for {server}.{tool} must be a JSON object.", server=server, tool=tool
            )
        params = self.params.checked(server, info, params, self.pii if self.restore_pii else None)
        views = self.views if self.views is not None and CellViews.has_view(info) else None
        key = None
        if self.use_cache and info.cacheable and (views is None or views.kept(server, tool, params_json)):
            key = ResultCache.key(server, tool, params)
            hit = self.cache.get(key)
            if hit is not None:
                return hit, True
        guards: tuple[Guard, ...] = (self.budget, self.approvals, *self.guards)
        call = GuardedCall(
            server,
            tool,
            info,
            params,
            bytes_in,
            self.caller,
            asker=asker or self.asker,
            scope=scope,
            mask=self._shown,
        )
        admit(guards, call)  # only calls that would reach the server
        try:
            value, result = self._send(scope, server, tool, params)
        except MCPKernelError as exc:
            settle(guards, call, outcome_of(exc))
            raise
        settle(guards, call, "ok")
        if views is not None:
            views.keep(server, tool, params_json, result)
        if key is not None:
            self.cache.put(key, value)
        return value, False

    def _shown(self, text: str) -> str:
        """``text`` as a person may see it: personal data masked when the cell's policy masks it."""
        return self.pii.tokenize(text)[0] if self.restore_pii and self.pii is not None else text

    def _send(self, scope: Scope, server: str, tool: str, params: dict[str, Any]) -> tuple[str, CallResult]:
        """The call itself, paced, on the server; its value's JSON, and the whole result."""
        self._pace(scope, server, tool)
        sink = self.on_progress
        progress = (
            None
            if sink is None
            else (lambda value, total, message: _report(sink, server, tool, value, total, message))
        )
        result = self._in_scope(
            scope, self.acall(server, tool, params, self.timeout, progress), f"{server}.{tool}", server, tool
        )
        if result.is_error:
            raise ToolCallError(
                f"{server}.{tool} failed: {result.text or 'the server reported an error'}",
                server=server,
                tool=tool,
            )
        value = json.dumps(result.value, ensure_ascii=False)
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate from the server: escape it, the guest stays up
                value = json.dumps(result.value, ensure_ascii=True)
        return value, result

    def _pace(self, scope: Scope, server: str, tool: str) -> None:
        """Wait for the call's slot under the rate limit, in the cell's scope (a stop or the time limit ends it)."""
        wait = self.limiter.reserve(server, tool)
        if wait > 0:
            self._in_scope(
                scope,
                asyncio.sleep(wait),
                f"a wait of {wait:.2f} s for {server}.{tool}'s rate limit",
                server,
                tool,
            )

    def _in_scope(self, scope: Scope, request: Any, what: str, server: str, tool: str) -> Any:
        """Run one request in the cell's scope: its stop and deadline cancel it, its own timeout bounds it."""
        if self.asker is not None:
            request = _asked(self.asker, request)
        try:
            return scope.run(request, self.timeout + _CALL_GRACE_S)
        except ScopeStopped as stop:
            if stop.reason == "timeout":
                raise SandboxTimeout(
                    f"the cell's time limit passed during {what}; it was cancelled."
                ) from None
            raise Interrupted(f"{what} was cancelled ({stop.reason}).") from None
        except TimeoutError:
            raise ToolCallError(
                f"{what} got no answer within {self.timeout:g} s.", server=server, tool=tool
            ) from None

    def read_resource(self, server: str, uri: str, scope: Scope | None = None) -> str:
        """Read one resource for the guest: the allowlist, a size limit and the cell's scope, as for tools.

        Served from the cache while the server's ``ttlMs`` (and the policy's age) allow, see the module.
        Recorded like a call, with the tool named ``resources/read``. Returns the parts as JSON.
        """
        started, cell = time.perf_counter(), self.log.cell
        what = "resources/read"
        arguments = json.dumps({"uri": uri})
        cached = False
        try:
            if server not in self.servers:
                allowed = ", ".join(sorted(self.servers)) or "none"
                raise PolicyViolation(
                    f"Server {server!r} is not allowed in this cell (allowed: {allowed}). "
                    f"Add it with --servers {','.join(sorted({*self.servers, server}))}."
                )
            if self.aread is None:
                raise ToolCallError("This sandbox's host cannot read resources.", server=server, tool=what)
            key = ResultCache.key(server, what, {"uri": uri})
            hit = self.cache.get(key) if self.use_cache else None
            if hit is not None:
                value, cached = hit, True
            else:
                value = self._read(self.aread, server, uri, key, scope or Scope())
        except MCPKernelError as exc:
            self.log.ended(
                cell, server, what, started=started, bytes_in=len(uri), arguments=arguments, error=exc
            )
            raise
        self.log.ended(
            cell,
            server,
            what,
            started=started,
            bytes_in=len(uri),
            arguments=arguments,
            value=value,
            cached=cached,
        )
        return value

    def _read(
        self, aread: Callable[[str, str, float], Any], server: str, uri: str, key: bytes, scope: Scope
    ) -> str:
        """The read itself, on the server; kept in the cache for as long as the server's ``ttlMs`` says."""
        what = "resources/read"
        self._pace(scope, server, what)
        read = self._in_scope(
            scope, aread(server, uri, self.timeout), f"the read of {uri!r} of {server}", server, what
        )
        value = json.dumps([c.model_dump(exclude_none=True) for c in read.contents], ensure_ascii=False)
        if len(value.encode("utf-8", "replace")) > self.max_resource_bytes:
            raise PolicyViolation(
                f"Resource {uri!r} of {server} is {len(value):,} bytes; the limit for a "
                f"sandboxed read is {self.max_resource_bytes:,}. Read it outside the sandbox "
                f"with `%mcp read {server} {uri}`."
            )
        ttl_ms = getattr(read, "ttl_ms", None)  # a ResourceRead; None from a host that gives no hints
        if self.use_cache and ttl_ms:
            self.cache.put(key, value, max_age_s=ttl_ms / 1000)
        return value

    # ---- records and stats -------------------------------------------------------------------
    def take_records(self) -> list[CallRecord]:
        """The records of the calls started since the last take (one cell's calls); see calllog.py."""
        return self.log.take()

    def stats(self) -> BridgeStats:
        return self.log.stats(len(self.cache), self.cache.size_bytes)


async def _asked(asker: Any, request: Any) -> Any:
    """``request`` with ``asker`` attached: the server's questions during it go to that person."""
    from ..elicitation import attached  # ~6 ms to import: only when a call carries its asker

    with attached(asker):
        return await request


def _report(
    sink: Callable[..., None], server: str, tool: str, value: float, total: float | None, message: str | None
) -> None:
    with contextlib.suppress(Exception):  # a failing display never fails the call
        sink(server, tool, value, total, message)
