"""How a server's prompts look: the list of them, one prompt filled in, and the completions of an argument.

>>> from mcp_kernel.display import to_text
>>> from mcp_kernel.models import Completion
>>> print(to_text(Completion(server="demo", ref="prompt", name="report", argument="city", value="Pa", values=["Paris"])))
demo report city='Pa': 1 suggestion(s)
  Paris
"""

from __future__ import annotations

import textwrap

from ..models import Completion, PromptList, PromptView
from .dispatch import renders
from .formatting import one_line, table

__all__ = ["completion_text", "prompt_list_text", "prompt_view_text"]


@renders(PromptList, html="display/prompts.html.j2")
def prompt_list_text(obj: PromptList) -> str:
    if not obj.prompts:
        return f"{obj.server}: no prompts"
    rows = [
        [
            p.name,
            " ".join(f"{a.name}{'' if a.required else '?'}" for a in p.arguments),
            one_line(p.description),
        ]
        for p in obj.prompts
    ]
    return f"{obj.server}: {len(obj.prompts)} prompts (? = optional)\n" + table(
        ["prompt", "arguments", "description"], rows
    )


@renders(PromptView, html="display/prompt.html.j2")
def prompt_view_text(obj: PromptView) -> str:
    lines = [f"{obj.server}.{obj.prompt}" + (f": {obj.description}" if obj.description else "")]
    for message in obj.messages:
        lines += ["", f"[{message.role}]", textwrap.indent(message.text, "  ")]
    return "\n".join(lines)


@renders(Completion)
def completion_text(obj: Completion) -> str:
    head = f"{obj.server} {obj.name} {obj.argument}" + (f"={obj.value!r}" if obj.value else "")
    if not obj.values:
        return f"{head}: no suggestions"
    more = " (more: type more of the value)" if obj.has_more else ""
    return f"{head}: {len(obj.values)} suggestion(s){more}\n" + "\n".join(f"  {v}" for v in obj.values)
