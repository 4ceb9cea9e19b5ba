"""The Content-Security-Policy of a view, from its resource's ``_meta.ui.csp``: no network unless declared.

A view declares the origins it needs (MCP Apps' ``McpUiResourceCsp``): ``connectDomains`` (fetch, XHR,
WebSocket: ``connect-src``), ``resourceDomains`` (scripts, styles, images, fonts, media), ``frameDomains``
(nested iframes: ``frame-src``) and ``baseUriDomains`` (``base-uri``). Absent, each takes the spec's
default: inline code and ``data:`` images only, no network, no frames. Each declared entry must look like
an origin (``https://host[:port]``, ``wss://host``, ``https://*.host``, ``*.host``); anything else (a
quote, a ``;``, a space, a keyword such as ``'unsafe-eval'``, a path) is left out and named in
:attr:`ViewCsp.dropped`, so a hostile entry can never add a directive of its own.

>>> csp = view_csp({"connectDomains": ["https://api.example.com", "x; script-src *"]})
>>> csp.dropped
['x; script-src *']
>>> [d for d in csp.text.split("; ") if d.startswith("connect-src")]
['connect-src https://api.example.com']
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

__all__ = ["ViewCsp", "origins", "view_csp"]

# scheme://host[:port] (host may start with "*."), or a bare *.host / host; nothing else
_ORIGIN = re.compile(
    r"(?:(?:https?|wss?)://)?(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::(?:\d{1,5}|\*))?",
    re.IGNORECASE | re.ASCII,  # ASCII: the Kelvin sign is not a "k" here
)
_FIELDS = ("connectDomains", "resourceDomains", "frameDomains", "baseUriDomains")
_MAX_ENTRIES = 64  # per field: a policy is a header-sized string, not a list of the web


class ViewCsp(NamedTuple):
    """The policy's text (one line, for a ``<meta http-equiv>``) and the declared entries left out."""

    text: str
    dropped: list[str]


def origins(declared: Any, dropped: list[str]) -> list[str]:
    """The entries of ``declared`` that are origins, each once; the others are appended to ``dropped``.

    >>> left_out = []
    >>> origins(["https://a.example", "'unsafe-eval'", "https://a.example/"], left_out), left_out
    (['https://a.example'], ["'unsafe-eval'"])
    """
    if declared is None:
        return []
    if not isinstance(declared, list):
        dropped.append(repr(declared)[:200])
        return []
    kept: list[str] = []
    for entry in declared[:_MAX_ENTRIES]:
        text = entry.removesuffix("/") if isinstance(entry, str) else ""
        if text and _ORIGIN.fullmatch(text):
            if text not in kept:
                kept.append(text)
        else:
            dropped.append(str(entry)[:200])
    dropped.extend(str(entry)[:200] for entry in declared[_MAX_ENTRIES:])
    return kept


def view_csp(declared: Any) -> ViewCsp:
    """The policy for a view whose resource declares ``declared`` (its ``_meta.ui.csp``; None: nothing).

    >>> print(view_csp(None).text.replace("; ", ";\\n"))
    default-src 'none';
    script-src 'self' 'unsafe-inline';
    style-src 'self' 'unsafe-inline';
    img-src 'self' data:;
    font-src 'self' data:;
    media-src 'self' data:;
    connect-src 'none';
    frame-src 'none';
    base-uri 'self';
    form-action 'none';
    object-src 'none'
    """
    dropped: list[str] = []
    if declared is not None and not isinstance(declared, dict):
        dropped.append(repr(declared)[:200])
        declared = {}
    fields = declared or {}
    connect, resource, frame, base = (origins(fields.get(name), dropped) for name in _FIELDS)

    inline, data = ["'self'", "'unsafe-inline'"], ["'self'", "data:"]
    directives = [
        ("default-src", ["'none'"]),
        ("script-src", inline + resource),
        ("style-src", inline + resource),
        ("img-src", data + resource),
        ("font-src", data + resource),
        ("media-src", data + resource),
        ("connect-src", connect or ["'none'"]),
        ("frame-src", frame or ["'none'"]),
        ("base-uri", base or ["'self'"]),
        ("form-action", ["'none'"]),
        ("object-src", ["'none'"]),
    ]
    return ViewCsp("; ".join(f"{name} {' '.join(values)}" for name, values in directives), dropped)
