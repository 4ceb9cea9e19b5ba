"""The CSP a view runs under: the spec's defaults, declared origins in their directives, hostile entries out."""

from __future__ import annotations

import pytest

from mcp_kernel.apps.csp import view_csp


def directives(text: str) -> dict[str, list[str]]:
    parsed = {}
    for part in text.split("; "):
        name, *values = part.split(" ")
        assert name not in parsed, f"{name} twice in {text}"
        parsed[name] = values
    return parsed


DEFAULTS = {
    "default-src": ["'none'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "media-src": ["'self'", "data:"],
    "connect-src": ["'none'"],
    "frame-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'none'"],
    "object-src": ["'none'"],
}


@pytest.mark.parametrize("declared", [None, {}, {"connectDomains": []}, {"other": ["https://a.example"]}])
def test_without_declared_domains_a_view_reaches_no_network(declared: object) -> None:
    csp = view_csp(declared)
    assert directives(csp.text) == DEFAULTS
    assert csp.dropped == []


def test_each_field_reaches_its_directives() -> None:
    csp = view_csp(
        {
            "connectDomains": ["https://api.example.com", "wss://live.example.com:8443"],
            "resourceDomains": ["https://*.cdn.example"],
            "frameDomains": ["https://player.example"],
            "baseUriDomains": ["https://base.example/"],
        }
    )
    found = directives(csp.text)
    assert found["connect-src"] == ["https://api.example.com", "wss://live.example.com:8443"]
    for name in ("script-src", "style-src", "img-src", "font-src", "media-src"):
        assert found[name] == [*DEFAULTS[name], "https://*.cdn.example"]
    assert found["frame-src"] == ["https://player.example"]
    assert found["base-uri"] == ["https://base.example"]  # a trailing slash is not a path
    assert found["default-src"] == ["'none'"] and csp.dropped == []


HOSTILE = [
    "https://x.example; script-src *",  # a directive of its own
    "https://x.example 'unsafe-eval'",  # a space: a second source
    "'unsafe-eval'",
    "'none'",
    "*",
    "data:",
    "javascript:alert(1)",
    'https://x.example"><script>',
    "https://x.example\nscript-src *",
    "https://x.example/path",
    "https://\u212aelvin.example",  # the Kelvin sign matches "k" under a Unicode IGNORECASE
    "",
    42,
    None,
]


@pytest.mark.parametrize("entry", HOSTILE)
def test_an_entry_that_is_not_an_origin_is_dropped_and_named(entry: object) -> None:
    csp = view_csp({"connectDomains": [entry, "https://ok.example"], "resourceDomains": [entry]})
    assert directives(csp.text)["connect-src"] == ["https://ok.example"]
    assert directives(csp.text)["script-src"] == DEFAULTS["script-src"]
    assert csp.dropped == [str(entry)] * 2
    assert set(directives(csp.text)) == set(DEFAULTS)  # no directive added, none twice
    for bad in ("\n", '"', "unsafe-eval", "javascript", "*"):
        assert bad not in csp.text


@pytest.mark.parametrize("declared", ["default-src *", ["https://a.example"], 7])
def test_a_csp_that_is_not_an_object_gives_the_defaults(declared: object) -> None:
    csp = view_csp(declared)
    assert directives(csp.text) == DEFAULTS
    assert csp.dropped == [repr(declared)]


def test_a_field_that_is_not_a_list_is_dropped_and_entries_are_bounded() -> None:
    csp = view_csp(
        {
            "connectDomains": "https://a.example",
            "resourceDomains": [f"https://h{i}.example" for i in range(70)],
        }
    )
    found = directives(csp.text)
    assert found["connect-src"] == ["'none'"]
    assert len(found["img-src"]) == 2 + 64
    assert csp.dropped[0] == "'https://a.example'" and len(csp.dropped) == 1 + 6
