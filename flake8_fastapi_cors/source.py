"""One file's text, from bytes to findings: reading, decoding, parsing,
`# noqa`. Shared by the command line and the fixer so both see the same
findings through the same rules as the flake8 plugin."""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import List, Optional, Sequence, Tuple

from flake8_fastapi_cors.plugin import check_tree
from flake8_fastapi_cors.registry import Finding, Options

# flake8's own spelling: `# noqa`, `# noqa: FAC101`, `# NOQA:FAC101,FAC103`
NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
# Python's own line breaks; str.splitlines also splits on form feeds and others
LINE_BREAK = re.compile(r"\r\n|\r|\n")
LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class InputError(Exception):
    """A file that could not be read, decoded or parsed; the message names the file."""


def read_bytes(path: str, shown: Optional[str] = None) -> bytes:
    """The bytes of a file, or of standard input for `-`."""
    shown = shown or path
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as handle:
            return handle.read()
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory") from None
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file or directory") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as error:
        raise InputError(f"{shown}: cannot read: {error.strerror or error}") from None


def encoding_of(data: bytes) -> str:
    """The encoding of Python source bytes: its declaration, `utf-8-sig` with a
    BOM, else UTF-8 (SyntaxError for a bad declaration)."""
    return tokenize.detect_encoding(io.BytesIO(data).readline)[0]


def decode(data: bytes, shown: str) -> str:
    """The text of Python source bytes, by its encoding declaration or BOM."""
    try:
        encoding = encoding_of(data)
        if b"# coding=\n".decode(encoding, "replace") != "# coding=\n":  # as Python refuses UTF-16 and others
            raise InputError(f"{shown}: cannot decode: encoding problem: {encoding} is not ASCII-compatible")
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise InputError(f"{shown}: cannot decode: {error}") from None


def encode(text: str, shown: str) -> bytes:
    """The bytes a file holding `text` has (as an editor would save it): in the
    encoding its declaration names, else UTF-8."""
    try:
        data = text.encode("utf-8")
        encoding = encoding_of(data)
        return data if encoding in ("utf-8", "utf-8-sig") else text.encode(encoding)
    except (SyntaxError, LookupError, UnicodeEncodeError) as error:
        raise InputError(f"{shown}: cannot encode: {error}") from None


def read_source(path: str, shown: Optional[str] = None) -> Tuple[bytes, str]:
    """Bytes and decoded text of a file (or `-` for standard input); errors name
    the file as `shown`."""
    data = read_bytes(path, shown)
    return data, decode(data, shown or path)


def parse(path: str, data: bytes) -> ast.Module:
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        raise InputError(f"{path}: cannot parse: {error.msg}{where}") from None
    except RecursionError:
        raise InputError(f"{path}: cannot parse: nested too deeply") from None
    except MemoryError:  # the parser's own stack, on code nested thousands deep
        raise InputError(f"{path}: cannot parse: out of memory (nested too deeply or too large)") from None
    except ValueError as error:  # null bytes
        raise InputError(f"{path}: cannot parse: {error}") from None


def source_lines(text: str) -> List[str]:
    """Lines numbered the way Python numbers them (1-based index = lineno - 1)."""
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def source_lines_with_ends(text: str) -> List[str]:
    """The same lines as `source_lines`, each with its line break."""
    return LINE_WITH_END.findall(text)


def suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    """flake8's `# noqa` semantics on the reported line."""
    if not 1 <= finding.line <= len(lines):
        return False
    match = NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(finding.code.upper().startswith(c.upper()) for c in CODE.findall(codes))


def check_source(
    path: str,
    data: bytes,
    text: str,
    options: Options,
    codes: Sequence[str],
    prefilter: bool = True,
    tree: Optional[ast.Module] = None,
) -> List[Finding]:
    """Findings of the selected codes that no `# noqa` comment silences. Every
    file is parsed (unless its `tree` is given), so that a syntax error is
    reported even where no rule could fire; `prefilter` is check_tree's."""
    if tree is None:
        tree = parse(path, data)
    lines = source_lines(text)
    found = check_tree(tree, path, options, lines, codes, prefilter, text)
    return [f for f in found if not suppressed(f, lines)]
