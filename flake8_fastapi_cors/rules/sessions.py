"""SQLAlchemy session rules FAC201-FAC208: each a record and a check over the
module model's session facts."""

from __future__ import annotations

import ast
import textwrap
from typing import Dict, Iterator, List, Optional, Tuple

from flake8_fastapi_cors.model import ModuleModel
from flake8_fastapi_cors.model.resolve import SCOPED_SESSIONS
from flake8_fastapi_cors.model.scopes import own_nodes, unparse
from flake8_fastapi_cors.model.sessions import CONTEXT_MANAGERS, SessionModel, is_new_session
from flake8_fastapi_cors.model.values import SessionFactory
from flake8_fastapi_cors.registry import SAFE, UNSAFE, Fix, Options, fix, rule, span

Report = Tuple[ast.AST, Dict[str, str]]
MARKERS = ("Session", "sessionmaker", "scoped_session")
DEPENDENCY_MARKERS = ("Depends", "Security", "dependency_overrides")  # how a function becomes a dependency
FASTAPI_SQL_DOC = "https://fastapi.tiangolo.com/tutorial/sql-databases/"
YIELD_DOC = "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/"
SA_SESSION_FAQ = "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#is-the-session-thread-safe-is-asyncsession-safe-to-share-in-concurrent-tasks"
SA_CLOSING = "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#closing"

SYNC = """\
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///app.db")
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()
"""
ASYNC = """\
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///app.db")
SessionLocal = async_sessionmaker(engine)
app = FastAPI()
"""


def _block(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _facts(model: ModuleModel, options_: Options) -> Optional[SessionModel]:
    facts = model.sessions(options_.session_factories)
    return facts if facts.handles_requests else None


def _mentions(nodes: List[ast.stmt], name: str) -> bool:
    """Does a call in these statements act on `name` (as receiver or argument)?"""
    for stmt in nodes:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
                return True
    return False


def _closed_by_finally(func: ast.AST, name: Optional[str], at: ast.AST, facts: SessionModel) -> bool:
    """Is there a `try` around `at` whose `finally` closes `name` (directly, through a
    helper taking it, or by `remove()` on a scoped registry)?"""
    scope = facts.model.scope_of[id(func)]
    for node in own_nodes(func):
        if not isinstance(node, ast.Try) or not node.finalbody:
            continue
        if not any(_contains(stmt, at) for stmt in node.body):
            continue
        if name is not None and _mentions(node.finalbody, name):
            return True
        for stmt in node.finalbody:
            for call in ast.walk(stmt):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "remove"
                    and isinstance(facts.session_value(call.func.value, scope), SessionFactory)
                ):
                    return True
    return False


def _in_with_of(func: ast.AST, name: Optional[str], at: ast.AST) -> bool:
    """Is `at` inside a `with` whose items use `name` (`with db:`, `with closing(db):`)?"""
    for node in own_nodes(func):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(_contains(stmt, at) for stmt in node.body):
            for item in node.items:
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(item.context_expr)):
                    return True
    return False


def _exclusive(func: ast.AST, a: ast.AST, b: ast.AST) -> bool:
    """Are `a` and `b` in different arms of one `if`?"""
    for node in own_nodes(func):
        if isinstance(node, ast.If):
            in_body = [any(_contains(s, x) for s in node.body) for x in (a, b)]
            in_else = [any(_contains(s, x) for s in node.orelse) for x in (a, b)]
            if (in_body[0] and in_else[1]) or (in_body[1] and in_else[0]):
                return True
    return False


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    return any(node is inner for node in ast.walk(outer))


# ---------------------------------------------------------------------------
@rule(
    code="FAC201",
    name="global-session",
    summary="Module-level session shared by requests",
    message=(
        "{name} is one Session for the whole process, used by {users}: concurrent requests share it "
        "(IllegalStateChangeError, ResourceClosedError) and one failed flush breaks every later request "
        "(PendingRollbackError). Create a session per request in a yield dependency and inject it."
    ),
    fix=UNSAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a module- or class-level SQLAlchemy `Session` / `AsyncSession` *instance*
        (`db = SessionLocal()`, `session = Session(engine)`) that a route handler or a
        dependency uses. Factories (`SessionLocal = sessionmaker(...)`) are not sessions;
        test modules, Alembic's `env.py` and `if __name__ == "__main__":` blocks are not
        request handling and are not checked.
    """,
    why_bad="""
        A Session is not safe to share between threads or asyncio tasks. FastAPI serves
        requests concurrently, so requests interleave on the same transaction: commits
        collide, a transaction closes under another request, and after one failed flush
        every later request fails with `PendingRollbackError` until the process restarts.
    """,
    example=SYNC + _block("""
        db = SessionLocal()

        @app.get("/items")
        def list_items():
            return db.execute(text("select 1")).all()
    """),
    use_instead=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()

        @app.get("/items")
        def list_items(db: Session = Depends(get_db)):
            return db.execute(text("select 1")).all()
    """),
    fix_safety="""
        Unsafe: the fix adds (or reuses) a `get_db` yield dependency and injects it into the
        handlers that used the global, which changes their signatures.
    """,
    references=(SA_SESSION_FAQ, FASTAPI_SQL_DOC),
    flagged=(
        (
            SYNC
            + 'db = SessionLocal()  # FAC201\n\n@app.get("/items")\ndef items():\n    return db.execute(text("select 1")).all()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        db = SessionLocal()  # FAC201


        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()

        @app.get("/items")
        def items(db=Depends(get_db)):
            return db.execute(text("select 1")).all()
        """,
        ),
        (
            SYNC + 'session = Session(engine)  # FAC201\n\n@app.post("/items")\ndef create():\n    session.commit()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        session = Session(engine)  # FAC201


        def get_db():
            session = Session(engine)
            try:
                yield session
            finally:
                session.close()

        @app.post("/items")
        def create(session=Depends(get_db)):
            session.commit()
        """,
        ),
        (
            ASYNC
            + 'db = SessionLocal()  # FAC201\n\n@app.get("/items")\nasync def items():\n    return (await db.execute(text("select 1"))).all()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        db = SessionLocal()  # FAC201


        async def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                await db.close()

        @app.get("/items")
        async def items(db=Depends(get_db)):
            return (await db.execute(text("select 1"))).all()
        """,
        ),
        (
            ASYNC
            + 'session = AsyncSession(engine)  # FAC201\n\nasync def get_db():\n    yield session\n\n@app.get("/items")\nasync def items(db: AsyncSession = Depends(get_db)):\n    return 1\n',
            None,
        ),
        (
            SYNC
            + 'from fastapi import APIRouter\nrouter = APIRouter()\nDB = SessionLocal()  # FAC201\n\n@router.delete("/items/{i}")\ndef remove(i: int):\n    DB.commit()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        from fastapi import APIRouter
        router = APIRouter()
        DB = SessionLocal()  # FAC201


        def get_db():
            DB = SessionLocal()
            try:
                yield DB
            finally:
                DB.close()

        @router.delete("/items/{i}")
        def remove(i: int, DB=Depends(get_db)):
            DB.commit()
        """,
        ),
        (
            SYNC
            + 'from sqlalchemy.orm import scoped_session\nRegistry = scoped_session(SessionLocal, scopefunc=lambda: 1)\ndb = Registry()  # FAC201\n\ndef get_db():\n    return db\n\n@app.get("/x")\ndef x(s=Depends(get_db)):\n    return 1\n',
            None,
        ),
    ),
    clean=(
        SYNC
        + 'def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n\n@app.get("/items")\ndef items(db: Session = Depends(get_db)):\n    return 1\n',
        SYNC
        + 'import requests\nhttp = requests.Session()\n\n@app.get("/proxy")\ndef proxy():\n    return http.get("https://example.com").json()\n',
        SYNC + "db = SessionLocal()\n\ndef seed():\n    db.commit()\n",
        SYNC + 'if __name__ == "__main__":\n    db = SessionLocal()\n    db.execute(text("select 1"))\n',
        ASYNC
        + 'import aiohttp\nclient = aiohttp.ClientSession()\n\n@app.get("/proxy")\nasync def proxy():\n    return 1\n',
        SYNC
        + 'Session = sessionmaker(bind=engine)\n\n@app.get("/items")\ndef items():\n    with Session() as db:\n        return db.execute(text("select 1")).all()\n',
    ),
)
def global_session(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None:
        return
    request_functions = facts.request_functions()
    for scope, binding in facts.global_sessions():
        users = [f for f in request_functions if _uses_global(model, f, scope, binding.name)]
        if users:
            shown = ", ".join(f"{u}()" for u in dict.fromkeys(f.name for f in users))
            yield binding.node, {"name": binding.name, "users": shown}, _inject(facts, scope, binding, users)


def _inject(facts: SessionModel, scope, binding, users: List[ast.AST]) -> Optional[Fix]:
    """FAC201's fix: a yield dependency that makes one session per request, injected
    (under the global's name) into the route handlers that used the global."""
    model = facts.model
    if scope.kind != "module" or binding.path or not isinstance(binding.value, ast.Call):
        return None
    if any(id(u) not in facts.handlers or model.scope_of[id(u)].parent is not scope for u in users):
        return None  # a dependency or a method uses it: rewrite by hand
    dependency = next((n for n in ("get_db", "get_session", "get_db_session") if n not in scope.bindings), None)
    if dependency is None:
        return None
    is_async = facts.session_value(binding.value, scope).is_async
    handlers = tuple(span(u) for u in users)
    data = {"name": binding.name, "dependency": dependency, "is_async": is_async, "handlers": handlers}
    return fix("inject-session", binding.node, binding=span(binding.node), **data)


def _uses_global(model: ModuleModel, func: ast.AST, owner, name: str) -> bool:
    """Does `func` read the module-level `name`, or the class attribute `name` of the
    class `owner` (as `Class.name`, or `self.name` / `cls.name` in its methods)?"""
    scope = model.scope_of[id(func)]
    for node in own_nodes(func):
        if owner.kind == "module":
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                if scope.lookup_scope(name) is owner:
                    return True
        elif isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.value, ast.Name):
            base = node.value.id
            if base in ("self", "cls") and scope.parent is owner:
                return True
            if base == owner.node.name and scope.lookup_scope(base) is owner.parent:
                return True
    return False


# ---------------------------------------------------------------------------
@rule(
    code="FAC202",
    name="session-not-closed-in-finally",
    summary="Yield dependency that can skip closing its session",
    message=(
        "{name} is not closed in `finally` or by `with`: when the endpoint raises (even "
        "HTTPException(404)) the code after `yield` never runs and the connection stays checked out "
        "until the pool runs dry. Wrap it: try: yield {name} / finally: {close}."
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a yield dependency that makes a session and closes it after `yield` outside a
        `finally` or `with`, or never closes it. A generator that makes a session and yields
        it counts as a dependency by its shape even when the `Depends(...)` is in another
        module (unless it is a `@contextmanager`, a pytest fixture, or used otherwise here).
    """,
    why_bad="""
        FastAPI throws the endpoint's exception into the generator at `yield`, so code after
        it does not run. Every failing request leaks a checked-out connection until the
        garbage collector finds the session; with a pool of 5 that is five errors away from
        every request timing out.
    """,
    example=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            yield db
            db.close()
    """),
    use_instead=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()
    """),
    fix_safety="Safe: the session is closed on every path, as it already was on the successful one.",
    references=(YIELD_DOC, SA_CLOSING),
    flagged=(
        (
            SYNC + "def get_db():\n    db = SessionLocal()\n    yield db  # FAC202\n    db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db  # FAC202
            finally:
                db.close()
        """,
        ),
        (
            SYNC + "def get_db():\n    db = SessionLocal()\n    yield db  # FAC202\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db  # FAC202
            finally:
                db.close()
        """,
        ),
        (
            SYNC
            + 'def get_db():\n    yield SessionLocal()  # FAC202\n\n@app.get("/x")\ndef x(db=Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()  # FAC202
            try:
                yield db
            finally:
                db.close()

        @app.get("/x")
        def x(db=Depends(get_db)):
            return 1
        """,
        ),
        (
            ASYNC + "async def get_db():\n    db = SessionLocal()\n    yield db  # FAC202\n    await db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_db():
            db = SessionLocal()
            try:
                yield db  # FAC202
            finally:
                await db.close()
        """,
        ),
        (
            ASYNC
            + "async def get_session():\n    session = AsyncSession(engine)\n    try:\n        yield session  # FAC202\n    except Exception:\n        await session.rollback()\n        raise\n    await session.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_session():
            session = AsyncSession(engine)
            try:
                yield session  # FAC202
            except Exception:
                await session.rollback()
                raise
            finally:
                await session.close()
        """,
        ),
        (
            SYNC
            + 'def get_db():\n    db = SessionLocal()\n    yield db  # FAC202\n    db.commit()\n    db.close()\n\n@app.post("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db  # FAC202
                db.commit()
            finally:
                db.close()

        @app.post("/x")
        def x(db: Session = Depends(get_db)):
            return 1
        """,
        ),
    ),
    clean=(
        SYNC + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n",
        SYNC + "def get_db():\n    with SessionLocal() as db:\n        yield db\n        db.commit()\n",
        ASYNC + "async def get_db():\n    async with SessionLocal() as db:\n        yield db\n",
        ASYNC
        + "async def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        await db.close()\n",
        SYNC + "def get_db():\n    with SessionLocal.begin() as db:\n        yield db\n",
        SYNC
        + "def close_quietly(session):\n    session.close()\n\ndef get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        close_quietly(db)\n",
        SYNC + "from fastapi import Request\n\ndef get_db(request: Request):\n    yield request.state.db\n",
        SYNC
        + "from contextlib import contextmanager\n\n@contextmanager\ndef session_scope():\n    db = SessionLocal()\n    yield db\n    db.close()\n",
        SYNC
        + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n\ndef get_repo():\n    yield from get_db()\n",
    ),
)
def session_not_closed_in_finally(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None:
        return
    for func in facts.yield_dependencies():
        scope = model.scope_of[id(func)]
        yields = [n for n in own_nodes(func) if isinstance(n, ast.Yield)]
        for node in yields:
            value = facts.session_value(node.value, scope) if node.value is not None else None
            if (
                isinstance(node.value, ast.Call)
                and is_new_session(value)
                and not _closed_by_finally(func, None, node, facts)
            ):
                fields = {"name": "the yielded session", "close": f"{unparse(node.value)}.close()"}
                yield node, fields, _close_in_finally(func, node, None, value)
        for created in facts.created_sessions(func):
            if created.in_with:
                continue
            for node in yields:
                if (
                    node.lineno < created.node.lineno
                    or _closed_by_finally(func, created.name, node, facts)
                    or _in_with_of(func, created.name, node)
                    or _exclusive(func, created.node, node)
                ):
                    continue
                close = f"await {created.name}.close()" if created.value.is_async else f"{created.name}.close()"
                yield node, {"name": created.name, "close": close}, _close_in_finally(
                    func, node, created.name, created.value
                )


def _close_in_finally(func: ast.AST, yield_: ast.Yield, name: Optional[str], value) -> Optional[Fix]:
    """FAC202's fix: the yield (and what follows it up to the close) in `try`, the close in `finally`."""
    if value.is_async and not isinstance(func, ast.AsyncFunctionDef):
        return None  # an AsyncSession's close must be awaited, which a sync def cannot
    return fix("close-in-finally", func, name=name, is_async=value.is_async, **{"yield": span(yield_)})


# ---------------------------------------------------------------------------
@rule(
    code="FAC203",
    name="returned-session",
    summary="Dependency that returns a new session",
    message=(
        "this dependency returns a new session and nobody ever closes it: each request keeps a "
        "connection checked out until the garbage collector runs. Make it a yield dependency: "
        "try: yield db / finally: db.close()."
    ),
    fix=UNSAFE,
    markers=MARKERS,
    what_it_does="Flags a dependency (a function used through `Depends`) that `return`s a session it creates.",
    why_bad="""
        FastAPI only runs clean-up code for yield dependencies. A returned session is never
        closed; its connection stays checked out until the cyclic garbage collector frees the
        session, so under load the pool runs dry and requests time out.
    """,
    example=SYNC + _block("""
        def get_db():
            return SessionLocal()

        @app.get("/items")
        def items(db: Session = Depends(get_db)): ...
    """),
    use_instead=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()

        @app.get("/items")
        def items(db: Session = Depends(get_db)): ...
    """),
    fix_safety="Unsafe: turning the function into a generator changes what direct callers of it receive.",
    references=(YIELD_DOC, SA_CLOSING),
    flagged=(
        (
            SYNC
            + 'def get_db():\n    return SessionLocal()  # FAC203\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()  # FAC203
            try:
                yield db
            finally:
                db.close()

        @app.get("/x")
        def x(db: Session = Depends(get_db)):
            return 1
        """,
        ),
        (
            SYNC
            + 'def get_db():\n    db = SessionLocal()\n    return db  # FAC203\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db  # FAC203
            finally:
                db.close()

        @app.get("/x")
        def x(db: Session = Depends(get_db)):
            return 1
        """,
        ),
        (
            ASYNC
            + 'async def get_db():\n    return SessionLocal()  # FAC203\n\n@app.get("/x")\nasync def x(db: AsyncSession = Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_db():
            db = SessionLocal()  # FAC203
            try:
                yield db
            finally:
                await db.close()

        @app.get("/x")
        async def x(db: AsyncSession = Depends(get_db)):
            return 1
        """,
        ),
        (
            ASYNC
            + 'from typing import Annotated\n\ndef get_session() -> AsyncSession:\n    return AsyncSession(engine)  # FAC203\n\nSessionDep = Annotated[AsyncSession, Depends(get_session)]\n\n@app.get("/x")\nasync def x(db: SessionDep):\n    return 1\n',
            None,
        ),
        (
            SYNC
            + "def get_db():\n    return Session(engine)  # FAC203\n\napp2 = FastAPI(dependencies=[Depends(get_db)])\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = Session(engine)  # FAC203
            try:
                yield db
            finally:
                db.close()

        app2 = FastAPI(dependencies=[Depends(get_db)])
        """,
        ),
        (
            SYNC
            + 'from fastapi import Security\n\ndef get_db():\n    session = SessionLocal()\n    session.info["user"] = None\n    return session  # FAC203\n\n@app.get("/x")\ndef x(db=Security(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        from fastapi import Security

        def get_db():
            session = SessionLocal()
            session.info["user"] = None
            try:
                yield session  # FAC203
            finally:
                session.close()

        @app.get("/x")
        def x(db=Security(get_db)):
            return 1
        """,
        ),
    ),
    clean=(
        SYNC
        + 'def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
        SYNC
        + 'from fastapi import Request\n\ndef get_db(request: Request):\n    return request.state.db\n\n@app.get("/x")\ndef x(db=Depends(get_db)):\n    return 1\n',
        SYNC
        + "def make_session():\n    return SessionLocal()\n\ndef job():\n    with make_session() as db:\n        db.commit()\n",
        SYNC
        + 'def get_factory():\n    return SessionLocal\n\n@app.get("/x")\ndef x(factory=Depends(get_factory)):\n    return 1\n',
        ASYNC
        + 'async def get_db():\n    async with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\nasync def x(db: AsyncSession = Depends(get_db)):\n    return 1\n',
        SYNC
        + 'def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n\ndef get_user(db: Session = Depends(get_db)):\n    user = db.execute(text("select 1")).scalar()\n    db.close()\n    return user\n\n@app.get("/me")\ndef me(user=Depends(get_user)):\n    return user\n',
    ),
)
def returned_session(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None:
        return
    for func in facts.dependencies.values():
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(func)):
            continue
        scope = model.scope_of[id(func)]
        made = {}
        for created in facts.created_sessions(func):
            if not created.in_with:
                made.setdefault(created.name, created.value)
        for node in own_nodes(func):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in made:
                yield node, {}, _yield_instead(func, node, value.id, made[value.id].is_async)
            elif isinstance(value, ast.Call):
                session = facts.session_value(value, scope)
                if is_new_session(session):
                    yield node, {}, _yield_instead(func, node, None, session.is_async)


def _yield_instead(func: ast.AST, node: ast.Return, name: Optional[str], is_async: bool) -> Optional[Fix]:
    """FAC203's fix: `return db` becomes `try: yield db / finally: db.close()`."""
    if is_async and not isinstance(func, ast.AsyncFunctionDef):
        return None  # an AsyncSession's close must be awaited, which a sync def cannot
    return fix("return-to-yield", func, name=name, is_async=is_async, **{"return": span(node)})


# ---------------------------------------------------------------------------
@rule(
    code="FAC204",
    name="contextmanager-dependency",
    summary="Depends() on a @contextmanager function",
    message=(
        "{name}() is decorated with @{decorator}: FastAPI unwraps it and wraps the generator again, so "
        "every request fails with TypeError ('_GeneratorContextManager' object is not an iterator) on "
        "FastAPI >= 0.123.5. Drop the decorator: FastAPI manages yield dependencies itself."
    ),
    fix=SAFE,
    markers=DEPENDENCY_MARKERS,
    requires=("contextmanager",),  # the decorator, here or where the dependency is imported from
    what_it_does="Flags `Depends(f)` / `Security(f)` where `f` is decorated with `@contextmanager` or `@asynccontextmanager`.",
    why_bad="""
        FastAPI already treats generator functions as context managers. With the decorator,
        older versions handed the endpoint an un-entered context manager instead of the
        session; FastAPI 0.123.5 and later unwrap `__wrapped__` and fail with `TypeError` at
        request time.
    """,
    example=SYNC + _block("""
        from contextlib import contextmanager

        @contextmanager
        def get_db():
            with SessionLocal() as db:
                yield db

        @app.get("/items")
        def items(db: Session = Depends(get_db)): ...
    """),
    use_instead=SYNC + _block("""
        def get_db():
            with SessionLocal() as db:
                yield db

        @app.get("/items")
        def items(db: Session = Depends(get_db)): ...
    """),
    fix_safety="""
        Safe when the function is used only through `Depends` in this module: the decorator is
        removed and FastAPI runs the generator as intended. When the function is also used in
        `with` statements, no fix is offered.
    """,
    references=(YIELD_DOC,),
    flagged=(
        (
            SYNC
            + 'from contextlib import contextmanager\n\n@contextmanager\ndef get_db():\n    with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):  # FAC204\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()

        def get_db():
            with SessionLocal() as db:
                yield db

        @app.get("/x")
        def x(db: Session = Depends(get_db)):  # FAC204
            return 1
        """,
        ),
        (
            ASYNC
            + 'from contextlib import asynccontextmanager\n\n@asynccontextmanager\nasync def get_db():\n    async with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\nasync def x(db: AsyncSession = Depends(get_db)):  # FAC204\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()

        async def get_db():
            async with SessionLocal() as db:
                yield db

        @app.get("/x")
        async def x(db: AsyncSession = Depends(get_db)):  # FAC204
            return 1
        """,
        ),
        (
            SYNC
            + "import contextlib\nfrom typing import Annotated\n\n@contextlib.contextmanager\ndef get_db():\n    with SessionLocal() as db:\n        yield db\n\nDB = Annotated[Session, Depends(get_db)]  # FAC204\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        from typing import Annotated

        def get_db():
            with SessionLocal() as db:
                yield db

        DB = Annotated[Session, Depends(get_db)]  # FAC204
        """,
        ),
        (
            SYNC
            + "from contextlib import contextmanager as cm\n\n@cm\ndef get_db():\n    with SessionLocal() as db:\n        yield db\n\napp2 = FastAPI(dependencies=[Depends(get_db)])  # FAC204\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()

        def get_db():
            with SessionLocal() as db:
                yield db

        app2 = FastAPI(dependencies=[Depends(get_db)])  # FAC204
        """,
        ),
        (
            SYNC
            + 'from contextlib import contextmanager\nfrom fastapi import Security\n\n@contextmanager\ndef current_user():\n    yield None\n\n@app.get("/me")\ndef me(user=Security(current_user)):  # FAC204\n    return user\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        from fastapi import Security

        def current_user():
            yield None

        @app.get("/me")
        def me(user=Security(current_user)):  # FAC204
            return user
        """,
        ),
        (
            ASYNC
            + "from contextlib import asynccontextmanager\nfrom fastapi import APIRouter\n\n@asynccontextmanager\nasync def lifespan_db():\n    async with SessionLocal() as db:\n        yield db\n\nrouter = APIRouter(dependencies=[Depends(lifespan_db)])  # FAC204\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        from fastapi import APIRouter

        async def lifespan_db():
            async with SessionLocal() as db:
                yield db

        router = APIRouter(dependencies=[Depends(lifespan_db)])  # FAC204
        """,
        ),
    ),
    clean=(
        SYNC
        + 'def get_db():\n    with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
        SYNC
        + "from contextlib import contextmanager\n\n@contextmanager\ndef session_scope():\n    with SessionLocal() as db:\n        yield db\n\ndef nightly_job():\n    with session_scope() as db:\n        db.commit()\n",
        ASYNC
        + "from contextlib import asynccontextmanager\n\n@asynccontextmanager\nasync def lifespan(app):\n    yield\n\napp2 = FastAPI(lifespan=lifespan)\n",
        SYNC
        + 'from contextlib import contextmanager\n\n@contextmanager\ndef session_scope():\n    with SessionLocal() as db:\n        yield db\n\ndef get_db():\n    with session_scope() as db:\n        yield db\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return 1\n',
        ASYNC
        + 'async def get_db():\n    async with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\nasync def x(db: AsyncSession = Depends(get_db)):\n    return 1\n',
        SYNC
        + 'import functools\n\ndef get_db(readonly: bool):\n    with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\ndef x(db=Depends(functools.partial(get_db, readonly=True))):\n    return 1\n',
    ),
)
def contextmanager_dependency(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = model.sessions(options_.session_factories)
    for call, target, scope in facts.depends_calls:
        found = facts.function_anywhere(target, scope)
        if found is None:
            continue
        func, home = found
        home_facts = home.sessions(options_.session_factories)
        found_decorator = home_facts.decorator(func, CONTEXT_MANAGERS)
        if found_decorator is not None:
            decorator = "asynccontextmanager" if isinstance(func, ast.AsyncFunctionDef) else "contextmanager"
            fix_ = None
            if home is model and facts.used_only_through_depends(func.name):
                fix_ = _drop_decorator(*found_decorator)
            yield call, {"name": func.name, "decorator": decorator}, fix_


def _drop_decorator(node: ast.expr, qualname: str) -> Fix:
    """FAC204's fix: remove the decorator, and its import if nothing else uses it."""
    module, obj = qualname.rsplit(".", 1)
    if isinstance(node, ast.Name):
        asname = node.id if node.id != obj else None
        return fix("drop-decorator", node, module=module, obj=obj, asname=asname)
    return fix("drop-decorator", node, module=module, obj=None, asname=None)


# ---------------------------------------------------------------------------
@rule(
    code="FAC205",
    name="swallowed-exception-in-dependency",
    summary="Yield dependency that swallows the endpoint's exception",
    message=(
        "this except clause around `yield` does not re-raise: since FastAPI 0.110 the endpoint's "
        "exception (even HTTPException) is swallowed and the client gets a 500 instead. "
        "End the handler with `raise`."
    ),
    fix=UNSAFE,
    markers=MARKERS + DEPENDENCY_MARKERS,  # any yield dependency, with or without a session
    requires=("yield",),
    what_it_does="Flags an `except` clause of a `try` around `yield` in a yield dependency that does not re-raise.",
    why_bad="""
        FastAPI throws the endpoint's exception into the dependency at `yield`. An `except`
        that handles it without `raise` hides it: since FastAPI 0.110 the request ends in a
        500 ("Response not awaited ... is not raising the exception again") instead of the
        404 or 422 the endpoint raised.
    """,
    example=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            try:
                yield db
            except Exception:
                db.rollback()
            finally:
                db.close()
    """),
    use_instead=SYNC + _block("""
        def get_db():
            db = SessionLocal()
            try:
                yield db
            except Exception:
                db.rollback()
                raise
            finally:
                db.close()
    """),
    fix_safety="Unsafe: re-raising changes what the client receives (the endpoint's own error instead of a 500).",
    references=(YIELD_DOC,),
    flagged=(
        (
            SYNC
            + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    except Exception:  # FAC205\n        db.rollback()\n    finally:\n        db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db
            except Exception:  # FAC205
                db.rollback()
                raise
            finally:
                db.close()
        """,
        ),
        (
            SYNC
            + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    except:  # FAC205\n        pass\n    finally:\n        db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db
            except:  # FAC205
                raise
            finally:
                db.close()
        """,
        ),
        (
            ASYNC
            + "async def get_db():\n    async with SessionLocal() as db:\n        try:\n            yield db\n        except Exception:  # FAC205\n            await db.rollback()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_db():
            async with SessionLocal() as db:
                try:
                    yield db
                except Exception:  # FAC205
                    await db.rollback()
                    raise
        """,
        ),
        (
            ASYNC
            + "import logging\n\nasync def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    except Exception as error:  # FAC205\n        logging.exception(error)\n    finally:\n        await db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        import logging

        async def get_db():
            db = SessionLocal()
            try:
                yield db
            except Exception as error:  # FAC205
                logging.exception(error)
                raise
            finally:
                await db.close()
        """,
        ),
        (
            SYNC
            + 'from sqlalchemy.exc import SQLAlchemyError\n\ndef get_db():\n    with SessionLocal() as db:\n        try:\n            yield db\n        except SQLAlchemyError:  # FAC205\n            db.rollback()\n\n@app.get("/x")\ndef x(db=Depends(get_db)):\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        from sqlalchemy.exc import SQLAlchemyError

        def get_db():
            with SessionLocal() as db:
                try:
                    yield db
                except SQLAlchemyError:  # FAC205
                    db.rollback()
                    raise

        @app.get("/x")
        def x(db=Depends(get_db)):
            return 1
        """,
        ),
        (
            SYNC
            + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n        db.commit()\n    except ValueError:  # FAC205\n        db.rollback()\n    except Exception:\n        db.rollback()\n        raise\n    finally:\n        db.close()\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        def get_db():
            db = SessionLocal()
            try:
                yield db
                db.commit()
            except ValueError:  # FAC205
                db.rollback()
                raise
            except Exception:
                db.rollback()
                raise
            finally:
                db.close()
        """,
        ),
    ),
    clean=(
        SYNC
        + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    except Exception:\n        db.rollback()\n        raise\n    finally:\n        db.close()\n",
        SYNC
        + "from fastapi import HTTPException\nfrom sqlalchemy.exc import IntegrityError\n\ndef get_db():\n    with SessionLocal() as db:\n        try:\n            yield db\n        except IntegrityError as error:\n            db.rollback()\n            raise HTTPException(409) from error\n",
        ASYNC
        + "async def get_db():\n    async with SessionLocal() as db:\n        try:\n            yield db\n        except Exception:\n            await db.rollback()\n            raise\n",
        SYNC
        + 'def get_db():\n    db = SessionLocal()\n    try:\n        db.execute(text("select 1"))\n    except Exception:\n        pass\n    try:\n        yield db\n    finally:\n        db.close()\n',
        SYNC
        + "from contextlib import contextmanager\n\n@contextmanager\ndef session_scope():\n    db = SessionLocal()\n    try:\n        yield db\n    except Exception:\n        db.rollback()\n    finally:\n        db.close()\n\ndef job():\n    with session_scope() as db:\n        db.commit()\n",
        ASYNC
        + "async def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        await db.close()\n",
    ),
)
def swallowed_exception_in_dependency(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None:
        return
    for func in facts.yield_dependencies():
        for node in own_nodes(func):
            if not isinstance(node, ast.Try) or not any(
                isinstance(n, ast.Yield) for stmt in node.body for n in ast.walk(stmt)
            ):
                continue
            for handler in node.handlers:
                if not any(isinstance(n, ast.Raise) for stmt in handler.body for n in ast.walk(stmt)):
                    yield handler, {}, fix("reraise", handler)


# ---------------------------------------------------------------------------
@rule(
    code="FAC206",
    name="unawaited-async-close",
    summary="AsyncSession.close() / remove() not awaited",
    message=(
        "{call} is a coroutine and it is not awaited: nothing is closed and the connection stays "
        "checked out. Write `await {call}`."
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags `close()` / `remove()` called without `await` on an `AsyncSession` or an
        `async_scoped_session`, known from how it was made or from its annotation. A sync
        `Session` closed without `await` inside an `async def` (FastAPI's tutorial007) is
        correct and not flagged.
    """,
    why_bad="""
        `AsyncSession.close()` only creates a coroutine; without `await` it never runs
        (Python warns "coroutine ... was never awaited" at best), so the connection is never
        returned to the pool.
    """,
    example=ASYNC + _block("""
        async def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()
    """),
    use_instead=ASYNC + _block("""
        async def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                await db.close()
    """),
    fix_safety="Safe: awaiting the call makes it do what it says.",
    references=(
        "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#sqlalchemy.ext.asyncio.AsyncSession.close",
    ),
    flagged=(
        (
            ASYNC
            + "async def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()  # FAC206\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                await db.close()  # FAC206
        """,
        ),
        (
            ASYNC
            + "async def get_db():\n    db = AsyncSession(engine)\n    yield db  # FAC202\n    db.close()  # FAC206\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def get_db():
            db = AsyncSession(engine)
            yield db  # FAC202
            await db.close()  # FAC206
        """,
        ),
        (
            ASYNC
            + '@app.get("/x")\nasync def x(db: AsyncSession = Depends(lambda: None)):\n    db.close()  # FAC206\n    return 1\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        @app.get("/x")
        async def x(db: AsyncSession = Depends(lambda: None)):
            await db.close()  # FAC206
            return 1
        """,
        ),
        (
            ASYNC
            + 'from typing import Annotated\n\nasync def get_db():\n    async with SessionLocal() as db:\n        yield db\n\nSessionDep = Annotated[AsyncSession, Depends(get_db)]\n\n@app.post("/x")\nasync def x(db: SessionDep):\n    await db.commit()\n    db.close()  # FAC206\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        from typing import Annotated

        async def get_db():
            async with SessionLocal() as db:
                yield db

        SessionDep = Annotated[AsyncSession, Depends(get_db)]

        @app.post("/x")
        async def x(db: SessionDep):
            await db.commit()
            await db.close()  # FAC206
        """,
        ),
        (
            ASYNC
            + "from asyncio import current_task\nfrom sqlalchemy.ext.asyncio import async_scoped_session\nScoped = async_scoped_session(SessionLocal, scopefunc=current_task)\n\nasync def get_db():\n    try:\n        yield Scoped()\n    finally:\n        Scoped.remove()  # FAC206\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        from asyncio import current_task
        from sqlalchemy.ext.asyncio import async_scoped_session
        Scoped = async_scoped_session(SessionLocal, scopefunc=current_task)

        async def get_db():
            try:
                yield Scoped()
            finally:
                await Scoped.remove()  # FAC206
        """,
        ),
        (
            ASYNC + "async def cleanup(db: AsyncSession):\n    db.close()  # FAC206\n",
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        async def cleanup(db: AsyncSession):
            await db.close()  # FAC206
        """,
        ),
    ),
    clean=(
        ASYNC
        + "async def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        await db.close()\n",
        SYNC
        + "async def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n",
        ASYNC
        + "from asyncio import current_task\nfrom sqlalchemy.ext.asyncio import async_scoped_session\nScoped = async_scoped_session(SessionLocal, scopefunc=current_task)\n\nasync def get_db():\n    try:\n        yield Scoped()\n    finally:\n        await Scoped.remove()\n",
        ASYNC
        + "import asyncio\n\nasync def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        await asyncio.shield(db.close())\n",
        ASYNC + "import httpx\n\nasync def f():\n    client = httpx.AsyncClient()\n    client.close()\n",
        SYNC + "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n",
    ),
)
def unawaited_async_close(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = model.sessions(options_.session_factories)
    for site in model.calls:
        call = site.call
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("close", "remove") and not call.args):
            continue
        stmt = site.stmt
        if not (isinstance(stmt, ast.Expr) and stmt.value is call):
            continue  # awaited, passed on, or returned
        target = func.value
        value = facts.session_value(target, site.scope)
        if value is None and isinstance(target, ast.Name) and site.scope.kind == "function":
            value = facts.param_session(site.scope.node, target.id)
        is_async = getattr(value, "is_async", False)
        if isinstance(value, SessionFactory) and not value.scoped:
            continue  # a sessionmaker has no close(); a scoped registry passes it on
        if is_async:
            in_async = isinstance(site.scope.node, ast.AsyncFunctionDef)
            yield call, {"call": unparse(call)}, fix("await", call) if in_async else None


# ---------------------------------------------------------------------------
@rule(
    code="FAC207",
    name="thread-local-scoped-session",
    summary="scoped_session with the default thread-local scope in FastAPI",
    message=(
        "scoped_session() without scopefunc keeps one session per thread, but FastAPI runs one "
        "request on several threads (dependencies and endpoints in the thread pool) and many requests "
        "on one: sessions leak between requests even with remove(). Use a yield dependency that "
        "creates and closes a session, or pass a request-bound scopefunc."
    ),
    fix=None,
    markers=MARKERS,
    what_it_does="Flags `scoped_session(...)` without a `scopefunc` in a module that uses FastAPI.",
    why_bad="""
        The thread-local registry assumes one request per thread. FastAPI runs a sync
        dependency's setup and teardown and the endpoint in thread-pool workers and async code
        on the event-loop thread, so one request sees several sessions and later requests
        inherit sessions that `remove()` (called on another thread) never cleared.
    """,
    example=SYNC + _block("""
        from sqlalchemy.orm import scoped_session

        Db = scoped_session(SessionLocal)
    """),
    use_instead=SYNC + _block("""
        def get_db():
            with SessionLocal() as db:
                yield db
    """),
    fix_safety="No fix: the replacement depends on how the registry is used.",
    references=("https://docs.sqlalchemy.org/en/20/orm/contextual.html", FASTAPI_SQL_DOC),
    flagged=(
        SYNC + "from sqlalchemy.orm import scoped_session\nDb = scoped_session(SessionLocal)  # FAC207\n",
        SYNC + "from sqlalchemy import orm\nDb = orm.scoped_session(orm.sessionmaker(bind=engine))  # FAC207\n",
        SYNC
        + "from sqlalchemy.orm import scoped_session as registry\nDb = registry(sessionmaker(bind=engine, autoflush=False))  # FAC207\n",
        SYNC
        + "from sqlalchemy.orm import scoped_session\n\ndef make_registry():\n    return scoped_session(SessionLocal)  # FAC207\n",
        SYNC
        + "from sqlalchemy.orm import scoped_session\ndb_session = scoped_session(\n    SessionLocal,  # FAC207\n)\n".replace(
            "scoped_session(\n    SessionLocal,  # FAC207", "scoped_session(  # FAC207\n    SessionLocal,"
        ),
        SYNC
        + 'import sqlalchemy.orm\nDb = sqlalchemy.orm.scoped_session(SessionLocal)  # FAC207\n\n@app.middleware("http")\nasync def remove_session(request, call_next):\n    try:\n        return await call_next(request)\n    finally:\n        Db.remove()\n',
    ),
    clean=(
        SYNC
        + 'from contextvars import ContextVar\nfrom sqlalchemy.orm import scoped_session\nrequest_id: ContextVar[int] = ContextVar("request_id")\nDb = scoped_session(SessionLocal, scopefunc=request_id.get)\n',
        ASYNC
        + "from asyncio import current_task\nfrom sqlalchemy.ext.asyncio import async_scoped_session\nDb = async_scoped_session(SessionLocal, scopefunc=current_task)\n",
        'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import scoped_session, sessionmaker\nDb = scoped_session(sessionmaker(bind=create_engine("sqlite://")))\n',
        SYNC + "def get_db():\n    with SessionLocal() as db:\n        yield db\n",
        SYNC + "from sqlalchemy.orm import scoped_session\nDb = scoped_session(SessionLocal, lambda: 1)\n",
        SYNC + 'registry = {}\nsession_registry = registry.get("scoped_session")\n',
    ),
)
def thread_local_scoped_session(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None or not facts.imports("fastapi"):
        return
    for site in model.calls:
        qualname = model.qualname(site.call.func, site.scope)
        if qualname in SCOPED_SESSIONS and not qualname.rsplit(".", 1)[-1].startswith("async_"):
            value = facts.session_value(site.call, site.scope)
            if isinstance(value, SessionFactory) and not value.scopefunc:
                if not facts.in_main_block(site.path):
                    yield site.call, {}


# ---------------------------------------------------------------------------
@rule(
    code="FAC208",
    name="handler-session-not-closed",
    summary="Session made in a route handler and not closed on every path",
    message=(
        "{name} is created in this route handler but not closed through `with` or `finally`: an "
        "exception (or an early return) leaves its connection checked out. Write `with {call} as "
        "{name}:` or inject a session dependency."
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="Flags a session created inside a route handler that is not closed through `with` or `finally`.",
    why_bad="""
        A `close()` at the end of the handler does not run when the handler raises, and
        handlers raise routinely (`HTTPException(404)`). Each such request leaks a
        checked-out connection until garbage collection.
    """,
    example=SYNC + _block("""
        @app.get("/items")
        def items():
            db = SessionLocal()
            rows = db.execute(text("select 1")).all()
            db.close()
            return rows
    """),
    use_instead=SYNC + _block("""
        @app.get("/items")
        def items():
            with SessionLocal() as db:
                return db.execute(text("select 1")).all()
    """),
    fix_safety="""
        Safe: `with` closes the session on every path and the rest of the handler runs
        unchanged inside it (a plain `db.close()` line becomes redundant and goes). Objects
        the handler returns were already detached before the fix: the handler's local
        session is garbage-collected when the handler returns, before FastAPI serialises
        the response (tested with SQLAlchemy 2.1).
    """,
    references=(SA_CLOSING, FASTAPI_SQL_DOC),
    flagged=(
        (
            SYNC
            + '@app.get("/x")\ndef x():\n    db = SessionLocal()  # FAC208\n    rows = db.execute(text("select 1")).all()\n    db.close()\n    return rows\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        @app.get("/x")
        def x():
            with SessionLocal() as db:  # FAC208
                rows = db.execute(text("select 1")).all()
                return rows
        """,
        ),
        (
            SYNC + '@app.post("/x")\ndef x():\n    db = Session(engine)  # FAC208\n    db.commit()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        @app.post("/x")
        def x():
            with Session(engine) as db:  # FAC208
                db.commit()
        """,
        ),
        (
            ASYNC
            + '@app.get("/x")\nasync def x():\n    db = SessionLocal()  # FAC208\n    rows = (await db.execute(text("select 1"))).all()\n    await db.close()\n    return rows\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        @app.get("/x")
        async def x():
            async with SessionLocal() as db:  # FAC208
                rows = (await db.execute(text("select 1"))).all()
                return rows
        """,
        ),
        (
            ASYNC
            + 'from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.delete("/x/{i}")\nasync def remove(i: int):\n    session = AsyncSession(engine)  # FAC208\n    await session.commit()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite:///app.db")
        SessionLocal = async_sessionmaker(engine)
        app = FastAPI()
        from fastapi import APIRouter
        router = APIRouter()

        @router.delete("/x/{i}")
        async def remove(i: int):
            async with AsyncSession(engine) as session:  # FAC208
                await session.commit()
        """,
        ),
        (
            SYNC
            + '@app.api_route("/x", methods=["GET", "POST"])\ndef x():\n    db = SessionLocal()  # FAC208\n    try:\n        db.commit()\n    except Exception:\n        db.rollback()\n        raise\n    db.close()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        @app.api_route("/x", methods=["GET", "POST"])
        def x():
            with SessionLocal() as db:  # FAC208
                try:
                    db.commit()
                except Exception:
                    db.rollback()
                    raise
        """,
        ),
        (
            SYNC
            + '@app.get("/x/{i}")\ndef x(i: int):\n    db = SessionLocal()  # FAC208\n    if i < 0:\n        return None\n    db.close()\n',
            """
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite:///app.db")
        SessionLocal = sessionmaker(bind=engine)
        app = FastAPI()
        @app.get("/x/{i}")
        def x(i: int):
            with SessionLocal() as db:  # FAC208
                if i < 0:
                    return None
        """,
        ),
    ),
    clean=(
        SYNC
        + '@app.get("/x")\ndef x():\n    with SessionLocal() as db:\n        return db.execute(text("select 1")).all()\n',
        ASYNC
        + '@app.get("/x")\nasync def x():\n    async with SessionLocal() as db:\n        return (await db.execute(text("select 1"))).all()\n',
        SYNC
        + '@app.get("/x")\ndef x():\n    db = SessionLocal()\n    try:\n        return db.execute(text("select 1")).all()\n    finally:\n        db.close()\n',
        SYNC
        + '@app.post("/x")\ndef x():\n    with SessionLocal.begin() as db:\n        db.execute(text("select 1"))\n',
        SYNC
        + 'def get_db():\n    with SessionLocal() as db:\n        yield db\n\n@app.get("/x")\ndef x(db: Session = Depends(get_db)):\n    return db.execute(text("select 1")).all()\n',
        SYNC + "def report():\n    db = SessionLocal()\n    db.close()\n",
        ASYNC
        + '@app.get("/x")\nasync def x():\n    db = SessionLocal()\n    try:\n        return 1\n    finally:\n        await db.close()\n',
    ),
)
def handler_session_not_closed(model: ModuleModel, options_: Options) -> Iterator[Report]:
    facts = _facts(model, options_)
    if facts is None:
        return
    for func in facts.handlers.values():
        for created in facts.created_sessions(func):
            if created.in_with or created.name is None:
                continue
            if _finally_closes(func, created):
                continue
            fields = {"name": created.name, "call": unparse(created.node.value)}
            data = {"assign": span(created.node), "name": created.name, "is_async": created.value.is_async}
            usable = not created.value.is_async or isinstance(func, ast.AsyncFunctionDef)
            yield created.node, fields, fix("with-session", func, **data) if usable else None


def _finally_closes(func: ast.AST, created) -> bool:
    """A `try` that holds the session's creation or comes after it, whose `finally` closes it."""
    return any(
        isinstance(node, ast.Try)
        and node.finalbody
        and _mentions(node.finalbody, created.name)
        and (node.lineno > created.node.lineno or any(_contains(stmt, created.node) for stmt in node.body))
        for node in own_nodes(func)
    )
