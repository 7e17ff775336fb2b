"""How long an editor waits for the language server's diagnostics after a change.

    python bench/corpus.py fetch          # once: the pinned corpus
    python bench/lsp_latency.py           # litellm's proxy_server.py (22,000 lines)
    python bench/lsp_latency.py --file PATH --edits 20 --debounce 0.3

The server (`python -m flake8_fastapi_cors lsp`) runs as a subprocess and this
script plays the editor over stdio with pygls' client. It opens the module,
then sends edits one at a time (a comment line changes at the end of the
module, so the findings stay the same) and times each from sending the
didChange to receiving the publishDiagnostics of that version. The same text is
also checked in this process with the server's own check function, so the
server's cost beyond the check shows as a ratio:

* change -> diagnostics: what the user waits (debounce + check + transport);
* less the debounce, / the check in process: 1.0 would be no overhead at all;
* a burst of edits 50 ms apart: from the last edit to its diagnostics (earlier
  versions must not be published at all);
* a code action round trip while a check runs: the main loop stays free.

Figures are medians of `--edits` runs, all measured in one run of this script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from flake8_fastapi_cors import __version__  # noqa: E402
from flake8_fastapi_cors.server import DEBOUNCE, check_document  # noqa: E402

DEFAULT_MODULE = "litellm-1.109.1/litellm/proxy/proxy_server.py"
TIMEOUT = 120


class Editor:
    """The client side: sends changes, and notes when each version's diagnostics arrive."""

    def __init__(self) -> None:
        self.client = LanguageClient("bench-editor", "1")
        self.arrived: Dict[tuple, float] = {}  # (uri, version) -> time
        self.diagnostics: Dict[tuple, list] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.arrived[(params.uri, params.version)] = time.perf_counter()
            self.diagnostics[(params.uri, params.version)] = params.diagnostics

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def logged(params: types.LogMessageParams) -> None:
            print(f"  server: {params.message}", file=sys.stderr)

    async def start(self, debounce: float, folder: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "flake8_fastapi_cors", "lsp", "--debounce", str(debounce))
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=folder.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def open(self, uri: str, text: str) -> float:
        sent = time.perf_counter()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return sent

    def change(self, uri: str, version: int, text: str) -> float:
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return sent

    async def arrival(self, uri: str, version: int) -> float:
        async def wait() -> float:
            while (uri, version) not in self.arrived:
                await asyncio.sleep(0.001)
            return self.arrived[(uri, version)]

        return await asyncio.wait_for(wait(), TIMEOUT)

    async def code_action_round_trip(self, uri: str) -> float:
        """A code action request on line 1 (no finding there): the time to its answer."""
        sent = time.perf_counter()
        await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
                context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
            )
        )
        return time.perf_counter() - sent


def edited(text: str, number: int) -> str:
    return text + f"# edit {number}\n"


def median_range(values: List[float], scale: float = 1000.0, unit: str = "ms", digits: int = 0) -> str:
    def shown(value: float) -> str:
        return f"{value * scale:.{digits}f}"

    return f"{shown(statistics.median(values))} {unit} ({shown(min(values))} - {shown(max(values))})"


async def measure(path: Path, edits: int, debounce: float) -> List[tuple]:
    text = path.read_text(encoding="utf-8")
    uri = path.resolve().as_uri()
    editor = Editor()
    await editor.start(debounce, path.resolve().parent)
    rows = []
    try:
        sent = editor.open(uri, text)
        opened = await editor.arrival(uri, 1) - sent
        findings = sorted(d.code for d in editor.diagnostics[(uri, 1)])

        latencies, round_trips = [], []
        version = 1
        for number in range(edits):
            version += 1
            sent = editor.change(uri, version, edited(text, number))
            await asyncio.sleep(debounce + 0.05)  # the check is running now
            round_trips.append(await editor.code_action_round_trip(uri))
            latencies.append(await editor.arrival(uri, version) - sent)
            assert sorted(d.code for d in editor.diagnostics[(uri, version)]) == findings

        bursts = []
        for number in range(max(3, edits // 4)):
            first = version + 1
            for step in range(10):
                version += 1
                last_sent = editor.change(uri, version, edited(text, 1000 * number + step))
                await asyncio.sleep(0.05)
            bursts.append(await editor.arrival(uri, version) - last_sent)
            skipped = [v for v in range(first, version) if (uri, v) in editor.arrived]
            assert not skipped, f"versions {skipped} of a burst were checked"
    finally:
        await editor.stop()

    checks = []
    folders = [str(path.resolve().parent)]
    for number in range(edits):
        started = time.perf_counter()
        check_document(str(path.resolve()), edited(text, number), 1, folders)
        checks.append(time.perf_counter() - started)
    check = statistics.median(checks)

    lines = len(text.splitlines())
    rows.append(("module", f"{path.name}: {lines} lines, {len(text.encode()) / 1e6:.2f} MB, findings {findings}"))
    rows.append(("debounce", f"{debounce * 1000:.0f} ms"))
    rows.append(("check in process (server's check_document)", median_range(checks)))
    rows.append(("open -> diagnostics", f"{opened * 1000:.0f} ms"))
    rows.append(("change -> diagnostics", median_range(latencies)))
    beyond = [(latency - debounce) / check for latency in latencies]
    rows.append(("(change -> diagnostics - debounce) / check in process", median_range(beyond, 1, "x", 2)))
    rows.append(("burst of 10 edits 50 ms apart: last edit -> diagnostics", median_range(bursts)))
    rows.append(("code action round trip during a check", median_range(round_trips)))
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, help=f"the module (default: the corpus's {DEFAULT_MODULE})")
    parser.add_argument("--edits", type=int, default=12, help="edits to time (default: 12)")
    parser.add_argument("--debounce", type=float, default=DEBOUNCE, help=f"the server's (default: {DEBOUNCE})")
    args = parser.parse_args(argv)
    path = args.file
    if path is None:
        from corpus import cache_dir

        path = cache_dir() / "src" / DEFAULT_MODULE
        if not path.is_file():
            parser.error(f"{path} is missing: run `python bench/corpus.py fetch` first, or give --file")
    rows = asyncio.run(measure(path, args.edits, args.debounce))
    print(f"flake8-fastapi-cors {__version__}, Python {platform.python_version()}, {os.cpu_count()} cores")
    print()
    print("| measurement | result |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
