"""Prompts: what ``prompts/list`` publishes, what ``prompts/get`` returns, and the values a server suggests
for an argument (``completion/complete``).

>>> PromptInfo(name="analyze", arguments=[PromptArgumentInfo(name="region", required=True)]).arguments[0].required
True
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import _Model

__all__ = ["Completion", "PromptArgumentInfo", "PromptInfo", "PromptList", "PromptMessageView", "PromptView"]


class PromptArgumentInfo(_Model):
    name: str
    description: str = ""
    required: bool = False


class PromptInfo(_Model):
    """One prompt as published by ``prompts/list``."""

    name: str
    title: str | None = None
    description: str = ""
    arguments: list[PromptArgumentInfo] = Field(default_factory=list)


class PromptList(_Model):
    server: str
    prompts: list[PromptInfo] = Field(default_factory=list)


class Completion(_Model):
    """Values a server suggests for one argument of a prompt or resource template (``completion/complete``).

    >>> Completion(server="demo", ref="prompt", name="analyze_region", argument="region", values=["EU"])
    Completion(server='demo', ref='prompt', name='analyze_region', argument='region', value='', values=['EU'], total=None, has_more=False)
    """

    server: str
    ref: Literal["prompt", "resource"]
    name: str
    argument: str
    value: str = ""
    values: list[str] = Field(default_factory=list)
    total: int | None = None
    has_more: bool = False


class PromptMessageView(_Model):
    """One turn of a prompt: who speaks and what (text, or a short note for images, audio, resources)."""

    role: str
    text: str
    kind: str = "text"


class PromptView(_Model):
    """The outcome of one ``prompts/get``: a conversation to hand to a model."""

    server: str
    prompt: str
    arguments: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    messages: list[PromptMessageView] = Field(default_factory=list)
