"""What a skill may hold: its name, and its source, checked before a store keeps it.

>>> validate_name("revenue_by_region")
'revenue_by_region'
"""

from __future__ import annotations

import ast
import keyword
import re
import sys

from ..errors import SkillError
from ..pii import placeholders_in

__all__ = ["MAX_DESCRIPTION", "NAME", "check_source", "validate_name"]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# What a skill's source may import besides the standard library: bindings, other skills, the runtime.
_OWN_PACKAGES = ("servers", "skills", "_mcp_runtime")
MAX_DESCRIPTION = 2000  # characters; a description longer than that belongs in the docstring


def validate_name(name: str) -> str:
    """``name`` if it can name a skill (a Python identifier of at most 64 characters, not a keyword, not
    private); else :class:`~mcp_kernel.errors.SkillError` saying why.

    >>> validate_name("revenue_by_region")
    'revenue_by_region'
    """
    if not isinstance(name, str) or not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise SkillError(
            f"{str(name)[:80]!r} cannot name a skill: use a Python name of at most 64 letters, digits and "
            "'_' that is not a keyword (the name of the function it holds)."
        )
    if name.startswith("_"):
        raise SkillError(f"{name!r} cannot name a skill: a name starting with '_' is private.")
    if name in ("save_skill", "remove_skill"):
        raise SkillError(f"{name!r} cannot name a skill: it is a function of the skills package.")
    return name


def check_source(
    name: str, source: str, description: str | None = None, *, max_bytes: int = 64 << 10
) -> dict:
    """Check a skill's source and return its record's fields (description, signature, servers, skills).

    The source must parse, define a top-level function ``name``, import only the standard library, server
    bindings (``servers.<id>``, recorded as servers it calls) and other skills (``skills.<name>``), and be
    described (``description``, else the function's docstring).

    >>> check_source("half", "import math\\ndef half(x: float) -> float:\\n    'Half of x.'\\n    return x / 2\\n")
    {'description': 'Half of x.', 'signature': 'def half(x: float) -> float', 'servers': [], 'skills': []}
    """
    validate_name(name)
    for what, text in (("source", source), ("description", description or "")):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise SkillError(
                f"Skill {name!r}: its {what} is not valid Unicode text (a lone surrogate)."
            ) from None
    if len(description or "") > MAX_DESCRIPTION:
        raise SkillError(
            f"Skill {name!r}: its description is {len(description or ''):,} characters, more than the "
            f"{MAX_DESCRIPTION:,} a description may have; say the rest in the function's docstring."
        )
    held = sorted(set(placeholders_in(source + "\n" + (description or ""))))
    if held:
        raise SkillError(
            f"Skill {name!r} holds {', '.join(held[:5])}: a placeholder for personal data stands for one "
            "value in one session and for someone else in the next. Pass the value as an argument instead."
        )
    size = len(source.encode("utf-8"))
    if size > max_bytes:
        raise SkillError(
            f"Skill {name!r} is {size:,} bytes, more than the {max_bytes:,} a skill may hold "
            "(setting skill_max_kb); save a smaller function."
        )
    try:
        tree = ast.parse(source, filename=f"skills/{name}.py")
    except SyntaxError as exc:
        raise SkillError(f"Skill {name!r} does not parse: {exc.msg} (line {exc.lineno}).") from None
    defined = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    if not defined:
        raise SkillError(
            f"Skill {name!r} defines no top-level function named {name!r}; a skill holds the function of "
            "its name (save_skill(fn) names it after fn)."
        )
    fn = defined[-1]
    servers, skills = _imports(name, tree)
    text = (description or ast.get_docstring(fn) or "").strip()[:MAX_DESCRIPTION]
    if not text:
        raise SkillError(
            f"Skill {name!r} has no description: give the function a docstring, or pass description=..., "
            "so that search can find it."
        )
    returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
    prefix = "async def" if isinstance(fn, ast.AsyncFunctionDef) else "def"
    signature = f"{prefix} {name}({ast.unparse(fn.args)}){returns}"
    return {"description": text, "signature": signature, "servers": servers, "skills": skills}


def _imports(name: str, tree: ast.Module) -> tuple[list[str], list[str]]:
    """The servers and skills a skill's source imports; SkillError for anything else."""
    servers: set[str] = set()
    skills: set[str] = set()
    for node in ast.walk(tree):
        dynamic = (isinstance(node, ast.Name) and node.id == "__import__") or (
            isinstance(node, ast.Import | ast.ImportFrom)
            and any(
                (getattr(node, "module", None) or a.name).split(".")[0] == "importlib" for a in node.names
            )
        )
        if dynamic:
            raise SkillError(
                f"Skill {name!r} imports dynamically (importlib, __import__): a skill imports what it uses with "
                "import statements, so that the servers it calls are known and checked."
            )
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise SkillError(
                    f"Skill {name!r} uses a relative import; import from servers.<id> or skills.<name>."
                )
            base = node.module or ""
            # ``from servers import demo`` imports the package servers.demo
            modules = [
                f"{base}.{alias.name}" if base in ("servers", "skills") else base for alias in node.names
            ]
        else:
            continue
        for module in modules:
            top, _, rest = module.partition(".")
            if top == "servers" and rest and rest != "*":
                servers.add(rest.split(".")[0])
            elif top == "servers":
                raise SkillError(
                    f"Skill {name!r} imports the servers package itself; import each server it calls "
                    "(from servers.<id> import <tool>), so that they are known."
                )
            elif top == "skills" and rest:
                skill = rest.split(".")[0]
                if skill == name:
                    raise SkillError(f"Skill {name!r} imports itself.")
                skills.add(skill)
            elif top in sys.stdlib_module_names or top in _OWN_PACKAGES:
                continue
            else:
                raise SkillError(
                    f"Skill {name!r} imports {module!r}, which is neither the standard library, a server's "
                    "bindings (servers.<id>) nor another skill (skills.<name>); the sandbox has no other "
                    "packages."
                )
    return sorted(servers), sorted(skills)
