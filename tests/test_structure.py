"""Shapes where the app's structure decides: mounts, helper functions that
receive the app, concatenated middleware lists, route groups, decorators
applied by hand. Each case's markers name exactly the expected findings."""

import os

import pytest

from helpers import expected_markers, flake8_in_process

FASTAPI = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n"
STARLETTE = (
    "from starlette.applications import Starlette\n"
    "from starlette.middleware import Middleware\n"
    "from starlette.middleware.cors import CORSMiddleware\n"
    "from starlette.routing import Mount, Route\n"
)
AUTH = """
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import PlainTextResponse


class RequireLogin(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        if "session" not in request.cookies:
            return PlainTextResponse("login required", status_code=401)
        return await call_next(request)
"""

CASES = {
    "auth on the parent app wraps CORS on a Mount": STARLETTE
    + AUTH
    + """
app = Starlette(
    routes=[Mount("/api", routes=[], middleware=[Middleware(CORSMiddleware, allow_origins=ORIGINS)])],  # FAC107
    middleware=[Middleware(RequireLogin)],
)
""",
    "auth on a parent that mounts a CORS sub-app": FASTAPI
    + AUTH
    + """
api = FastAPI()
api.add_middleware(CORSMiddleware, allow_origins=ORIGINS)  # FAC107
app = FastAPI()
app.add_middleware(RequireLogin)
app.mount("/api", api)
""",
    "CORS on the parent covers an authenticated sub-app": FASTAPI
    + AUTH
    + """
api = FastAPI()
api.add_middleware(RequireLogin)
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
app.mount("/api", api)
""",
    "auth list concatenated in front of a shared list": STARLETTE
    + AUTH
    + """
shared = [Middleware(CORSMiddleware, allow_origins=ORIGINS)]  # FAC107
app = Starlette(middleware=[Middleware(RequireLogin)] + shared)
""",
    "shared list concatenated in front of auth": STARLETTE
    + AUTH
    + """
shared = [Middleware(CORSMiddleware, allow_origins=ORIGINS)]
app = Starlette(middleware=shared + [Middleware(RequireLogin)])
""",
    "helper adds CORS, caller adds auth afterwards": FASTAPI
    + AUTH
    + """
def install_cors(app):
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)  # FAC107


def create_app():
    app = FastAPI()
    install_cors(app)
    app.add_middleware(RequireLogin)
    return app
""",
    "helper adds auth, caller adds CORS afterwards": FASTAPI
    + AUTH
    + """
def add_security(app):
    app.add_middleware(RequireLogin)


def create_app():
    app = FastAPI()
    add_security(app)
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
    return app
""",
    "helper with default methods, POST route on the app passed in": FASTAPI
    + """
def configure_cors(app: FastAPI) -> None:
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)  # FAC108


shop = FastAPI()
configure_cors(shop)


@shop.post("/orders")
def create_order(): ...
""",
    "POST inside a Mount route group": STARLETTE
    + """
async def create(request): ...

app = Starlette(
    routes=[Mount("/notes", routes=[Route("/new", create, methods=["POST"])])],
    middleware=[Middleware(CORSMiddleware, allow_origins=ORIGINS)],  # FAC108
)
""",
    "HTTPEndpoint class with put": STARLETTE
    + """
from starlette.endpoints import HTTPEndpoint


class Note(HTTPEndpoint):
    async def get(self, request): ...
    async def put(self, request): ...


app = Starlette(
    routes=[Route("/notes/{id:int}", Note)],
    middleware=[Middleware(CORSMiddleware, allow_origins=ORIGINS, allow_methods=["GET"])],  # FAC108
)
""",
    "app.router.add_api_route": FASTAPI
    + """
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)  # FAC108
app.router.add_api_route("/x", handler, methods=["PUT"])
""",
    "route decorator applied by hand": FASTAPI
    + """
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)  # FAC108
app.delete("/items/{i}")(remove_item)
""",
    "mounted FastAPI app's routes are its own": FASTAPI
    + """
admin = FastAPI()


@admin.post("/users")
def add_user(): ...


app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
app.mount("/admin", admin)
""",
    "filter() and map() are one-shot iterators": "import os\n"
    + FASTAPI
    + """
app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=filter(None, os.getenv("ORIGINS", "").split(",")),  # FAC106
    allow_headers=map(str.strip, os.getenv("HEADERS", "Authorization").split(",")),  # FAC106
)
""",
    "env list or a wildcard fallback": "import os\n"
    + FASTAPI
    + """
origins = [o for o in os.getenv("KIOSK_ORIGINS", "").split(",") if o]
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=origins or ["*"], allow_credentials=True)  # FAC101
""",
    "env list or a concrete fallback is configuration": "import os\n"
    + FASTAPI
    + """
origins = [o for o in os.getenv("KIOSK_ORIGINS", "").split(",") if o]
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=origins or ["https://kiosk.example.com"], allow_credentials=True)
""",
    "origins written as one split string": FASTAPI
    + """
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins="https://a.example.com,https://b.example.com".split(","))  # FAC103
""",
    "origins from a dict constant": FASTAPI
    + """
CORS = {"origins": ["*"], "credentials": True}  # FAC101
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=CORS["origins"], allow_credentials=CORS["credentials"])
""",
    "a middleware that sets CORS headers itself": FASTAPI
    + """
from starlette.responses import PlainTextResponse


class PublicPreflight:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["method"] == "OPTIONS":
            response = PlainTextResponse("OK", headers={"access-control-allow-origin": "*"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
app.add_middleware(PublicPreflight)
""",
    "a home-grown host check": FASTAPI
    + """
from myproject.security import HostValidationMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
app.add_middleware(HostValidationMiddleware, allowed_hosts=["api.example.com"])
""",
}
OPT_IN = {
    "exception handler applied by hand": FASTAPI
    + """
from fastapi.middleware import Middleware

legacy = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=ORIGINS)])
legacy.exception_handler(Exception)(internal_error)  # FAC110
""",
}


def _run(tmp_path_factory, cases, *args):
    root = tmp_path_factory.mktemp("structure")
    paths = {}
    for index, (name, source) in enumerate(cases.items()):
        path = root / f"case_{index}.py"
        path.write_text(source, encoding="utf-8")
        paths[name] = os.path.normpath(str(path))
    found = flake8_in_process([str(root)], *args)
    return {name: {(line, code) for line, _c, code, _t in found.get(path, [])} for name, path in paths.items()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return {**_run(tmp_path_factory, CASES), **_run(tmp_path_factory, OPT_IN, "--extend-select", "FAC110")}


@pytest.mark.parametrize("name", [*CASES, *OPT_IN])
def test_structure(results, name):
    assert results[name] == expected_markers({**CASES, **OPT_IN}[name])
