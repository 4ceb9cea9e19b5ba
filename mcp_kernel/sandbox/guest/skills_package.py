"""Skills: functions saved from earlier cells, ``save_skill`` to save one and ``remove_skill`` to remove one.

Import a saved skill by its name, as its line in ``/mcp-tools/skills/INDEX.md`` shows::

    from skills.revenue_by_region import revenue_by_region

Save a function that works, for later cells and sessions (the host checks it when the cell ends)::

    from skills import save_skill
    save_skill(revenue_by_region)                 # its docstring's first line describes it
    save_skill(source_text, name="f", description="What f does.")

Remove one (every version, or one) when the cell ends, with ``remove_skill("f")`` or
``remove_skill("f", version=2)``.

A skill holds its function and the imports it needs: the standard library, bindings (``servers.<id>``) and
other skills. A function that uses a variable of the notebook cannot be saved; pass the value as an
argument, or define it inside the function.
"""

import inspect
import json
import os
import sys
import textwrap
import types

__all__ = ["remove_skill", "save_skill"]

OUTBOX = "/workspace/.mcp-skills/outbox"


def save_skill(fn, description=None, *, name=None):
    """Save ``fn`` (a function defined in a cell, or its source text with ``name``) as a skill when the cell
    ends well; the cell's note then says so, or why it was not. Saving a name again makes a new version."""
    if isinstance(fn, str):
        source = textwrap.dedent(fn)
        if not name:
            raise ValueError("save_skill(source_text) needs name=: the function in the text to save.")
    elif isinstance(fn, types.FunctionType):
        name = name or fn.__name__
        if fn.__name__ != name or fn.__qualname__ != fn.__name__:
            raise ValueError(
                f"save_skill saves a function defined at the top of a cell under its own name; "
                f"{fn.__qualname__!r} is not one."
            )
        source = _with_imports(fn)
    else:
        raise TypeError(f"save_skill takes a function or its source text, not {type(fn).__name__}.")
    _post({"name": name, "source": source, "description": description})


def remove_skill(name, version=None):
    """Remove skill ``name`` (every version, or ``version``) when the cell ends well; the note says so."""
    if not isinstance(name, str) or (version is not None and not isinstance(version, int)):
        raise TypeError("remove_skill(name, version=None) takes a skill's name and a version number.")
    _post({"remove": name, "version": version})


def _post(entry):
    """Leave ``entry`` for the host, which acts on it after the cell."""
    os.makedirs(OUTBOX, exist_ok=True)
    path = f"{OUTBOX}/{len(os.listdir(OUTBOX)):04d}.json"
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(entry, fh)


def _with_imports(fn):
    """``fn``'s source, after the imports of the modules and functions it uses from its cell."""
    try:
        body = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        raise ValueError(
            f"The source of {fn.__name__!r} cannot be found; pass its text: save_skill(text, name=...)."
        ) from None
    lines = []
    for used in sorted(_globals_used(fn.__code__)):
        if used not in fn.__globals__:
            continue  # a builtin, or a name the function sets itself
        lines.append(_import_of(fn.__name__, used, fn.__globals__[used]))
    return "\n".join(lines) + ("\n\n\n" if lines else "") + body


def _globals_used(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _globals_used(const)
    return names


def _import_of(owner, used, value):
    if isinstance(value, types.ModuleType):
        module = value.__name__
        if module == used:
            return f"import {module}"
        return f"import {module} as {used}"
    home = getattr(value, "__module__", None)
    own = getattr(value, "__name__", None)
    if (
        isinstance(home, str)
        and isinstance(own, str)
        and home not in ("__main__", "builtins")
        and getattr(sys.modules.get(home), own, None) is value
    ):
        return f"from {home} import {own}" + (f" as {used}" if used != own else "")
    if callable(value) and (home in (None, "__main__") or str(home).startswith("<")):
        raise ValueError(
            f"{owner!r} uses {used!r}, defined in a cell; save {used!r} as a skill first "
            f"(save_skill({used})) and import it, or define it inside {owner!r}."
        )
    raise ValueError(
        f"{owner!r} uses the variable {used!r} of the notebook; pass it as an argument or define it "
        f"inside {owner!r}, then save it again."
    )
