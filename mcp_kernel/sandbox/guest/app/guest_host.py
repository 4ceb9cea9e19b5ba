"""The host imports as the guest uses them: guarded against values that would trap, and their errors.

A failed host import answers ``kind<TAB>message`` (``mcp_kernel/sandbox/hosterrors.py`` on the host side);
``_raise_from_host`` raises it as the exception of its kind. The runtime's own JSON functions live here too.
"""

import json
import types

import componentize_py_runtime  # type: ignore[import-not-found]  # componentize-py's, inside the guest only
from wit_world.imports import host  # type: ignore[import-not-found]  # generated from world.wit at build time


# ---- the exceptions a cell gets from the host ------------------------------------------------------------
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
    "show_view": ("str", "str", "str"),
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
        return raw(
            *[_host_arg(name, i + 1, kind, a) for i, (kind, a) in enumerate(zip(kinds, args, strict=True))]
        )

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


_PRIVATE_RUNTIME = types.SimpleNamespace(call_import=componentize_py_runtime.call_import)
_HOST_RAW: dict[str, types.FunctionType] = {}
for _name, _function in list(vars(host).items()):
    if isinstance(_function, types.FunctionType) and _function.__module__ == host.__name__:
        if _name not in _HOST_ARGS:
            raise RuntimeError(f"host import {_name!r} has no entry in _HOST_ARGS (guest_host.py)")
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


def _check_stop(answer):
    """Raise the host's stop where the guest reached it (an output write): KeyboardInterrupt, as in Python."""
    if answer == "interrupt":
        _raise_host_error("interrupt", "the cell was interrupted.")
    if answer == "timeout":
        _raise_host_error("timeout", "the cell's time limit passed.")
