"""Origin and origin-regex facts, checked against Starlette's own matcher."""

import pytest
from starlette.middleware.cors import CORSMiddleware

from flake8_fastapi_cors.model.origins import (
    glob_to_regex,
    matches_every_origin,
    origin_problem,
    permissive_regex,
)


def starlette_allows(origin, **kwargs):
    return CORSMiddleware(app=None, **kwargs).is_allowed_origin(origin)


# (configured entry, what the browser sends, normalised entry or None when ambiguous)
UNMATCHABLE = [
    ("http://localhost:3000/", "http://localhost:3000", "http://localhost:3000"),
    ("https://App.Example.com", "https://app.example.com", "https://app.example.com"),
    ("HTTPS://example.com", "https://example.com", "https://example.com"),
    ("https://example.com:443", "https://example.com", "https://example.com"),
    ("http://example.com:80", "http://example.com", "http://example.com"),
    (" https://b.example.com", "https://b.example.com", "https://b.example.com"),
    ("https://example.com/app", "https://example.com", None),
    ("localhost:3000", "http://localhost:3000", None),
    ("example.com", "https://example.com", None),
    ("https://*.example.com", "https://a.example.com", None),
    ("https://a.example.com,https://b.example.com", "https://a.example.com", None),
]


@pytest.mark.parametrize("entry,browser,fixed", UNMATCHABLE, ids=[u[0] for u in UNMATCHABLE])
def test_unmatchable_origin_never_matches_and_fix_does(entry, browser, fixed):
    assert not starlette_allows(browser, allow_origins=[entry])
    problem = origin_problem(entry)
    assert problem is not None
    assert problem.fixed == fixed
    if fixed is not None:
        assert starlette_allows(browser, allow_origins=[fixed])


@pytest.mark.parametrize(
    "entry",
    [
        "https://example.com",
        "http://localhost:3000",
        "https://example.com:8443",
        "capacitor://localhost",
        "app://host",
        "chrome-extension://abcdefghijklmnop",
        "null",
        "*",
        "",
        "http://127.0.0.1:8000",
        "https://xn--bcher-kva.example",
    ],
)
def test_real_origins_are_not_flagged(entry):
    assert origin_problem(entry) is None


def test_glob_gets_a_regex_that_starlette_matches():
    regex = glob_to_regex("https://*.example.com")
    assert regex == r"https://[a-z0-9-]+\.example\.com"
    assert starlette_allows("https://a.example.com", allow_origin_regex=regex)
    assert not starlette_allows("https://evil.com", allow_origin_regex=regex)
    port_regex = glob_to_regex("http://localhost:*")
    assert starlette_allows("http://localhost:5173", allow_origin_regex=port_regex)


# (regex, an origin anyone can register that Starlette lets in)
PERMISSIVE = [
    (r"https://app.example\.com", "https://appXexample.com"),
    (r"https://app\.example.com", "https://app.exampleXcom"),
    (r"https://.*example\.com", "https://evilexample.com"),
    (r"https://.+example\.com", "https://evilexample.com"),
    (r"https://example\.com.*", "https://example.com.evil.net"),
    (r"https://[^/]+", "https://evil.net"),
    (r"^https://(www|api).example.com$", "https://wwwXexample.com"),
    (r"https://[\w.-]+", "https://evil.net"),
]


@pytest.mark.parametrize("regex,evil", PERMISSIVE, ids=[p[0] for p in PERMISSIVE])
def test_permissive_regex_lets_other_sites_in(regex, evil):
    assert starlette_allows(evil, allow_origin_regex=regex)
    assert permissive_regex(regex)


SAFE = [
    (r"https://[a-z0-9-]+\.example\.com", "https://a.example.com"),
    (r"https://.*\.example\.com", "https://a.b.example.com"),
    (r"https://(foo|bar)\.example\.com|https://baz\.com", "https://baz.com"),
    (r"http://localhost:\d+", "http://localhost:3000"),
    (r"http://(localhost|127\.0\.0\.1)(:\d+)?", "http://127.0.0.1:8000"),
    (r"https://example\.com", "https://example.com"),
    (r"capacitor://localhost|https://app\.example\.com", "capacitor://localhost"),
]


@pytest.mark.parametrize("regex,good", SAFE, ids=[s[0] for s in SAFE])
def test_tight_regex_is_not_flagged(regex, good):
    assert starlette_allows(good, allow_origin_regex=regex)
    assert permissive_regex(regex) == []


@pytest.mark.parametrize("regex", [".*", ".+", "https?://.*", "https://.*", r"(https?://)?.*"])
def test_match_all_regexes(regex):
    assert matches_every_origin(regex)
    assert starlette_allows("https://attacker.example", allow_origin_regex=regex)


@pytest.mark.parametrize(
    "regex", [r"https://.*\.example\.com", r"https://[a-z]+\.example\.com", "(", r"https://example\.com"]
)
def test_not_match_all(regex):
    assert not matches_every_origin(regex)
