"""Runtime proof for the CORS rules FAC101, FAC104, FAC106 and FAC107.

Each test module source below is linted with the real flake8 (through the plugin) and then
executed as-is, so the text the linter judged is exactly the app that answers the requests.
The requests go through the real FastAPI/Starlette stack with `fastapi.testclient.TestClient`;
nothing is mocked. The facts proved here are those of `research/runtime-facts.md`, section A.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Dict, Set

import pytest
import starlette
from fastapi.testclient import TestClient

from helpers import lint_source

STARLETTE_MAJOR = int(starlette.__version__.split(".")[0])

EVIL = "https://evil.example"
TRUSTED = "https://app.example.com"


# --------------------------------------------------------------------------- helpers


def line_of(source: str, marker: str) -> int:
    """1-based line of the only line of `source` containing `marker`."""
    lines = [number for number, text in enumerate(source.splitlines(), start=1) if marker in text]
    assert len(lines) == 1, f"marker {marker!r} must occur on exactly one line, found {lines}"
    return lines[0]


def lines_reporting(source: str, code: str) -> Set[int]:
    """Lines at which the real flake8 (with this plugin) reports `code` for `source`.

    flake8 turns a crashing plugin into exit code 1 plus a message on stdout, which would make
    every "not reported" assertion pass vacuously; so the run must be free of that message."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        found = lint_source(source)
    assert "critical error" not in stdout.getvalue(), stdout.getvalue()
    return {line for line, _col, found_code, _text in found if found_code == code}


def build_app(source: str, name: str = "app") -> Any:
    """Execute `source` in a fresh module namespace and return the ASGI app it defines."""
    namespace: Dict[str, Any] = {"__name__": "linted_app"}
    exec(compile(source, "app.py", "exec"), namespace)
    return namespace[name]


def client_for(source: str) -> TestClient:
    return TestClient(build_app(source), raise_server_exceptions=False)


def preflight(client: TestClient, origin: str, method: str = "GET", headers: str | None = None, path: str = "/items"):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


# =========================================================================== FAC101

FAC101_FLAGGED = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return {"secret": "user data"}


app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
)
"""

FAC101_FLAGGED_STRING_FALSE = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return {"secret": "user data"}


app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials="false",
)
"""

FAC101_CLEAN = """\
import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return {"secret": "user data"}


app.add_middleware(
    CORSMiddleware,
    allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()],
    allow_credentials=True,
)
"""


def test_fac101_reported_at_the_wildcard_for_credentialed_wildcard():
    """FAC101 points at the `"*"` entry when credentials are on."""
    assert lines_reporting(FAC101_FLAGGED, "FAC101") == {line_of(FAC101_FLAGGED, '"*"')}


def test_fac101_reported_when_credentials_is_the_truthy_string_false():
    """`allow_credentials="false"` is a truthy string, so FAC101 still applies."""
    assert lines_reporting(FAC101_FLAGGED_STRING_FALSE, "FAC101") == {line_of(FAC101_FLAGGED_STRING_FALSE, '"*"')}


def test_fac101_not_reported_for_origins_from_the_environment():
    """Origins read from the environment (default empty) are not a wildcard: no FAC101."""
    assert lines_reporting(FAC101_CLEAN, "FAC101") == set()


def test_wildcard_with_credentials_echoes_any_origin_to_a_cookie_carrying_request():
    """The attack as a browser makes it: a page on any site calls the API with
    `credentials: "include"`, so the victim's cookie comes along. Every Starlette since
    0.15 then echoes the caller's Origin with ACAC: true, and the page reads the answer."""
    response = client_for(FAC101_FLAGGED).get("/items", headers={"Origin": EVIL, "Cookie": "session=victim"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == EVIL
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.json() == {"secret": "user data"}


@pytest.mark.skipif(STARLETTE_MAJOR < 1, reason="before Starlette 1.0 the echo needed a Cookie header")
def test_wildcard_with_credentials_echoes_any_origin_on_a_simple_request():
    """Starlette >= 1.0 echoes every caller's Origin together with ACAC: true when
    `allow_origins=["*"]` and `allow_credentials=True`, even without a Cookie header:
    any website can read credentialed responses."""
    response = client_for(FAC101_FLAGGED).get("/items", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == EVIL
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.json() == {"secret": "user data"}


def test_wildcard_with_credentials_preflight_accepts_and_echoes_any_origin():
    """The preflight from an arbitrary origin is answered 200 with that origin echoed and
    ACAC: true (preflight_explicit_allow_origin is true when credentials are on)."""
    response = preflight(client_for(FAC101_FLAGGED), EVIL)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == EVIL
    assert response.headers["access-control-allow-credentials"] == "true"


def test_credentials_string_false_is_truthy_and_still_echoes_any_origin():
    """`allow_credentials="false"` is not validated: the non-empty string is truthy, so the
    evil origin is echoed with ACAC: true exactly as with `True`."""
    client = client_for(FAC101_FLAGGED_STRING_FALSE)
    response = client.get("/items", headers={"Origin": EVIL, "Cookie": "session=victim"})
    assert response.headers["access-control-allow-origin"] == EVIL
    assert response.headers["access-control-allow-credentials"] == "true"
    pre = preflight(client, EVIL)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == EVIL
    assert pre.headers["access-control-allow-credentials"] == "true"


def test_origins_from_environment_allow_only_the_configured_origin(monkeypatch):
    """With origins taken from CORS_ALLOWED_ORIGINS, the evil origin gets no ACAO (simple or
    preflight: 400) while the configured origin is echoed with credentials."""
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", TRUSTED)
    client = client_for(FAC101_CLEAN)

    evil = client.get("/items", headers={"Origin": EVIL})
    assert evil.status_code == 200
    assert "access-control-allow-origin" not in evil.headers
    evil_preflight = preflight(client, EVIL)
    assert evil_preflight.status_code == 400
    assert evil_preflight.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in evil_preflight.headers

    trusted = client.get("/items", headers={"Origin": TRUSTED})
    assert trusted.headers["access-control-allow-origin"] == TRUSTED
    assert trusted.headers["access-control-allow-credentials"] == "true"
    trusted_preflight = preflight(client, TRUSTED)
    assert trusted_preflight.status_code == 200
    assert trusted_preflight.headers["access-control-allow-origin"] == TRUSTED


def test_origins_from_unset_environment_allow_nothing(monkeypatch):
    """The fix's default (empty) allows no cross-origin caller until configured."""
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    client = client_for(FAC101_CLEAN)
    assert "access-control-allow-origin" not in client.get("/items", headers={"Origin": EVIL}).headers
    assert preflight(client, EVIL).status_code == 400


# =========================================================================== FAC104

FAC104_TEMPLATE = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return {"ok": 1}


app.add_middleware(
    CORSMiddleware,
    allow_origins=[
        "{origin}",
    ],
)
"""

# (configured entry, what a browser actually sends for that site)
UNMATCHABLE_ORIGINS = [
    pytest.param("http://localhost:3000/", "http://localhost:3000", id="trailing-slash"),
    pytest.param("http://LOCALHOST:3000", "http://localhost:3000", id="uppercase"),
    pytest.param("https://app.example.com:443", "https://app.example.com", id="default-port-443"),
]


def fac104_source(origin: str) -> str:
    return FAC104_TEMPLATE.replace("{origin}", origin)


@pytest.mark.parametrize("configured, _browser_origin", UNMATCHABLE_ORIGINS)
def test_fac104_reported_at_the_unmatchable_origin(configured, _browser_origin):
    """FAC104 points at the origin string that can never equal a browser Origin."""
    source = fac104_source(configured)
    assert lines_reporting(source, "FAC104") == {line_of(source, f'"{configured}"')}


@pytest.mark.parametrize(
    "clean_origin", ["http://localhost:3000", "https://app.example.com", "https://app.example.com:8443"]
)
def test_fac104_not_reported_for_a_normalised_origin(clean_origin):
    """A lowercase scheme://host[:non-default-port] entry is what browsers send: no FAC104."""
    assert lines_reporting(fac104_source(clean_origin), "FAC104") == set()


@pytest.mark.parametrize("configured, browser_origin", UNMATCHABLE_ORIGINS)
def test_unmatchable_origin_never_matches_the_browser_origin(configured, browser_origin):
    """`origin in allow_origins` is an exact, case-sensitive comparison with no normalisation:
    the browser's Origin gets no ACAO on a simple request and the preflight is refused (400)."""
    client = client_for(fac104_source(configured))
    response = client.get("/items", headers={"Origin": browser_origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    pre = preflight(client, browser_origin)
    assert pre.status_code == 400
    assert pre.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in pre.headers


@pytest.mark.parametrize("configured, browser_origin", UNMATCHABLE_ORIGINS)
def test_normalised_origin_matches_the_browser_origin(configured, browser_origin):
    """The same entry written the way browsers send it matches: ACAO echoed, preflight 200."""
    client = client_for(fac104_source(browser_origin))
    response = client.get("/items", headers={"Origin": browser_origin})
    assert response.headers["access-control-allow-origin"] == browser_origin
    pre = preflight(client, browser_origin)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == browser_origin


# =========================================================================== FAC106

FAC106_ORIGINS_STRING = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return {"secret": "user data"}


app.add_middleware(
    CORSMiddleware,
    allow_origins="https://app.example.com",
    allow_credentials=True,
)
"""

FAC106_ORIGINS_LIST = FAC106_ORIGINS_STRING.replace(
    'allow_origins="https://app.example.com",', 'allow_origins=["https://app.example.com"],'
)

FAC106_KEYWORD_TEMPLATE = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.api_route("/items", methods=["GET", "PUT"])
def items():
    return {"ok": 1}


app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    {keyword}={value},
)
"""


def fac106_keyword_source(keyword: str, value: str) -> str:
    return FAC106_KEYWORD_TEMPLATE.replace("{keyword}", keyword).replace("{value}", value)


def test_fac106_reported_at_a_string_allow_origins():
    """FAC106 points at the bare string given as allow_origins."""
    source = FAC106_ORIGINS_STRING
    assert lines_reporting(source, "FAC106") == {line_of(source, 'allow_origins="https://app.example.com"')}


def test_fac106_not_reported_for_a_list_allow_origins():
    """The same origin wrapped in a list is the intended shape: no FAC106."""
    assert lines_reporting(FAC106_ORIGINS_LIST, "FAC106") == set()


@pytest.mark.parametrize("prefix_origin", ["https://app.ex", "https://app.example.co"])
def test_string_allow_origins_is_a_substring_test(prefix_origin):
    """With a `str`, `origin in allow_origins` is a substring test: any origin that is a
    substring of the configured one (an attacker can register `https://app.example.co`) is
    echoed, with credentials."""
    response = client_for(FAC106_ORIGINS_STRING).get("/items", headers={"Origin": prefix_origin})
    assert response.headers["access-control-allow-origin"] == prefix_origin
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("prefix_origin", ["https://app.ex", "https://app.example.co"])
def test_list_allow_origins_rejects_substrings(prefix_origin):
    """The list shape compares whole entries: substrings are not allowed, the real origin is."""
    client = client_for(FAC106_ORIGINS_LIST)
    assert "access-control-allow-origin" not in client.get("/items", headers={"Origin": prefix_origin}).headers
    assert preflight(client, prefix_origin).status_code == 400
    trusted = client.get("/items", headers={"Origin": TRUSTED})
    assert trusted.headers["access-control-allow-origin"] == TRUSTED


def test_fac106_reported_at_a_string_allow_headers():
    """FAC106 points at the bare string given as allow_headers."""
    source = fac106_keyword_source("allow_headers", '"X-Token"')
    assert lines_reporting(source, "FAC106") == {line_of(source, 'allow_headers="X-Token"')}


def test_fac106_not_reported_for_a_list_allow_headers():
    source = fac106_keyword_source("allow_headers", '["X-Token"]')
    assert lines_reporting(source, "FAC106") == set()


def test_string_allow_headers_is_split_into_characters():
    """`set("X-Token")` is a set of characters, so a preflight requesting X-Token is refused
    (400 "Disallowed CORS headers") and the advertised header list is made of letters."""
    client = client_for(fac106_keyword_source("allow_headers", '"X-Token"'))
    response = preflight(client, TRUSTED, headers="X-Token")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS headers"
    assert response.headers["access-control-allow-headers"] == (
        "-, Accept, Accept-Language, Content-Language, Content-Type, T, X, e, k, n, o"
    )


def test_list_allow_headers_allows_the_requested_header():
    """The list form allows the header: preflight 200, X-Token advertised."""
    client = client_for(fac106_keyword_source("allow_headers", '["X-Token"]'))
    response = preflight(client, TRUSTED, headers="X-Token")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == TRUSTED
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Token"
    )


def test_fac106_reported_for_a_single_non_safelisted_method_string():
    """`allow_methods="PUT"` is advertised letter by letter (see the runtime test below), so
    FAC106 flags it at the value even though it names only one method."""
    source = fac106_keyword_source("allow_methods", '"PUT"')
    assert lines_reporting(source, "FAC106") == {line_of(source, 'allow_methods="PUT"')}


def test_fac106_not_reported_for_a_safelisted_method_string():
    """`allow_methods="GET"`: GET is CORS-safelisted, browsers never need it advertised."""
    source = fac106_keyword_source("allow_methods", '"GET"')
    assert lines_reporting(source, "FAC106") == set()


def test_fac106_not_reported_for_a_list_allow_methods():
    source = fac106_keyword_source("allow_methods", '["PUT"]')
    assert lines_reporting(source, "FAC106") == set()


def test_string_allow_methods_is_advertised_letter_by_letter():
    """`", ".join("PUT")` gives `Access-Control-Allow-Methods: P, U, T`. The server-side
    check `"PUT" in "PUT"` passes (200), but a browser looks for PUT in the header's list,
    does not find it, and blocks the request."""
    client = client_for(fac106_keyword_source("allow_methods", '"PUT"'))
    response = preflight(client, TRUSTED, method="PUT")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "P, U, T"
    assert response.headers["access-control-allow-origin"] == TRUSTED


def test_safelisted_method_string_still_passes_the_preflight():
    """`allow_methods="GET"` is advertised as `G, E, T`, but GET is a CORS-safelisted method
    that browsers never look up in Access-Control-Allow-Methods, and the server-side check
    passes: the preflight succeeds, so the string is harmless (no FAC106)."""
    client = client_for(fac106_keyword_source("allow_methods", '"GET"'))
    response = preflight(client, TRUSTED, method="GET")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "G, E, T"
    assert response.headers["access-control-allow-origin"] == TRUSTED


def test_list_allow_methods_advertises_the_method():
    client = client_for(fac106_keyword_source("allow_methods", '["PUT"]'))
    response = preflight(client, TRUSTED, method="PUT")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "PUT"


# =========================================================================== FAC107

FAC107_AUTH_OUTSIDE_CORS = """\
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def items():
    return {"ok": 1}


app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_headers=["Authorization"],
)


@app.middleware("http")
async def require_auth(request: Request, call_next):
    if "authorization" not in request.headers:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    return await call_next(request)
"""

FAC107_CORS_OUTERMOST = """\
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def items():
    return {"ok": 1}


@app.middleware("http")
async def require_auth(request: Request, call_next):
    if "authorization" not in request.headers:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    return await call_next(request)


app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_headers=["Authorization"],
)
"""

# `app.middleware("http")(fn)` is the decorator applied by hand: the same registration.
FAC107_AUTH_CALL_FORM_OUTSIDE_CORS = """\
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/items")
def items():
    return {"ok": 1}


async def require_auth(request: Request, call_next):
    if "authorization" not in request.headers:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    return await call_next(request)


app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_headers=["Authorization"],
)
app.middleware("http")(require_auth)
"""

FAC107_LIST_TEMPLATE = """\
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware


class RequireAuth(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        if "authorization" not in request.headers:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return await call_next(request)


app = FastAPI(
    middleware=[
{entries}
    ],
)


@app.get("/items")
def items():
    return {"ok": 1}
"""

AUTH_ENTRY = "        Middleware(RequireAuth),"
CORS_ENTRY = """\
        Middleware(
            CORSMiddleware,
            allow_origins=["https://app.example.com"],
            allow_headers=["Authorization"],
        ),"""

FAC107_LIST_CORS_NOT_FIRST = FAC107_LIST_TEMPLATE.replace("{entries}", AUTH_ENTRY + "\n" + CORS_ENTRY)
FAC107_LIST_CORS_FIRST = FAC107_LIST_TEMPLATE.replace("{entries}", CORS_ENTRY + "\n" + AUTH_ENTRY)


def test_fac107_reported_at_add_middleware_when_auth_is_registered_after_cors():
    """The `@app.middleware("http")` added after CORS becomes the outermost layer: FAC107 at
    the CORS registration call."""
    source = FAC107_AUTH_OUTSIDE_CORS
    assert lines_reporting(source, "FAC107") == {line_of(source, "app.add_middleware(")}


def test_fac107_not_reported_when_cors_is_registered_last():
    assert lines_reporting(FAC107_CORS_OUTERMOST, "FAC107") == set()


def test_fac107_reported_when_auth_is_registered_after_cors_by_calling_the_decorator():
    """`app.middleware("http")(require_auth)` after CORS is the decorator applied by hand:
    the same outermost auth layer, so FAC107 at the CORS registration call."""
    source = FAC107_AUTH_CALL_FORM_OUTSIDE_CORS
    assert lines_reporting(source, "FAC107") == {line_of(source, "app.add_middleware(")}


def test_fac107_reported_at_middleware_entry_when_cors_is_not_first_in_the_list():
    """In `middleware=[...]` the first entry is outermost: CORS second is flagged at its
    `Middleware(` entry."""
    source = FAC107_LIST_CORS_NOT_FIRST
    assert lines_reporting(source, "FAC107") == {_cors_entry_line(source)}


def _cors_entry_line(source: str) -> int:
    """The line of `Middleware(` that opens the CORS entry (CORSMiddleware is on the next line)."""
    lines = source.splitlines()
    cors_line = line_of(source, "            CORSMiddleware,")
    assert lines[cors_line - 2].strip() == "Middleware("
    return cors_line - 1


def test_fac107_not_reported_when_cors_is_first_in_the_list():
    assert lines_reporting(FAC107_LIST_CORS_FIRST, "FAC107") == set()


def _assert_auth_outside_cors_loses_cors_headers(client: TestClient) -> None:
    unauthenticated = client.get("/items", headers={"Origin": TRUSTED})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"detail": "Not authenticated"}
    assert "access-control-allow-origin" not in unauthenticated.headers

    # A browser never sends credentials on a preflight, so the auth layer answers it.
    pre = preflight(client, TRUSTED, headers="authorization")
    assert pre.status_code == 401
    assert "access-control-allow-origin" not in pre.headers
    assert "access-control-allow-methods" not in pre.headers

    # Even authenticated requests still get CORS headers: only the layer's own answers lose them.
    authenticated = client.get("/items", headers={"Origin": TRUSTED, "Authorization": "Bearer t"})
    assert authenticated.status_code == 200
    assert authenticated.headers["access-control-allow-origin"] == TRUSTED


def _assert_cors_outermost_keeps_cors_headers(client: TestClient) -> None:
    unauthenticated = client.get("/items", headers={"Origin": TRUSTED})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["access-control-allow-origin"] == TRUSTED

    pre = preflight(client, TRUSTED, headers="authorization")
    assert pre.status_code == 200
    assert pre.text == "OK"
    assert pre.headers["access-control-allow-origin"] == TRUSTED
    assert pre.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Authorization, Content-Language, Content-Type"
    )


def test_auth_middleware_added_after_cors_answers_without_cors_headers():
    """`add_middleware` and `@app.middleware` make each new layer outermost: the 401 from the
    auth function carries no ACAO (the browser hides it from the page) and the preflight, which
    never carries credentials, is answered 401 without CORS headers."""
    _assert_auth_outside_cors_loses_cors_headers(client_for(FAC107_AUTH_OUTSIDE_CORS))


def test_auth_middleware_registered_by_calling_the_decorator_after_cors_loses_cors_headers():
    """The call form `app.middleware("http")(fn)` registers exactly like the decorator: the
    auth layer is outermost and its 401 and the preflight answer carry no CORS headers."""
    _assert_auth_outside_cors_loses_cors_headers(client_for(FAC107_AUTH_CALL_FORM_OUTSIDE_CORS))


def test_cors_registered_last_wraps_the_auth_response_and_answers_the_preflight():
    """With CORS registered last it is outermost: the 401 carries ACAO, the preflight is 200."""
    _assert_cors_outermost_keeps_cors_headers(client_for(FAC107_CORS_OUTERMOST))


def test_middleware_list_with_cors_not_first_loses_cors_headers():
    """`middleware=[...]` puts the first entry outermost: auth first means its 401 and the
    preflight answer lack CORS headers."""
    _assert_auth_outside_cors_loses_cors_headers(client_for(FAC107_LIST_CORS_NOT_FIRST))


def test_middleware_list_with_cors_first_keeps_cors_headers():
    _assert_cors_outermost_keeps_cors_headers(client_for(FAC107_LIST_CORS_FIRST))
