"""Personal data kept out of the model: stable placeholders out, real values back in.

What leaves the sandbox (printed text, return values, error messages) passes through :meth:`PIITokenizer.
tokenize`: e-mail addresses, phone numbers (any country written in international form, and national
numbers of ``default_regions``), payment card numbers (Luhn-checked), IBANs (checksum-checked), IP
addresses and user-configured patterns become ``<EMAIL_1>``, ``<PHONE_2>``, … — the same value always the
same placeholder for the tokenizer's life (one sandbox session). When code later passes a placeholder to a
tool, the bridge calls :meth:`PIITokenizer.restore` so the server gets the real value; the model never
sees it. The mapping lives only in this object, in host memory.

Detection and validation use well-kept libraries: ``phonenumbers`` (Google's libphonenumber) for phones,
``python-stdnum`` for IBAN and Luhn checks, the standard library's ``ipaddress`` for IP addresses.

>>> pii = PIITokenizer()
>>> pii.tokenize("Mail ana@example.com or call +44 20 7946 0958.")
('Mail <EMAIL_1> or call <PHONE_1>.', 2)
>>> pii.restore({"to": "<EMAIL_1>"})
{'to': 'ana@example.com'}
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KINDS", "PIITokenizer", "placeholders_in"]

KINDS = ("EMAIL", "IBAN", "CARD", "IP", "PHONE")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]{0,30})_(\d{1,9})>")


def placeholders_in(text: str) -> list[str]:
    """The placeholders ``text`` holds (``<EMAIL_1>``...): a value of one session, someone else in another.

    >>> placeholders_in("send_report(email='<EMAIL_1>')")
    ['<EMAIL_1>']
    """
    return [m.group(0) for m in _PLACEHOLDER.finditer(text)]


def _valid_iban(text: str) -> bool:
    from stdnum import iban  # python-stdnum: only when a candidate is checked

    return bool(iban.is_valid(text))


def _valid_card(text: str) -> bool:
    from stdnum import luhn  # python-stdnum: only when a candidate is checked

    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and bool(luhn.is_valid(digits))


def _valid_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (address.version == 6 and text.count(":") < 2)


class PIITokenizer:
    """Placeholders for personal data in text, per session; thread-safe.

    ``patterns`` adds user kinds: ``{"EMPLOYEE": r"EMP-\\d{6}"}`` turns ``EMP-123456`` into ``<EMPLOYEE_1>``.
    ``default_regions`` are the countries whose national phone formats (no ``+``) are recognised too.
    """

    def __init__(
        self, patterns: Mapping[str, str] | None = None, *, default_regions: Iterable[str] = ("US",)
    ) -> None:
        self.patterns = {name.upper(): re.compile(p) for name, p in (patterns or {}).items()}
        self.default_regions = tuple(default_regions)
        self._token_of: dict[tuple[str, str], str] = {}
        self._value_of: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def dump(self) -> dict[str, Any]:
        """The placeholders given so far and their values, and the kinds looked for (JSON; a parked session
        keeps them, 0o600)."""
        with self._lock:
            return {
                "patterns": {name: rx.pattern for name, rx in self.patterns.items()},
                "regions": list(self.default_regions),
                "tokens": [[kind, normal, token] for (kind, normal), token in self._token_of.items()],
                "values": dict(self._value_of),
                "counts": dict(self._counts),
            }

    @classmethod
    def restored(cls, dumped: Mapping[str, Any]) -> PIITokenizer:
        """A tokenizer as :meth:`dump` left it: the same kinds, the same placeholders for the same values."""
        tokenizer = cls(dict(dumped.get("patterns") or {}), default_regions=dumped.get("regions") or ("US",))
        tokenizer.load(dumped)
        return tokenizer

    def load(self, dumped: Mapping[str, Any]) -> None:
        """Take back what :meth:`dump` gave: the same values get the same placeholders again."""
        with self._lock:
            self._token_of = {(str(k), str(n)): str(t) for k, n, t in dumped.get("tokens", [])}
            self._value_of = {str(t): str(v) for t, v in dict(dumped.get("values", {})).items()}
            self._counts = {str(k): int(c) for k, c in dict(dumped.get("counts", {})).items()}

    # ---- out: text that leaves the sandbox ------------------------------------------------------
    def tokenize(self, text: str) -> tuple[str, int]:
        """``text`` with personal data replaced; and how many values were replaced."""
        if not text:
            return text, 0
        replaced = 0
        for kind, finder in self._finders():
            spans = [(s, e) for s, e in finder(text) if not _inside_placeholder(text, s, e)]
            if not spans:
                continue
            pieces, last = [], 0
            for start, end in spans:
                pieces += [text[last:start], self._token(kind, text[start:end])]
                last = end
                replaced += 1
            text = "".join(pieces) + text[last:]
        return text, replaced

    def _finders(self) -> list[tuple[str, Any]]:
        finders: list[tuple[str, Any]] = [(kind, _regex_finder(rx)) for kind, rx in self.patterns.items()]
        finders += [
            ("EMAIL", _regex_finder(_EMAIL)),
            ("IBAN", _regex_finder(_IBAN, _valid_iban)),
            ("CARD", _regex_finder(_CARD, _valid_card)),
            ("IP", _regex_finder(_IPV4, _valid_ip)),
            ("IP", _regex_finder(_IPV6, _valid_ip)),
            ("PHONE", self._phones),
        ]
        return finders

    def _phones(self, text: str) -> list[tuple[int, int]]:
        import phonenumbers  # phonenumbers (~70 ms): only when masking is on

        spans: dict[int, int] = {}
        for region in (None, *self.default_regions):
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                spans.setdefault(match.start, match.end)
        return _disjoint(sorted(spans.items()))

    def _token(self, kind: str, value: str) -> str:
        key = (kind, _normal(kind, value))  # "4111 1111 …" and "4111-1111-…" are one card
        with self._lock:
            token = self._token_of.get(key)
            if token is None:
                self._counts[kind] = self._counts.get(kind, 0) + 1
                token = f"<{kind}_{self._counts[kind]}>"
                self._token_of[key] = token
                self._value_of[token] = value
            return token

    def tokenize_value(self, value: Any) -> tuple[Any, int]:
        """A JSON value with personal data replaced in its strings (and in numbers that are such data)."""
        if isinstance(value, str):
            return self.tokenize(value)
        if isinstance(value, bool) or value is None:
            return value, 0
        if isinstance(value, (int, float)):
            text, count = self.tokenize(str(value))
            return (text, count) if count else (value, 0)
        if isinstance(value, list):
            items = [self.tokenize_value(v) for v in value]
            return [v for v, _ in items], sum(c for _, c in items)
        if isinstance(value, dict):
            total, out = 0, {}
            for key, item in value.items():
                new_key, a = self.tokenize(str(key))
                out[new_key], b = self.tokenize_value(item)
                total += a + b
            return out, total
        return value, 0

    # ---- in: arguments of tool calls ----------------------------------------------------------
    def restore(self, value: Any) -> Any:
        """``value`` (a JSON value) with every known placeholder replaced by the real value."""
        if isinstance(value, str):
            if "<" not in value:
                return value
            return _PLACEHOLDER.sub(lambda m: self._value_of.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.restore(v) for v in value]
        if isinstance(value, dict):
            return {self.restore(k): self.restore(v) for k, v in value.items()}
        return value

    def __len__(self) -> int:
        """How many distinct values have a placeholder."""
        return len(self._value_of)


def _normal(kind: str, value: str) -> str:
    if kind in ("CARD", "IBAN", "PHONE"):
        return re.sub(r"[^0-9A-Za-z+]", "", value).upper()
    if kind == "EMAIL":
        return value.lower()
    return value


def _regex_finder(rx: re.Pattern[str], valid: Any = None) -> Any:
    def find(text: str) -> list[tuple[int, int]]:
        return [m.span() for m in rx.finditer(text) if valid is None or valid(m.group(0))]

    return find


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if not out or start >= out[-1][1]:
            out.append((start, end))
    return out


def _inside_placeholder(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` overlaps a placeholder already put in (its digits are no phone)."""
    for match in _PLACEHOLDER.finditer(text, max(0, start - 45), min(len(text), end + 45)):
        if match.start() < end and start < match.end():
            return True
    return False
