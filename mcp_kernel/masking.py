"""One masking point: whatever leaves for an agent passes a session's PII tokenizer whole, on the way out.

A :class:`Mask` is applied to whole messages (a tool result, a progress note, a log record, a relayed
question), not to chosen fields, so a field added later is masked too: every string in it, every dict key,
and every number in free JSON that is personal data (a phone number sent as an int). Numbers in a typed
field of a model (a duration, a count) stay numbers. Answers coming back go through :meth:`Mask.restore`.
Without a tokenizer (``--tokenize-pii`` off) a mask hands everything back unchanged.

>>> from mcp_kernel.pii import PIITokenizer
>>> mask = Mask(PIITokenizer())
>>> mask({"calls": [{"error": "customer bob@example.org is locked", "ms": 3.5}]})
{'calls': [{'error': 'customer <EMAIL_1> is locked', 'ms': 3.5}]}
>>> mask.restore({"to": "<EMAIL_1>"})
{'to': 'bob@example.org'}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from .pii import PIITokenizer

__all__ = ["BLOB_KEYS", "MEDIA_TYPES", "Mask", "wire_masked"]

T = TypeVar("T")
# The wire keys whose strings are binary data, not text: never masked (a placeholder would corrupt them).
BLOB_KEYS = frozenset({"blob"})
MEDIA_TYPES = frozenset({"image", "audio"})  # content blocks whose `data` is base64


class Mask:
    """Personal data in outbound values replaced by ``pii``'s placeholders (None: nothing is replaced)."""

    def __init__(self, pii: PIITokenizer | None = None) -> None:
        self.pii = pii

    @property
    def active(self) -> bool:
        return self.pii is not None

    def __call__(self, value: T) -> T:
        """``value`` (a JSON value, a pydantic model or a dataclass, nested freely) with personal data replaced;
        models and dataclasses keep their type."""
        if self.pii is None:
            return value
        return self._mask(value, typed=False)

    def _mask(self, value: Any, typed: bool) -> Any:
        pii = self.pii
        assert pii is not None
        if isinstance(value, str):
            return pii.tokenize(value)[0]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return value if typed else pii.tokenize_value(value)[0]
        if isinstance(value, dict):
            return {self._mask(k, typed=True): self._mask(v, typed=False) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._mask(v, typed=False) for v in value)
        if isinstance(value, BaseModel):
            # Field by field, not dump and validate: fields a dump leaves out (exclude=True) are masked too, and
            # aliases, defaults and frozen models need no special case. Only changed fields are set, so the
            # fields left unset stay unset (and out of what exclude_unset sends).
            fields = [(name, True) for name in type(value).model_fields]
            fields += [(name, False) for name in value.model_extra or {}]
            update = {}
            for name, typed in fields:
                item = getattr(value, name)
                masked = self._mask(item, typed)
                if masked != item:
                    update[name] = masked
            return value.model_copy(update=update) if update else value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(
                value,
                **{
                    f.name: self._mask(getattr(value, f.name), typed=True)
                    for f in dataclasses.fields(value)
                    if f.init
                },
            )
        return value

    def restore(self, value: T) -> T:
        """``value`` (a JSON value, e.g. an agent's answer to a question) with placeholders turned back into
        the real values, for the server that asked."""
        if self.pii is None:
            return value
        return self.pii.restore(value)


def wire_masked(value: Any, mask: Mask) -> Any:
    """``value`` (wire JSON: a list, a read, a prompt, a content block) through ``mask``, except binary data
    (``blob``, an image's or audio's ``data``), which a placeholder would corrupt and no text pattern reads.

    >>> mask = Mask(PIITokenizer())
    >>> wire_masked({"type": "image", "data": "a@example.org", "alt": "a@example.org"}, mask)
    {'type': 'image', 'data': 'a@example.org', 'alt': '<EMAIL_1>'}
    """
    if not mask.active:
        return value
    if isinstance(value, dict):
        binary: Iterable[str] = BLOB_KEYS | ({"data"} if value.get("type") in MEDIA_TYPES else set())
        return {mask(k): v if k in binary else wire_masked(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_masked(v, mask) for v in value]
    return mask(value)
