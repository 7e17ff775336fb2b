"""Hypothesis strategies for the fuzz tests: FastAPI / SQLAlchemy modules put
together from the shapes real code takes, random modules and expressions from
hypothesmith, and mutated versions of the rule examples and fixtures.

The property every module must keep is in `check_robustness`: the rules never
raise (no FAC000), fixing with unsafe fixes never raises, its output parses,
and a second run changes nothing.

How many examples run: `FAC_FUZZ_EXAMPLES` (default 50 per test, derandomized
so the suite gives the same result on every run); `python bench/fuzz.py` sets
it high and draws new examples each time.
"""

from __future__ import annotations

import ast
import copy
import os
import random
from typing import Callable, Dict, List, Optional, Tuple

import hypothesmith
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from flake8_fastapi_cors.fix import fix_source
from flake8_fastapi_cors.plugin import check_tree
from flake8_fastapi_cors.registry import INTERNAL_ERROR
from flake8_fastapi_cors.registry import Options, all_rules
from flake8_fastapi_cors.source import source_lines

ALL_CODES = [r.code for r in all_rules()]
EVERYTHING = Options(opt_in=tuple(ALL_CODES))

LONG_RUN = "FAC_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FAC_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# -- the property -------------------------------------------------------------


def check_robustness(source: str, path: str = "app.py") -> None:
    """The plugin and the fixer on one module that `ast.parse` accepts."""
    data = source.encode("utf-8", "surrogatepass")
    tree = ast.parse(data)
    lines = source_lines(source)
    for prefilter in (True, False):
        found = check_tree(tree, path, EVERYTHING, lines, ALL_CODES, prefilter, source)
        errors = [f.message for f in found if f.code == INTERNAL_ERROR]
        assert not errors, f"the rules raised (prefilter={prefilter}): {errors}"
    first = fix_source(path, data, EVERYTHING, ALL_CODES, unsafe=True)
    ast.parse(first.data)  # the fixer raises rather than return code that does not parse; this checks it
    second = fix_source(path, first.data, EVERYTHING, ALL_CODES, unsafe=True)
    assert second.data == first.data, "a second --fix run changed the output of the first:\n" + first.data.decode()
    assert second.fixed == 0


# -- modules from hypothesmith ------------------------------------------------

random_modules = hypothesmith.from_grammar()


def _expressions(module: str) -> List[str]:
    """The text of every expression in a module that parses on its own."""
    found = []
    for node in ast.walk(ast.parse(module)):
        if isinstance(node, ast.expr) and not isinstance(node, ast.Starred):
            text = ast.unparse(node)
            if parses(f"({text})"):
                found.append(text)
    return found


# Expressions taken from hypothesmith's modules: its own expression grammar
# ("eval_input") gives up on most draws (nesting too deep) and is ten times slower.
random_expressions = random_modules.map(_expressions).filter(bool).flatmap(st.sampled_from)


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# -- FastAPI / Starlette / SQLAlchemy modules from parts ------------------------

ODD_STRINGS = [
    '"*"',
    "'*'",
    '"http://localhost:3000/"',
    '"https://example.com"',
    '"HTTPS://Example.COM:443"',
    '"https://*.example.com"',
    '"null"',
    '""',
    '" https://example.com "',
    'f"https://{HOST}"',
    '"https://" + HOST',
    '"https://a.com" "/"',
    'r"https://a\\.com"',
    '"\\u002a"',
    '"https://ex\\N{LATIN SMALL LETTER A WITH ACUTE}mple.com"',
    '"""*"""',
    'b"*"',
    "str('*')",
    '"*" * 1',
    "('*')",
    "os.environ['ORIGIN']",
]
ORIGIN_VALUES = [
    '["*"]',
    '"*"',
    '("*",)',
    '{"*"}',
    "[]",
    "None",
    "ORIGINS",
    "[*ORIGINS]",
    "ORIGINS + ['*']",
    "list(ORIGINS)",
    "settings.CORS_ORIGINS",
    "settings.cors_origins or ['*']",
    'os.getenv("CORS_ORIGINS", "*").split(",")',
    'os.environ.get("CORS_ORIGINS", "").split(",")',
    '[o.strip() for o in os.getenv("CORS_ORIGINS", "*").split(",") if o.strip()]',
    '["*"] if DEBUG else ["https://example.com"]',
    "[str(o) for o in settings.BACKEND_CORS_ORIGINS]",
    '["https://a.com", "https://b.com"]',
    '[\n    "http://localhost:3000",  # dev\n    "https://example.com",\n]',
    '["*"][0]',
    "{**{}}",
    "...",
    "0",
]
BOOL_VALUES = ["True", "False", "1", "0", '"true"', "not False", "DEBUG", "settings.debug", "None", "bool(1)"]
REGEX_VALUES = [
    '".*"',
    '"*"',
    '"https://.*"',
    '"https://.*\\\\.example\\\\.com"',
    'r"https://[a-z]+\\.example\\.com"',
    '"^https://(www\\\\.)?example\\\\.com$"',
    'r"https?://localhost(:\\d+)?"',
    '"(["',
    "os.getenv('CORS_REGEX')",
    "None",
]
LIST_VALUES = ['["*"]', '"*"', '["GET", "POST"]', '"GET,POST"', "[]", "('*',)", "METHODS"]
OTHER_KWARGS = {
    "allow_methods": LIST_VALUES,
    "allow_headers": LIST_VALUES,
    "expose_headers": LIST_VALUES,
    "max_age": ["600", '"600"', "None", "-1"],
}

CORS_IMPORTS = [
    ("from fastapi.middleware.cors import CORSMiddleware", "CORSMiddleware"),
    ("from starlette.middleware.cors import CORSMiddleware as Cors", "Cors"),
    ("import starlette.middleware.cors as cors_module", "cors_module.CORSMiddleware"),
    ("from fastapi.middleware import cors", "cors.CORSMiddleware"),
    ("import fastapi.middleware.cors", "fastapi.middleware.cors.CORSMiddleware"),
    ("from fastapi.middleware.cors import CORSMiddleware\nCORS = CORSMiddleware", "CORS"),
]
APP_MAKERS = [
    ("from fastapi import FastAPI", "FastAPI({args})"),
    ("import fastapi", "fastapi.FastAPI({args})"),
    ("from starlette.applications import Starlette", "Starlette({args})"),
    ("from fastapi import APIRouter, FastAPI", "FastAPI(title='api'{comma}{args})"),
]
OTHER_MIDDLEWARE = [
    "from starlette.middleware.gzip import GZipMiddleware\n{app}.add_middleware(GZipMiddleware, minimum_size=500)",
    "from starlette.middleware.trustedhost import TrustedHostMiddleware\n"
    "{app}.add_middleware(TrustedHostMiddleware, allowed_hosts=['example.com'])",
    '@{app}.middleware("http")\nasync def timing(request, call_next):\n    return await call_next(request)',
    "from starlette.middleware.base import BaseHTTPMiddleware\n\n\nclass Auth(BaseHTTPMiddleware):\n"
    "    async def dispatch(self, request, call_next):\n        return await call_next(request)\n\n\n"
    "{app}.add_middleware(Auth)",
    "{app}.add_middleware(SomethingElse, allow_origins=['*'])",
]


@st.composite
def values(draw, pool: List[str]) -> str:
    """A value for one keyword: a shape from the pool, an odd string, or any
    expression at all."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return "(" + draw(random_expressions) + ")"
    if choice == 1:
        return draw(st.sampled_from(ODD_STRINGS))
    if choice == 2:
        return "[" + ", ".join(draw(st.lists(st.sampled_from(ODD_STRINGS), max_size=3))) + "]"
    return draw(st.sampled_from(pool))


@st.composite
def cors_keywords(draw) -> List[str]:
    """`name=value` pieces of one CORS configuration, shuffled."""
    pieces = []
    if draw(st.booleans()):
        pieces.append("allow_origins=" + draw(values(ORIGIN_VALUES)))
    if draw(st.booleans()):
        pieces.append("allow_credentials=" + draw(values(BOOL_VALUES)))
    if draw(st.integers(0, 3)) == 0:
        pieces.append("allow_origin_regex=" + draw(values(REGEX_VALUES)))
    for name, pool in OTHER_KWARGS.items():
        if draw(st.integers(0, 2)) == 0:
            pieces.append(f"{name}=" + draw(values(pool)))
    if draw(st.integers(0, 6)) == 0:
        pieces.append("**CORS_SETTINGS")
    return draw(st.permutations(pieces))


@st.composite
def cors_modules(draw) -> str:
    """An application module with a CORS configuration in one of the shapes
    real code uses, other middleware around it, perhaps inside a factory
    function, a class or a branch, perhaps with a second (mounted) app."""
    cors_import, cors_name = draw(st.sampled_from(CORS_IMPORTS))
    app_import, app_call = draw(st.sampled_from(APP_MAKERS))
    keywords = ", ".join(draw(cors_keywords()))
    app = draw(st.sampled_from(["app", "application", "api", "self.app"]))
    registration = draw(st.integers(0, 4))
    head = [
        "import os",
        cors_import,
        app_import,
        "from starlette.middleware import Middleware",
        f"HOST = {draw(st.sampled_from(ODD_STRINGS))}",
        f"DEBUG = {draw(st.sampled_from(BOOL_VALUES))}",
        f"ORIGINS = {draw(values(ORIGIN_VALUES))}",
        f"METHODS = {draw(st.sampled_from(LIST_VALUES))}",
        "CORS_SETTINGS = {'allow_origins': ['*'], 'allow_credentials': True}",
    ]
    body: List[str] = []
    if registration == 0:
        body += [f"{app} = {app_call.format(args='', comma='')}", f"{app}.add_middleware({cors_name}, {keywords})"]
    elif registration == 1:
        middleware = f"[Middleware({cors_name}, {keywords})]"
        body += [f"{app} = {app_call.format(args='middleware=' + middleware, comma=', ')}"]
    elif registration == 2:
        body += [f"{app} = {app_call.format(args='', comma='')}", f"{app} = {cors_name}({app}, {keywords})"]
    elif registration == 3:
        body += [
            f"{app} = {app_call.format(args='', comma='')}",
            f"{app}.user_middleware.insert(0, Middleware({cors_name}, {keywords}))",
        ]
    else:
        body += [
            f"{app} = {app_call.format(args='', comma='')}",
            f"cors_options = dict({keywords})",
            f"{app}.add_middleware({cors_name}, **cors_options)",
        ]
    others = draw(st.lists(st.sampled_from(OTHER_MIDDLEWARE), max_size=2))
    at = draw(st.integers(0, len(others)))
    for index, other in enumerate(others):
        position = len(body) if index >= at else 1
        body[position:position] = other.format(app=app).splitlines()
    if draw(st.booleans()):
        body += [
            f"sub = {app_call.format(args='', comma='')}",
            f"sub.add_middleware({cors_name}, {', '.join(draw(cors_keywords()))})",
            f'{app}.mount("/v1", sub)',
        ]
    if app == "self.app":
        return _in_class(head, body)
    wrap = draw(st.integers(0, 3))
    if wrap == 1:
        return _in_function(head, body, "def create_app():", f"return {app}")
    if wrap == 2:
        return _in_function(head, body, "if DEBUG:", None)
    if wrap == 3:
        return _in_function(head, body, "async def lifespan_app(settings=None):", f"return {app}")
    return "\n".join(head + [""] + body) + "\n"


def _in_function(head: List[str], body: List[str], opener: str, last: Optional[str]) -> str:
    lines = body + ([last] if last else [])
    indented = [("    " + line) if line else "" for line in lines]
    return "\n".join(head + ["", opener] + indented) + "\n"


def _in_class(head: List[str], body: List[str]) -> str:
    lines = ["class Server:", "    def __init__(self):"]
    lines += [("        " + line) if line else "" for line in body]
    return "\n".join(head + [""] + lines) + "\n"


SESSION_IMPORTS = [
    (
        "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import Session, sessionmaker",
        "engine = create_engine(URL)\nSessionLocal = sessionmaker(bind=engine, autoflush=False)",
        "Session",
        False,
    ),
    (
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine",
        "engine = create_async_engine(URL)\nSessionLocal = async_sessionmaker(engine, expire_on_commit=False)",
        "AsyncSession",
        True,
    ),
    (
        "import sqlalchemy as sa\nfrom sqlalchemy import orm as sa_orm",
        "engine = sa.create_engine(URL)\nSessionLocal = sa_orm.sessionmaker(engine)",
        "sa_orm.Session",
        False,
    ),
    (
        "from sqlmodel import Session, create_engine",
        "engine = create_engine(URL)\n\n\ndef SessionLocal():\n    return Session(engine)",
        "Session",
        False,
    ),
    (
        "from sqlalchemy.orm import Session as DB, scoped_session, sessionmaker\nfrom sqlalchemy import create_engine",
        "engine = create_engine(URL)\nSessionLocal = scoped_session(sessionmaker(bind=engine))",
        "DB",
        False,
    ),
]
# Bodies of a dependency; {s} is the session's name, {aw} "await " in async code.
DEPENDENCY_BODIES = [
    "{s} = SessionLocal()\ntry:\n    yield {s}\nfinally:\n    {aw}{s}.close()",
    "{s} = SessionLocal()\nyield {s}\n{aw}{s}.close()",
    "{s} = SessionLocal()\ntry:\n    yield {s}\nexcept Exception:\n    {aw}{s}.rollback()\n"
    "finally:\n    {aw}{s}.close()",
    "{s} = SessionLocal()\ntry:\n    yield {s}\nexcept Exception:\n    pass\nfinally:\n    {aw}{s}.close()",
    "{s} = SessionLocal()\ntry:\n    yield {s}\n    {aw}{s}.commit()\nexcept:\n    {aw}{s}.rollback()\n    raise\n"
    "{aw}{s}.close()",
    "{s} = SessionLocal()\nreturn {s}",
    "{s} = SessionLocal()\ntry:\n    return {s}\nfinally:\n    {aw}{s}.close()",
    "{with_} SessionLocal() as {s}:\n    yield {s}",
    "{with_} SessionLocal() as {s}, {s}.begin():\n    yield {s}",
    "{s} = SessionLocal()\ntry:\n    yield {s}\nfinally:\n    {s}.close()",
    "yield SessionLocal()",
    "{s} = SessionLocal()\nif {s}:\n    yield {s}\nelse:\n    yield None\n{aw}{s}.close()",
    "for {s} in [SessionLocal()]:\n    yield {s}",
    "{s}: {cls} = SessionLocal()\ntry:\n    yield {s}\nfinally:\n    del {s}",
]
DATABASE_URLS = ['"sqlite://"', 'os.environ["DATABASE_URL"]', "settings.database_url"]
ENDPOINT_PARAMS = [
    "{s}: {cls} = Depends({dep})",
    "{s}: Annotated[{cls}, Depends({dep})]",
    "{s}=Depends({dep})",
    "{s}: {cls} = Security({dep})",
]


@st.composite
def session_modules(draw) -> str:
    """A module with a session factory, one or two dependencies in the shapes
    real code uses (right and wrong), endpoints using them, and perhaps a
    module-global session."""
    imports, factory, cls, is_async = draw(st.sampled_from(SESSION_IMPORTS))
    asynchronous = is_async and draw(st.booleans())
    s = draw(st.sampled_from(["db", "session", "s", "_db", "Session2"]))
    lines = [
        "import contextlib",
        "from typing import Annotated",
        "from fastapi import Depends, FastAPI, Security",
        imports,
        "URL = " + draw(st.sampled_from(DATABASE_URLS)),
        factory,
        "app = FastAPI()",
    ]
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"{draw(st.sampled_from(['db', 'session', 'SESSION']))} = SessionLocal()")
    dependencies = []
    for index in range(draw(st.integers(1, 2))):
        name = f"get_db{index or ''}"
        body = draw(st.sampled_from(DEPENDENCY_BODIES)).format(
            s=s, aw="await " if asynchronous else "", with_="async with" if asynchronous else "with", cls=cls
        )
        decorator = draw(st.sampled_from(["", "@contextlib.contextmanager\n", "@contextlib.asynccontextmanager\n"]))
        lines += ["", "", decorator + ("async def " if asynchronous else "def ") + name + "():"]
        lines += ["    " + line for line in body.splitlines()]
        dependencies.append(name)
    for index, dep in enumerate(draw(st.lists(st.sampled_from(dependencies), min_size=1, max_size=3))):
        param = draw(st.sampled_from(ENDPOINT_PARAMS)).format(s=s, cls=cls, dep=dep)
        use = f"{'await ' if asynchronous else ''}{s}.execute(text('select 1'))"
        prefix = "async def" if asynchronous or draw(st.booleans()) else "def"
        lines += ["", "", f'@app.get("/{index}")', f"{prefix} endpoint{index}({param}):", f"    return {use}"]
    if draw(st.booleans()):
        lines += ["", "", "def main():", f"    {s} = SessionLocal()", f"    {s}.execute(text('select 1'))"]
    return "\n".join(lines) + "\n"


# -- mutated examples and fixtures ------------------------------------------------


def _sources() -> List[Tuple[str, str]]:
    from helpers import example_sources

    return [(source, path) for source, path, _id in example_sources() if parses(source)]


SOURCES = _sources()


class _Mutator(ast.NodeTransformer):
    """Rewrites a module's tree at the places `rng` picks: keyword arguments
    shuffled, string / list / bool constants in odd but equivalent shapes."""

    def __init__(self, rng: random.Random, odds: float) -> None:
        self.rng, self.odds = rng, odds

    def _pick(self) -> bool:
        return self.rng.random() < self.odds

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self._pick():
            named = [k for k in node.keywords if k.arg is not None]
            starred = [k for k in node.keywords if k.arg is None]
            self.rng.shuffle(named)
            node.keywords = named + starred
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # an f-string's parts must stay constants and formatted values

    def visit_MatchValue(self, node) -> ast.AST:
        return node  # a pattern takes constants only

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if not self._pick():
            return node
        value = node.value
        if isinstance(value, str):
            shapes = [
                lambda: ast.JoinedStr([ast.Constant(value)]) if value else node,
                lambda: ast.BinOp(ast.Constant(value[:1]), ast.Add(), ast.Constant(value[1:])),
                lambda: ast.Call(ast.Name("str", ast.Load()), [ast.Constant(value)], []),
            ]
            return self.rng.choice(shapes)()
        if isinstance(value, bool):
            return ast.UnaryOp(ast.Not(), ast.Constant(not value))
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or not self._pick():
            return node
        shapes = [
            lambda: ast.Tuple(node.elts, ast.Load()),
            lambda: ast.List([ast.Starred(ast.List(node.elts, ast.Load()), ast.Load())], ast.Load()),
            lambda: ast.Call(ast.Name("list", ast.Load()), [ast.Tuple(node.elts, ast.Load())], []),
            lambda: ast.BinOp(ast.List(node.elts, ast.Load()), ast.Add(), ast.List([], ast.Load())),
        ]
        return self.rng.choice(shapes)()


def rename_imports(tree: ast.Module, rng: random.Random) -> None:
    """`from x import Name` becomes `from x import Name as Name_1`, and every use
    of the name follows."""
    renames: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name
                if alias.name != "*" and rng.random() < 0.5:
                    renames[bound] = alias.asname = f"{bound}_{rng.randint(1, 99)}"
    if not renames:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renames:
            node.id = renames[node.id]
        elif isinstance(node, ast.arg) and node.arg in renames:
            node.arg = renames[node.arg]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in renames:
            node.name = renames[node.name]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            node.names = [renames.get(n, n) for n in node.names]


def nest_app(tree: ast.Module) -> None:
    """The module's statements after its imports also build a second
    application, in a factory function, mounted on the first."""
    imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    rest = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    if not rest:
        return
    inner = copy.deepcopy(rest)
    names = {n.id for s in inner for n in ast.walk(s) if isinstance(n, ast.Name)}
    returned = "app" if "app" in names else None
    factory = ast.parse("def create_sub_app():\n    pass").body[0]
    factory.body = inner + ([ast.Return(ast.Name(returned, ast.Load()))] if returned else [])
    mount = ast.parse('app.mount("/sub", create_sub_app())').body if returned else []
    tree.body = imports + [factory] + rest + mount


MUTATIONS: Dict[str, Callable[[ast.Module, random.Random], None]] = {
    "shuffle-and-odd-constants": lambda tree, rng: _Mutator(rng, 0.5).visit(tree),
    "rename-imports": rename_imports,
    "nest-app": lambda tree, rng: nest_app(tree),
}


@st.composite
def mutated_sources(draw) -> Tuple[str, str]:
    """(source, path) of a rule example or fixture after a few mutations."""
    source, path = draw(st.sampled_from(SOURCES))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    tree = ast.parse(source)
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3)):
        MUTATIONS[name](tree, rng)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n", path


def inserted(module: str, expression: str, rng: random.Random) -> str:
    """`module` with `expression` as the value of one keyword argument or
    assignment picked by `rng` (unchanged when it has neither)."""
    tree = ast.parse(module)
    slots: List[Tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword):
            slots.append((node, "value"))
        elif isinstance(node, ast.Assign):
            slots.append((node, "value"))
    if not slots:
        return module
    node, field = rng.choice(slots)
    setattr(node, field, ast.parse(expression, mode="eval").body)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"
