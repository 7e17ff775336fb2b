"""`flake8-fastapi-cors lsp`: a language server over standard input and output.

It publishes the FAC findings of the Python documents an editor has open, from
the same rules and options as the command line: the nearest pyproject.toml and
flake8 config file, looked up from each document's folder, with its
per-file-ignores and excludes. A document is checked when it is opened or saved,
and after a change once the editor has been quiet for the debounce delay. Checks
and fixes run in one worker process, so the server keeps answering while a large
module is checked (a thread would hold the interpreter's lock through a parse),
and a worker that dies is replaced. A document that does not parse keeps the diagnostics of its last good
version. After a save, or when the editor reports changed files, everything read
from other files (sibling modules, configuration) is read again.

Code actions, for the findings on the lines the editor asks about:

* "Fix FACxxx": the finding's own libcst fix, as `--fix` applies it;
  "Fix FACxxx (unsafe)" for a fix that may change behaviour;
* "Ignore FACxxx on this line": a `# noqa: FACxxx` comment, or the code added
  to the line's `# noqa: ...` list;
* "Fix all safe FAC findings" (kind `source.fixAll.flake8-fastapi-cors`): what
  `--fix` would write. Its edit is computed when the editor resolves the action,
  where the editor can.

Each action is offered only when its edit exists: a fix whose fixer refuses the
code, or a comment that would land inside a string, is not offered.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import tokenize
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.config import ConfigError, Settings, find_pyproject, load_values
from flake8_fastapi_cors.fix import Edit, first_line, fix_source, text_edits
from flake8_fastapi_cors.fix import edits as fix_edits
from flake8_fastapi_cors.model import forget_files
from flake8_fastapi_cors.registry import RULES, SAFE, UNSAFE, Finding, all_rules
from flake8_fastapi_cors.report import rule_url
from flake8_fastapi_cors.source import (
    NOQA,
    InputError,
    check_source,
    decode,
    encode,
    parse,
    source_lines,
)

NAME = "flake8-fastapi-cors"
FIX_ALL = "source.fixAll.flake8-fastapi-cors"
FIX_ALL_TITLE = "Fix all safe FAC findings"
DEBOUNCE = 0.3  # seconds of quiet after a change before the document is checked
UNSAVED = "stdin"  # the name an unsaved document is checked under, as standard input is
CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", ".flake8")
BOM = "\ufeff"
LOG = logging.getLogger(__name__)


@dataclass
class Checked:
    """A good check of one version of a document, and the edits of the code
    actions computed for it so far."""

    version: int
    shown: str  # the file name the rules saw
    text: str  # without a leading BOM; positions on line 1 then shift by one
    data: bytes
    settings: Settings
    codes: List[str]
    findings: List[Finding]
    statements: List[Tuple[int, int]]  # first and last line of each top-level statement
    bom: bool = False
    lines: List[str] = field(init=False)
    edits: Dict[object, Optional[List[Edit]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lines = source_lines(self.text)


# -- in the worker process ---------------------------------------------------------


def settings_for(folder: str, workspace_folders: Sequence[str]) -> Settings:
    """The configuration that applies to files in `folder`, as the command line
    run there reads it. Patterns start from the pyproject.toml's folder, else
    from the workspace folder holding `folder`."""
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:  # a file not saved yet, or deleted
        folder = os.path.dirname(folder)
    pyproject = find_pyproject(folder)
    values = load_values(folder, pyproject)
    if pyproject is not None:
        root = os.path.dirname(pyproject)
    else:
        holding = [w for w in workspace_folders if folder == w or folder.startswith(w.rstrip(os.sep) + os.sep)]
        root = max(holding, key=len) if holding else folder
    return Settings.from_values(values, root)


def check_document(path: Optional[str], text: str, version: int, workspace_folders: Sequence[str]) -> Checked:
    """Check one version of a document (in the worker). ConfigError for a
    bad configuration, InputError for text that does not parse."""
    folder = os.path.dirname(path) if path else (workspace_folders[0] if workspace_folders else os.getcwd())
    settings = settings_for(folder, workspace_folders)
    shown = path or UNSAVED
    bom = text.startswith(BOM)
    data = encode(text, shown)
    text = decode(data, shown)
    tree = parse(shown, data)
    codes = [] if path is not None and settings.excluded(path) else settings.codes_for(shown)
    found = check_source(shown, data, text, settings.options, codes, tree=tree)
    statements = [(first_line(s), s.end_lineno or s.lineno) for s in tree.body]
    return Checked(version, shown, text, data, settings, codes, found, statements, bom)


def finding_fix(checked: Checked, finding: Finding) -> Optional[List[Edit]]:
    """The edits of this finding's fix alone, as `--fix` would apply it."""
    return fix_edits(checked.shown, checked.data, finding)


def safe_fixes(checked: Checked) -> Optional[List[Edit]]:
    """The edits `--fix` would make to the whole document (safe fixes only)."""
    settings = checked.settings
    result = fix_source(checked.shown, checked.data, settings.options, checked.codes, unsafe=False, text=checked.text)
    return text_edits(checked.text, decode(result.data, checked.shown)) if result.fixed else None


def noqa_comment(checked: Checked, finding: Finding) -> Optional[List[Edit]]:
    """`  # noqa: FACxxx` at the end of the finding's line, or `, FACxxx` after
    the codes of the line's `# noqa: ...` comment; None where a comment cannot
    go (the line ends inside a string or continues with a backslash) or the
    `# noqa` that flake8 would read is not in a comment."""
    number = finding.line
    column = comment_column(checked, number)
    if column is None:
        return None
    line = checked.lines[number - 1]
    match = NOQA.search(line)
    if match is not None:
        if match.start() < column or not match.group("codes"):
            return None  # inside a string; or a bare `# noqa`, which already silences every code
        at = match.end("codes") + 1
        return [Edit(number, at, number, at, f", {finding.code}")]
    end = len(line.rstrip())
    return [Edit(number, end + 1, number, len(line) + 1, f"  # noqa: {finding.code}")]


def comment_column(checked: Checked, number: int) -> Optional[int]:
    """Where line `number`'s comment starts (its length when it has none), or
    None when the line ends inside a string or continues with a backslash, so
    that no comment can end it. Only the top-level statements around the line
    are tokenized."""
    around = [(first, last) for first, last in checked.statements if first <= number <= last]
    if not around or number > len(checked.lines):
        return None
    first, last = min(a for a, _ in around), max(b for _, b in around)
    chunk = "\n".join(checked.lines[first - 1 : last]) + "\n"  # the lines already split: not the whole text again
    comment = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(chunk).readline):
            line = token.start[0] + first - 1
            if line > number:
                break
            if line == number and token.type == tokenize.COMMENT:
                comment = token.start[1]
            elif line == number and token.type in (tokenize.NEWLINE, tokenize.NL):
                return len(checked.lines[number - 1]) if comment is None else comment
    except (tokenize.TokenError, SyntaxError):
        pass
    return None


# -- the server ----------------------------------------------------------------


def start_worker() -> None:
    """In the worker process: standard output is the editor's channel, so
    anything printed goes to standard error; the rules are loaded at once."""
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    all_rules()


class LintServer(LanguageServer):
    """Documents by URI with their last good check, the pending checks, and one
    worker process for checks and fixes (its caches of other files live there)."""

    def __init__(self, debounce: float = DEBOUNCE) -> None:
        super().__init__(NAME, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.debounce = debounce
        self.worker = self.new_worker()
        self.checked: Dict[str, Optional[Checked]] = {}  # the open Python documents
        self.pending: Dict[str, asyncio.Task] = {}
        self.config_errors: set = set()  # shown once each until a check succeeds

    @staticmethod
    def new_worker() -> ProcessPoolExecutor:
        # spawned, not forked: the server has threads of its own
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=start_worker)

    # -- checks --------------------------------------------------------------
    def schedule(self, uri: str, delay: float) -> None:
        """Check the document after `delay` seconds, replacing a pending check."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check(uri, delay))

    def files_changed(self) -> None:
        """Files changed on disk: read other files afresh and check every open
        document again (the worker runs jobs in order, so before the checks)."""
        self.worker.submit(forget_files)
        for uri in list(self.checked):
            self.schedule(uri, 0)

    async def _check(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.get_text_document(uri)
        version, text = document.version, document.source
        try:
            checked = await self.in_worker(check_document, to_fs_path(uri), text, version, self.folders())
        except ConfigError as error:
            self.config_error(str(error))
            return
        except InputError as error:  # keep the last good diagnostics
            self.log(types.MessageType.Info, str(error))
            return
        except Exception as error:  # noqa: BLE001 - reported to the editor; the server goes on
            LOG.exception("checking %s", uri)
            self.log(types.MessageType.Error, f"{uri}: internal error {type(error).__name__}: {error}")
            return
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]
        if uri not in self.checked or self.workspace.get_text_document(uri).version != version:
            return  # closed, or changed since: a newer check follows
        self.checked[uri] = checked
        self.config_errors.clear()
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.diagnostics(checked), version=version)
        )

    async def in_worker(self, function, *args):
        """`function(*args)` in the worker process; a worker that died (killed, or
        out of memory) is replaced and the call tried once more."""
        for attempt in (1, 2):
            try:
                return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)
            except BrokenProcessPool:
                self.worker.shutdown(wait=False)
                self.worker = self.new_worker()
                self.log(types.MessageType.Warning, "the worker process stopped; started a new one")
                if attempt == 2:
                    raise InputError("the worker process stopped twice on this document") from None

    def current(self, uri: str) -> Optional[Checked]:
        """The check of the document's current version, if it has one."""
        checked = self.checked.get(uri)
        if checked is None or self.workspace.get_text_document(uri).version != checked.version:
            return None
        return checked

    def folders(self) -> List[str]:
        folders = [to_fs_path(f.uri) for f in self.workspace.folders.values()]
        if self.workspace.root_path:
            folders.append(self.workspace.root_path)
        return [os.path.abspath(f) for f in folders if f]

    # -- messages --------------------------------------------------------------
    def config_error(self, message: str) -> None:
        if message not in self.config_errors:
            self.config_errors.add(message)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=f"{NAME}: {message}")
            )

    def log(self, kind: types.MessageType, message: str) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"{NAME}: {message}"))

    # -- positions -------------------------------------------------------------
    def position(self, checked: Checked, line: int, column: int) -> types.Position:
        """A 1-based line and 0-based character column in the client's units."""
        text = checked.lines[line - 1] if 1 <= line <= len(checked.lines) else ""
        if line == 1 and checked.bom:
            text, column = BOM + text, column + 1
        units = self.workspace.position_codec.client_num_units(text[:column])
        return types.Position(line=line - 1, character=units + max(0, column - len(text)))

    def diagnostic(self, checked: Checked, finding: Finding) -> types.Diagnostic:
        end = finding.end or (finding.line, finding.col)
        return types.Diagnostic(
            range=types.Range(
                start=self.position(checked, finding.line, finding.col), end=self.position(checked, *end)
            ),
            message=finding.message,
            severity=types.DiagnosticSeverity.Warning,
            code=finding.code,
            code_description=types.CodeDescription(href=rule_url(finding.code)) if finding.code in RULES else None,
            source=NAME,
        )

    def diagnostics(self, checked: Checked) -> List[types.Diagnostic]:
        return [self.diagnostic(checked, f) for f in checked.findings]

    def workspace_edit(self, uri: str, checked: Checked, edits: List[Edit]) -> types.WorkspaceEdit:
        changes = [
            types.TextEdit(
                range=types.Range(
                    start=self.position(checked, e.line, e.column - 1),
                    end=self.position(checked, e.end_line, e.end_column - 1),
                ),
                new_text=e.content,
            )
            for e in edits
        ]
        if _capability(self.client_capabilities, "workspace", "workspace_edit", "document_changes"):
            document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=checked.version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=changes)])
        return types.WorkspaceEdit(changes={uri: changes})

    # -- code actions ----------------------------------------------------------
    async def edits_of(self, checked: Checked, key, function, *args) -> Optional[List[Edit]]:
        """`function(checked, *args)` in the worker, once per check."""
        if key not in checked.edits:
            try:
                checked.edits[key] = await self.in_worker(function, checked, *args)
            except InputError as error:  # the fix went wrong: no action, and the reason in the log
                self.log(types.MessageType.Warning, str(error))
                checked.edits[key] = None
        return checked.edits[key]

    async def code_actions(self, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        checked = self.current(uri)
        if checked is None:
            return []
        only = params.context.only
        actions = []
        if _wanted(only, types.CodeActionKind.QuickFix):
            for finding in self.findings_at(checked, params.range, params.context.diagnostics):
                actions.extend(await self.finding_actions(uri, checked, finding))
        if _wanted(only, FIX_ALL) and any(f.fix_safety == SAFE for f in checked.findings):
            action = types.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL, data={"uri": uri, "version": checked.version})
            if not self.resolves_edits():
                action = await self.resolve(action)
            if action.edit is not None or self.resolves_edits():
                actions.append(action)
        return actions

    def findings_at(self, checked: Checked, where: types.Range, diagnostics) -> List[Finding]:
        """The findings whose range touches `where`, and those of the request's
        diagnostics (an editor may send every diagnostic of the cursor's line)."""
        sent = {(d.code, d.range.start.line, d.range.start.character) for d in diagnostics or ()}
        low, high = (where.start.line, where.start.character), (where.end.line, where.end.character)
        found = []
        for finding in checked.findings:
            if finding.code not in RULES:
                continue
            span = self.diagnostic(checked, finding).range
            start, end = (span.start.line, span.start.character), (span.end.line, span.end.character)
            if (start <= high and low <= end) or (finding.code, *start) in sent:
                found.append(finding)
        return found

    async def finding_actions(self, uri: str, checked: Checked, finding: Finding) -> List[types.CodeAction]:
        diagnostic = self.diagnostic(checked, finding)
        actions = []
        if finding.fix_safety in (SAFE, UNSAFE):
            edits = await self.edits_of(checked, ("fix", finding), finding_fix, finding)
            if edits:
                title = f"Fix {finding.code}" + (" (unsafe)" if finding.fix_safety == UNSAFE else "")
                actions.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=finding.fix_safety == SAFE,
                        edit=self.workspace_edit(uri, checked, edits),
                    )
                )
        edits = await self.edits_of(checked, ("noqa", finding), noqa_comment, finding)
        if edits:
            actions.append(
                types.CodeAction(
                    title=f"Ignore {finding.code} on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=self.workspace_edit(uri, checked, edits),
                )
            )
        return actions

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """The edit of "Fix all safe FAC findings", for the version it was offered on."""
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        checked = self.current(uri) if isinstance(uri, str) else None
        if action.kind == FIX_ALL and checked is not None and checked.version == data.get("version"):
            edits = await self.edits_of(checked, "fix-all", safe_fixes)
            if edits:
                action.edit = self.workspace_edit(uri, checked, edits)
        return action

    def resolves_edits(self) -> bool:
        support = _capability(self.client_capabilities, "text_document", "code_action", "resolve_support")
        return support is not None and "edit" in (support.properties or ())


def _wanted(only: Optional[Sequence[str]], kind: str) -> bool:
    """Does the request's `only` ask for actions of `kind` (a kind covers its sub-kinds)?"""
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _capability(capabilities, *names):
    value = capabilities
    for name in names:
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def build_server(debounce: float = DEBOUNCE) -> LintServer:
    server = LintServer(debounce)

    @server.feature(types.INITIALIZED)
    def initialized(ls: LintServer, params: types.InitializedParams) -> None:
        ls.worker.submit(all_rules)  # starts the worker while the editor opens its files
        if _capability(ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"):
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in ("*.py", *CONFIG_FILES)]
            registration = types.Registration(
                id=f"{NAME}-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
            )
            ls.client_register_capability(types.RegistrationParams(registrations=[registration]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LintServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        if document.language_id == "python" or document.uri.endswith((".py", ".pyi")):
            ls.checked[document.uri] = None
            ls.schedule(document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LintServer, params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in ls.checked:
            ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: LintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.files_changed()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls.checked:
            del ls.checked[uri]
            pending = ls.pending.pop(uri, None)
            if pending is not None:
                pending.cancel()
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: LintServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.files_changed()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True),
    )
    async def code_action(ls: LintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        return await ls.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: LintServer, action: types.CodeAction) -> types.CodeAction:
        return await ls.resolve(action)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: LintServer, params) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.worker.shutdown(wait=False, cancel_futures=True)

    return server


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{NAME} lsp",
        description="A language server over standard input and output: FAC diagnostics and their fixes.",
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=DEBOUNCE,
        help=f"seconds to wait after a change before checking the document (default: {DEBOUNCE})",
    )
    args = parser.parse_args(argv)
    if args.debounce < 0:
        parser.error("--debounce must not be negative")
    build_server(args.debounce).start_io()
    return 0
