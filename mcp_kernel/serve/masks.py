"""One PII mask per caller, for what serve passes on outside a sandbox session.

Gateway reads and prompts and exposed tool calls (gateway.py, exposed.py) mask what they send with the
caller's own tokenizer, the same one for all three: a placeholder stands for one value for its caller,
is restored for that caller only (in a URI, an argument), and means nothing to another caller.

>>> masks = CallerMasks(patterns={}, active=True)
>>> masks("alice")("write to a@example.org"), masks("bob") is masks("alice")
('write to <EMAIL_1>', False)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ..masking import Mask
from ..pii import PIITokenizer

__all__ = ["BLOB_KEYS", "MEDIA_TYPES", "CallerMasks", "wire_masked"]

# The wire keys whose strings are binary data, not text: never masked (a placeholder would corrupt them).
BLOB_KEYS = frozenset({"blob"})
MEDIA_TYPES = frozenset({"image", "audio"})  # content blocks whose `data` is base64


class CallerMasks:
    """``masks(caller)``: the caller's mask, made on first use (with ``active`` false, one that changes
    nothing); thread-safe, as exposed calls run on worker threads and the gateway on serve's loop."""

    def __init__(self, patterns: Mapping[str, str], active: bool) -> None:
        self.patterns = dict(patterns)
        self.active = active
        self._masks: dict[str | None, Mask] = {}
        self._lock = threading.Lock()

    def __call__(self, caller: str | None) -> Mask:
        with self._lock:
            mask = self._masks.get(caller)
            if mask is None:
                mask = self._masks[caller] = Mask(PIITokenizer(self.patterns) if self.active else None)
            return mask


def wire_masked(value: Any, mask: Mask) -> Any:
    """``value`` (wire JSON: a list, a read, a prompt, a content block) through ``mask``, except binary data
    (``blob``, an image's or audio's ``data``), which a placeholder would corrupt and no text pattern reads.

    >>> mask = CallerMasks(patterns={}, active=True)("a")
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
