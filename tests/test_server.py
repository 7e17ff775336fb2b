"""End to end: the language server (`flake8-fastapi-cors lsp`) driven over stdio
by pytest-lsp, which plays the editor.

The client announces the real capabilities of an editor, as pytest-lsp records
them: Visual Studio Code (UTF-16 positions, versioned document edits, code
actions resolved lazily), Neovim 0.11 (UTF-8 positions, plain `changes`) and
Emacs 29 (UTF-32 positions, no lazy resolve). Every position in these tests is
worked out here from character columns, independently of the server.

The command line (`python -m flake8_fastapi_cors --format json`) is the
reference: the server must report what it reports, from the same configuration,
and its fixes must write what `--fix` writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")  # Python 3.10 or later
types = pytest.importorskip("lsprotocol.types")

from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402

from flake8_fastapi_cors.registry import all_rules  # noqa: E402
from flake8_fastapi_cors.report import rule_url  # noqa: E402
from flake8_fastapi_cors.source import source_lines  # noqa: E402
from lsp_documents import change_document, open_document  # noqa: E402

ClientServerConfig = pytest_lsp.ClientServerConfig
LanguageClient = pytest_lsp.LanguageClient

pytestmark = pytest.mark.asyncio

SERVER = [sys.executable, "-m", "flake8_fastapi_cors", "lsp"]
EDITORS = ["visual-studio-code", "neovim", "emacs"]
TIMEOUT = 60  # seconds for one check to be published (a slow CI machine)
QUIET = 1.5  # seconds after which a check that was going to be published has been

APP = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
greeting = "héllo 😀"; app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/"])
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods="GET",
)
"""

CLEAN = """\
import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()],
)
"""


# -- the client --------------------------------------------------------------------


def make_client() -> LanguageClient:
    """pytest-lsp's client that also keeps every publishDiagnostics (not only the
    last per document) and accepts dynamic registrations, as editors do."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    client.registrations = []

    def publish(client: LanguageClient, params):
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    def register(client: LanguageClient, params):
        client.registrations.extend(params.registrations)

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[types.CLIENT_REGISTER_CAPABILITY] = register
    register_lsp_features(client, features)
    return client


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No user configuration: flake8 looks for its config up to HOME."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def workspace(tmp_path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


async def start(client: LanguageClient, editor: str, workspace: Path) -> None:
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities(editor),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
        )
    )
    client.encoding = result.capabilities.position_encoding or "utf-16"
    client.editor = editor


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client)


@pytest_lsp.fixture(config=CONFIG, params=EDITORS)
async def client(lsp_client: LanguageClient, request, workspace: Path):
    await start(lsp_client, request.param, workspace)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG, params=["visual-studio-code"])
async def vscode(lsp_client: LanguageClient, request, workspace: Path):
    await start(lsp_client, request.param, workspace)
    yield
    await lsp_client.shutdown_session()


# -- documents, positions and edits ------------------------------------------------


async def diagnostics_for(client: LanguageClient, uri: str, version: Optional[int]) -> List:
    """The diagnostics published for this version of the document."""

    async def wait():
        while True:
            for params in client.published:
                if params.uri == uri and params.version == version:
                    return list(params.diagnostics)
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(wait(), TIMEOUT)


def versions_published(client: LanguageClient, uri: str) -> List[Optional[int]]:
    return [p.version for p in client.published if p.uri == uri]


def units(text: str, encoding: str) -> int:
    """The length of `text` in the negotiated position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def position(text: str, line: int, column: int, encoding: str) -> Tuple[int, int]:
    """1-based line, 1-based character column -> LSP (line, character)."""
    lines = source_lines(text)
    before = lines[line - 1][: column - 1] if line <= len(lines) else ""
    return line - 1, units(before, encoding)


def offset(text: str, where, encoding: str) -> int:
    """An LSP position -> an index into `text` (lines end at \\n, \\r\\n or \\r)."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: where.line])
    line = lines[where.line] if where.line < len(lines) else ""
    count = 0
    for index, char in enumerate(line):
        if count >= where.character:
            return start + index
        count += units(char, encoding)
    return start + len(line.rstrip("\r\n")) if count >= where.character else start + len(line)


def apply(text: str, edits, encoding: str) -> str:
    """Apply LSP TextEdits (all against `text`, as a client does)."""
    spans = sorted(
        ((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def text_edits(client: LanguageClient, action, uri: str, version: int) -> List:
    """The edits of a code action's workspace edit for this document, checking
    its form against what the client announced."""
    edit = action.edit
    assert edit is not None, action.title
    if client.editor == "neovim":  # no documentChanges support
        assert edit.document_changes is None
        return list(edit.changes[uri])
    [change] = edit.document_changes
    assert (change.text_document.uri, change.text_document.version) == (uri, version)
    return list(change.edits)


async def code_actions(client: LanguageClient, uri: str, where, only=None, diagnostics=()) -> List:
    """Code actions for a range (or the start of a 0-based line), resolved where
    the client resolves them lazily."""
    if isinstance(where, int):
        where = types.Range(start=types.Position(line=where, character=0), end=types.Position(line=where, character=0))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=where,
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )
    resolved = []
    for action in actions or []:
        if action.edit is None:
            assert client.editor != "emacs", "a client without resolve support needs the edit at once"
            action = await client.code_action_resolve_async(action)
        resolved.append(action)
    return resolved


def titled(actions, title: str):
    matching = [a for a in actions if a.title == title]
    assert len(matching) == 1, [a.title for a in actions]
    return matching[0]


def command_line(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The command line run in `folder`, as a user would from there."""
    return subprocess.run(
        [sys.executable, "-m", "flake8_fastapi_cors", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def reference_findings(folder: Path, name: str) -> List[dict]:
    result = command_line(folder, "--format", "json", name)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


def expected_diagnostics(text: str, findings: List[dict], encoding: str) -> List[tuple]:
    expected = []
    for f in findings:
        start = position(text, f["line"], f["column"], encoding)
        end = position(text, f["end_line"], f["end_column"], encoding)
        expected.append((start, end, f["code"], f["message"], f["url"]))
    return sorted(expected)


def seen(diagnostics) -> List[tuple]:
    return sorted(
        (
            (d.range.start.line, d.range.start.character),
            (d.range.end.line, d.range.end.character),
            d.code,
            d.message,
            d.code_description.href if d.code_description else None,
        )
        for d in diagnostics
    )


# -- diagnostics ---------------------------------------------------------------------


async def test_diagnostics_are_the_command_lines(client: LanguageClient, workspace: Path):
    """Ranges (in the client's position encoding, after non-ASCII text on the
    same line), codes, messages and documentation links, as the command line
    reports them."""
    uri = open_document(client, workspace / "app.py", APP)

    diagnostics = await diagnostics_for(client, uri, 1)

    findings = reference_findings(workspace, "app.py")
    assert sorted(f["code"] for f in findings) == ["FAC101", "FAC103", "FAC104"]
    assert seen(diagnostics) == expected_diagnostics(APP, findings, client.encoding)
    for diagnostic in diagnostics:
        assert diagnostic.source == "flake8-fastapi-cors"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        assert diagnostic.code_description.href == rule_url(diagnostic.code)
    [unmatchable] = [d for d in diagnostics if d.code == "FAC104"]
    emoji_line = APP.splitlines()[4]
    quote = emoji_line.index('"http://localhost:3000/"')
    assert unmatchable.range.start.line == 4
    assert unmatchable.range.start.character == units(emoji_line[:quote], client.encoding)
    assert {"visual-studio-code": "utf-16", "neovim": "utf-8", "emacs": "utf-32"}[client.editor] == client.encoding


async def test_configuration_is_found_from_each_documents_folder(vscode: LanguageClient, workspace: Path):
    """Two projects in one workspace: each document gets its own project's
    pyproject.toml and flake8 config, per-file-ignores and excludes, exactly as
    the command line run in that project."""
    ignoring = workspace / "ignoring"
    (ignoring / "pyproject.toml").parent.mkdir()
    (ignoring / "pyproject.toml").write_text(
        '[tool.flake8-fastapi-cors]\nextend-ignore = ["FAC103"]\nexclude = ["generated"]\n'
        'per-file-ignores = { "legacy/*.py" = ["FAC104"] }\n'
    )
    renamed = workspace / "renamed"
    (renamed / ".flake8").parent.mkdir()
    (renamed / ".flake8").write_text("[flake8]\nfastapi-cors-origins-env = FRONTEND_ORIGINS\n")
    cases = [
        (ignoring, "app.py", ["FAC101", "FAC104"]),
        (ignoring, "legacy/app.py", ["FAC101"]),
        (ignoring, "generated/app.py", []),
        (renamed, "app.py", ["FAC101", "FAC103", "FAC104"]),
    ]
    for project, name, codes in cases:
        uri = open_document(vscode, project / name, APP)
        diagnostics = await diagnostics_for(vscode, uri, 1)
        assert sorted(d.code for d in diagnostics) == codes, name
        if name != "generated/app.py":  # the command line skips excluded files only when walking folders
            findings = reference_findings(project, name)
            assert seen(diagnostics) == expected_diagnostics(APP, findings, "utf-16"), name
    [renamed_wildcard] = [d for d in vscode.diagnostics[(renamed / "app.py").as_uri()] if d.code == "FAC101"]
    assert "FRONTEND_ORIGINS" in renamed_wildcard.message


async def test_changes_are_debounced(vscode: LanguageClient, workspace: Path):
    """A burst of edits is checked once, at its last version."""
    uri = open_document(vscode, workspace / "app.py", CLEAN)
    assert await diagnostics_for(vscode, uri, 1) == []
    for version in range(2, 7):
        change_document(vscode, uri, version, APP if version == 6 else CLEAN + f"# edit {version}\n")

    diagnostics = await diagnostics_for(vscode, uri, 6)

    assert sorted(d.code for d in diagnostics) == ["FAC101", "FAC103", "FAC104"]
    await asyncio.sleep(QUIET)
    assert versions_published(vscode, uri) == [1, 6]


async def test_a_syntax_error_keeps_the_last_good_diagnostics(vscode: LanguageClient, workspace: Path):
    uri = open_document(vscode, workspace / "app.py", APP)
    good = await diagnostics_for(vscode, uri, 1)
    broken = APP.replace("app = FastAPI()", "app = FastAPI(")

    change_document(vscode, uri, 2, broken)
    await asyncio.sleep(QUIET)

    assert versions_published(vscode, uri) == [1]
    assert list(vscode.diagnostics[uri]) == good
    assert any("cannot parse" in m.message and "app.py" in m.message for m in vscode.log_messages)
    assert await code_actions(vscode, uri, 4) == []  # no fixes for text that does not parse
    change_document(vscode, uri, 3, CLEAN)
    assert await diagnostics_for(vscode, uri, 3) == []


async def test_saving_reads_other_modules_again(vscode: LanguageClient, workspace: Path):
    """The dependency's session comes from a sibling module: when that module
    changes on disk and is saved, the open dependency is checked again."""
    (workspace / "__init__.py").write_text("")
    database = workspace / "database.py"
    database.write_text("SessionLocal = dict\n")
    dependency = (
        "from .database import SessionLocal\n\n\ndef get_db():\n    db = SessionLocal()\n    yield db\n    db.close()\n"
    )
    uri = open_document(vscode, workspace / "deps.py", dependency)
    assert await diagnostics_for(vscode, uri, 1) == []

    database.write_text(
        "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
        'SessionLocal = sessionmaker(bind=create_engine("sqlite://"))\n'
    )
    count = len(versions_published(vscode, uri))
    vscode.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=database.as_uri()))
    )

    async def republished():
        while len(versions_published(vscode, uri)) == count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(republished(), TIMEOUT)
    assert [d.code for d in vscode.diagnostics[uri]] == ["FAC202"]
    assert [f["code"] for f in reference_findings(workspace, "deps.py")] == ["FAC202"]


async def test_watched_configuration_changes_apply(vscode: LanguageClient, workspace: Path):
    """The server asks to watch Python and configuration files; a changed
    pyproject.toml applies to the open documents."""
    uri = open_document(vscode, workspace / "app.py", APP)
    assert len(await diagnostics_for(vscode, uri, 1)) == 3
    [registration] = vscode.registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = {w["globPattern"] for w in registration.register_options["watchers"]}
    assert globs == {"**/*.py", "**/pyproject.toml", "**/setup.cfg", "**/tox.ini", "**/.flake8"}

    pyproject = workspace / "pyproject.toml"
    pyproject.write_text('[tool.flake8-fastapi-cors]\nignore = ["FAC1"]\n')
    vscode.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Created)]
        )
    )

    async def cleared():
        while vscode.diagnostics[uri]:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(cleared(), TIMEOUT)
    assert versions_published(vscode, uri) == [1, 1]


async def test_a_configuration_error_is_shown_once(vscode: LanguageClient, workspace: Path):
    (workspace / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nextend-select = ["FAC999"]\n')
    uri = open_document(vscode, workspace / "app.py", APP)
    change_document(vscode, uri, 2, APP + "# edit\n")
    await asyncio.sleep(QUIET)

    assert versions_published(vscode, uri) == []
    [message] = vscode.messages
    assert message.type == types.MessageType.Error
    assert "pyproject.toml" in message.message and "FAC999" in message.message
    result = command_line(workspace, "app.py")
    assert result.returncode == 2 and "FAC999" in result.stderr


async def test_closing_a_document_clears_its_diagnostics(vscode: LanguageClient, workspace: Path):
    uri = open_document(vscode, workspace / "app.py", APP)
    assert await diagnostics_for(vscode, uri, 1)
    vscode.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await diagnostics_for(vscode, uri, None) == []


async def test_other_languages_are_left_alone(vscode: LanguageClient, workspace: Path):
    path = workspace / "notes.md"
    path.write_text(APP)
    vscode.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="markdown", version=1, text=APP)
        )
    )
    await asyncio.sleep(QUIET)
    assert versions_published(vscode, path.as_uri()) == []


# -- code actions --------------------------------------------------------------------

MANY = """\
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["get", "post"],
    allow_headers="X-Token",
)


def get_db():
    db = SessionLocal()
    yield db
    db.close()


@app.get("/items")
def items(db=Depends(get_db)):
    return []
"""
FIXABLE = [rule for rule in all_rules() if rule.fix]


def fix_title(code: str) -> str:
    rule = next(r for r in FIXABLE if r.code == code)
    return f"Fix {code}" + (" (unsafe)" if rule.fix == "unsafe" else "")


async def actions_for(client: LanguageClient, uri: str, diagnostic) -> List:
    """What the editor offers with the cursor at the start of the diagnostic."""
    cursor = types.Range(start=diagnostic.range.start, end=diagnostic.range.start)
    return await code_actions(client, uri, cursor, diagnostics=[diagnostic])


async def test_each_fix_is_the_command_lines_edit(client: LanguageClient, workspace: Path):
    """The quick fix of each finding carries exactly the edits the command line
    gives for that finding's fix (`--format json`), in the client's units; safe
    fixes are preferred, unsafe ones say so."""
    uri = open_document(client, workspace / "app.py", MANY)
    diagnostics = await diagnostics_for(client, uri, 1)
    findings = reference_findings(workspace, "app.py")
    assert sorted(d.code for d in diagnostics) == sorted(f["code"] for f in findings)

    for finding in findings:
        [diagnostic] = [
            d
            for d in diagnostics
            if (d.code, d.range.start) == (finding["code"], d.range.start)
            and position(MANY, finding["line"], finding["column"], client.encoding)
            == (d.range.start.line, d.range.start.character)
        ]
        action = titled(await actions_for(client, uri, diagnostic), fix_title(finding["code"]))
        assert action.kind == types.CodeActionKind.QuickFix
        assert action.is_preferred == (finding["fix"]["safety"] == "safe")
        assert [d.code for d in action.diagnostics] == [finding["code"]]
        got = [
            (position_of(e.range.start), position_of(e.range.end), e.new_text)
            for e in text_edits(client, action, uri, 1)
        ]
        expected = [
            (
                position(MANY, e["line"], e["column"], client.encoding),
                position(MANY, e["end_line"], e["end_column"], client.encoding),
                e["content"],
            )
            for e in finding["fix"]["edits"]
        ]
        assert got == expected, finding["code"]


def position_of(where) -> Tuple[int, int]:
    return where.line, where.character


async def fix_one_by_one(client: LanguageClient, uri: str, text: str, code: str) -> Tuple[str, List[str]]:
    """Apply the quick fix of `code` to the first such finding, again and again,
    as a user clicking through them would: the text at the end, and the titles
    of the fixes applied."""
    applied = []
    version = 1
    for _ in range(10):
        diagnostics = [d for d in await diagnostics_for(client, uri, version) if d.code == code]
        action = None
        for diagnostic in diagnostics:
            titles = {a.title: a for a in await actions_for(client, uri, diagnostic)}
            action = titles.get(fix_title(code))
            if action is not None:
                break
        if action is None:
            return text, applied
        text = apply(text, text_edits(client, action, uri, version), client.encoding)
        applied.append(action.title)
        version += 1
        change_document(client, uri, version, text)
    raise AssertionError(f"{code}: the fixes did not converge")


async def test_quick_fixes_write_the_rule_records_text(client: LanguageClient, workspace: Path):
    """Every fixable rule's flagged examples: clicking its quick fixes gives the
    text its record expects (the same as `--fix` of that code), and a shape the
    record says has no fix gets no fix action."""
    cases = []
    for rule in FIXABLE:
        for index, (source, expected) in enumerate(zip(rule.flagged, rule.fixed)):
            uri = open_document(client, workspace / f"{rule.code}_flagged_{index}.py", source)
            cases.append((rule, index, uri, source, expected))

    results = await asyncio.gather(*(fix_one_by_one(client, uri, source, r.code) for r, _, uri, source, _ in cases))

    for (rule, index, _, source, expected), (text, applied) in zip(cases, results):
        assert text == (source if expected is None else expected), f"{rule.code} example {index}"
        assert bool(applied) == (expected is not None), f"{rule.code} example {index}"
    assert len(cases) >= 6 * len(FIXABLE)


@pytest.mark.parametrize("only", [None, ["source.fixAll"], ["source"]])
async def test_fix_all_writes_what_fix_writes(client: LanguageClient, workspace: Path, only):
    """ "Fix all safe FAC findings" (the kind editors run on save) gives the text
    `--fix` writes; the unsafe finding stays."""
    uri = open_document(client, workspace / "app.py", MANY)
    await diagnostics_for(client, uri, 1)

    actions = await code_actions(client, uri, 0, only=only)

    action = titled(actions, "Fix all safe FAC findings")
    assert action.kind == "source.fixAll.flake8-fastapi-cors"
    if only is not None:
        assert [a.title for a in actions] == ["Fix all safe FAC findings"]
    fixed = apply(MANY, text_edits(client, action, uri, 1), client.encoding)
    (workspace / "by_the_command_line.py").write_text(MANY)
    assert command_line(workspace, "--fix", "by_the_command_line.py").returncode == 1
    assert fixed == (workspace / "by_the_command_line.py").read_text() != MANY
    change_document(client, uri, 2, fixed)
    assert [d.code for d in await diagnostics_for(client, uri, 2)] == ["FAC101"]


async def test_no_fix_all_without_a_safe_fix(vscode: LanguageClient, workspace: Path):
    only_unsafe = MANY.replace('["get", "post"]', '["GET", "POST"]').replace('"X-Token"', '["X-Token"]')
    only_unsafe = only_unsafe.replace(
        "    yield db\n    db.close()\n", "    try:\n        yield db\n    finally:\n        db.close()\n"
    )
    uri = open_document(vscode, workspace / "app.py", only_unsafe)
    [wildcard] = await diagnostics_for(vscode, uri, 1)
    assert wildcard.code == "FAC101"
    assert await code_actions(vscode, uri, 0, only=["source.fixAll"]) == []
    assert [a.title for a in await actions_for(vscode, uri, wildcard)] == [
        "Fix FAC101 (unsafe)",
        "Ignore FAC101 on this line",
    ]


async def test_ignore_action_adds_a_noqa_comment_that_silences_the_finding(client: LanguageClient, workspace: Path):
    """On the line with non-ASCII text: a `# noqa: FAC104` comment, then FAC103
    added to the same comment; each silences its finding in the server, the
    command line and flake8."""
    uri = open_document(client, workspace / "app.py", APP)
    diagnostics = await diagnostics_for(client, uri, 1)
    line = APP.splitlines()[4]

    [unmatchable] = [d for d in diagnostics if d.code == "FAC104"]
    action = titled(await actions_for(client, uri, unmatchable), "Ignore FAC104 on this line")
    assert action.kind == types.CodeActionKind.QuickFix
    text = apply(APP, text_edits(client, action, uri, 1), client.encoding)
    assert text.splitlines()[4] == line + "  # noqa: FAC104"
    change_document(client, uri, 2, text)
    diagnostics = await diagnostics_for(client, uri, 2)
    assert sorted(d.code for d in diagnostics) == ["FAC101", "FAC103"]

    [hardcoded] = [d for d in diagnostics if d.code == "FAC103"]
    action = titled(await actions_for(client, uri, hardcoded), "Ignore FAC103 on this line")
    text = apply(text, text_edits(client, action, uri, 2), client.encoding)
    assert text.splitlines()[4] == line + "  # noqa: FAC104, FAC103"
    change_document(client, uri, 3, text)
    assert [d.code for d in await diagnostics_for(client, uri, 3)] == ["FAC101"]

    (workspace / "app.py").write_text(text, encoding="utf-8")
    assert [f["code"] for f in reference_findings(workspace, "app.py")] == ["FAC101"]
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "FAC", "app.py"], cwd=workspace, capture_output=True, text=True
    )
    assert [line.split()[1] for line in flake8.stdout.splitlines()] == ["FAC101"], flake8.stdout + flake8.stderr


NO_ROOM_FOR_A_COMMENT = '''\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, expose_headers=["""X-Total-
Count"""])
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, \\
    allow_methods=["GET"])
'''


async def test_no_ignore_action_where_a_comment_cannot_go(vscode: LanguageClient, workspace: Path):
    """A line that ends inside a string, or continues with a backslash: the fix
    is offered, the comment is not (it would change the code or break it)."""
    uri = open_document(vscode, workspace / "app.py", NO_ROOM_FOR_A_COMMENT)
    diagnostics = await diagnostics_for(vscode, uri, 1)
    assert [(d.code, d.range.start.line) for d in diagnostics] == [("FAC101", 4), ("FAC101", 6)]
    for diagnostic in diagnostics:
        titles = [a.title for a in await actions_for(vscode, uri, diagnostic)]
        assert titles == ["Fix FAC101 (unsafe)"]


async def test_cursor_on_the_line_with_the_lines_diagnostics(vscode: LanguageClient, workspace: Path):
    """An editor may ask for the cursor's position with every diagnostic of its
    line (Neovim does): the actions of those diagnostics; with none named and
    the cursor off the finding, none."""
    uri = open_document(vscode, workspace / "app.py", APP)
    diagnostics = await diagnostics_for(vscode, uri, 1)
    on_line_4 = [d for d in diagnostics if d.range.start.line == 4]
    assert sorted(d.code for d in on_line_4) == ["FAC103", "FAC104"]

    assert await code_actions(vscode, uri, 4, only=["quickfix"]) == []
    titles = [a.title for a in await code_actions(vscode, uri, 4, only=["quickfix"], diagnostics=on_line_4)]

    assert sorted(titles) == ["Fix FAC103", "Fix FAC104", "Ignore FAC103 on this line", "Ignore FAC104 on this line"]


def big_module(functions: int) -> str:
    """APP and then many small functions: a module the rules take seconds over."""
    return APP + "".join(
        f"\n\ndef handler_{i}(request, value={i}):\n    total = value + len(request.headers)\n"
        f"    return {{'total': total, 'name': 'handler_{i}'}}\n"
        for i in range(functions)
    )


async def test_the_server_answers_while_a_large_module_is_checked(vscode: LanguageClient, workspace: Path):
    """Checks run off the main loop: a code action asked for right after a
    40,000-line module is opened is answered before that module's check ends."""
    uri = open_document(vscode, workspace / "app.py", APP)
    [unmatchable] = [d for d in await diagnostics_for(vscode, uri, 1) if d.code == "FAC104"]
    first = await actions_for(vscode, uri, unmatchable)
    big = open_document(vscode, workspace / "big.py", big_module(8000))

    again = await actions_for(vscode, uri, unmatchable)
    answered_before_the_check = not versions_published(vscode, big)

    assert [a.title for a in again] == [a.title for a in first]
    assert "Fix FAC104" in [a.title for a in again]
    assert answered_before_the_check
    assert sorted(d.code for d in await diagnostics_for(vscode, big, 1)) == ["FAC101", "FAC103", "FAC104"]


async def test_a_document_in_a_folder_that_does_not_exist(vscode: LanguageClient, workspace: Path):
    """A new file not saved yet: checked with the configuration of the nearest
    folder that exists."""
    (workspace / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nignore = ["FAC103"]\n')
    uri = (workspace / "not" / "yet" / "app.py").as_uri()
    vscode.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=APP)
        )
    )
    assert sorted(d.code for d in await diagnostics_for(vscode, uri, 1)) == ["FAC101", "FAC104"]


async def test_an_unsaved_document(vscode: LanguageClient, workspace: Path):
    """An `untitled:` document: checked as standard input is, with the
    workspace's configuration."""
    (workspace / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nignore = ["FAC103"]\n')
    uri = "untitled:Untitled-1"
    vscode.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=APP)
        )
    )
    diagnostics = await diagnostics_for(vscode, uri, 1)
    assert sorted(d.code for d in diagnostics) == ["FAC101", "FAC104"]
    [unmatchable] = [d for d in diagnostics if d.code == "FAC104"]
    action = titled(await actions_for(vscode, uri, unmatchable), "Fix FAC104")
    assert apply(APP, text_edits(vscode, action, uri, 1), "utf-16") == APP.replace("3000/", "3000")


def worker_processes(server_pid: int) -> List[int]:
    """The server's worker processes (spawned by multiprocessing), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                if parent == server_pid and b"spawn_main" in cmdline.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds the worker process through /proc")
async def test_a_worker_that_dies_is_replaced(vscode: LanguageClient, workspace: Path):
    uri = open_document(vscode, workspace / "app.py", APP)
    assert len(await diagnostics_for(vscode, uri, 1)) == 3
    [worker] = worker_processes(vscode._server.pid)

    os.kill(worker, signal.SIGKILL)
    change_document(vscode, uri, 2, CLEAN)

    assert await diagnostics_for(vscode, uri, 2) == []
    assert any("worker process stopped" in m.message for m in vscode.log_messages)
    assert worker not in worker_processes(vscode._server.pid) != []
