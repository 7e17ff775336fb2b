"""Runtime proof for the SQLAlchemy session rules FAC201, FAC202, FAC203 and FAC206.

Every app below is a module SOURCE STRING (`FAC2xx_FLAGGED` / `FAC2xx_CLEAN`), executed as-is
in a fresh namespace, so the same text can later be linted and the findings compared with the
`# FAC2xx` marker comments (they sit on the line the finding will be reported at). The sources
read their database URL from `DATABASE_URL`, which the tests inject into the exec namespace and
point at a SQLite file in `tmp_path` (a file database, so every thread sees the same data).

Requests go through real FastAPI + Starlette (`fastapi.testclient.TestClient`) into real
SQLAlchemy; nothing is mocked. The facts proved here are those of
`research/runtime-facts.md`, section B (B3 and B5). The linter itself is not run here.

Leaked sessions sit in reference cycles (Session <-> SessionTransaction), so CPython's cyclic
garbage collector is the only thing that can ever give their connections back. The leak tests
run with the cyclic GC paused (`gc.disable()`, restored in `finally`) so that a collection that
happens to trigger mid-test cannot return the connections behind the test's back.

The async test (FAC206) needs `aiosqlite` and `greenlet` (SQLAlchemy's asyncio extension
imports greenlet); it is skipped when either is missing.
"""

import concurrent.futures
import contextlib
import gc
import importlib.util
import threading
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, exc as sa_exc, select

# --------------------------------------------------------------------------- helpers


def build_namespace(source: str, database_url: str) -> Dict[str, Any]:
    """Execute `source` as a fresh module whose global `DATABASE_URL` is `database_url`.

    `dont_inherit=True` keeps this file's compiler flags out of the app source, so the
    annotations of the models and handlers are evaluated exactly as in a real module."""
    namespace: Dict[str, Any] = {"__name__": "linted_app", "DATABASE_URL": database_url}
    exec(compile(source, "app.py", "exec", dont_inherit=True), namespace)
    return namespace


def sqlite_url(tmp_path: Path, driver: str = "sqlite") -> str:
    return f"{driver}:///{tmp_path / 'app.db'}"


def seed(namespace: Dict[str, Any], rows: Dict[int, str]) -> None:
    """Insert `Item(id=..., name=...)` rows through the app's own session factory."""
    Item = namespace["Item"]
    with namespace["SessionLocal"].begin() as session:
        session.add_all(Item(id=item_id, name=name) for item_id, name in rows.items())


def stored_names(namespace: Dict[str, Any]) -> Dict[int, str]:
    Item = namespace["Item"]
    with namespace["SessionLocal"]() as session:
        return {item.id: item.name for item in session.scalars(select(Item))}


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Collect once, then keep the cyclic garbage collector off until the block ends.

    Leaked sessions are only reachable through reference cycles; a collection in the middle
    of a test would quietly check their connections back in and hide the leak."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_leaked_connections() -> None:
    """Let the cyclic GC finalize leaked sessions (SQLAlchemy logs a complaint for each)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


# =========================================================================== FAC201

FAC201_FLAGGED = """\
from fastapi import FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)

db = SessionLocal()  # FAC201

app = FastAPI()


@app.post("/items/{item_id}")
def create_item(item_id: int, name: str):
    db.add(Item(id=item_id, name=name))
    db.commit()
    return {"id": item_id, "name": name}


@app.get("/items/{item_id}")
def read_item(item_id: int):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

FAC201_CLEAN = """\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI()


@app.post("/items/{item_id}")
def create_item(item_id: int, name: str, db: Session = Depends(get_db)):
    db.add(Item(id=item_id, name=name))
    db.commit()
    return {"id": item_id, "name": name}


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

PENDING_ROLLBACK = "rolled back due to a previous exception during flush"


@pytest.fixture
def fac201_flagged(tmp_path):
    namespace = build_namespace(FAC201_FLAGGED, sqlite_url(tmp_path))
    yield namespace
    namespace["db"].close()
    namespace["engine"].dispose()


@pytest.fixture
def fac201_clean(tmp_path):
    namespace = build_namespace(FAC201_CLEAN, sqlite_url(tmp_path))
    yield namespace
    namespace["engine"].dispose()


def test_fac201_global_session_carries_a_failed_flush_into_later_unrelated_requests(fac201_flagged):
    """Runtime fact B5 "Failures carry over between requests": with a module-level Session, one
    request's failed flush (duplicate primary key) leaves the shared transaction rolled back but
    not reset, so every later, unrelated request fails with PendingRollbackError."""
    seed(fac201_flagged, {1: "alpha", 2: "beta"})
    client = TestClient(fac201_flagged["app"])

    with pytest.raises(sa_exc.IntegrityError):
        client.post("/items/1", params={"name": "duplicate"})

    # A plain read of another row, by another request: it never touched item 1.
    with pytest.raises(sa_exc.PendingRollbackError, match=PENDING_ROLLBACK):
        client.get("/items/2")
    # A valid write fails the same way: the app stays broken until someone rolls back.
    with pytest.raises(sa_exc.PendingRollbackError, match=PENDING_ROLLBACK):
        client.post("/items/3", params={"name": "gamma"})
    with pytest.raises(sa_exc.PendingRollbackError, match=PENDING_ROLLBACK):
        client.get("/items/1")

    assert stored_names(fac201_flagged) == {1: "alpha", 2: "beta"}


def test_fac201_clean_per_request_session_isolates_a_failed_flush(fac201_clean):
    """With a session per request (yield dependency, close in finally) the duplicate insert fails
    only its own request; the next requests read and write normally."""
    seed(fac201_clean, {1: "alpha", 2: "beta"})
    client = TestClient(fac201_clean["app"])

    with pytest.raises(sa_exc.IntegrityError):
        client.post("/items/1", params={"name": "duplicate"})

    response = client.get("/items/2")
    assert response.status_code == 200 and response.json() == {"id": 2, "name": "beta"}
    response = client.post("/items/3", params={"name": "gamma"})
    assert response.status_code == 200
    assert client.get("/items/1").json() == {"id": 1, "name": "alpha"}

    assert stored_names(fac201_clean) == {1: "alpha", 2: "beta", 3: "gamma"}


def overlap_two_creates(namespace: Dict[str, Any]):
    """Run POST /items/1 ("a") in a worker thread and hold it inside `commit()` (a real
    `before_commit` session event, not a mock) while POST /items/2 ("b") runs from this thread.

    The overlap is forced, so the outcome does not depend on thread timing. Returns
    (outcome of request b, status of request a)."""
    entered, release = threading.Event(), threading.Event()
    first = threading.Lock()

    def hold_first_commit(session):
        if first.acquire(blocking=False):  # only the first commit waits
            entered.set()
            release.wait(5)

    event.listen(namespace["SessionLocal"], "before_commit", hold_first_commit)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        request_a = pool.submit(lambda: TestClient(namespace["app"]).post("/items/1", params={"name": "a"}).status_code)
        try:
            assert entered.wait(5), "request a never reached commit()"
            try:
                outcome_b: Any = TestClient(namespace["app"]).post("/items/2", params={"name": "b"})
            except Exception as error:  # the server error, re-raised by TestClient
                outcome_b = error
        finally:
            release.set()
        return outcome_b, request_a.result(timeout=10)


def test_fac201_global_session_breaks_concurrent_requests(fac201_flagged):
    """Runtime fact B5 (concurrent requests on a global Session): while one request is inside
    `commit()`, a concurrent request's `commit()` on the same Session raises
    IllegalStateChangeError; and because both requests share one transaction, the failed
    request's row is committed anyway by the other request."""
    outcome_b, status_a = overlap_two_creates(fac201_flagged)

    assert isinstance(outcome_b, sa_exc.IllegalStateChangeError), outcome_b
    assert "can't be called here" in str(outcome_b)
    assert status_a == 200
    # Request b got a server error, yet its item was written by request a's commit.
    assert stored_names(fac201_flagged) == {1: "a", 2: "b"}


def test_fac201_clean_per_request_sessions_do_not_interfere(fac201_clean):
    """The same forced overlap with a session per request: both requests succeed, each commits
    only its own row."""
    outcome_b, status_a = overlap_two_creates(fac201_clean)

    assert not isinstance(outcome_b, Exception), outcome_b
    assert outcome_b.status_code == 200
    assert status_a == 200
    assert stored_names(fac201_clean) == {1: "a", 2: "b"}


# =========================================================================== FAC202

FAC202_FLAGGED = """\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

engine = create_engine(
    DATABASE_URL, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=1
)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    db = SessionLocal()
    yield db  # FAC202
    db.close()


app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

FAC202_CLEAN = """\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

engine = create_engine(
    DATABASE_URL, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=1
)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

POOL_EXHAUSTED = "QueuePool limit of size 2 overflow 0 reached"


@pytest.fixture
def fac202_flagged(tmp_path):
    namespace = build_namespace(FAC202_FLAGGED, sqlite_url(tmp_path))
    seed(namespace, {1: "alpha"})
    yield namespace
    collect_leaked_connections()
    namespace["engine"].dispose()


@pytest.fixture
def fac202_clean(tmp_path):
    namespace = build_namespace(FAC202_CLEAN, sqlite_url(tmp_path))
    seed(namespace, {1: "alpha"})
    yield namespace
    namespace["engine"].dispose()


def test_fac202_close_after_yield_is_skipped_by_http_exception_and_pool_runs_dry(fac202_flagged):
    """Runtime fact B3: an endpoint exception, even HTTPException(404), is thrown into the
    dependency at `yield`, so a `db.close()` after it (no try/finally) never runs. With a pool
    of 2, two 404s leave both connections checked out and the third request times out waiting
    for one. Only the cyclic garbage collector gives them back (runs with the GC paused, see
    the module docstring)."""
    pool = fac202_flagged["engine"].pool
    client = TestClient(fac202_flagged["app"])

    with cyclic_gc_paused():
        # On success the close after `yield` does run: nothing leaks.
        assert client.get("/items/1").status_code == 200
        assert pool.checkedout() == 0

        assert client.get("/items/404").status_code == 404
        assert pool.checkedout() == 1
        assert client.get("/items/404").status_code == 404
        assert pool.checkedout() == 2

        # Even a request that would succeed cannot get a connection any more.
        with pytest.raises(sa_exc.TimeoutError, match=POOL_EXHAUSTED):
            client.get("/items/1")
        assert pool.checkedout() == 2

        collect_leaked_connections()  # an explicit collection works while the GC is paused
        assert pool.checkedout() == 0


def test_fac202_clean_try_finally_returns_connections_after_http_exception(fac202_clean):
    """With `try: yield db` / `finally: db.close()` the 404s close their sessions: nothing stays
    checked out and later requests keep working (same pool, GC paused as well)."""
    pool = fac202_clean["engine"].pool
    client = TestClient(fac202_clean["app"])

    with cyclic_gc_paused():
        assert client.get("/items/404").status_code == 404
        assert client.get("/items/404").status_code == 404
        assert pool.checkedout() == 0

        for _ in range(3):  # more requests than the pool has connections
            response = client.get("/items/1")
            assert response.status_code == 200 and response.json() == {"id": 1, "name": "alpha"}
        assert client.get("/items/404").status_code == 404
        assert pool.checkedout() == 0


# =========================================================================== FAC203

FAC203_FLAGGED = """\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

engine = create_engine(
    DATABASE_URL, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=1
)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    return SessionLocal()  # FAC203


app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

FAC203_CLEAN = """\
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

engine = create_engine(
    DATABASE_URL, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=1
)
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""


@pytest.fixture
def fac203_flagged(tmp_path):
    namespace = build_namespace(FAC203_FLAGGED, sqlite_url(tmp_path))
    seed(namespace, {1: "alpha"})
    yield namespace
    collect_leaked_connections()
    namespace["engine"].dispose()


@pytest.fixture
def fac203_clean(tmp_path):
    namespace = build_namespace(FAC203_CLEAN, sqlite_url(tmp_path))
    seed(namespace, {1: "alpha"})
    yield namespace
    namespace["engine"].dispose()


def test_fac203_returned_session_is_never_closed_and_pool_runs_dry(fac203_flagged):
    """Runtime fact B3: a dependency that `return`s a new Session hands FastAPI nothing to
    clean up, so every successful request leaves its connection checked out. With a pool of 2
    the third request times out. Only the cyclic garbage collector gives the connections back
    (runs with the GC paused, see the module docstring)."""
    pool = fac203_flagged["engine"].pool
    client = TestClient(fac203_flagged["app"])

    with cyclic_gc_paused():
        assert client.get("/items/1").status_code == 200
        assert pool.checkedout() == 1
        assert client.get("/items/1").status_code == 200
        assert pool.checkedout() == 2

        with pytest.raises(sa_exc.TimeoutError, match=POOL_EXHAUSTED):
            client.get("/items/1")
        assert pool.checkedout() == 2

        collect_leaked_connections()  # an explicit collection works while the GC is paused
        assert pool.checkedout() == 0


def test_fac203_clean_yield_dependency_returns_connections(fac203_clean):
    """The yield + try/finally version closes each session after its request: nothing stays
    checked out and more requests than the pool size succeed (GC paused as well)."""
    pool = fac203_clean["engine"].pool
    client = TestClient(fac203_clean["app"])

    with cyclic_gc_paused():
        for _ in range(4):
            response = client.get("/items/1")
            assert response.status_code == 200 and response.json() == {"id": 1, "name": "alpha"}
            assert pool.checkedout() == 0


# =========================================================================== FAC206

FAC206_FLAGGED = """\
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import AsyncAdaptedQueuePool

engine = create_async_engine(
    DATABASE_URL, poolclass=AsyncAdaptedQueuePool, pool_size=2, max_overflow=0, pool_timeout=1
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


@asynccontextmanager
async def lifespan(app):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal.begin() as session:
        session.add(Item(id=1, name="alpha"))
    yield
    await engine.dispose()


async def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()  # FAC206


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int, db: AsyncSession = Depends(get_db)):
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item.id, "name": item.name}
"""

FAC206_CLEAN = FAC206_FLAGGED.replace("        db.close()  # FAC206\n", "        await db.close()\n")
assert FAC206_CLEAN != FAC206_FLAGGED

NEVER_AWAITED = r"coroutine 'AsyncSession\.close' was never awaited"

needs_async_sqlite = pytest.mark.skipif(
    importlib.util.find_spec("aiosqlite") is None or importlib.util.find_spec("greenlet") is None,
    reason="needs aiosqlite and greenlet (sqlalchemy[asyncio])",
)


@needs_async_sqlite
def test_fac206_unawaited_async_close_closes_nothing(tmp_path):
    """Runtime fact B3: `AsyncSession.close()` is a coroutine function; calling it without
    `await` only creates a coroutine that never runs (Python warns "coroutine
    'AsyncSession.close' was never awaited"), so each request's connection stays checked out
    (runs with the GC paused, see the module docstring)."""
    namespace = build_namespace(FAC206_FLAGGED, sqlite_url(tmp_path, "sqlite+aiosqlite"))
    pool = namespace["engine"].sync_engine.pool

    with TestClient(namespace["app"]) as client:  # one event loop for the whole test
        assert pool.checkedout() == 0
        with cyclic_gc_paused():
            try:
                with pytest.warns(RuntimeWarning, match=NEVER_AWAITED) as record:
                    assert client.get("/items/1").status_code == 200
                    assert pool.checkedout() == 1
                    assert client.get("/items/404").status_code == 404
                    assert pool.checkedout() == 2
                # one per request
                assert sum("was never awaited" in str(w.message) for w in record) == 2
            finally:
                # The recorded warnings keep the coroutines, hence the sessions, alive: drop
                # them, then let the GC terminate the leaked connections on the app's loop.
                record = None
                client.portal.call(collect_leaked_connections)
            assert pool.checkedout() == 0


@needs_async_sqlite
def test_fac206_clean_awaited_async_close_returns_connections(tmp_path):
    """With `await db.close()` in `finally` each request gives its connection back and no
    "never awaited" warning is emitted (GC paused as well)."""
    namespace = build_namespace(FAC206_CLEAN, sqlite_url(tmp_path, "sqlite+aiosqlite"))
    pool = namespace["engine"].sync_engine.pool

    with TestClient(namespace["app"]) as client:
        with cyclic_gc_paused(), warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            assert client.get("/items/1").status_code == 200
            assert pool.checkedout() == 0
            assert client.get("/items/404").status_code == 404
            assert pool.checkedout() == 0
            for _ in range(3):
                assert client.get("/items/1").json() == {"id": 1, "name": "alpha"}
            assert pool.checkedout() == 0
        assert not [w for w in record if "was never awaited" in str(w.message)]


# -- the linter says the same about these sources ---------------------------------

LINTED = {
    "FAC201": (FAC201_FLAGGED, FAC201_CLEAN),
    "FAC202": (FAC202_FLAGGED, FAC202_CLEAN),
    "FAC203": (FAC203_FLAGGED, FAC203_CLEAN),
    "FAC206": (FAC206_FLAGGED, FAC206_CLEAN),
}


@pytest.mark.parametrize("code", sorted(LINTED))
def test_the_plugin_flags_the_harmful_source_and_not_the_clean_one(code):
    """The sources these tests run are exactly what flake8 checks: the flagged one is
    reported on its marked line, the clean one has no session finding."""
    from helpers import codes_at_lines, expected_markers, lint_source

    flagged, clean = LINTED[code]
    assert codes_at_lines(lint_source(flagged, "--select", "FAC2")) == expected_markers(flagged)
    assert any(c == code for _line, c in expected_markers(flagged))
    assert codes_at_lines(lint_source(clean, "--select", "FAC2")) == set()
