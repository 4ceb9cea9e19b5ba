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
from collections.abc import Mapping

from ..masking import BLOB_KEYS, MEDIA_TYPES, Mask, wire_masked
from ..pii import PIITokenizer

__all__ = ["BLOB_KEYS", "MEDIA_TYPES", "CallerMasks", "wire_masked"]


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
