"""End to end: the FAC warnings in an editor, through the real python-lsp-server.

pytest-lsp starts `python -m pylsp` over stdio and plays the editor. pylsp's
flake8 integration (off by default) runs the `flake8` script next to
`sys.executable` on the open document (text on stdin) and publishes what it
prints; pylsp's own pycodestyle, pyflakes and mccabe linters are switched off,
so every diagnostic below comes from that flake8 run.

Facts these tests rely on (pylsp 1.15, pylsp/python_lsp.py and plugins/flake8_lint.py):

* pylsp lints on didOpen, didChange and didSave (debounced by 0.5 s per
  document), and the flake8 plugin lints in all three cases, so an edit alone
  refreshes the FAC warnings: no save needed.
* Each publishDiagnostics carries the version of the document that was linted,
  which is how a test knows it is looking at the diagnostics of its own edit.
* A diagnostic is flake8's `row:col` made 0-based, the message is
  "<code> <flake8 text>", the source "flake8", and the range runs to the end of
  the line; codes other than pyflakes' and E999 are warnings.

The server runs with HOME and XDG_CONFIG_HOME in the test's temporary folder,
so no user configuration of pylsp, pycodestyle or flake8 applies, and the
workspace folder has no flake8 configuration. flake8 looks for configuration
upwards from the workspace but stops at HOME, the workspace's parent here.

The settings reach pylsp either as initializationOptions or, as Neovim's
lspconfig sends its `settings`, in workspace/didChangeConfiguration; every
test runs with both.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest

pytest.importorskip("pylsp")
pytest_lsp = pytest.importorskip("pytest_lsp")
types = pytest.importorskip("lsprotocol.types")

import attrs  # noqa: E402 - pytest-lsp's dependencies, present when it is
from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp.client import register_lsp_features  # noqa: E402

from flake8_fastapi_cors.registry import all_rules  # noqa: E402
from lsp_documents import change_document, open_document  # noqa: E402

ClientServerConfig = pytest_lsp.ClientServerConfig
LanguageClient = pytest_lsp.LanguageClient

pytestmark = pytest.mark.asyncio

FLAKE8 = shutil.which("flake8", path=str(Path(sys.executable).parent))
LINT_TIMEOUT = 60  # seconds: pylsp's 0.5 s debounce plus one flake8 run (a slow CI machine)
CODE_LINE = re.compile(r"^(?P<path>.*?):(?P<row>\d+):(?P<col>\d+): (?P<code>\w+) (?P<text>.*)$")

SETTINGS = {
    "pylsp": {
        "plugins": {
            "flake8": {"enabled": True, "executable": FLAKE8},
            "pycodestyle": {"enabled": False},
            "pyflakes": {"enabled": False},
            "mccabe": {"enabled": False},
        }
    }
}

# `import sys` is unused on purpose in the documents that must have no FAC
# warning: the F401 that flake8 reports for it proves flake8 linted that text
# (a flake8 that failed to run would also publish no FAC warning).
WITNESS = "import sys  # unused on purpose: flake8's F401 here proves flake8 ran\n"

WILDCARD = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
)
"""
WILDCARD_LINE = 6  # 0-based: `    allow_origins=["*"],`
WILDCARD_CHARACTER = WILDCARD.splitlines()[WILDCARD_LINE].index('"*"')  # the "*" entry

CLEAN = WITNESS + """\
import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

ORIGINS = os.getenv("CORS_ALLOWED_ORIGINS", "")
app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=[o.strip() for o in ORIGINS.split(",") if o.strip()],
    allow_credentials=True,
)
"""

NOQA = WITNESS + WILDCARD.replace('allow_origins=["*"],', 'allow_origins=["*"],  # noqa: FAC101')

SESSION_LEAK = """\
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    yield db
    db.close()


@app.get("/items")
def items(db=Depends(get_db)):
    return []
"""
SESSION_LEAK_LINE = 11  # 0-based: `    yield db`, where the request's code takes over
SESSION_LEAK_CHARACTER = 4  # `yield`


class Found(NamedTuple):
    """One diagnostic, as pylsp should publish it: 0-based line and character."""

    line: int
    character: int
    code: str
    message: str


def flake8_cli(text: str, workspace: Path, name: str) -> List[Found]:
    """What the flake8 command prints for `text`, as pylsp would show it: the same
    executable, arguments and folder as pylsp's flake8 plugin uses."""
    result = subprocess.run(
        [FLAKE8, "-", "--stdin-display-name", name],
        input=text,
        capture_output=True,
        text=True,
        cwd=workspace,
        check=False,
        timeout=LINT_TIMEOUT,
    )
    assert result.returncode in (0, 1) and not result.stderr, result.stderr
    found = []
    for line in result.stdout.splitlines():
        match = CODE_LINE.match(line)
        assert match, line
        row, col = int(match["row"]) - 1, int(match["col"]) - 1
        found.append(Found(row, col, match["code"], f"{match['code']} {match['text']}"))
    return sorted(found)


def published(diagnostics) -> List[Found]:
    return sorted(Found(d.range.start.line, d.range.start.character, d.code, d.message) for d in diagnostics)


def message_pattern(code: str) -> re.Pattern:
    """The published message of a rule: its code, then the registry's message
    template with any text in each field."""
    rules = {rule.code: rule for rule in all_rules()}
    pattern = re.escape(code + " ")
    for literal, field, _spec, _conversion in string.Formatter().parse(rules[code].message):
        pattern += re.escape(literal)
        if field is not None:
            pattern += ".+?"
    return re.compile(pattern)


def fac(diagnostics) -> list:
    return [d for d in diagnostics if str(d.code).startswith("FAC")]


async def diagnostics_for(client: LanguageClient, uri: str, version: int):
    """The diagnostics pylsp publishes after linting `version` of the document."""

    async def wait():
        while True:
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and params.version == version:
                return params.diagnostics

    return await asyncio.wait_for(wait(), LINT_TIMEOUT)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No user configuration: HOME and XDG_CONFIG_HOME are empty folders for the
    server (started after this autouse fixture, it inherits the environment),
    for the flake8 it starts, and for `flake8_cli`."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config").mkdir()


@pytest.fixture
def workspace(tmp_path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


def lsprotocol_converter():
    """pygls' converter, able to read pylsp's initialize result.

    pylsp announces `notebookDocumentSync: {notebookSelector: [{cells: [...]}]}`
    (no `notebook` key, which LSP allows), and lsprotocol 2025.0.0 with cattrs 26
    has no structure hook for that optional field's union, so the initialize
    request fails with "Invalid Params" (microsoft/lsprotocol#462). The hook
    reads the field with lsprotocol's own hook for the non-optional union."""
    converter = default_converter()
    optional = attrs.fields(types.NotebookDocumentFilterWithCells).notebook.type
    required = attrs.fields(types.NotebookCellTextDocumentFilter).notebook.type
    converter.register_structure_hook(
        optional, lambda value, _type: None if value is None else converter.structure(value, required)
    )
    return converter


def make_client() -> LanguageClient:
    """`pytest_lsp.make_test_lsp_client` with `lsprotocol_converter`."""
    client = LanguageClient(converter_factory=lsprotocol_converter)
    register_lsp_features(client)
    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "pylsp"], client_factory=make_client),
    params=["initializationOptions", "didChangeConfiguration"],
)
async def client(lsp_client: LanguageClient, request, workspace: Path):
    assert FLAKE8, f"no flake8 script next to {sys.executable}"
    by_init = request.param == "initializationOptions"
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)
        )
    )
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
            initialization_options=SETTINGS if by_init else None,
        )
    )
    if not by_init:
        lsp_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=SETTINGS))
    yield
    await lsp_client.shutdown_session()


async def test_wildcard_origin_with_credentials_is_reported(client: LanguageClient, workspace: Path):
    uri = open_document(client, workspace / "app.py", WILDCARD)

    diagnostics = await diagnostics_for(client, uri, 1)

    assert published(diagnostics) == flake8_cli(WILDCARD, workspace, "app.py")
    [warning] = fac(diagnostics)
    assert warning.code == "FAC101"
    assert warning.source == "flake8"
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert (warning.range.start.line, warning.range.start.character) == (WILDCARD_LINE, WILDCARD_CHARACTER)
    assert warning.range.end.line == WILDCARD_LINE
    assert message_pattern("FAC101").fullmatch(warning.message), warning.message
    assert 'allow_origins contains "*"' in warning.message


async def test_fixing_the_document_clears_the_warning(client: LanguageClient, workspace: Path):
    uri = open_document(client, workspace / "app.py", WILDCARD)
    assert [d.code for d in fac(await diagnostics_for(client, uri, 1))] == ["FAC101"]

    change_document(client, uri, 2, CLEAN)  # an edit, not saved: pylsp lints on didChange
    diagnostics = await diagnostics_for(client, uri, 2)

    assert fac(diagnostics) == []
    assert [(d.code, d.range.start.line, d.source) for d in diagnostics] == [("F401", 0, "flake8")]
    assert published(diagnostics) == flake8_cli(CLEAN, workspace, "app.py")


async def test_noqa_silences_the_warning(client: LanguageClient, workspace: Path):
    uri = open_document(client, workspace / "app.py", WITNESS + WILDCARD)
    [warning] = fac(await diagnostics_for(client, uri, 1))
    assert (warning.code, warning.range.start.line) == ("FAC101", WILDCARD_LINE + 1)

    change_document(client, uri, 2, NOQA)  # the comment goes on the reported line
    assert NOQA.splitlines()[warning.range.start.line].endswith('allow_origins=["*"],  # noqa: FAC101')
    diagnostics = await diagnostics_for(client, uri, 2)

    assert fac(diagnostics) == []
    assert [(d.code, d.range.start.line, d.source) for d in diagnostics] == [("F401", 0, "flake8")]


async def test_session_leak_is_reported(client: LanguageClient, workspace: Path):
    uri = open_document(client, workspace / "deps.py", SESSION_LEAK)

    diagnostics = await diagnostics_for(client, uri, 1)

    assert published(diagnostics) == flake8_cli(SESSION_LEAK, workspace, "deps.py")
    [warning] = fac(diagnostics)
    assert warning.code == "FAC202"
    assert warning.source == "flake8"
    assert (warning.range.start.line, warning.range.start.character) == (SESSION_LEAK_LINE, SESSION_LEAK_CHARACTER)
    assert message_pattern("FAC202").fullmatch(warning.message), warning.message
    assert warning.message.startswith("FAC202 db is not closed in `finally`")
