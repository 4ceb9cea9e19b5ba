"""Snapshots: the variables of the last cell that ended well, kept by the host.

A trap (fuel, memory, a stop in pure Python) ends the instance; the next one gets these back. Each name is
pickled on its own, so one that cannot be kept is named and the rest are kept. Only what may have changed
is pickled again: a name bound to another object, or a name the cell's code (or a cell-defined function
it calls) uses; a value changed only through another name is pickled again when its own name is used.
"""

import base64
import importlib
import marshal
import pickle
import sys
import types
from typing import Any

from guest_cells import _GLOBALS
from guest_host import CellTimeout, _dumps, _text, host

_KEPT: dict[str, tuple[int, int]] = {}  # name -> (id of the object the host holds, pickled size)
# name -> id of the object that could not be kept (not tried again until it changes or is used)
_NOT_KEPT: dict[str, int] = {}
_DIRTY: set[str] = set()  # names used since the last snapshot the host took
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
    update: dict[str, Any] = {
        "set": {},
        "drop": [n for n in list(_KEPT) + list(_NOT_KEPT) if n not in names],
        "skip": {},
    }
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
    if (update["set"] or update["drop"] or update["skip"]) and host.keep_snapshot(_dumps(update)):
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
