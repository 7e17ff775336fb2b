"""`flake8-fastapi-cors [PATH ...]`: check files, and with `--fix` rewrite them.

Exit status: 0 when no finding remains, 1 when findings remain, 2 for usage
errors and for input that could not be read, parsed or written.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import os
import sys
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.registry import UNSAFE, Finding, Options, all_rules, opt_in_codes
from flake8_fastapi_cors.source import InputError, check_source, decode, read_source

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
CONFIG_TABLE = "flake8-fastapi-cors"
LIST_OPTIONS = (
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "fastapi-cors-short-circuit-middleware",
    "fastapi-cors-pass-through-middleware",
    "fastapi-cors-session-factories",
)
CONFIG_OPTIONS = (*LIST_OPTIONS, "fastapi-cors-origins-env", "unsafe-fixes")


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


def _items(value: str) -> List[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


class UsageError(Exception):
    pass


def find_config(start: str) -> Optional[str]:
    """The nearest pyproject.toml at or above `start`."""
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_config(path: Optional[str]) -> Dict[str, object]:
    """`[tool.flake8-fastapi-cors]` of a pyproject.toml, with the plugin's option
    names (`-` or `_`); lists may be TOML arrays or comma-separated strings."""
    if path is None:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle).get("tool", {}).get(CONFIG_TABLE, {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read configuration: {error}") from None
    config: Dict[str, object] = {}
    for key, value in table.items():
        name = key.replace("_", "-")
        if name not in CONFIG_OPTIONS:
            known = ", ".join(CONFIG_OPTIONS)
            raise UsageError(f"{path}: unknown option {key!r} in [tool.{CONFIG_TABLE}] (known: {known})")
        if name in LIST_OPTIONS:
            if isinstance(value, str):
                value = _items(value)
            elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise UsageError(f"{path}: {key} must be a string or a list of strings")
            if name in ("select", "extend-select", "ignore"):
                value = [v.strip().upper() for v in value]
        elif name == "unsafe-fixes" and not isinstance(value, bool):
            raise UsageError(f"{path}: {key} must be true or false")
        elif name == "fastapi-cors-origins-env" and not (isinstance(value, str) and value.isidentifier()):
            raise UsageError(f"{path}: {key} must be an environment variable name")
        config[name] = value
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-fastapi-cors",
        description="Find (and fix) CORS misconfiguration and SQLAlchemy session leaks in FastAPI / Starlette code.",
        epilog=f"Options can also be set in [tool.{CONFIG_TABLE}] of pyproject.toml, with the same names.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories ('-' reads standard input)")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes and write the files")
    parser.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply unsafe fixes")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    parser.add_argument(
        "--select", type=_codes, default=None, help="codes or prefixes to check (replaces the default set)"
    )
    parser.add_argument("--extend-select", type=_codes, default=None, help="codes to add, e.g. FAC102,FAC110")
    parser.add_argument("--ignore", type=_codes, default=None, help="codes or prefixes to skip")
    parser.add_argument("--exclude", type=_items, default=None, help="glob patterns to skip, added to the defaults")
    parser.add_argument("--stdin-display-name", default="stdin", help="name used for '-' in messages")
    parser.add_argument("--config", default=None, help="pyproject.toml to read (default: the nearest one)")
    parser.add_argument(
        "--fastapi-cors-origins-env",
        default=None,
        help="environment variable for origins (default: CORS_ALLOWED_ORIGINS)",
    )
    parser.add_argument(
        "--fastapi-cors-short-circuit-middleware",
        type=_items,
        default=None,
        help="middleware class names that answer requests themselves",
    )
    parser.add_argument(
        "--fastapi-cors-pass-through-middleware",
        type=_items,
        default=None,
        help="middleware class names that always pass requests on",
    )
    parser.add_argument(
        "--fastapi-cors-session-factories",
        type=_items,
        default=None,
        help="names of session factories the checker cannot see",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _codes(value: str) -> List[str]:
    return [c.upper() for c in _items(value)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config or find_config(os.getcwd()))
    except UsageError as error:
        print(f"flake8-fastapi-cors: error: {error}", file=sys.stderr)
        return 2

    def setting(name: str, default):
        given = getattr(args, name.replace("-", "_"))
        return given if given is not None else config.get(name, default)

    select = setting("select", None)
    extend_select, ignore = setting("extend-select", []), setting("ignore", [])
    known = {r.code for r in all_rules()}
    for code in [*(select or ()), *extend_select, *ignore]:
        if not any(k.startswith(code) for k in known):
            print(f"flake8-fastapi-cors: error: unknown code or prefix {code!r}", file=sys.stderr)
            return 2
    codes = selected_codes(select, extend_select, ignore)
    options = Options(
        origins_env=setting("fastapi-cors-origins-env", Options().origins_env),
        short_circuit_middleware=tuple(setting("fastapi-cors-short-circuit-middleware", ())),
        pass_through_middleware=tuple(setting("fastapi-cors-pass-through-middleware", ())),
        session_factories=tuple(setting("fastapi-cors-session-factories", ())),
        opt_in=tuple(codes),
    )
    run = Run(args, options, codes, bool(setting("unsafe-fixes", False)))
    excludes = (*DEFAULT_EXCLUDES, *setting("exclude", ()))
    for path in iter_python_files(args.paths, excludes):
        run.file(path)
    return run.finish()


class Run:
    """One invocation over many files: findings out, fixes written, counts kept."""

    def __init__(self, args, options: Options, codes: List[str], unsafe: bool) -> None:
        self.args, self.options, self.codes, self.unsafe = args, options, codes, unsafe
        self.fixing = args.fix or args.diff
        self.failed = False
        self.fixed = 0
        self.remaining: List[Finding] = []

    def file(self, path: str) -> None:
        shown = self.args.stdin_display_name if path == "-" else path
        to_stdout = path == "-" and self.args.fix and not self.args.diff
        data = b""
        try:
            data, text = read_source(path, shown)
            if not self.fixing:
                self.report(shown, check_source(shown, data, text, self.options, self.codes))
                return
            from flake8_fastapi_cors.fix import fix_source, write_atomic

            result = fix_source(shown, data, self.options, self.codes, self.unsafe)
            if self.args.diff:
                self.print_diff(shown, text, result.data)
            elif to_stdout:
                sys.stdout.buffer.write(result.data)
                sys.stdout.flush()
            elif result.data != data:
                write_atomic(path, data, result.data)
            self.fixed += result.fixed
            self.report(shown, result.remaining, sys.stderr if to_stdout or self.args.diff else sys.stdout)
        except InputError as error:
            print(f"flake8-fastapi-cors: error: {error}", file=sys.stderr)
            if to_stdout:
                sys.stdout.buffer.write(data)  # the input unchanged
            self.failed = True

    def report(self, shown: str, findings: Iterable[Finding], out=None) -> None:
        out = out or sys.stdout
        for finding in findings:
            print(f"{shown}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message}", file=out)
            self.remaining.append(finding)

    def print_diff(self, shown: str, text: str, new: bytes) -> None:
        after = decode(new, shown)
        if after != text:
            lines = difflib.unified_diff(
                text.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
            )
            sys.stdout.writelines(lines)

    def finish(self) -> int:
        if self.fixed or self.remaining:
            print(self.summary(), file=sys.stderr)
        if self.failed:
            return 2
        return 1 if self.remaining or (self.args.diff and self.fixed) else 0

    def summary(self) -> str:
        """`3 findings: 2 fixed, 1 remaining; 1 fixable with --unsafe-fixes (FAC101)`."""
        remaining = self.remaining
        with_fix = [f for f in remaining if f.fix is not None]
        unsafe = [f for f in with_fix if f.fix_safety == UNSAFE]
        if self.fixing:
            verb = "would be fixed" if self.args.diff else "fixed"
            line = f"{_plural(self.fixed + len(remaining))}: {self.fixed} {verb}, {len(remaining)} remaining"
        else:
            line = _plural(len(remaining))
            safe = len(with_fix) - len(unsafe)
            if safe:
                line += f"; {safe} fixable with --fix"
        if unsafe and not self.unsafe:
            codes = ", ".join(sorted({f.code for f in unsafe}))
            line += f"; {len(unsafe)} fixable with --unsafe-fixes ({codes})"
        return f"flake8-fastapi-cors: {line}"


def _plural(count: int) -> str:
    return f"{count} finding" + ("" if count == 1 else "s")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
