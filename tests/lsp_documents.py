"""The editor's side of opening and editing a document, for the tests that
drive a language server through pytest-lsp (test_editors, test_server)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types


def open_document(client, path: Path, text: str) -> str:
    """Save `text` as `path` (creating its folder) and open it in the server, as version 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    return uri


def change_document(client, uri: str, version: int, text: str) -> None:
    """Replace the open document's text (unsaved, as while typing)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
