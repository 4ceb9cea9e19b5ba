"""Running one cell: compiled under its notebook name, its last expression its value, its error readable.

Cells share one globals dict (``_GLOBALS``), so state persists across cells like a notebook.
"""

import ast
import importlib
import linecache
import os
import sys
import traceback
from contextlib import suppress
from typing import Any

from guest_host import _dumps, _text
from guest_loop import HostEventLoop
from guest_output import _Capture, _OutputLimit

_GLOBALS: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
_CELL = [0]
_MAX_MESSAGE = 10_000
_MAX_TRACEBACK = 50_000


# Which preopened directories this instance has: fixed for its life, so asked once.
_GRANTED: dict[str, bool] = {}


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
        with suppress(OSError):
            os.chdir("/workspace")
    if _granted("/zoneinfo"):
        import zoneinfo  # only where the policy grants the time zone database

        zoneinfo.reset_tzpath(["/zoneinfo"])


def _forget_modules(packages):
    """Drop imported modules of packages whose files changed: bindings regenerated (``servers.<id>``, new or
    changed tools), skills saved (``skills``)."""
    for package in packages:
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        parent_name, _, child = package.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is not None and hasattr(parent, child):
            delattr(parent, child)
    if any(package.startswith("servers.") for package in packages):
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
            last_expr = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            _run_code(compile(tree, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), codes)
            # A cell's value is its last expression, as in IPython: an assignment has none.
            value = None
            if last_expr is not None:
                value = _run_code(
                    compile(
                        ast.Expression(last_expr.value),
                        filename,
                        "eval",
                        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
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
