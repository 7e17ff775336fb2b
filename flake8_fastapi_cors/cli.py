"""`flake8-fastapi-cors [PATH ...]`: check files, and with `--fix` rewrite them.

Exit status: 0 when no finding remains, 1 when findings remain, 2 for usage
errors and for input that could not be read, parsed or written.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import sys
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.config import (
    CONFIG_TABLE,
    SETTINGS,
    ConfigError,
    Settings,
    check_value,
    load_values,
    matches,
)
from flake8_fastapi_cors.registry import UNSAFE, Finding, all_rules
from flake8_fastapi_cors.report import FORMATS, REPORTERS, Located
from flake8_fastapi_cors.source import InputError, check_source, decode, read_source


def iter_python_files(paths: Iterable[str], excludes: Sequence[str]) -> Iterator[str]:
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not matches(os.path.join(root, d), excludes))
            for name in sorted(files):
                full = os.path.join(root, name)
                if name.endswith(".py") and not matches(full, excludes):
                    yield full


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-fastapi-cors",
        description="Find (and fix) CORS misconfiguration and SQLAlchemy session leaks in FastAPI / Starlette code.",
        epilog=(
            f"Options can also be set in [tool.{CONFIG_TABLE}] of pyproject.toml with the same names; the "
            "fastapi-cors-* options are also read from the flake8 config file. "
            "'flake8-fastapi-cors rule FAC101' shows a rule's documentation; "
            "'flake8-fastapi-cors lsp' starts the language server."
        ),
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories ('-' reads standard input)")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes and write the files")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    parser.add_argument("--format", choices=FORMATS, default="text", help="how findings are printed (default: text)")
    parser.add_argument("--stdin-display-name", default="stdin", help="name used for '-' in messages")
    parser.add_argument("--config", default=None, help="pyproject.toml to read (default: the nearest one)")
    for setting in SETTINGS:
        if setting.kind == "bool":
            parser.add_argument(f"--{setting.name}", action="store_true", default=None, help=setting.help)
        else:
            parser.add_argument(f"--{setting.name}", default=None, help=setting.help)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def load_settings(args: argparse.Namespace) -> Dict[str, object]:
    """Option values by name: the command line over pyproject.toml over the
    flake8 config file (which only holds the plugin's own options)."""
    values = load_values(os.getcwd(), args.config)
    for setting in SETTINGS:
        given = getattr(args, setting.name.replace("-", "_"))
        if given is not None:
            values[setting.name] = check_value(setting, given, "command line")
    return values


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["rule"]:
        return show_rule(argv[1:])
    if argv[:1] == ["lsp"]:
        return language_server(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        values = load_settings(args)
        if args.diff and args.format != "text":
            raise ConfigError("--diff prints a diff; it cannot be combined with --format " + args.format)
        if args.format == "sarif" and importlib.util.find_spec("sarif_pydantic") is None:
            raise ConfigError("--format sarif needs the sarif-pydantic package (Python 3.10 or later)")
        if args.fix and "-" in args.paths and args.format in ("json", "sarif"):
            raise ConfigError(f"--fix on standard input prints the fixed code; it cannot print {args.format} too")
    except ConfigError as error:
        print(f"flake8-fastapi-cors: error: {error}", file=sys.stderr)
        return 2
    settings = Settings.from_values(values)
    run = Run(args, settings)
    for path in iter_python_files(args.paths, settings.excludes):
        run.file(path)
    return run.finish()


def show_rule(argv: Sequence[str]) -> int:
    """`flake8-fastapi-cors rule FAC101`: the rule's documentation; without a
    code, the list of rules."""
    from flake8_fastapi_cors.docs import find_rule, rule_markdown

    if not argv:
        for rule in all_rules():
            default = "" if rule.default_enabled else " (off by default)"
            print(f"{rule.code}  {rule.name}: {rule.summary}{default}")
        return 0
    status = 0
    for name in argv:
        rule = find_rule(name)
        if rule is None:
            print(f"flake8-fastapi-cors: error: no rule {name!r} (codes are FAC101-FAC208)", file=sys.stderr)
            status = 2
        else:
            print(rule_markdown(rule), end="")
    return status


def language_server(argv: Sequence[str]) -> int:
    """`flake8-fastapi-cors lsp`: the language server, when pygls is installed."""
    try:
        from flake8_fastapi_cors.server import main as serve
    except ImportError as error:
        print(
            f"flake8-fastapi-cors: error: the language server needs pygls ({error}); "
            "install it with: pip install 'flake8-fastapi-cors[lsp]'",
            file=sys.stderr,
        )
        return 2
    return serve(argv)


class Run:
    """One invocation over many files: findings out, fixes written, counts kept."""

    def __init__(self, args, settings: Settings) -> None:
        self.args, self.settings = args, settings
        self.options, self.unsafe = settings.options, settings.unsafe
        self.fixing = args.fix or args.diff
        self.failed = False
        self.fixed = 0
        self.remaining: List[Finding] = []
        to_stderr = args.diff or (args.fix and "-" in args.paths)  # stdout holds the diff or the fixed code
        self.reporter = REPORTERS[args.format](sys.stderr if to_stderr else sys.stdout)

    def file(self, path: str) -> None:
        shown = self.args.stdin_display_name if path == "-" else path
        to_stdout = path == "-" and self.args.fix and not self.args.diff
        codes = self.settings.codes_for(shown)
        data = b""
        try:
            data, text = read_source(path, shown)
            if not self.fixing:
                self.report(shown, data, check_source(shown, data, text, self.options, codes))
                return
            from flake8_fastapi_cors.fix import fix_source, write_atomic

            result = fix_source(shown, data, self.options, codes, self.unsafe, text=text)
            if self.args.diff:
                self.print_diff(shown, text, result.data)
            elif to_stdout:
                sys.stdout.buffer.write(result.data)
                sys.stdout.flush()
            elif result.data != data:
                write_atomic(path, data, result.data)
            self.fixed += result.fixed
            self.report(shown, result.data, result.remaining)
        except InputError as error:
            print(f"flake8-fastapi-cors: error: {error}", file=sys.stderr)
            if self.args.format != "text":
                self.reporter.problem(str(error))
            if to_stdout:
                sys.stdout.buffer.write(data)  # the input unchanged
            self.failed = True

    def report(self, shown: str, data: bytes, findings: List[Finding]) -> None:
        located = []
        for finding in findings:
            edits = None
            if self.reporter.needs_edits and finding.fix is not None:
                from flake8_fastapi_cors.fix import edits as fix_edits

                edits = fix_edits(shown, data, finding)
            located.append(Located(shown, finding, edits))
        self.reporter.show(located)
        self.remaining.extend(findings)

    def print_diff(self, shown: str, text: str, new: bytes) -> None:
        after = decode(new, shown)
        if after != text:
            lines = difflib.unified_diff(
                text.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
            )
            sys.stdout.writelines(lines)

    def finish(self) -> int:
        self.reporter.close()
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
