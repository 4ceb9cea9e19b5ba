"""The program inside the sandbox: CPython (built into a component by componentize-py) running cells.

``run-cell`` takes a JSON request ``{"code": ..., "output_limit": bytes, "name": "[9]"}`` and answers with JSON
``{"value_repr", "value_json", "error", "truncated"}``; what the cell prints goes to the host as it is
printed (the ``log`` import with level ``stdout``/``stderr``), where it is kept and capped. Cells share one globals dict,
so state persists across cells like a notebook. Tools are reached only through the host import
``call-tool``, wrapped here as the ``_mcp_runtime`` module that generated bindings import.

Only modules imported while the component is built exist at run time (the interpreter is snapshotted
then), so the standard library is imported broadly below, once, at build time.
"""

import ast
import collections
import importlib
import io
import json
import linecache
import os
import sys
import traceback
import types

import wit_world
from componentize_py_types import Err
from wit_world.imports import host

# ---- the standard library, snapshotted at build time ----------------------------------------------------
# Left out: modules with side effects on import, interactive tools, and packages for other platforms.
_SKIP = {
    "antigravity",
    "this",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "ensurepip",
    "venv",
    "pydoc",
    "pydoc_data",
    "test",
    "lib2to3",
    "webbrowser",
    "pdb",
    "code",
    "codeop",
    "doctest",
    "unittest",
}
_SUBMODULES = [
    "xml.etree.ElementTree",
    "xml.dom.minidom",
    "html.parser",
    "html.entities",
    "urllib.parse",
    "email.message",
    "email.utils",
    "email.mime.text",
    "json.decoder",
    "collections.abc",
    "importlib.resources",
    "importlib.metadata",
    "logging.handlers",
    "concurrent.futures",
    "os.path",
    "encodings.idna",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.latin_1",
    "encodings.ascii",
    "encodings.cp1252",
    "encodings.unicode_escape",
    "encodings.raw_unicode_escape",
    "encodings.base64_codec",
    "encodings.hex_codec",
    "zoneinfo._common",
    "zoneinfo._tzpath",
    "zoneinfo._zoneinfo",
    "_pydecimal",
    "_strptime",
]
STDLIB_LOADED = []
for _name in sorted(sys.stdlib_module_names) + _SUBMODULES:
    if _name in _SKIP or (_name.startswith("_") and _name not in _SUBMODULES):
        continue
    try:
        importlib.import_module(_name)
        STDLIB_LOADED.append(_name)
    except BaseException:
        pass


# ---- _mcp_runtime: what generated bindings call ----------------------------------------------------------
class ToolCallError(Exception):
    """A tool call the host refused or the server failed; the message says which and why."""


class CellTimeout(BaseException):
    """The cell's time limit passed while it waited on the host (not catchable by `except Exception`)."""


ToolCallError.__module__ = CellTimeout.__module__ = "_mcp_runtime"


def _text(value):
    """``value`` as a string the host can take: lone surrogates become backslash escapes, never a crash."""
    text = str(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# ---- the host imports, guarded -----------------------------------------------------------------------------
# componentize-py lowers each argument of a host import in Rust, and a value it cannot lower (a lone
# surrogate, an int where a string goes, a negative id) panics there: a wasm trap that ends the instance and
# every variable of the session. Cells can reach the raw imports (``import wit_world.imports.host``), so
# the guard sits in that module itself: each function checks and cleans its arguments, then calls the
# generated one, which reaches the runtime's ``call_import`` through a private namespace. The public
# ``componentize_py_runtime.call_import`` is replaced by one that refuses (it would need the same checks
# per import index).
# Argument kinds per import, as in world.wit (the build fails when an import is missing here).
_U32, _U64 = (1 << 32) - 1, (1 << 64) - 1
_HOST_ARGS = {
    "call_tool": ("str", "str", "str"),
    "start_call": ("str", "str", "str"),
    "wait_calls": ("u64 list", "u32"),
    "read_resource": ("str", "str"),
    "log": ("str", "str"),
    "get_state": ("str",),
    "set_state": ("str", "str"),
    "keep_snapshot": ("str",),
}


def _host_arg(function, position, kind, value):
    if kind == "str":
        if not isinstance(value, str):
            raise TypeError(f"{function}() argument {position} must be str, not {type(value).__name__}")
        return _text(value)
    top = _U32 if kind == "u32" else _U64
    values = value if kind == "u64 list" else [value]
    if kind == "u64 list" and not isinstance(value, (list, tuple)):
        raise TypeError(
            f"{function}() argument {position} must be a list of ints, not {type(value).__name__}"
        )
    for item in values:
        if type(item) is not int:
            raise TypeError(f"{function}() argument {position} needs ints, not {type(item).__name__}")
        if not 0 <= item <= top:
            raise ValueError(f"{function}() argument {position}: {item} is outside 0..{top}")
    return list(value) if kind == "u64 list" else value


def _guarded(name, raw):
    kinds = _HOST_ARGS[name]

    def guarded(*args):
        if len(args) != len(kinds):
            raise TypeError(f"{name}() takes {len(kinds)} arguments ({len(args)} given)")
        return raw(*[_host_arg(name, i + 1, kind, a) for i, (kind, a) in enumerate(zip(kinds, args))])

    guarded.__name__ = guarded.__qualname__ = name
    guarded.__doc__ = raw.__doc__
    return guarded


def _refuse_call_import(*args, **kwargs):
    raise TypeError(
        "componentize_py_runtime.call_import is not for cells: call the functions of "
        "wit_world.imports.host (or _mcp_runtime) instead"
    )


def _guard_host():
    """Put the guarded imports into ``wit_world.imports.host`` (again before each cell: a cell may undo it)."""
    for name, guarded in _GUARDED.items():
        setattr(host, name, guarded)
    componentize_py_runtime.call_import = _refuse_call_import


import componentize_py_runtime  # noqa: E402

_PRIVATE_RUNTIME = types.SimpleNamespace(call_import=componentize_py_runtime.call_import)
_HOST_RAW = {}
for _name, _function in list(vars(host).items()):
    if isinstance(_function, types.FunctionType) and _function.__module__ == host.__name__:
        if _name not in _HOST_ARGS:
            raise RuntimeError(f"host import {_name!r} has no entry in _HOST_ARGS (mcp_guest.py)")
        _private = dict(vars(host), componentize_py_runtime=_PRIVATE_RUNTIME)
        _HOST_RAW[_name] = types.FunctionType(_function.__code__, _private, _name, _function.__defaults__)
_GUARDED = {name: _guarded(name, raw) for name, raw in _HOST_RAW.items()}
_guard_host()


_STOPPED = [False]  # the host stopped this cell: it unwinds, and its variables are not snapshotted


# What a cell gets, by the kind code the host puts before its message (mcp_kernel/sandbox/hosterrors.py): a
# stopped cell unwinds with a BaseException, a failed call raises ToolCallError that user code may catch.
_HOST_ERRORS = {"interrupt": KeyboardInterrupt, "timeout": CellTimeout, "error": ToolCallError}


def _raise_from_host(text):
    """Raise the host's error ``kind<TAB>message`` as the exception of its kind."""
    kind, tab, message = text.partition("\t")
    if not tab or kind not in _HOST_ERRORS:
        kind, message = "error", text  # never expected: the whole text is the best message there is
    _raise_host_error(kind, message)


def _raise_host_error(kind, message):
    error = _HOST_ERRORS[kind]
    if error is not ToolCallError:
        _STOPPED[0] = True
    raise error(message)


_DECODE = json.JSONDecoder().raw_decode
# The runtime's own JSON functions: a cell that replaces json.dumps or json.loads changes its own, not these.
_dumps, _loads = json.dumps, json.loads


def _names(server, tool):
    if not isinstance(server, str) or not isinstance(tool, str):
        raise TypeError(
            f"server and tool are names (str), not {type(server).__name__} and {type(tool).__name__}"
        )
    return _text(server), _text(tool)


def call_tool(server, tool, params=None):
    """Call ``tool`` on ``server`` through the host bridge; return the tool's value."""
    server, tool = _names(server, tool)
    _flush_output()
    text = host.call_tool(server, tool, _dumps(params or {}))
    if text[:1] != "+":
        _raise_from_host(text[1:])
    return _DECODE(text, 1)[0]  # parsed in place: a large result is not copied first


def read_resource(server, uri):
    """Read resource ``uri`` of ``server`` through the host bridge: a list of parts, each a dict with
    ``uri``, ``mime_type``, ``size`` and ``text`` (or ``blob``, base64)."""
    _flush_output()
    try:
        text = host.read_resource(_text(server), _text(uri))
    except Err as exc:
        _raise_from_host(exc.value)
    return _loads(text)


# ---- asyncio without sockets: an event loop whose "selector" waits on the host's tool calls ---------------
import asyncio  # noqa: E402
import asyncio.base_events  # noqa: E402
import time as _time  # noqa: E402

_MAX_CALLS = [256]  # calls in flight at once, as the host allows (each cell's request says)


class _HostSelector:
    """What the loop waits on: the host's tool calls in flight (there are no sockets or pipes in here)."""

    def __init__(self, loop):
        self.loop = loop

    def select(self, timeout):
        pending = self.loop._calls
        if not pending and timeout is None:
            return []  # nothing to wait for: the loop is about to find out
        return _wait_host(list(pending), timeout)

    def close(self):
        pass


def _wait_host(ids, timeout):
    """Wait on the host for calls ``ids`` (or just ``timeout`` seconds); an interrupt there raises here."""
    millis = 0xFFFFFFFF if timeout is None else max(0, min(int(timeout * 1000), 0xFFFFFFFE))
    _flush_output()
    answer = _loads(host.wait_calls(ids, millis))
    if answer.get("stopped"):
        _raise_host_error(
            "timeout" if answer["stopped"] == "timeout" else "interrupt",
            "the cell was stopped while it waited.",
        )
    return answer["done"]


def _sleep(seconds):
    """time.sleep that the host can cut short: an interrupt or the time limit stops a sleeping cell too."""
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = _time.monotonic() + seconds
    while True:
        left = end - _time.monotonic()
        if left <= 0:
            return
        _wait_host([], min(left, 3600))


_time.sleep = _sleep


class HostEventLoop(asyncio.base_events.BaseEventLoop):
    """An asyncio loop for the sandbox: timers and tasks as usual, I/O = tool calls run by the host."""

    def __init__(self):
        super().__init__()
        self._selector = _HostSelector(self)
        self._calls = {}
        self._queued = collections.deque()  # calls past the host's in-flight limit, started as others end

    def _process_events(self, event_list):
        for call_id, ok, text in event_list:
            future = self._calls.pop(call_id, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(_loads(text))
            else:
                try:
                    _raise_from_host(text)
                except BaseException as exc:
                    future.set_exception(exc)
        while self._queued and len(self._calls) < _MAX_CALLS[0]:
            server, tool, params, future = self._queued.popleft()
            if not future.done():  # a queued call its task gave up on is never sent
                self._start_call(server, tool, params, future)

    def _write_to_self(self):
        pass  # one thread: nothing to wake up from outside

    def call_tool(self, server, tool, params):
        """Start a tool call on the host (or queue it while the host's limit of calls in flight is reached,
        so a gather over more calls than that still runs them all); a future of its value."""
        future = self.create_future()
        server, tool = _names(server, tool)
        if len(self._calls) >= _MAX_CALLS[0]:
            self._queued.append((server, tool, params, future))
        else:
            self._start_call(server, tool, params, future)
        return future

    def _start_call(self, server, tool, params, future):
        try:
            call_id = host.start_call(server, tool, _dumps(params or {}))
        except Err as exc:
            try:
                _raise_from_host(exc.value)
            except BaseException as err:
                future.set_exception(err)
            return
        self._calls[call_id] = future


class _HostLoopPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return HostEventLoop()


def _install_loop_policy():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(_HostLoopPolicy())


_install_loop_policy()


async def call_tool_async(server, tool, params=None):
    """Call ``tool`` on ``server`` without blocking the event loop: calls gathered together run at once."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, HostEventLoop):
        return call_tool(server, tool, params)
    return await loop.call_tool(server, tool, params)


def get_state(key, default=None):
    """A value saved with ``set_state`` in this session (also in earlier cells), or ``default``."""
    text = host.get_state(_text(key))
    return default if text is None else _loads(text)


def set_state(key, value):
    """Save a JSON-serialisable value for later cells of this session."""
    try:
        host.set_state(_text(key), _dumps(value))
    except Err as exc:
        raise ValueError(exc.value) from None


def _check_stop(answer):
    """Raise the host's stop where the guest reached it (an output write): KeyboardInterrupt, as in Python."""
    if answer == "interrupt":
        _raise_host_error("interrupt", "the cell was interrupted.")
    if answer == "timeout":
        _raise_host_error("timeout", "the cell's time limit passed.")


def log(level, message):
    """Send a log line to the host."""
    _check_stop(host.log(_text(level), _text(message)))


_runtime = types.ModuleType("_mcp_runtime", "The sandbox side of generated MCP tool bindings.")
for _fn in (
    call_tool,
    call_tool_async,
    read_resource,
    get_state,
    set_state,
    log,
    ToolCallError,
    CellTimeout,
    HostEventLoop,
):
    setattr(_runtime, _fn.__name__, _fn)
sys.modules["_mcp_runtime"] = _runtime


# ---- running cells ----------------------------------------------------------------------------------------
class _OutputLimit(BaseException):
    """Raised inside the cell when it prints past the limit; not catchable by `except Exception`."""


_FLUSH_AFTER_S = 0.05  # a burst of prints reaches the host in a few large pieces, a lone line at once
_FLUSH_BYTES = 8192


class _Capture(io.TextIOBase):
    """stdout/stderr of a cell, sent to the host in pieces; the host keeps and caps it.

    A line goes at once when nothing went for ``_FLUSH_AFTER_S``; lines printed faster wait for that time or
    ``_FLUSH_BYTES``, so a loop of 100,000 prints makes ~150 host calls, not 100,000 (each one a message to
    the notebook). What waits is sent before the cell blocks on the host (a tool call, a sleep) and at its end.
    """

    def __init__(self, budget, stream, last):
        self.budget = budget
        self.stream = stream
        self.last = last  # [monotonic time of the last piece sent], shared by stdout and stderr
        self.other = None  # the other stream: what it holds goes first, so the two keep their order
        self.pending = []
        self.pending_size = 0

    def writable(self):
        return True

    def write(self, text):
        text = _text(text)
        size = len(text.encode("utf-8"))
        if self.other is not None and self.other.pending:
            self.other.flush()
        if size > self.budget[0]:
            self.pending.append(text.encode("utf-8")[: max(self.budget[0], 0)].decode("utf-8", "ignore"))
            self.budget[0] = 0
            self.flush()
            raise _OutputLimit()
        self.budget[0] -= size
        if text:
            self.pending.append(text)
            self.pending_size += size
            if self.pending_size > _FLUSH_BYTES or (
                "\n" in text and _time.monotonic() - self.last[0] >= _FLUSH_AFTER_S
            ):
                self.flush()
        return len(text)

    def flush(self):
        if self.pending:
            answer = host.log(self.stream, "".join(self.pending))
            self.pending = []
            self.pending_size = 0
            self.last[0] = _time.monotonic()
            _check_stop(answer)  # a stop lands here as KeyboardInterrupt: a printing loop keeps its variables


def _flush_output():
    """Send the output a cell printed before it blocks on the host, so it shows while the cell waits."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Capture) and stream.pending:
            stream.flush()


_GLOBALS = {"__name__": "__main__", "__builtins__": __builtins__}
_CELL = [0]
_MAX_MESSAGE = 10_000
_MAX_TRACEBACK = 50_000


_GRANTED = {}  # which preopened directories this instance has: fixed for its life, so asked once


def _granted(path):
    if path not in _GRANTED:
        _GRANTED[path] = os.path.isdir(path)
    return _GRANTED[path]


def _setup_paths(reloaded):
    """Before each cell: the tree importable, /workspace the working directory, the time-zone database.

    Each WASI file-system question is a host call (~70 us), so only what a cell can have changed is
    checked again: ``sys.path``, the working directory (kept in the guest's libc) and the import caches
    when bindings were regenerated.
    """
    first = not _GRANTED
    if _granted("/mcp-tools") and "/mcp-tools" not in sys.path:
        sys.path.insert(0, "/mcp-tools")
    if first or reloaded:
        importlib.invalidate_caches()  # bindings generated since the last cell must be importable
    if _granted("/workspace") and os.getcwd() != "/workspace":
        try:
            os.chdir("/workspace")
        except OSError:
            pass
    if _granted("/zoneinfo"):
        import zoneinfo

        zoneinfo.reset_tzpath(["/zoneinfo"])


def _forget_bindings(server_ids):
    """Drop imported binding modules of servers whose bindings were regenerated (new or changed tools)."""
    for sid in server_ids:
        prefix = f"servers.{sid}"
        for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
            del sys.modules[name]
        parent = sys.modules.get("servers")
        if parent is not None and hasattr(parent, sid):
            delattr(parent, sid)
    if server_ids:
        sys.modules.pop("servers", None)  # its __init__ lists the servers, which may have changed too


def _value_json(value):
    try:
        text = _dumps(value)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= 1_000_000 else None


_EDGE_FRAMES = 100  # a traceback deeper than twice this keeps its first and last frames


def _release(exc):
    """Free a deep traceback newest frame first: freed at once, its million frames would be released
    recursively in C and overflow the sandbox's stack."""
    nodes, tb = [], exc.__traceback__
    while tb is not None:
        nodes.append(tb)
        tb = tb.tb_next
    exc.__traceback__ = None
    for node in nodes:
        node.tb_next = None
    del node  # the newest frame must go first: each frame links to its caller's
    nodes.clear()  # from the end: each frame is freed before the caller frame it links to


def _error(exc):
    """Type, message and the cell's part of the traceback (frames before the first cell frame are ours).

    A deep traceback (recursion under a raised recursion limit reaches a million frames) keeps its first and
    last ``_EDGE_FRAMES`` frames: reading every frame's source line took longer than a cell's time limit.
    """
    depth, tb = 0, exc.__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    frames = traceback.extract_tb(exc.__traceback__, limit=_EDGE_FRAMES if depth > 2 * _EDGE_FRAMES else None)
    first = next((i for i, f in enumerate(frames) if f.filename.startswith("<cell")), len(frames))
    lines = traceback.format_list(frames[first:])
    if depth > 2 * _EDGE_FRAMES:
        lines.append(f"  [... {depth - 2 * _EDGE_FRAMES:,} more frames ...]\n")
        tail = exc.__traceback__
        for _ in range(depth - _EDGE_FRAMES):
            tail = tail.tb_next
        lines += traceback.format_list(traceback.extract_tb(tail))
        del tail  # a reference into the chain would keep the older frames linked for a recursive release
    lines += traceback.format_exception_only(type(exc), exc)
    if depth > 2 * _EDGE_FRAMES:
        _release(exc)
    text = "".join(lines)
    if len(text) > _MAX_TRACEBACK:
        text = (
            text[: _MAX_TRACEBACK // 2] + "\n[... traceback shortened ...]\n" + text[-_MAX_TRACEBACK // 2 :]
        )
    head = "Traceback (most recent call last):\n" if first < len(frames) else ""
    message = _text(exc)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + f" [... {len(message) - _MAX_MESSAGE:,} more characters]"
    if not message and isinstance(exc, MemoryError):
        message = "out of memory"
    return {"type": type(exc).__name__, "message": message, "traceback": _text(head + text)}


_CO_COROUTINE = 0x0080


def _run_code(code, codes):
    """Evaluate a compiled cell (or its last expression); a top-level ``await`` runs on a fresh loop."""
    codes.append(code)  # the names it uses decide what the next snapshot pickles again
    result = eval(code, _GLOBALS)
    if code.co_flags & _CO_COROUTINE:
        loop = HostEventLoop()
        try:
            result = loop.run_until_complete(result)
        finally:
            loop.close()
    return result


def _run(code, output_limit, codes, name=None):
    _CELL[0] += 1
    # The host may name the cell as its notebook does ("[9]"); a name seen before (a cell run twice in one
    # notebook cell) gets the count too, so the source lines of the earlier one stay in linecache.
    filename = f"<cell {_CELL[0]}>"
    if isinstance(name, str) and name and len(name) <= 40 and name.isprintable() and ">" not in name:
        filename = (
            f"<cell {name}>" if f"<cell {name}>" not in linecache.cache else f"<cell {name} #{_CELL[0]}>"
        )
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    budget, last = [output_limit], [0.0]
    out = _Capture(budget, "stdout", last)
    err = _Capture(budget, "stderr", last)
    out.other, err.other = err, out
    result = {"value_repr": None, "value_json": None, "error": None, "truncated": False}
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        # Top-level await works as in IPython: such a cell runs on the sandbox's event loop.
        try:  # a cell that is one expression (a single call, most often) compiles once, without an AST
            whole = compile(code, filename, "eval", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError:
            whole = None
        if whole is not None:
            value = _run_code(whole, codes)
        else:
            tree = ast.parse(code, filename, "exec")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            _run_code(compile(tree, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), codes)
            # A cell's value is its last expression, as in IPython: an assignment has none.
            value = None
            if last is not None:
                value = _run_code(
                    compile(
                        ast.Expression(last.value), filename, "eval", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
                    ),
                    codes,
                )
        if value is not None:
            result["value_repr"] = _text(repr(value)[:100_000])
            result["value_json"] = _value_json(value)
    except _OutputLimit:
        result["truncated"] = True
    except BaseException as exc:
        result["error"] = _error(exc)
    finally:
        sys.stdout, sys.stderr = saved
        try:
            out.flush()
            err.flush()
        except BaseException:
            pass
    return result


# ---- snapshots: the variables of the last cell that ended well, kept by the host --------------------------
# A trap (fuel, memory, a stop in pure Python) ends the instance; the next one gets these back. Each name is
# pickled on its own, so one that cannot be kept is named and the rest are kept. Only what may have changed
# is pickled again: a name bound to another object, or a name the cell's code (or a cell-defined function
# it calls) uses; a value changed only through another name is pickled again when its own name is used.
import base64  # noqa: E402
import marshal  # noqa: E402
import pickle  # noqa: E402

_KEPT = {}  # name -> (id of the object the host holds, pickled size)
_NOT_KEPT = {}  # name -> id of the object that could not be kept (not tried again until it changes or is used)
_DIRTY = set()  # names used since the last snapshot the host took
_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), frozenset, range)


def _used_names(codes):
    """Global names the code objects (and the cell-defined functions they name) use."""
    names, seen, pending = set(), set(), list(codes)
    while pending:
        code = pending.pop()
        if id(code) in seen:
            continue
        seen.add(id(code))
        for name in code.co_names:
            names.add(name)
            value = _GLOBALS.get(name)
            if isinstance(value, types.FunctionType) and value.__globals__ is _GLOBALS:
                pending.append(value.__code__)
        pending.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


def _encode(value):
    """(kind, bytes) of a value to keep, or raise why it cannot be kept."""
    if isinstance(value, types.ModuleType):
        if sys.modules.get(value.__name__) is not value:
            raise TypeError("a module that cannot be imported again")
        return "module", value.__name__.encode()
    if isinstance(value, types.FunctionType) and value.__globals__ is _GLOBALS:
        # A function defined in a cell: pickle can only name it, so its code is kept (marshal) instead.
        if value.__closure__:
            raise TypeError("a function with a closure")
        extra = pickle.dumps(
            (value.__name__, value.__qualname__, value.__defaults__, value.__kwdefaults__, value.__doc__),
            protocol=5,
        )
        return "function", len(extra).to_bytes(8, "big") + extra + marshal.dumps(value.__code__)
    return "pickle", pickle.dumps(value, protocol=5)


def _decode(kind, data):
    if kind == "module":
        return importlib.import_module(data.decode())
    if kind == "function":
        size = int.from_bytes(data[:8], "big")
        name, qualname, defaults, kwdefaults, doc = pickle.loads(data[8 : 8 + size])
        function = types.FunctionType(marshal.loads(data[8 + size :]), _GLOBALS, name, defaults)
        function.__qualname__, function.__kwdefaults__, function.__doc__ = qualname, kwdefaults, doc
        return function
    return pickle.loads(data)


def _why_not(value, exc):
    if isinstance(exc, MemoryError):
        return "too large to pickle"
    if isinstance(exc, (pickle.PicklingError, TypeError, AttributeError)):
        return f"not picklable: {type(value).__name__}"
    return _text(f"could not be pickled ({type(exc).__name__}: {exc})")[:200]


def _snapshot(limit, codes):
    """Send the host what changed since its last snapshot; on success remember what it holds."""
    _DIRTY.update(_used_names(codes))
    names = {name: value for name, value in _GLOBALS.items() if not name.startswith("__")}
    update = {"set": {}, "drop": [n for n in list(_KEPT) + list(_NOT_KEPT) if n not in names], "skip": {}}
    kept = {n: k for n, k in _KEPT.items() if n in names}
    not_kept = {n: i for n, i in _NOT_KEPT.items() if n in names}
    total = sum(size for _, size in kept.values())
    for name, value in names.items():
        dirty = name in _DIRTY and not isinstance(value, _IMMUTABLE)
        if not dirty and (kept.get(name, (None,))[0] == id(value) or not_kept.get(name) == id(value)):
            continue
        try:
            kind, data = _encode(value)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, CellTimeout)):
                return
            reason = _why_not(value, exc)
        else:
            old = kept.pop(name, (None, 0))[1]
            if total - old + len(data) > limit:
                total -= old
                reason = f"too large to keep ({len(data):,} bytes; snapshots hold {limit:,})"
            else:
                total += len(data) - old
                update["set"][name] = [kind, base64.b64encode(data).decode("ascii")]
                kept[name] = (id(value), len(data))
                not_kept.pop(name, None)
                continue
        kept.pop(name, None)
        update["skip"][name] = reason
        not_kept[name] = id(value)
    if update["set"] or update["drop"] or update["skip"]:
        if host.keep_snapshot(_dumps(update)):
            return  # the host did not take it: next time, these names are tried again
    _KEPT.clear()
    _KEPT.update(kept)
    _NOT_KEPT.clear()
    _NOT_KEPT.update(not_kept)
    _DIRTY.clear()


def _restore(entries):
    """Put a snapshot's values back into a fresh instance: the names restored, and why others were not."""
    restored, failed = [], {}
    order = {"module": 0, "function": 1}
    for name, (kind, text) in sorted(entries.items(), key=lambda item: order.get(item[1][0], 2)):
        data = base64.b64decode(text)
        try:
            value = _decode(kind, data)
        except BaseException as exc:
            failed[name] = _text(f"could not be restored ({type(exc).__name__}: {exc})")[:200]
            continue
        _GLOBALS[name] = value
        _KEPT[name] = (id(value), len(data))
        restored.append(name)
    return restored, failed


class WitWorld(wit_world.WitWorld):
    def run_cell(self, code: str) -> str:
        request = _loads(code)
        sys.modules["_mcp_runtime"] = (
            _runtime  # bindings import it: a cell that removed it does not break them
        )
        _guard_host()
        reloaded = request.get("reload") or []
        _MAX_CALLS[0] = int(request.get("max_calls", _MAX_CALLS[0]))
        _setup_paths(reloaded)
        _forget_bindings(reloaded)
        restored = failed = None
        if request.get("restore"):
            restored, failed = _restore(request.pop("restore"))
        _STOPPED[0] = False
        codes = []
        try:
            response = _run(
                request["code"], int(request.get("output_limit", 1 << 20)), codes, request.get("name")
            )
        except MemoryError:
            response = {
                "value_repr": None,
                "value_json": None,
                "truncated": False,
                "error": {"type": "MemoryError", "message": "out of memory", "traceback": ""},
            }
        limit = int(request.get("snapshot_limit", 0))
        if limit > 0 and not _STOPPED[0]:
            try:
                _snapshot(limit, codes)
            except MemoryError:
                pass  # the last snapshot stays; the names are tried again after the next cell
        codes.clear()
        if restored is not None:
            response["restored"], response["not_restored"] = restored, failed
        return _dumps(response)
