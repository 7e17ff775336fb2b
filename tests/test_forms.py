"""Every way of configuring CORS and every value source RULES.md lists is
recognised: each case below is a credentialed wildcard (FAC101) written in one
form; the marker names the line the finding must be on. All cases run in one
in-process flake8 run."""

import os
import textwrap

import pytest

from helpers import expected_markers, flake8_in_process

FASTAPI = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n"
STARLETTE = (
    "from starlette.applications import Starlette\n"
    "from starlette.middleware import Middleware\n"
    "from starlette.middleware.cors import CORSMiddleware\n"
)

FORMS = {
    "add_middleware positional": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "add_middleware middleware_class=": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(middleware_class=CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "FastAPI(middleware=[...]) with fastapi.middleware.Middleware": FASTAPI
    + 'from fastapi.middleware import Middleware\napp = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)])  # FAC101\n',
    "Starlette(middleware=[...])": STARLETTE
    + 'app = Starlette(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)])  # FAC101\n',
    "Router(middleware=[...])": STARLETTE
    + 'from starlette.routing import Router\nrouter = Router(middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)])  # FAC101\n',
    "Mount(middleware=[...])": STARLETTE
    + 'from starlette.routing import Mount\napp = Starlette(routes=[Mount("/api", app=api, middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)])])  # FAC101\n',
    "Route(middleware=[...])": STARLETTE
    + 'from starlette.routing import Route\nroute = Route("/x", endpoint, middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)])  # FAC101\n',
    "middleware list through a name": STARLETTE
    + 'middleware = [\n    Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True),  # FAC101\n]\napp = Starlette(middleware=middleware)\n',
    "direct wrap, positional app": FASTAPI
    + 'app = FastAPI()\nasgi = CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "direct wrap, app= keyword": FASTAPI
    + 'app = FastAPI()\nasgi = CORSMiddleware(app=app, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "user_middleware.insert": FASTAPI
    + 'from fastapi.middleware import Middleware\napp = FastAPI()\napp.user_middleware.insert(0, Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True))  # FAC101\n',
    "user_middleware.append": FASTAPI
    + 'from fastapi.middleware import Middleware\napp = FastAPI()\napp.user_middleware.append(Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True))  # FAC101\n',
    "aliased class import": 'from fastapi import FastAPI\nfrom starlette.middleware.cors import CORSMiddleware as Cors\napp = FastAPI()\napp.add_middleware(Cors, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "aliased module import": 'import fastapi\nimport fastapi.middleware.cors as cors\napp = fastapi.FastAPI()\napp.add_middleware(cors.CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "module attribute access": 'import fastapi\nimport starlette.middleware.cors\napp = fastapi.FastAPI()\napp.add_middleware(starlette.middleware.cors.CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "subclass in the same module": FASTAPI
    + 'class AppCors(CORSMiddleware):\n    pass\n\napp = FastAPI()\napp.add_middleware(AppCors, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "positional CORS arguments": STARLETTE
    + 'app = Starlette(middleware=[Middleware(CORSMiddleware, ["*"], ["GET"], [], True)])  # FAC101\n',
    "receiver that is not a plain name": FASTAPI
    + 'server.app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
    "app in a class attribute": FASTAPI
    + 'class Server:\n    def __init__(self):\n        self.app = FastAPI()\n        self.app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # FAC101\n',
}

SOURCES = {
    "module constant": FASTAPI
    + 'ORIGINS = ["*"]  # FAC101\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True)\n',
    "local constant in a factory": FASTAPI
    + 'def create_app():\n    app = FastAPI()\n    origins = ("*",)  # FAC101\n    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)\n    return app\n',
    "inline **{...}": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, **{"allow_origins": ["*"], "allow_credentials": True})  # FAC101\n',
    "**kwargs dict by name": FASTAPI
    + 'CORS = {\n    "allow_origins": ["*"],  # FAC101\n    "allow_credentials": True,\n}\napp = FastAPI()\napp.add_middleware(CORSMiddleware, **CORS)\n',
    "**dict(...)": FASTAPI
    + 'CORS = dict(allow_origins=["*"], allow_credentials=True)  # FAC101\napp = FastAPI()\napp.add_middleware(CORSMiddleware, **CORS)\n',
    "os.getenv default": "import os\n"
    + FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=os.getenv("ORIGINS", "*").split(","), allow_credentials=True)  # FAC101\n',
    "os.environ.get default": "import os\n"
    + FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=[os.environ.get("ORIGIN", "*")], allow_credentials=True)  # FAC101\n',
    "from os import getenv": "from os import getenv\n"
    + FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=getenv("ORIGINS", "*").split(","), allow_credentials=True)  # FAC101\n',
    "pydantic-settings default": "from pydantic_settings import BaseSettings\n"
    + FASTAPI
    + 'class Settings(BaseSettings):\n    origins: list[str] = ["*"]  # FAC101\n    credentials: bool = True\n\nsettings = Settings()\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=settings.origins, allow_credentials=settings.credentials)\n',
    "pydantic Field(default=...)": "from pydantic import Field\nfrom pydantic_settings import BaseSettings\n"
    + FASTAPI
    + 'class Settings(BaseSettings):\n    origins: list[str] = Field(default=["*"])  # FAC101\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=Settings().origins, allow_credentials=True)\n',
    "lru_cache settings getter": "from functools import lru_cache\nfrom pydantic_settings import BaseSettings\n"
    + FASTAPI
    + 'class Settings(BaseSettings):\n    origins: list[str] = ["*"]  # FAC101\n\n@lru_cache\ndef get_settings():\n    return Settings()\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=get_settings().origins, allow_credentials=True)\n',
    "list concatenation": FASTAPI
    + 'BASE = ["https://a.example.com"]  # FAC103\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=BASE + ["*"], allow_credentials=True)  # FAC101\n',
    ".split of a literal": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins="https://a.example.com,*".split(","), allow_credentials=True)  # FAC101\n',
    "truthy string credentials": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials="false")  # FAC101\n',
}

# Values only known at run time are never guessed at: no finding.
UNKNOWN = {
    "json from the environment": "import json, os\n"
    + FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=json.loads(os.environ["ORIGINS"]), allow_credentials=True)\n',
    "unreadable **spread": FASTAPI
    + 'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"], **settings.cors_options)\n',
    "function parameter": FASTAPI
    + "def install(app, origins):\n    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)\n",
    "branch-dependent origins": "import os\n"
    + FASTAPI
    + 'if os.getenv("DEBUG"):\n    origins = ["*"]\nelse:\n    origins = os.getenv("ORIGINS", "").split(",")\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)\n',
}

CASES = {
    **{f"form: {k}": v for k, v in FORMS.items()},
    **{f"source: {k}": v for k, v in SOURCES.items()},
    **{f"unknown: {k}": v for k, v in UNKNOWN.items()},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("forms")
    paths = {}
    for index, (name, source) in enumerate(CASES.items()):
        path = root / f"case_{index}.py"
        path.write_text(source, encoding="utf-8")
        paths[name] = os.path.normpath(str(path))
    found = flake8_in_process([str(root)])
    return {name: {(line, code) for line, _c, code, _t in found.get(path, [])} for name, path in paths.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_form(results, name):
    source = CASES[name]
    assert results[name] == expected_markers(source)
    if name.startswith(("form:", "source:")):
        assert any(code == "FAC101" for _line, code in results[name])


def _package(tmp_path, config_source):
    package = tmp_path / "service"
    package.mkdir()
    (package / "__init__.py").write_text("")
    config = config_source if isinstance(config_source, bytes) else config_source.encode()
    (package / "config.py").write_bytes(config)
    main = package / "main.py"
    main.write_text(textwrap.dedent("""\
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        from .config import ORIGINS
        from service.config import settings

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True)
        app.add_middleware(CORSMiddleware, allow_origins=settings.origins, allow_credentials=True)
    """))
    return main


def test_names_from_a_sibling_module_are_read(tmp_path):
    main = _package(
        tmp_path,
        textwrap.dedent("""\
        from pydantic_settings import BaseSettings

        ORIGINS = ["*"]

        class Settings(BaseSettings):
            origins: list[str] = ["null", "https://app.example.com/"]

        settings = Settings()
    """),
    )
    found = flake8_in_process([str(main)])[str(main)]
    assert {(line, code) for line, _c, code, _t in found} == {(8, "FAC101"), (9, "FAC101"), (9, "FAC104")}


@pytest.mark.parametrize("config_source", [b"def broken(:\n", b"ORIGINS = ['\xff']\n", b"ORIGINS = ['*']\x00\n"])
def test_a_broken_sibling_is_skipped_silently(tmp_path, config_source):
    main = _package(tmp_path, config_source)
    assert flake8_in_process([str(main)]) == {}


def test_a_missing_sibling_is_skipped_silently(tmp_path):
    main = _package(tmp_path, "")
    (main.parent / "config.py").unlink()
    assert flake8_in_process([str(main)]) == {}


def test_sibling_modules_are_parsed_once_per_process(tmp_path):
    from flake8_fastapi_cors.model import load_module

    path = tmp_path / "settings.py"
    path.write_text('ORIGINS = ["https://a.example.com"]\n')
    first = load_module(str(path))
    path.write_text("def broken(:\n")
    assert load_module(str(path)) is first
