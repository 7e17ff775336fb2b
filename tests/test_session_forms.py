"""Dependencies are found the way FastAPI finds them, factories by data flow: each
case returns a new session from a dependency (FAC203) reached through one
mechanism; the marker names the expected finding."""

import os

import pytest

from helpers import codes_at_lines, expected_markers, flake8_in_process, lint_source

HEAD = """\
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Security
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))
app = FastAPI()
router = APIRouter()


def get_db():
    return SessionLocal()  # FAC203

"""

CASES = {
    "Depends default": '@app.get("/x")\ndef x(db: Session = Depends(get_db)): ...\n',
    "Security default": '@app.get("/x")\ndef x(db: Session = Security(get_db)): ...\n',
    "Annotated parameter": '@app.get("/x")\ndef x(db: Annotated[Session, Depends(get_db)]): ...\n',
    "Annotated alias": 'SessionDep = Annotated[Session, Depends(get_db)]\n\n@app.get("/x")\ndef x(db: SessionDep): ...\n',
    "route dependencies=[...]": '@app.get("/x", dependencies=[Depends(get_db)])\ndef x(): ...\n',
    "router dependencies=[...]": "other = APIRouter(dependencies=[Depends(get_db)])\n",
    "app dependencies=[...]": "other = FastAPI(dependencies=[Depends(get_db)])\n",
    "include_router dependencies": "app.include_router(router, dependencies=[Depends(get_db)])\n",
    "dependency_overrides": "def real(): ...\n\napp.dependency_overrides[real] = get_db\n",
    "functools.partial": 'import functools\n\n@app.get("/x")\ndef x(db=Depends(functools.partial(get_db))): ...\n',
}

GENERATOR_CALL = """\
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))
app = FastAPI()


class DatabaseSession:
    def __init__(self, readonly: bool):
        self.readonly = readonly

    def __call__(self):
        db = SessionLocal()
        yield db  # FAC202
        db.close()


readonly_db = DatabaseSession(readonly=True)


@app.get("/x")
def x(db=Depends(readonly_db)): ...


@app.get("/y")
def y(db=Depends(DatabaseSession(readonly=False))): ...
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("session_forms")
    paths = {}
    for index, (name, body) in enumerate(CASES.items()):
        path = root / f"case_{index}.py"
        path.write_text(HEAD + body, encoding="utf-8")
        paths[name] = os.path.normpath(str(path))
    found = flake8_in_process([str(root)])
    return {name: {(line, code) for line, _c, code, _t in found.get(path, [])} for name, path in paths.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_dependency_is_found(results, name):
    assert results[name] == expected_markers(HEAD + CASES[name])


def test_a_function_nobody_depends_on_is_not_a_dependency():
    source = HEAD.replace("  # FAC203", "") + "def job():\n    db = get_db()\n    db.close()\n"
    assert lint_source(source) == []


def test_class_instances_with_a_generator_call():
    assert codes_at_lines(lint_source(GENERATOR_CALL)) == expected_markers(GENERATOR_CALL)


def test_factories_from_a_sibling_module(tmp_path):
    package = tmp_path / "service"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "database.py").write_text(
        "from sqlalchemy import create_engine\nfrom sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker(bind=create_engine('sqlite://'))\n"
        "AsyncSessionLocal = async_sessionmaker()\n"
    )
    deps = package / "deps.py"
    deps.write_text(
        "from .database import AsyncSessionLocal, SessionLocal\n\n\n"
        "def get_db():\n    db = SessionLocal()\n    yield db  # FAC202\n    db.close()\n\n\n"
        "async def get_async_db():\n    db = AsyncSessionLocal()\n    try:\n        yield db\n    finally:\n"
        "        db.close()  # FAC206\n"
    )
    found = flake8_in_process([str(deps)])[str(deps)]
    assert codes_at_lines(found) == expected_markers(deps.read_text())


def test_factories_the_plugin_cannot_see_come_from_an_option():
    source = (
        "from fastapi import Depends, FastAPI\nfrom company.db import make_session\n\napp = FastAPI()\n\n\n"
        "def get_db():\n    return make_session()\n\n\n@app.get('/x')\ndef x(db=Depends(get_db)): ...\n"
    )
    assert lint_source(source) == []
    found = lint_source(source, "--fastapi-cors-session-factories=make_session")
    assert codes_at_lines(found) == {(8, "FAC203")}


def test_http_client_sessions_are_not_database_sessions():
    source = (
        "import aiohttp\nimport requests\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
        "http = requests.Session()\nclient = aiohttp.ClientSession()\n\n\n"
        "@app.get('/x')\nasync def x():\n    http.get('https://example.com')\n    client.close()\n"
    )
    assert lint_source(source) == []


SHAPES = {
    "a session used as `with db:` is closed": HEAD.replace("  # FAC203", "")
    + ("\ndef get_session():\n    db = SessionLocal()\n    with db:\n        yield db\n"),
    "sessions made in exclusive branches are judged separately": HEAD.replace("  # FAC203", "")
    + (
        "\ndef get_session(readonly: bool = True):\n    if readonly:\n        ro = SessionLocal()\n"
        "        try:\n            yield ro\n        finally:\n            ro.close()\n"
        "    else:\n        with SessionLocal.begin() as rw:\n            yield rw\n"
    ),
    "a request-scoped registry's session belongs to the registry": HEAD.replace("  # FAC203", "")
    + (
        "from contextvars import ContextVar\nfrom sqlalchemy.orm import scoped_session\n\n"
        "request_id: ContextVar[int] = ContextVar('request_id')\n"
        "Scoped = scoped_session(SessionLocal, scopefunc=request_id.get)\n\n\n"
        "def get_scoped():\n    return Scoped()\n\n\n@app.get('/y')\ndef y(db=Depends(get_scoped)): ...\n"
    ),
    "an inline sessionmaker(...)() is a session": HEAD.replace("  # FAC203", "")
    + (
        "archive = sessionmaker(bind=create_engine('sqlite://'))()  # FAC201\n\n\n"
        "@app.get('/archive')\ndef read_archive():\n    return archive.get(dict, 1)\n"
    ),
    "close() on an async scoped registry must be awaited": (
        "from asyncio import current_task\n\nfrom fastapi import FastAPI\n"
        "from sqlalchemy.ext.asyncio import async_scoped_session, async_sessionmaker\n\n"
        "Scoped = async_scoped_session(async_sessionmaker(), scopefunc=current_task)\napp = FastAPI()\n\n\n"
        "async def get_db():\n    try:\n        yield Scoped()\n    finally:\n        Scoped.close()  # FAC206\n"
    ),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_session_shapes(name):
    source = SHAPES[name]
    assert codes_at_lines(lint_source(source)) == expected_markers(source)


def test_contextmanager_dependency_imported_from_a_sibling(tmp_path):
    package = tmp_path / "heroes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "audit.py").write_text(
        "from contextlib import contextmanager\n\n\n@contextmanager\ndef audit_scope():\n    yield 'audit'\n"
    )
    routes = package / "routes.py"
    routes.write_text(
        "from fastapi import Depends, FastAPI\n\nfrom .audit import audit_scope\n\napp = FastAPI()\n\n\n"
        "@app.delete('/heroes/{i}')\ndef delete(i: int, audit: str = Depends(audit_scope)):  # FAC204\n    return i\n"
    )
    found = flake8_in_process([str(routes)])[str(routes)]
    assert codes_at_lines(found) == expected_markers(routes.read_text())


def test_partial_and_aliases_bound_to_names_lead_to_the_generator():
    source = HEAD.replace("  # FAC203", "") + (
        "import functools\n\n\ndef _session_for(key: str):\n    db = SessionLocal()\n    yield db  # FAC202\n"
        "    db.close()\n\n\nreplica_db = functools.partial(_session_for, 'replica')\nprimary_db = replica_db\n\n\n"
        "@app.get('/r')\ndef r(db: Session = Depends(primary_db)): ...\n"
    )
    assert codes_at_lines(lint_source(source)) == expected_markers(source)
