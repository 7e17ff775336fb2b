"""CORS rules FAC101-FAC110: each a record and a check over the module model."""

from __future__ import annotations

import ast
import textwrap
from typing import Dict, Iterator, List, Optional, Set, Tuple

from flake8_fastapi_cors.model import ModuleModel
from flake8_fastapi_cors.model.origins import matches_every_origin, narrowed_regex, origin_problem, permissive_regex
from flake8_fastapi_cors.model.values import (
    CODE,
    ENV,
    SETTINGS,
    Concat,
    Const,
    Generator,
    RuntimeStr,
    Seq,
    Value,
    definite,
    items,
    options,
    string_of,
    truthy,
    unset,
)
from flake8_fastapi_cors.model.web import SHORT_CIRCUIT, CorsConfig, Setting
from flake8_fastapi_cors.registry import SAFE, UNSAFE, Fix, Options, fix, rule, span

Report = Tuple[ast.AST, Dict[str, str]]
MARKERS = ("CORSMiddleware",)  # where, and the values for the rule's message
STARLETTE_CORS_DOC = "https://www.starlette.io/middleware/#corsmiddleware"
FASTAPI_CORS_DOC = "https://fastapi.tiangolo.com/tutorial/cors/"
MDN_CORS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS"
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
PREFLIGHTED_METHODS = ("DELETE", "PATCH", "POST", "PUT")

IMPORTS = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
"""


def _block(text: str) -> str:
    """An indented example body, dedented so it can follow IMPORTS."""
    return textwrap.dedent(text).lstrip("\n")


def _configs(model: ModuleModel) -> List[CorsConfig]:
    return model.web.cors_configs


def _env_origins(options_: Options) -> str:
    return f'[o.strip() for o in os.getenv("{options_.origins_env}", "").split(",") if o.strip()]'


def _string_items(value: Value) -> Iterator[Const]:
    """String items of a sequence value, every branch included; an item read from
    the environment or settings counts with its unset default."""
    for option in options(value):
        for item in items(option):
            for alternative in options(item):
                alternative = unset(alternative)
                if string_of(alternative) is not None:
                    yield alternative


def _listed_strings(config: CorsConfig, name: str) -> Iterator[Const]:
    """String entries of an argument passed as a sequence (a bare string is FAC106's)."""
    setting = config.settings.get(name)
    if setting is None:
        return
    for option in options(setting.value):
        if isinstance(option, (Seq, Concat)):
            yield from _string_items(option)


ORIGIN_OF = {ENV: "the unset default of an environment variable", SETTINGS: "a settings default"}


def _wildcard(setting: Optional[Setting], allow_null: bool) -> Optional[Tuple[ast.AST, str]]:
    """Where a definite `allow_origins` value lets every site in: a `"*"` item
    (or `"null"`), or a string containing `*` (Starlette tests `"*" in value`)."""
    if setting is None:
        return None
    value = definite(setting.value)
    if isinstance(value, RuntimeStr) and isinstance(value.default, Const):
        value = value.default
        if isinstance(value.value, str) and "*" in value.value:
            return value.node, f'the unset default of {_source(setting)} is "{value.value}"'
        return None
    if isinstance(value, Const):
        if isinstance(value.value, str) and "*" in value.value:
            return value.node, f'allow_origins is the string "{value.value}"'
        return None
    if isinstance(value, (Seq, Concat)):
        for item in _string_items(value):
            text = item.value
            if text == "*" or (allow_null and text == "null"):
                where = f" ({ORIGIN_OF[item.where]})" if item.where in ORIGIN_OF else ""
                return item.node, f'allow_origins contains "{text}"{where}'
    return None


def _source(setting: Setting) -> str:
    value = definite(setting.value)
    if isinstance(value, RuntimeStr) and value.source:
        return value.source
    return "the environment variable"


def _regex_text(setting: Optional[Setting]) -> Optional[Tuple[ast.AST, str]]:
    if setting is None:
        return None
    value = definite(setting.value)
    if isinstance(value, RuntimeStr) and isinstance(value.default, Const):
        value = value.default
    text = string_of(value)
    return (value.node, text) if text else None


def _credentials_on(config: CorsConfig) -> Optional[bool]:
    setting = config.get("allow_credentials")
    return truthy(definite(setting.value)) if setting is not None else None


def _any_site(config: CorsConfig, allow_null: bool) -> Optional[Tuple[ast.AST, str]]:
    """Where a configuration lets every site in: a wildcard origin or a regex
    that matches every origin."""
    found = _wildcard(config.get("allow_origins"), allow_null)
    if found is not None:
        return found
    regex = _regex_text(config.get("allow_origin_regex"))
    if regex and matches_every_origin(regex[1]):
        return regex[0], f'allow_origin_regex "{regex[1]}" matches every origin'
    return None


# ---------------------------------------------------------------------------
@rule(
    code="FAC101",
    name="credentialed-wildcard-origin",
    summary="Credentials allowed for every origin",
    message=(
        "allow_credentials is on and {what}: Starlette echoes any caller's Origin with "
        "Access-Control-Allow-Credentials, so every website can read your users' data. "
        'List trusted origins instead, e.g. from os.getenv("{env}").'
    ),
    fix=UNSAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a `CORSMiddleware` with `allow_credentials` truthy that also lets any site in:
        `"*"` or `"null"` in `allow_origins`, or an `allow_origin_regex` that matches every
        origin (`.*`, `.+`, `https?://.*`). Values are followed through constants, `**kwargs`
        dicts, settings defaults and `os.getenv(...)` defaults. Any truthy value counts as
        "on", including the string `"false"`.
    """,
    why_bad="""
        With credentials on, Starlette answers a wildcard by echoing the caller's `Origin`
        together with `Access-Control-Allow-Credentials: true`, on preflights and (since
        Starlette 1.0) on every request. Any website a logged-in user visits can then call
        your API with the user's cookies and read the answers. Browsers do not stop this:
        the wildcard is never sent. `"null"` is the same hole (sandboxed iframes send it).
    """,
    example=IMPORTS + _block("""
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_credentials=True,
        )
    """),
    use_instead="""
        import os

        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()],
            allow_credentials=True,
        )
    """,
    fix_safety="""
        Unsafe: the fix reads the origins from the environment variable (option
        `--fastapi-cors-origins-env`, default `CORS_ALLOWED_ORIGINS`) with an empty default,
        so nothing is allowed cross-origin until the variable is set.
    """,
    references=(STARLETTE_CORS_DOC, FASTAPI_CORS_DOC, "https://cwe.mitre.org/data/definitions/942.html"),
    flagged=(
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101:50\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()], allow_credentials=True)  # FAC101:50
        """,
        ),
        (
            IMPORTS + _block("""
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],  # FAC101:19
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()],  # FAC101:19
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
        """,
        ),
        (
            """
        import os
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware as Cors

        ORIGINS = os.getenv("ORIGINS", "*").split(",")  # FAC101
        app = Starlette(middleware=[Middleware(Cors, allow_origins=ORIGINS, allow_credentials=True)])
        """,
            """
        import os
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware as Cors

        ORIGINS = os.getenv("ORIGINS", "").split(",")  # FAC101
        app = Starlette(middleware=[Middleware(Cors, allow_origins=ORIGINS, allow_credentials=True)])
        """,
        ),
        (
            IMPORTS + _block("""
        cors = {"allow_origins": ("null", "https://app.example.com"), "allow_credentials": "false"}  # FAC101 FAC103
        app.add_middleware(CORSMiddleware, **cors)
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        cors = {"allow_origins": [o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()], "allow_credentials": "false"}  # FAC101 FAC103
        app.add_middleware(CORSMiddleware, **cors)
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https?://.*", allow_credentials=True)  # FAC101\n',
            None,
        ),
        (
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            cors_origins: list[str] = ["*"]  # FAC101
            cors_credentials: bool = True

        settings = Settings()
        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=settings.cors_credentials)
        """,
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            cors_origins: list[str] = []  # FAC101
            cors_credentials: bool = True

        settings = Settings()
        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=settings.cors_credentials)
        """,
        ),
        (
            """
        import fastapi
        import fastapi.middleware.cors

        def create_app():
            app = fastapi.FastAPI()
            origins = ["*"]  # FAC101
            return fastapi.middleware.cors.CORSMiddleware(app, allow_origins=origins, allow_credentials=1)
        """,
            """
        import fastapi
        import fastapi.middleware.cors
        import os

        def create_app():
            app = fastapi.FastAPI()
            origins = [o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]  # FAC101
            return fastapi.middleware.cors.CORSMiddleware(app, allow_origins=origins, allow_credentials=1)
        """,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False, allow_methods=["*"])\n',
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "").split(","), allow_credentials=True)\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z0-9-]+\\.example\\.com", allow_credentials=True)\n',
        IMPORTS
        + "from .settings import settings\napp.add_middleware(CORSMiddleware, allow_origins=settings.origins, allow_credentials=True)\n",
        IMPORTS
        + 'import os\nDEBUG = os.getenv("DEBUG") == "1"\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=DEBUG)\n',
        IMPORTS + "def setup(options):\n    app.add_middleware(CORSMiddleware, **options)\n",
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_origin_regex=None)  # noqa: FAC101\n',
    ),
)
def credentialed_wildcard_origin(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        if _credentials_on(config) is not True:
            continue
        found = _any_site(config, allow_null=True)
        if found is None:
            continue
        node, what = found
        yield node, {"what": what, "env": options_.origins_env}, _without_wildcard(config, options_)


def _without_wildcard(config: CorsConfig, options_: Options) -> Optional[Fix]:
    """FAC101's fix: origins from the environment, empty until configured; a
    wildcard in an environment default is dropped, a settings default emptied."""
    setting = config.get("allow_origins")
    if setting is None:
        return None
    value = definite(setting.value)
    env = options_.origins_env
    if isinstance(value, Const) and value.where == CODE and string_of(value):
        return fix("env-origins", value.node, env=env, default="")
    if isinstance(value, Seq) and value.literal is not None and not value.open and not value.added:
        if value.where == CODE:
            return fix("env-origins", value.literal, env=env, default="")
        if value.where == SETTINGS and isinstance(value.literal, ast.List):
            return fix("empty-list", value.literal)
    for item in _string_items(value):
        default = item.node
        if item.where == ENV and item.value in ("*", "null") and _is_string(default):
            kept = [p for p in default.value.split(",") if p.strip() not in ("*", "null")]
            return fix("set-string", default, expect=default.value, value=",".join(kept))
    return None


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


# ---------------------------------------------------------------------------
@rule(
    code="FAC102",
    name="wildcard-origin",
    summary="Every origin allowed (no credentials)",
    message=(
        "{what}: any website can read responses from a visitor's browser. "
        "Fine for a public API; otherwise list the trusted origins."
    ),
    fix=None,
    markers=MARKERS,
    default_enabled=False,
    what_it_does="""
        Flags `"*"` in `allow_origins`, or an `allow_origin_regex` that matches every origin,
        when credentials are off. Off by default: a public, read-only API may want exactly
        this. Turn it on with `--extend-select FAC102`.
    """,
    why_bad="""
        Any website can read the responses of your API from a visitor's browser. Without
        credentials that exposes only what an anonymous request sees, but on an intranet or
        behind IP allow-lists that can still be private data.
    """,
    example=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
    use_instead=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])\n',
    fix_safety="No fix: whether an API is public is a decision, not a bug.",
    references=(STARLETTE_CORS_DOC, MDN_CORS),
    flagged=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC102\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=("*",), allow_credentials=False)  # FAC102\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins="*")  # FAC102\n',
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "*").split(","))  # FAC102\n',
        "from starlette.middleware import Middleware\n"
        + IMPORTS.replace(
            "FastAPI()",
            'FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])])  # FAC102',
        ),
        IMPORTS + 'ALL = ["*"]  # FAC102\napp.add_middleware(CORSMiddleware, allow_origins=ALL, allow_headers=["*"])\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_methods=["*"])  # FAC102\n',
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"])  # FAC103\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
        IMPORTS + "app.add_middleware(CORSMiddleware, allow_origins=settings.origins)\n",
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_methods=["*"], allow_headers=["*"])\n',
        IMPORTS + "def f(origins):\n    app.add_middleware(CORSMiddleware, allow_origins=origins)\n",
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], **extra)\n',
    ),
)
def wildcard_origin(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        if _credentials_on(config) is not False:
            continue
        found = _any_site(config, allow_null=False)
        if found is not None:
            yield found[0], {"what": found[1]}


# ---------------------------------------------------------------------------
@rule(
    code="FAC103",
    name="hardcoded-origins",
    summary="Origin list hard-coded in code",
    message=(
        "origins {origins} are hard-coded: each deploy target needs its own list. Read them "
        'from configuration, e.g. os.getenv("{env}", "{joined}").split(",").'
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a literal list, tuple or set of concrete origins passed to `allow_origins`,
        inline or through a name, and literals joined with environment values. A default
        *string* of `os.getenv(...)` and a pydantic / settings field default are
        configuration and are not flagged, nor are test modules (`test_*.py`, `*_test.py`,
        `conftest.py`), where literal origins are the point.
    """,
    why_bad="""
        Origins differ between development, staging and production. A list in code means a
        deploy to change them, and in practice `http://localhost:3000` shipped to production
        or a wildcard added "temporarily". Reading them from configuration keeps the code the
        same everywhere.
    """,
    example=IMPORTS + _block("""
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["https://app.example.com", "https://admin.example.com"],
        )
    """),
    use_instead="""
        import os

        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com,https://admin.example.com").split(",") if o.strip()],
        )
    """,
    fix_safety="""
        Safe: the same origins become the default of the environment variable (option
        `--fastapi-cors-origins-env`), so behaviour is unchanged until the variable is set.
        `import os` is added once.
    """,
    references=(FASTAPI_CORS_DOC, "https://12factor.net/config"),
    flagged=(
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])  # FAC103:49\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com").split(",") if o.strip()])  # FAC103:49
        """,
        ),
        (
            IMPORTS
            + 'origins = [  # FAC103\n    "http://localhost:3000",\n    "https://app.example.com",\n]\napp.add_middleware(CORSMiddleware, allow_origins=origins)\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        origins = [  # FAC103
            o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "http://localhost:3000,https://app.example.com").split(",") if o.strip()
        ]
        app.add_middleware(CORSMiddleware, allow_origins=origins)
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:5173"] + os.getenv("EXTRA", "").split(","))  # FAC103\n',
            """
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "http://localhost:5173").split(",") if o.strip()] + os.getenv("EXTRA", "").split(","))  # FAC103
        """,
        ),
        (
            "from starlette.middleware import Middleware\n"
            + IMPORTS
            + 'app2 = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=("https://a.example.com", "https://b.example.com"))])  # FAC103\n',
            """
        from starlette.middleware import Middleware
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        app2 = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://a.example.com,https://b.example.com").split(",") if o.strip()])])  # FAC103
        """,
        ),
        (
            IMPORTS
            + 'FRONTEND = "https://app.example.com"\napp.add_middleware(CORSMiddleware, allow_origins={FRONTEND, "https://admin.example.com"})  # FAC103\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        FRONTEND = "https://app.example.com"
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com,https://admin.example.com").split(",") if o.strip()])  # FAC103
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=[os.getenv("FRONTEND_URL"), "http://localhost:3000"])  # FAC103\n',
            None,
        ),
        (
            IMPORTS
            + 'class Config:\n    ORIGINS = ["https://app.example.com"]  # FAC103\n\napp.add_middleware(CORSMiddleware, allow_origins=Config.ORIGINS)\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        import os

        app = FastAPI()
        class Config:
            ORIGINS = [o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com").split(",") if o.strip()]  # FAC103

        app.add_middleware(CORSMiddleware, allow_origins=Config.ORIGINS)
        """,
        ),
    ),
    clean=(
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "https://app.example.com").split(","))\n',
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://a.example.com,https://b.example.com").split(",") if o.strip()])\n',
        "from pydantic_settings import BaseSettings\n"
        + IMPORTS
        + 'class Settings(BaseSettings):\n    origins: list[str] = ["https://app.example.com"]\n\nsettings = Settings()\napp.add_middleware(CORSMiddleware, allow_origins=settings.origins)\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
        IMPORTS
        + "from .config import settings\napp.add_middleware(CORSMiddleware, allow_origins=[str(o) for o in settings.BACKEND_CORS_ORIGINS])\n",
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z0-9-]+\\.example\\.com")\n',
        "import os\n"
        + IMPORTS
        + 'FRONTEND = os.getenv("FRONTEND_URL", "http://localhost:3000")\napp.add_middleware(CORSMiddleware, allow_origins=[FRONTEND])\n',
    ),
)
def hardcoded_origins(model: ModuleModel, options_: Options) -> Iterator[Report]:
    if model.is_test_file:
        return
    for config in _configs(model):
        setting = config.settings.get("allow_origins")
        if setting is None:
            continue
        for literal, origins, fix_ in _code_literals(setting.value, options_.origins_env):
            yield literal, {"origins": _shown(origins), "env": options_.origins_env, "joined": ",".join(origins)}, fix_


def _code_literals(value: Value, env: str) -> Iterator[Tuple[ast.AST, List[str], Optional[Fix]]]:
    """Literal origin collections written in code (not configuration defaults),
    with the fix that moves them into an environment default."""
    for option in options(value):
        in_sum = isinstance(option, Concat)
        for part in option.parts if in_sum else (option,):
            for part_option in options(part):
                if not isinstance(part_option, Seq) or part_option.where != CODE or part_option.literal is None:
                    continue
                own = [i for i in part_option.items if not any(i is a for a in part_option.added)]
                texts = [string_of(i) for i in own if i.where == CODE]
                if "*" in texts:
                    continue
                concrete = [t for t in texts if t and t not in ("null",)]
                if concrete:
                    yield part_option.literal, concrete, _origins_from_env(part_option, own, in_sum, env)


def _origins_from_env(seq: Seq, own: List[Value], in_sum: bool, env: str) -> Optional[Fix]:
    """FAC103's fix, when every item is a string known here and the list can
    become a list comprehension (a tuple added to a tuple cannot)."""
    texts = [string_of(i) if i.where == CODE else None for i in own]
    if seq.added or seq.open or any(t is None or "," in t for t in texts):
        return None
    if in_sum and not isinstance(seq.literal, ast.List):
        return None
    return fix("env-origins", seq.literal, env=env, default=",".join(texts))


def _shown(origins: List[str]) -> str:
    shown = ", ".join(f'"{o}"' for o in origins[:3])
    return shown + (", ..." if len(origins) > 3 else "")


# ---------------------------------------------------------------------------
@rule(
    code="FAC104",
    name="unmatchable-origin",
    summary="Origin that never matches a browser's Origin",
    message=(
        'origin "{origin}" never matches: it has {reasons}, and Starlette compares the '
        "browser's Origin exactly; {advice}."
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags an entry of `allow_origins` that can never equal the `Origin` header a browser
        sends: a trailing slash, a path, no scheme, upper-case letters, the default port written
        out (`:443` on https, `:80` on http), surrounding whitespace, a glob
        (`https://*.example.com`). Entries inside an environment default string are checked
        too. Custom schemes (`capacitor://localhost`, `app://...`) and `"null"` are real
        origins and are not flagged.
    """,
    why_bad="""
        Starlette compares origins with `origin in allow_origins`: exact and case-sensitive.
        Browsers send `scheme://host[:port]`, lower-case, without default port or path, so
        `"http://localhost:3000/"` never matches and the frontend gets CORS errors that look
        like a server problem. Globs are not supported at all.
    """,
    example=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/"])\n',
    use_instead=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"])\n',
    fix_safety="""
        Safe: the entry is normalised only where the intent is unambiguous (trailing slash,
        case, default port, whitespace); the fixed entry matches the browser's origin, which
        the old one never did. Paths, missing schemes and globs are left to you; for a glob the
        message suggests an `allow_origin_regex`.
    """,
    references=(STARLETTE_CORS_DOC, "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Origin"),
    flagged=(
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/"])  # FAC103 FAC104:50\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"])  # FAC103 FAC104:50
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://App.Example.com"])  # FAC103 FAC104\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])  # FAC103 FAC104
        """,
        ),
        (IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["localhost:3000"])  # FAC103 FAC104\n', None),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://example.com:443"])  # FAC103 FAC104\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])  # FAC103 FAC104
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "https://a.example.com, https://b.example.com").split(","))  # FAC104\n',
            """
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "https://a.example.com,https://b.example.com").split(","))  # FAC104
        """,
        ),
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://*.example.com"])  # FAC103 FAC104\n',
            None,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://example.com/app"])  # FAC103 FAC104\n',
            None,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"])  # noqa: FAC103\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["capacitor://localhost", "null"])  # noqa: FAC103\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://example.com:8443"])  # noqa: FAC103\n',
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("ORIGINS", "https://a.example.com, https://b.example.com").split(",")])\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://.*\\.example\\.com")\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=[o.rstrip("/") for o in ["http://localhost:3000/"]])  # noqa: FAC103\n',
    ),
)
def unmatchable_origin(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        for item in _listed_strings(config, "allow_origins"):
            problem = origin_problem(item.value)
            if problem is None:
                continue
            advice = (
                f'write "{problem.fixed}"'
                if problem.fixed
                else (
                    f'use allow_origin_regex=r"{problem.suggested_regex}"'
                    if problem.suggested_regex
                    else 'write it as the browser sends it: "scheme://host[:port]"'
                )
            )
            fields = {"origin": item.value, "reasons": " and ".join(problem.reasons), "advice": advice}
            if problem.fixed and _is_string(item.node):
                yield item.node, fields, fix("normalise-origins", item.node, expect=item.value)
            else:
                yield item.node, fields


# ---------------------------------------------------------------------------
@rule(
    code="FAC105",
    name="permissive-origin-regex",
    summary="Origin regex that also matches other domains",
    message=(
        'allow_origin_regex "{pattern}": {problem}, e.g. a look-alike domain anyone can register. '
        r"Escape dots (\.) and match one label with [a-z0-9-]+."
    ),
    fix=UNSAFE,
    markers=MARKERS,
    what_it_does="""
        Flags an `allow_origin_regex` whose host part has an unescaped `.` or a `.*` / `.+`
        (or another repeated wildcard) that is not followed by a literal `\\.`. A missing `^`
        or `$` is not flagged: Starlette uses `re.fullmatch`. A regex that matches every
        origin (`.*`, `https?://.*`) is a deliberate wildcard, not a look-alike hole: it is
        reported as FAC101 with credentials and FAC102 (opt-in) without.
    """,
    why_bad="""
        `https://app.example.com` as a regex also matches `https://app-example.com`, and
        `https://.*example\\.com` matches `https://evilexample.com`: domains anyone can
        register. Those sites then pass your CORS policy.
    """,
    example=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://.*example\\.com")\n',
    use_instead=IMPORTS
    + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z0-9-]+\\.example\\.com")\n',
    fix_safety="""
        Unsafe: the fix escapes unescaped dots in the host, turns a wildcard before a domain
        into whole subdomain labels (`(?:[a-z0-9-]+\\.)*`, so the apex and deeper subdomains
        still match) and a wildcard at the end into an optional port. That narrows what
        matches, which may drop an origin you relied on. A pattern the fix cannot narrow
        safely (a wildcard inside a group) is left to you.
    """,
    references=(STARLETTE_CORS_DOC, "https://docs.python.org/3/library/re.html#re.fullmatch"),
    flagged=(
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://app.example\\.com")  # FAC105:54\n',
            r"""
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://app\.example\.com")  # FAC105:54
        """,
        ),
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://.*example\\.com")  # FAC105\n',
            r"""
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://(?:[a-z0-9-]+\.)*example\.com")  # FAC105
        """,
        ),
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://(.*)example\\.com")  # FAC105\n',
            None,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://example\\.com.*", allow_credentials=True)  # FAC105\n',
            r"""
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://example\.com(?::[0-9]+)?", allow_credentials=True)  # FAC105
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origin_regex=os.getenv("ORIGIN_REGEX", r"https://[^/]+example\\.com"))  # FAC105\n',
            r"""
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origin_regex=os.getenv("ORIGIN_REGEX", r"https://(?:[a-z0-9-]+\.)*example\.com"))  # FAC105
        """,
        ),
        (
            IMPORTS
            + 'REGEX = r"^https://(www|api).example.com$"  # FAC105\napp.add_middleware(CORSMiddleware, allow_origin_regex=REGEX)\n',
            r"""
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        REGEX = r"^https://(www|api)\.example\.com$"  # FAC105
        app.add_middleware(CORSMiddleware, allow_origin_regex=REGEX)
        """,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z0-9-]+\\.example\\.com")\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://.*\\.example\\.com")\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://(foo|bar)\\.example\\.com|https://baz\\.com")\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"http://localhost:\\d+")\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origin_regex=r"http://(localhost|127\\.0\\.0\\.1)(:\\d+)?")\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True)  # FAC101\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origin_regex="https://.*")\n',
        IMPORTS + "app.add_middleware(CORSMiddleware, allow_origin_regex=settings.origin_regex)\n",
    ),
)
def permissive_origin_regex(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        found = _regex_text(config.get("allow_origin_regex"))
        if found is None:
            continue
        node, pattern = found
        if matches_every_origin(pattern):
            continue  # a wildcard, not an accident: FAC101 with credentials, FAC102 without
        problems = permissive_regex(pattern)
        if problems:
            narrowed = narrowed_regex(pattern)
            fixable = narrowed is not None and _is_string(node) and node.value == pattern
            fix_ = fix("narrow-regex", node, expect=pattern, value=narrowed) if fixable else None
            yield node, {"pattern": pattern, "problem": problems[0]}, fix_


# ---------------------------------------------------------------------------
@rule(
    code="FAC106",
    name="string-instead-of-list",
    summary="String (or generator) where Starlette expects a list",
    message="{name} is {kind}: {consequence}. {remedy}.",
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a bare string, a generator, or a `str` read from the environment without
        `.split(...)` where `CORSMiddleware` expects a sequence: `allow_origins` (other than
        `"*"`), `allow_headers` (other than `"*"`), `expose_headers` longer than one character,
        and `allow_methods` other than `"*"` or a single GET/HEAD/POST.
    """,
    why_bad="""
        Starlette tests `origin in allow_origins`; on a string that is a substring test, so
        `allow_origins="https://app.example.com"` also allows `https://app.ex` and
        `https://app.example.co`, with credentials if they are on. `allow_headers` and
        `expose_headers` strings are split into single characters, and an `allow_methods`
        string is sent as `P, U, T`, so preflights fail. A generator is consumed by the first
        `in` test at start-up and then matches nothing.
    """,
    example=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins="https://app.example.com")\n',
    use_instead=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])\n',
    fix_safety="""
        Safe: a literal is wrapped in a list; an environment string is split on commas as in
        FAC103. Both keep the intended values and remove the substring / character matching.
    """,
    references=(STARLETTE_CORS_DOC,),
    flagged=(
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins="https://app.example.com")  # FAC106:49\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])  # FAC106:49
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("CORS_ORIGINS"))  # FAC106\n',
            """
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ORIGINS", "").split(",") if o.strip()])  # FAC106
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], allow_headers=os.environ["CORS_HEADERS"])  # FAC103 FAC106\n',
            """
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], allow_headers=[o.strip() for o in os.environ["CORS_HEADERS"].split(",") if o.strip()])  # FAC103 FAC106
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], expose_headers="X-Total-Count")  # FAC103 FAC106\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], expose_headers=["X-Total-Count"])  # FAC103 FAC106
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], allow_methods="GET,POST")  # FAC103 FAC106\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"], allow_methods=["GET", "POST"])  # FAC103 FAC106
        """,
        ),
        (
            IMPORTS
            + 'ORIGINS = "https://a.example.com,https://b.example.com"\napp.add_middleware(CORSMiddleware, allow_origins=(o.strip() for o in ORIGINS.split(",")))  # FAC106\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        ORIGINS = "https://a.example.com,https://b.example.com"
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in ORIGINS.split(",")])  # FAC106
        """,
        ),
        (
            "from pydantic_settings import BaseSettings\n"
            + IMPORTS
            + 'class Settings(BaseSettings):\n    cors_origins: str = "https://a.example.com"\n\nsettings = Settings()\napp.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)  # FAC106\n',
            """
        from pydantic_settings import BaseSettings
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        class Settings(BaseSettings):
            cors_origins: str = "https://a.example.com"

        settings = Settings()
        app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()])  # FAC106
        """,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins="*")\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_headers="*", allow_methods="*")\n',
        "import os\n"
        + IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=os.getenv("CORS_ORIGINS", "").split(","))\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods="GET")\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], expose_headers=("X-Total-Count",))\n',
        IMPORTS + "app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)\n",
        "from pydantic_settings import BaseSettings\n"
        + IMPORTS
        + "class Settings(BaseSettings):\n    cors_origins: list[str] = []\n\nsettings = Settings()\napp.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)\n",
    ),
)
def string_instead_of_list(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        for name in ("allow_origins", "allow_headers", "expose_headers", "allow_methods"):
            setting = config.settings.get(name)
            if setting is None or setting.expr is None:
                continue
            for option in options(setting.value):
                problem = _string_problem(name, option)
                if problem:
                    yield setting.expr, problem, _as_list(option, setting.expr)
                    break


def _as_list(value: Value, expr: ast.expr) -> Optional[Fix]:
    """FAC106's fix: a generator becomes a list, a literal string the list of its
    comma-separated items, a string known only at run time is split."""
    if isinstance(value, Generator):
        return fix("listify", expr) if isinstance(expr, (ast.GeneratorExp, ast.Call)) else None
    text = string_of(value)
    if _is_string(expr):
        return fix("string-to-list", expr, items=tuple(p.strip() for p in text.split(",") if p.strip()))
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        return fix("wrap-in-list" if text is not None and "," not in text else "split-string", expr)
    return None


def _string_problem(name: str, value: Value) -> Optional[dict]:
    """The parts of the FAC106 message for one argument value, or None."""
    if isinstance(value, Generator):
        return {
            "name": name,
            "kind": value.kind,
            "consequence": "Starlette's first `in` test at start-up consumes it, so nothing matches afterwards",
            "remedy": "Use a list comprehension",
        }
    text = string_of(value)
    runtime = isinstance(value, RuntimeStr)
    if text is None and not runtime:
        return None
    shown = value.source if runtime and value.source else f'"{text}"'
    kind = ("a string setting" if value.where == SETTINGS else "an environment string") if runtime else "a string"
    parts = {"name": name, "kind": f"{kind} ({shown})", "remedy": "Pass a list"}
    if name == "allow_origins":
        if text in ("*", ""):
            return None
        parts["consequence"] = (
            "Starlette tests `origin in allow_origins`, a substring test, so look-alike origins such as "
            '"https://app.ex" are allowed'
        )
        if runtime:
            parts["remedy"] = 'Pass a list: split the environment value with .split(",")'
    elif name == "allow_headers":
        if text == "*":
            return None
        parts["consequence"] = "Starlette splits it into single characters and preflights fail"
    elif name == "expose_headers":
        if text is not None and len(text) <= 1:
            return None
        parts["consequence"] = "Starlette sends it joined character by character"
    else:
        if text == "*" or (text is not None and text.strip().upper() in SAFELISTED_METHODS):
            return None
        sent = f'"{", ".join(text)}"' if text is not None else 'e.g. "P, U, T" for "PUT"'
        parts["consequence"] = f"Starlette sends it character by character ({sent}), so browsers reject the preflight"
        parts["remedy"] = "Pass a list of methods"
    return parts


# ---------------------------------------------------------------------------
@rule(
    code="FAC107",
    name="cors-not-outermost",
    summary="Middleware that answers requests sits outside CORS",
    message=(
        "{names} sits outside CORSMiddleware: the responses it creates (401, 403, 429, errors) and "
        "its answers to preflight requests carry no CORS headers, so browsers report a CORS error "
        "instead. Make CORS the outermost middleware: {remedy}."
    ),
    fix=UNSAFE,
    markers=MARKERS,
    what_it_does="""
        Flags an app where a middleware that answers requests by itself sits outside
        `CORSMiddleware`: authentication (401/403), rate limits, IP filters, body limits,
        `@app.middleware("http")` functions and `BaseHTTPMiddleware` classes that return their
        own response on some path, and unknown classes whose names say auth / limit /
        firewall. `add_middleware` makes each call the new outermost (the last call wins);
        `middleware=[...]` puts the first entry outermost. Pass-through middleware (GZip,
        sessions, timing or logging that always returns `call_next`'s response) and
        TrustedHost / HTTPSRedirect may sit anywhere. One report per app, at the CORS call.
    """,
    why_bad="""
        Responses a middleware creates outside CORS never get CORS headers: the browser shows
        the frontend a CORS error instead of the 401 or 429, and the preflight `OPTIONS`
        request is itself answered with 401, which breaks every cross-origin call.
    """,
    example=IMPORTS + _block("""
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
        app.add_middleware(AuthenticationMiddleware, backend=TokenBackend())
    """),
    use_instead=IMPORTS + _block("""
        app.add_middleware(AuthenticationMiddleware, backend=TokenBackend())
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    """),
    fix_safety="""
        Unsafe: the CORS registration moves to the outermost place in the same block, which
        changes the order the other middleware see requests in.
    """,
    references=(
        STARLETTE_CORS_DOC,
        "https://www.starlette.io/middleware/#applying-middleware-to-groups-of-routes",
        "https://github.com/fastapi/fastapi/issues/775",
    ),
    flagged=(
        (
            IMPORTS + "from starlette.middleware.authentication import AuthenticationMiddleware\n"
            'app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"])  # FAC103 FAC107:0\n'
            "app.add_middleware(AuthenticationMiddleware, backend=None)\n",
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from starlette.middleware.authentication import AuthenticationMiddleware
        app.add_middleware(AuthenticationMiddleware, backend=None)
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"])  # FAC103 FAC107:0
        """,
        ),
        (
            IMPORTS + _block("""
        from fastapi.responses import JSONResponse

        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107

        @app.middleware("http")
        async def require_token(request, call_next):
            if "authorization" not in request.headers:
                return JSONResponse({"detail": "unauthorized"}, status_code=401)
            return await call_next(request)
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from fastapi.responses import JSONResponse

        @app.middleware("http")
        async def require_token(request, call_next):
            if "authorization" not in request.headers:
                return JSONResponse({"detail": "unauthorized"}, status_code=401)
            return await call_next(request)

        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
        """,
        ),
        (
            """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware
        from slowapi.middleware import SlowAPIMiddleware

        app = Starlette(middleware=[
            Middleware(SlowAPIMiddleware),
            Middleware(CORSMiddleware, allow_origins=["*"]),  # FAC107
        ])
        """,
            """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware
        from slowapi.middleware import SlowAPIMiddleware

        app = Starlette(middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"]),  # FAC107
            Middleware(SlowAPIMiddleware),
        ])
        """,
        ),
        (
            IMPORTS + _block("""
        from starlette.middleware.base import BaseHTTPMiddleware
        from starlette.responses import PlainTextResponse

        class IPAllowList(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                if request.client.host not in {"10.0.0.1"}:
                    return PlainTextResponse("forbidden", status_code=403)
                return await call_next(request)

        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
        app.add_middleware(IPAllowList)
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from starlette.middleware.base import BaseHTTPMiddleware
        from starlette.responses import PlainTextResponse

        class IPAllowList(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                if request.client.host not in {"10.0.0.1"}:
                    return PlainTextResponse("forbidden", status_code=403)
                return await call_next(request)

        app.add_middleware(IPAllowList)
        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
        """,
        ),
        (
            IMPORTS + _block("""
        from fastapi.responses import JSONResponse
        from myproject.security import JWTAuthMiddleware

        def create_app():
            app = FastAPI()
            app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
            app.add_middleware(JWTAuthMiddleware)
            return app
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from fastapi.responses import JSONResponse
        from myproject.security import JWTAuthMiddleware

        def create_app():
            app = FastAPI()
            app.add_middleware(JWTAuthMiddleware)
            app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
            return app
        """,
        ),
        (
            IMPORTS + _block("""
        from fastapi.responses import JSONResponse

        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107

        @app.middleware("http")
        async def errors_as_json(request, call_next):
            try:
                return await call_next(request)
            except Exception:
                return JSONResponse({"detail": "internal error"}, status_code=500)
        """),
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from fastapi.responses import JSONResponse

        @app.middleware("http")
        async def errors_as_json(request, call_next):
            try:
                return await call_next(request)
            except Exception:
                return JSONResponse({"detail": "internal error"}, status_code=500)

        app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC107
        """,
        ),
    ),
    clean=(
        IMPORTS + "from starlette.middleware.authentication import AuthenticationMiddleware\n"
        "app.add_middleware(AuthenticationMiddleware, backend=None)\n"
        'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
        IMPORTS + _block("""
        import time
        from fastapi.middleware.gzip import GZipMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=["*"])
        app.add_middleware(GZipMiddleware)

        @app.middleware("http")
        async def timing(request, call_next):
            start = time.time()
            response = await call_next(request)
            response.headers["X-Process-Time"] = str(time.time() - start)
            return response
        """),
        IMPORTS + _block("""
        from fastapi.middleware.trustedhost import TrustedHostMiddleware
        from fastapi.middleware.httpsredirect import HTTPSRedirectMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=["*"])
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
        app.add_middleware(HTTPSRedirectMiddleware)
        """),
        """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware
        from slowapi.middleware import SlowAPIMiddleware

        app = Starlette(middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"]),
            Middleware(SlowAPIMiddleware),
        ])
        """,
        IMPORTS + _block("""
        from myproject.security import AuthMiddleware

        if USE_AUTH:
            app.add_middleware(CORSMiddleware, allow_origins=["*"])
        else:
            app.add_middleware(AuthMiddleware)
        """),
        IMPORTS + _block("""
        from myproject.security import AuthMiddleware

        app.add_middleware(AuthMiddleware)
        asgi_app = CORSMiddleware(app, allow_origins=["*"])
        """),
        IMPORTS + _block("""
        from fastapi.responses import JSONResponse

        app.add_middleware(CORSMiddleware, allow_origins=["*"])

        @app.middleware("http")
        async def rewrite_body(request, call_next):
            response = await call_next(request)
            return JSONResponse({"wrapped": True}, status_code=response.status_code, headers=dict(response.headers))
        """),
    ),
)
def cors_not_outermost(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for app in model.web.apps.values():
        cors_entries = [e for e in app.middleware if e.cors is not None]
        # the stacks of apps this one is mounted in wrap it entirely
        enclosing = [e for parent in app.ancestors() for e in parent.middleware if e.cors is None]
        blocking = [e for e in app.middleware if e.cors is None and _short_circuits(e, options_)]
        around = [e for e in enclosing if _short_circuits(e, options_)]
        for cors in cors_entries:
            outside = [e for e in blocking if app.stack_order(e, cors) is True] + around
            if outside:
                remedy = (
                    "call add_middleware(CORSMiddleware, ...) last"
                    if cors.how == "add"
                    else "put Middleware(CORSMiddleware, ...) first in the list"
                )
                fields = {"names": ", ".join(dict.fromkeys(e.label for e in outside)), "remedy": remedy}
                yield cors.cors.call, fields, _outermost(app, cors, outside)
                break


def _outermost(app, cors, outside) -> Optional[Fix]:
    """FAC107's fix: move the CORS registration to the outermost place of its
    block: after the last `add_middleware` there, or first in its list."""
    if any(e.app is not app for e in outside):
        return None  # an enclosing app's middleware
    if cors.how == "list":
        if all(e.how == "list" and e.group == cors.group for e in outside):
            call = cors.cors.call
            return fix("move-first", call, entry=span(call))
        return None
    if cors.how != "add" or cors.site.decorates is not None:
        return None
    same_block = [
        e
        for e in app.middleware
        if e is not cors and e.how == "add" and e.site.scope is cors.site.scope and e.site.path == cors.site.path
    ]
    if not all(any(e is s for s in same_block) for e in outside):
        return None
    statement = cors.site.stmt
    anchor = max((e.site.stmt for e in same_block), key=lambda s: (s.end_lineno, s.end_col_offset))
    if (anchor.lineno, anchor.col_offset) <= (statement.lineno, statement.col_offset):
        return None
    # the target is the block holding both: it spans from the statement to the anchor
    data = (("anchor", span(anchor)), ("statement", span(statement)))
    return Fix("move-after", span(statement)[:2] + span(anchor)[2:], data)


def _short_circuits(entry, options_: Options) -> bool:
    name = entry.label.rsplit(".", 1)[-1]
    if name in options_.pass_through_middleware:
        return False
    if name in options_.short_circuit_middleware:
        return True
    return entry.behaviour == SHORT_CIRCUIT


# ---------------------------------------------------------------------------
@rule(
    code="FAC108",
    name="missing-allowed-methods",
    summary="Route methods not allowed by CORS",
    message=(
        "the app's routes use {methods}, which allow_methods leaves out (Starlette's default "
        "is GET only): browsers' preflights get 400 and the requests are never sent. "
        "Add {methods} to allow_methods."
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does="""
        Flags a CORS configuration whose `allow_methods` leaves out a method the routes of the
        same app use (`@app.post`, `router.put` of an included router,
        `api_route(methods=[...])`, `Route(..., methods=[...])`). Starlette's default is GET
        only. Apps whose routes are all GET are not flagged.
    """,
    why_bad="""
        Browsers preflight POST with JSON, PUT, PATCH and DELETE. Starlette answers a preflight
        for a method outside `allow_methods` with 400, so the browser never sends the real
        request. This commonly hides behind "works with curl".
    """,
    example=IMPORTS + _block("""
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])

        @app.post("/items")
        def create_item(): ...
    """),
    use_instead=IMPORTS + _block("""
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_methods=["GET", "POST"])

        @app.post("/items")
        def create_item(): ...
    """),
    fix_safety="Safe: the methods the routes already serve are added; nothing else changes.",
    references=(STARLETTE_CORS_DOC, "https://developer.mozilla.org/en-US/docs/Glossary/Preflight_request"),
    flagged=(
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC108:0\n\n@app.post("/items")\ndef create(): ...\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])  # FAC108:0

        @app.post("/items")
        def create(): ...
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])  # FAC108:70\n\n@app.delete("/items/{i}")\ndef remove(i: int): ...\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "DELETE"])  # FAC108:70

        @app.delete("/items/{i}")
        def remove(i: int): ...
        """,
        ),
        (
            IMPORTS
            + 'from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.put("/x")\ndef put(): ...\n\napp.include_router(router)\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=("GET",))  # FAC108\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        from fastapi import APIRouter
        router = APIRouter()

        @router.put("/x")
        def put(): ...

        app.include_router(router)
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=("GET", "PUT"))  # FAC108
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])  # FAC108\n\n@app.api_route("/x", methods=["GET", "PATCH"])\ndef x(): ...\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "PATCH"])  # FAC108

        @app.api_route("/x", methods=["GET", "PATCH"])
        def x(): ...
        """,
        ),
        (
            """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware
        from starlette.routing import Route

        async def create(request): ...

        app = Starlette(
            routes=[Route("/items", create, methods=["POST"])],
            middleware=[Middleware(CORSMiddleware, allow_origins=["*"])],  # FAC108
        )
        """,
            """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware
        from starlette.routing import Route

        async def create(request): ...

        app = Starlette(
            routes=[Route("/items", create, methods=["POST"])],
            middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])],  # FAC108
        )
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["get"])  # FAC108 FAC109\n\n@app.put("/x")\ndef x(): ...\n\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])  # FAC108\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["get", "PUT"])  # FAC108 FAC109

        @app.put("/x")
        def x(): ...

        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "PUT"])  # FAC108
        """,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@app.get("/items")\ndef items(): ...\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])\n\n@app.post("/items")\ndef create(): ...\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "DELETE"])\n\n@app.post("/a")\ndef a(): ...\n\n@app.delete("/b")\ndef b(): ...\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=settings.methods)\n\n@app.post("/a")\ndef a(): ...\n',
        IMPORTS
        + 'other = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@other.post("/a")\ndef a(): ...\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], **cors_options)\n\n@app.post("/a")\ndef a(): ...\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware)\n\n@app.post("/a")\ndef a(): ...\n',
    ),
)
def missing_allowed_methods(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        if config.app is None or not _allows_some_origin(config):
            continue
        setting = config.get("allow_methods")
        if setting is None:
            continue
        allowed = _method_names(setting.value)
        if allowed is None or "*" in allowed:
            continue
        used: Set[str] = set()
        for route in config.app.all_routes():
            used.update(m for m in route.methods if m in PREFLIGHTED_METHODS)
        missing = sorted(used - allowed)
        if missing:
            yield (setting.expr or config.call), {"methods": ", ".join(missing)}, _with_methods(
                config, setting, missing
            )


def _with_methods(config: CorsConfig, setting: Setting, missing: List[str]) -> Optional[Fix]:
    """FAC108's fix: add the missing methods to the literal list, or pass
    `allow_methods` with Starlette's default GET and the missing ones."""
    if setting.expr is None:
        if isinstance(config.call, ast.Call):
            methods = ", ".join(f'"{m}"' for m in ["GET", *missing])
            return fix("add-keyword", config.call, name="allow_methods", value=f"[{methods}]")
        return None
    value = definite(setting.value)
    if (
        isinstance(value, Seq)
        and value.where == CODE
        and value.literal is not None
        and not value.open
        and not value.added
    ):
        return fix("append-strings", value.literal, items=tuple(missing))
    return None


def _allows_some_origin(config: CorsConfig) -> bool:
    if "allow_origin_regex" in config.settings:
        return True
    setting = config.settings.get("allow_origins")
    if setting is None:
        return False
    value = definite(setting.value)
    return not (isinstance(value, Seq) and not value.items and not value.open)


def _method_names(value: Value) -> Optional[Set[str]]:
    value = definite(value)
    if not isinstance(value, (Seq, Concat)):
        return None
    names = set()
    for item in items(value):
        text = string_of(item)
        if text is None:
            return None
        names.add(text.upper())
    return names


# ---------------------------------------------------------------------------
@rule(
    code="FAC109",
    name="lowercase-method",
    summary="Lower-case method in allow_methods",
    message=(
        'allow_methods entry "{entry}" is not upper case: Starlette compares methods exactly and '
        'browsers send "{upper}", so its preflights get 400. Write "{upper}".'
    ),
    fix=SAFE,
    markers=MARKERS,
    what_it_does='Flags entries of `allow_methods` written in lower case (`"get"`, `"Post"`).',
    why_bad="""
        Starlette compares the preflight's `Access-Control-Request-Method` with the list
        exactly, and browsers send upper-case methods, so `"post"` never matches: the preflight
        gets 400.
    """,
    example=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["get", "post"])\n',
    use_instead=IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])\n',
    fix_safety="Safe: upper-casing makes the entry match what browsers send.",
    references=(STARLETTE_CORS_DOC,),
    flagged=(
        (
            IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["get"])  # FAC109:71\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])  # FAC109:71
        """,
        ),
        (
            IMPORTS
            + 'app.add_middleware(\n    CORSMiddleware,\n    allow_origins=["*"],\n    allow_methods=["GET", "post"],  # FAC109:26\n)\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "POST"],  # FAC109:26
        )
        """,
        ),
        (
            IMPORTS
            + 'METHODS = ("Put", "DELETE")  # FAC109\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=METHODS)\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        METHODS = ("PUT", "DELETE")  # FAC109
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=METHODS)
        """,
        ),
        (
            "import os\n"
            + IMPORTS
            + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=os.getenv("METHODS", "get,post").split(","))  # FAC109\n',
            """
        import os
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=os.getenv("METHODS", "GET,POST").split(","))  # FAC109
        """,
        ),
        (
            "from starlette.middleware import Middleware\n"
            + IMPORTS
            + 'app2 = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods={"patch"})])  # FAC109\n',
            """
        from starlette.middleware import Middleware
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app2 = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods={"PATCH"})])  # FAC109
        """,
        ),
        (
            IMPORTS
            + 'opts = dict(allow_origins=["*"], allow_methods=["options"])  # FAC109\napp.add_middleware(CORSMiddleware, **opts)\n',
            """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        opts = dict(allow_origins=["*"], allow_methods=["OPTIONS"])  # FAC109
        app.add_middleware(CORSMiddleware, **opts)
        """,
        ),
    ),
    clean=(
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=[m.upper() for m in ["get", "post"]])\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_headers=["content-type", "authorization"])\n',
        IMPORTS + 'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=settings.methods)\n',
        IMPORTS
        + 'methods = ["get"]\nrouter_methods = methods\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
    ),
)
def lowercase_method(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for config in _configs(model):
        for item in _listed_strings(config, "allow_methods"):
            if item.value != item.value.upper():
                fields = {"entry": item.value, "upper": item.value.upper()}
                if _is_string(item.node):
                    yield item.node, fields, fix("upper-string", item.node, expect=item.value)
                else:
                    yield item.node, fields


# ---------------------------------------------------------------------------
@rule(
    code="FAC110",
    name="error-responses-without-cors",
    summary="500 responses never carry CORS headers",
    message=(
        "a handler for Exception/500 runs in ServerErrorMiddleware, outside CORSMiddleware: its "
        "responses and every unhandled 500 reach the browser without CORS headers. Wrap the whole "
        "ASGI app instead: asgi_app = CORSMiddleware(app, ...)."
    ),
    fix=None,
    markers=MARKERS,
    default_enabled=False,
    what_it_does="""
        Flags a handler for `Exception` or `500` (`@app.exception_handler`,
        `add_exception_handler`, `exception_handlers={...}`) on an app that adds CORS inside
        itself (`add_middleware` or `middleware=[...]`). Off by default; turn it on with
        `--extend-select FAC110`.
    """,
    why_bad="""
        Starlette moves handlers for `Exception` and `500` into `ServerErrorMiddleware`, which
        sits outside every user middleware. Their responses, and every unhandled 500, are sent
        without CORS headers, so the frontend sees a CORS error instead of your error body.
    """,
    example=IMPORTS + _block("""
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])

        @app.exception_handler(Exception)
        async def on_error(request, exc): ...
    """),
    use_instead=IMPORTS + _block("""
        @app.exception_handler(Exception)
        async def on_error(request, exc): ...

        asgi_app = CORSMiddleware(app, allow_origins=["https://app.example.com"])  # serve asgi_app
    """),
    fix_safety="No fix: serving a wrapped app changes how the server is started.",
    references=(
        "https://www.starlette.io/middleware/#corsmiddleware-global-enforcement",
        "https://github.com/fastapi/fastapi/issues/775",
    ),
    flagged=(
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@app.exception_handler(Exception)  # FAC110:1\nasync def on_error(request, exc): ...\n',
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n\nasync def on_error(request, exc): ...\n\napp.add_exception_handler(500, on_error)  # FAC110\n',
        "from starlette.middleware import Middleware\n"
        + IMPORTS
        + 'async def on_error(request, exc): ...\n\napp2 = FastAPI(\n    middleware=[Middleware(CORSMiddleware, allow_origins=["*"])],\n    exception_handlers={Exception: on_error},  # FAC110\n)\n',
        IMPORTS
        + 'from fastapi import status\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@app.exception_handler(status.HTTP_500_INTERNAL_SERVER_ERROR)  # FAC110\nasync def on_error(request, exc): ...\n',
        IMPORTS
        + 'def create_app():\n    app = FastAPI()\n    app.add_exception_handler(Exception, handler)  # FAC110\n    app.add_middleware(CORSMiddleware, allow_origins=["*"])\n    return app\n',
        "from starlette.middleware import Middleware\n"
        + IMPORTS
        + 'async def boom(request, exc): ...\nhandlers = {500: boom}\napp2 = FastAPI(exception_handlers=handlers, middleware=[Middleware(CORSMiddleware, allow_origins=["*"])])\n'.replace(
            "handlers = {500: boom}", "handlers = {500: boom}  # FAC110"
        ),
    ),
    clean=(
        IMPORTS
        + '@app.exception_handler(Exception)\nasync def on_error(request, exc): ...\n\nasgi_app = CORSMiddleware(app, allow_origins=["*"])\n',
        IMPORTS
        + 'from fastapi import HTTPException\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@app.exception_handler(HTTPException)\nasync def on_http(request, exc): ...\n',
        IMPORTS + "@app.exception_handler(Exception)\nasync def on_error(request, exc): ...\n",
        IMPORTS
        + 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@app.exception_handler(404)\nasync def not_found(request, exc): ...\n',
        IMPORTS
        + 'other = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n\n@other.exception_handler(Exception)\nasync def on_error(request, exc): ...\n',
        IMPORTS
        + 'from fastapi.exceptions import RequestValidationError\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\napp.add_exception_handler(RequestValidationError, handler)\n',
    ),
)
def error_responses_without_cors(model: ModuleModel, options_: Options) -> Iterator[Report]:
    for app in model.web.apps.values():
        if not app.error_handlers or app.wrapped_by_cors:
            continue
        if not any(e.cors is not None for e in app.middleware):
            continue
        for handler in app.error_handlers:
            yield handler, {}
