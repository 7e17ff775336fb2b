"""The fixes that claim to keep behaviour, run: each test rewrites a harmful app
with `fix_source` (the code behind `--fix`) and runs the result under the real
FastAPI / Starlette / SQLAlchemy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_runtime_cors import (
    EVIL,
    FAC106_ORIGINS_STRING,
    TRUSTED,
    UNMATCHABLE_ORIGINS,
    client_for,
    fac104_source,
    fac106_keyword_source,
    preflight,
)
from test_runtime_sessions import (
    FAC202_FLAGGED,
    FAC203_FLAGGED,
    build_namespace,
    collect_leaked_connections,
    cyclic_gc_paused,
    seed,
    sqlite_url,
)

from flake8_fastapi_cors.fix import fix_source
from flake8_fastapi_cors.registry import Options


def fixed(source: str, code: str, unsafe: bool = False) -> str:
    """`source` after the fixes of `code` (safe ones unless `unsafe`); it must change."""
    result = fix_source("app.py", source.encode(), Options(), [code], unsafe).data.decode()
    assert result != source, f"{code} did not rewrite the source"
    return result


# -- FAC202: the dependency closes in `finally` ------------------------------------------


@pytest.mark.parametrize("code, source", [("FAC202", FAC202_FLAGGED), ("FAC203", FAC203_FLAGGED)])
def test_fixed_dependency_returns_every_connection_when_the_endpoint_raises(tmp_path, code, source):
    """The harmful dependency leaks one connection per 404 (see test_runtime_sessions); after
    the fix (FAC203's is unsafe) the same endpoints, with a pool of 2 and the cyclic garbage
    collector paused, leave nothing checked out however many requests raise."""
    namespace = build_namespace(fixed(source, code, unsafe=code == "FAC203"), sqlite_url(tmp_path))
    seed(namespace, {1: "alpha"})
    pool = namespace["engine"].pool
    client = TestClient(namespace["app"])
    try:
        with cyclic_gc_paused():
            for _ in range(4):  # twice the pool size
                assert client.get("/items/404").status_code == 404
                assert pool.checkedout() == 0
            response = client.get("/items/1")
            assert response.status_code == 200 and response.json()["name"] == "alpha"
            assert pool.checkedout() == 0
    finally:
        collect_leaked_connections()
        namespace["engine"].dispose()


# -- FAC103: origins from the environment, same default ----------------------------------

FAC103_HARDCODED = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()


@app.get("/items")
def items():
    return []


app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com", "https://admin.example.com"],
    allow_credentials=True,
)
"""
ORIGINS = ("https://app.example.com", "https://admin.example.com", "https://ops.example.com", EVIL)


def allowed(source: str) -> dict:
    client = client_for(source)
    return {o: client.get("/items", headers={"Origin": o}).headers.get("access-control-allow-origin") for o in ORIGINS}


def test_fac103_fix_allows_the_same_origins_while_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    source = fixed(FAC103_HARDCODED, "FAC103")
    assert 'os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com,https://admin.example.com")' in source
    assert (
        allowed(source)
        == allowed(FAC103_HARDCODED)
        == {
            "https://app.example.com": "https://app.example.com",
            "https://admin.example.com": "https://admin.example.com",
            "https://ops.example.com": None,
            EVIL: None,
        }
    )


def test_fac103_fix_allows_the_configured_origins_when_the_variable_is_set(monkeypatch):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://ops.example.com, https://admin.example.com,")
    assert allowed(fixed(FAC103_HARDCODED, "FAC103")) == {
        "https://app.example.com": None,
        "https://admin.example.com": "https://admin.example.com",
        "https://ops.example.com": "https://ops.example.com",
        EVIL: None,
    }


# -- FAC104 / FAC106: the browser's Origin matches after the fix ---------------------------


@pytest.mark.parametrize("configured, browser_origin", UNMATCHABLE_ORIGINS)
def test_fac104_fix_makes_the_browser_origin_match(configured, browser_origin):
    source = fixed(fac104_source(configured), "FAC104")
    client = client_for(source)
    assert (
        client.get("/items", headers={"Origin": browser_origin}).headers["access-control-allow-origin"]
        == browser_origin
    )
    response = preflight(client, browser_origin)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == browser_origin


@pytest.mark.parametrize("look_alike", ["https://app.ex", "https://app.example.co"])
def test_fac106_fix_matches_the_origin_exactly(look_alike):
    """The string allowed look-alike prefixes (a substring test); the fixed list allows the
    configured origin and nothing else."""
    before, after = client_for(FAC106_ORIGINS_STRING), client_for(fixed(FAC106_ORIGINS_STRING, "FAC106"))
    assert before.get("/items", headers={"Origin": look_alike}).headers.get("access-control-allow-origin") == look_alike
    assert "access-control-allow-origin" not in after.get("/items", headers={"Origin": look_alike}).headers
    assert after.get("/items", headers={"Origin": TRUSTED}).headers["access-control-allow-origin"] == TRUSTED


def test_fac106_fix_of_a_header_string_lets_the_preflight_through():
    source = fac106_keyword_source("allow_headers", '"X-Token"')
    assert preflight(client_for(source), TRUSTED, headers="X-Token").status_code == 400
    response = preflight(client_for(fixed(source, "FAC106")), TRUSTED, headers="X-Token")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == TRUSTED


def test_fac106_fix_of_a_method_string_advertises_the_method():
    source = fac106_keyword_source("allow_methods", '"PUT"')
    assert preflight(client_for(source), TRUSTED, method="PUT").headers["access-control-allow-methods"] == "P, U, T"
    response = preflight(client_for(fixed(source, "FAC106")), TRUSTED, method="PUT")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "PUT"
