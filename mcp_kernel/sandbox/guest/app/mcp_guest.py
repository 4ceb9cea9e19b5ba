"""The program inside the sandbox: CPython (built into a component by componentize-py) running cells.

``run-cell`` takes a JSON request ``{"code": ..., "output_limit": bytes}`` and answers with JSON
``{"stdout", "stderr", "value_repr", "value_json", "error", "truncated"}``. Cells share one globals dict,
so state persists across cells like a notebook. Tools are reached only through the host import
``call-tool``, wrapped here as the ``_mcp_runtime`` module that generated bindings import.

Only modules imported while the component is built exist at run time (the interpreter is snapshotted
then), so the standard library is imported broadly below, once, at build time.
"""

import ast
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
_SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "ensurepip", "venv", "pydoc",
         "pydoc_data", "test", "lib2to3", "webbrowser", "pdb", "code", "codeop", "doctest", "unittest"}
_SUBMODULES = [
    "xml.etree.ElementTree", "xml.dom.minidom", "html.parser", "html.entities", "urllib.parse", "email.message",
    "email.utils", "email.mime.text", "json.decoder", "collections.abc", "importlib.resources",
    "importlib.metadata", "logging.handlers", "concurrent.futures", "os.path", "encodings.idna",
    "encodings.utf_16", "encodings.utf_32", "encodings.latin_1", "encodings.ascii", "encodings.cp1252",
    "encodings.unicode_escape", "encodings.raw_unicode_escape", "encodings.base64_codec", "encodings.hex_codec",
    "zoneinfo._common", "zoneinfo._tzpath", "zoneinfo._zoneinfo", "_pydecimal", "_strptime",
]
STDLIB_LOADED = []
for _name in sorted(sys.stdlib_module_names) + _SUBMODULES:
    if _name in _SKIP or (_name.startswith("_") and _name not in _SUBMODULES):
        continue
    try:
        importlib.import_module(_name)
        STDLIB_LOADED.append(_name)
    except BaseException:  # noqa: BLE001 - not available in this build (ctypes, ssl, ...): simply absent
        pass


# ---- _mcp_runtime: what generated bindings call ----------------------------------------------------------
class ToolCallError(Exception):
    """A tool call the host refused or the server failed; the message says which and why."""


ToolCallError.__module__ = "_mcp_runtime"


def call_tool(server, tool, params=None):
    """Call ``tool`` on ``server`` through the host bridge; return the tool's value."""
    try:
        text = host.call_tool(str(server), str(tool), json.dumps(params or {}))
    except Err as exc:
        raise ToolCallError(exc.value) from None
    return json.loads(text)


def get_state(key, default=None):
    """A value saved with ``set_state`` in this session (also in earlier cells), or ``default``."""
    text = host.get_state(str(key))
    return default if text is None else json.loads(text)


def set_state(key, value):
    """Save a JSON-serialisable value for later cells of this session."""
    try:
        host.set_state(str(key), json.dumps(value))
    except Err as exc:
        raise ValueError(exc.value) from None


def log(level, message):
    """Send a log line to the host."""
    host.log(str(level), str(message))


_runtime = types.ModuleType("_mcp_runtime", "The sandbox side of generated MCP tool bindings.")
for _fn in (call_tool, get_state, set_state, log, ToolCallError):
    setattr(_runtime, _fn.__name__, _fn)
sys.modules["_mcp_runtime"] = _runtime


# ---- running cells ----------------------------------------------------------------------------------------
class _OutputLimit(BaseException):
    """Raised inside the cell when it prints past the limit; not catchable by `except Exception`."""


class _Capture(io.TextIOBase):
    def __init__(self, budget, stream=None):
        self.parts = []
        self.budget = budget
        self.stream = stream  # "stdout"/"stderr": also send whole lines to the host as they are printed
        self.pending = []

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        size = len(text.encode("utf-8", "replace"))
        if size > self.budget[0]:
            self.parts.append(text.encode("utf-8", "replace")[: max(self.budget[0], 0)].decode("utf-8", "ignore"))
            self.budget[0] = 0
            raise _OutputLimit()
        self.budget[0] -= size
        self.parts.append(text)
        if self.stream and text:
            self.pending.append(text)
            if "\n" in text or sum(len(p) for p in self.pending) > 4096:
                self.flush()
        return len(text)

    def flush(self):
        if self.stream and self.pending:
            host.log(self.stream, "".join(self.pending))
            self.pending = []

    def getvalue(self):
        return "".join(self.parts)


_GLOBALS = {"__name__": "__main__", "__builtins__": __builtins__}
_CELL = [0]


def _setup_paths():
    if os.path.isdir("/mcp-tools") and "/mcp-tools" not in sys.path:
        sys.path.insert(0, "/mcp-tools")
    importlib.invalidate_caches()  # bindings generated since the last cell must be importable
    if os.path.isdir("/workspace"):
        try:
            os.chdir("/workspace")
        except OSError:
            pass
    if os.path.isdir("/zoneinfo"):
        import zoneinfo

        zoneinfo.reset_tzpath(["/zoneinfo"])


def _value_json(value):
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= 1_000_000 else None


def _run(code, output_limit, stream=False):
    _CELL[0] += 1
    filename = f"<cell {_CELL[0]}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    budget = [output_limit]
    out = _Capture(budget, "stdout" if stream else None)
    err = _Capture(budget, "stderr" if stream else None)
    result = {"stdout": "", "stderr": "", "value_repr": None, "value_json": None, "error": None, "truncated": False}
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        tree = ast.parse(code, filename, "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), _GLOBALS)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), _GLOBALS)
        else:
            value = _GLOBALS.get("result") if "result" in _GLOBALS and "result" in code else None
        if value is not None:
            result["value_repr"] = repr(value)[:100_000]
            result["value_json"] = _value_json(value)
    except _OutputLimit:
        result["truncated"] = True
    except BaseException as exc:  # noqa: BLE001 - every failure of user code is reported, never raised
        frames = traceback.extract_tb(exc.__traceback__)
        user = [f for f in frames if f.filename.startswith("<cell") or not f.filename.endswith("mcp_guest.py")]
        text = "".join(traceback.format_list(user) + traceback.format_exception_only(type(exc), exc))
        result["error"] = {"type": type(exc).__name__, "message": str(exc), "traceback": "Traceback (most recent call last):\n" + text}
    finally:
        sys.stdout, sys.stderr = saved
        out.flush()
        err.flush()
    result["stdout"], result["stderr"] = out.getvalue(), err.getvalue()
    return result


class WitWorld(wit_world.WitWorld):
    def run_cell(self, code: str) -> str:
        request = json.loads(code)
        _setup_paths()
        try:
            response = _run(request["code"], int(request.get("output_limit", 1 << 20)), bool(request.get("stream")))
        except MemoryError:
            response = {"stdout": "", "stderr": "", "value_repr": None, "value_json": None, "truncated": False,
                        "error": {"type": "MemoryError", "message": "out of memory", "traceback": ""}}
        return json.dumps(response)
