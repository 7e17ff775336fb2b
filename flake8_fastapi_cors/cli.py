"""`flake8-fastapi-cors [PATH ...]`: check files without going through flake8.

Exit status: 0 when nothing is found, 1 when findings remain, 2 for usage
errors and for input that could not be read or parsed.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import os
import re
import sys
import tokenize
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.plugin import check_tree
from flake8_fastapi_cors.registry import Finding, Options, all_rules, opt_in_codes

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
)
# flake8's own spelling: `# noqa`, `# noqa: FAC101`, `# NOQA:FAC101,FAC103`
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+[A-Z][0-9]+)*))?", re.IGNORECASE)
CODE = re.compile(r"[A-Z][0-9]+", re.IGNORECASE)


class InputError(Exception):
    """A file that could not be read or parsed; the message names the file."""


@dataclass
class Result:
    path: str
    findings: List[Finding]


def read_source(path: str, shown: Optional[str] = None) -> Tuple[bytes, str]:
    """Bytes and decoded text of a file (or `-` for standard input); errors name
    the file as `shown`."""
    shown = shown or path
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory") from None
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file or directory") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as error:
        raise InputError(f"{shown}: cannot read: {error.strerror or error}") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise InputError(f"{shown}: cannot decode: {error}") from None
    return data, text


def parse(path: str, data: bytes) -> ast.Module:
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        raise InputError(f"{path}: cannot parse: {error.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error) or type(error).__name__
        raise InputError(f"{path}: cannot parse: {reason}") from None


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


def check_source(path: str, data: bytes, text: str, options: Options, codes: Sequence[str]) -> Result:
    tree = parse(path, data)
    lines = text.splitlines()
    found = check_tree(tree, path, options, lines, codes)
    return Result(path, [f for f in found if not suppressed(f, lines)])


def iter_python_files(paths: Iterable[str], excludes: Sequence[str]) -> Iterator[str]:
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _excluded(os.path.join(root, d), excludes))
            for name in sorted(files):
                full = os.path.join(root, name)
                if name.endswith(".py") and not _excluded(full, excludes):
                    yield full


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    name = os.path.basename(path)
    normalised = os.path.normpath(path)
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(normalised, p) for p in patterns)


def selected_codes(select: Optional[List[str]], extend_select: List[str], ignore: List[str]) -> List[str]:
    """Codes to run: flake8's prefix semantics; default-off codes only when named."""
    named = opt_in_codes([*(select or ()), *extend_select])
    codes = []
    for rule in all_rules():
        chosen = (any(rule.code.startswith(s) for s in select) if select is not None else rule.default_enabled) or any(
            rule.code.startswith(s) for s in extend_select
        )
        if not rule.default_enabled and rule.code not in named:
            chosen = False
        if chosen and not any(rule.code.startswith(i) for i in ignore):
            codes.append(rule.code)
    return codes


def _codes(value: str) -> List[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-fastapi-cors",
        description="Find CORS misconfiguration in FastAPI / Starlette code.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories ('-' reads standard input)")
    parser.add_argument(
        "--select",
        type=_codes,
        default=None,
        help="comma-separated codes or prefixes to check (replaces the default set)",
    )
    parser.add_argument("--extend-select", type=_codes, default=[], help="codes to add, e.g. FAC102,FAC110")
    parser.add_argument("--ignore", type=_codes, default=[], help="codes or prefixes to skip")
    parser.add_argument(
        "--exclude",
        type=lambda v: [p for p in v.split(",") if p],
        default=[],
        help="comma-separated glob patterns to skip, added to the defaults",
    )
    parser.add_argument("--stdin-display-name", default="stdin", help="name used for '-' in messages")
    parser.add_argument(
        "--fastapi-cors-origins-env",
        default=Options().origins_env,
        help="environment variable for origins (default: %(default)s)",
    )
    parser.add_argument(
        "--fastapi-cors-short-circuit-middleware",
        type=lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
        default=(),
        help="middleware class names that answer requests themselves",
    )
    parser.add_argument(
        "--fastapi-cors-pass-through-middleware",
        type=lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
        default=(),
        help="middleware class names that always pass requests on",
    )
    parser.add_argument(
        "--fastapi-cors-session-factories",
        type=lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
        default=(),
        help="names of session factories the checker cannot see",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    known = {r.code for r in all_rules()}
    for code in [*(args.select or ()), *args.extend_select, *args.ignore]:
        if not any(k.startswith(code) for k in known):
            print(f"flake8-fastapi-cors: error: unknown code or prefix {code!r}", file=sys.stderr)
            return 2
    codes = selected_codes(args.select, args.extend_select, args.ignore)
    options = Options(
        origins_env=args.fastapi_cors_origins_env,
        short_circuit_middleware=args.fastapi_cors_short_circuit_middleware,
        pass_through_middleware=args.fastapi_cors_pass_through_middleware,
        session_factories=args.fastapi_cors_session_factories,
        opt_in=tuple(c for c in codes),
    )
    excludes = (*DEFAULT_EXCLUDES, *args.exclude)
    total = 0
    failed = False
    for path in iter_python_files(args.paths, excludes):
        shown = args.stdin_display_name if path == "-" else path
        try:
            data, text = read_source(path, shown)
            result = check_source(shown, data, text, options, codes)
        except InputError as error:
            print(f"flake8-fastapi-cors: error: {error}", file=sys.stderr)
            failed = True
            continue
        for finding in result.findings:
            print(f"{shown}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message}")
        total += len(result.findings)
    if failed:
        return 2
    return 1 if total else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
