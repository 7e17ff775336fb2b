"""Run every rule over the real applications of the corpus and print each finding.

    python bench/corpus.py fetch      # once: download and unpack the pinned packages
    python bench/sweep.py             # every finding with its source line, then counts
    python bench/sweep.py --flake8    # also run the real flake8 over the corpus and compare

A crash on any file is reported (with the file) and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import CorpusError, corpus_files  # noqa: E402

from flake8_fastapi_cors.source import InputError, parse, read_source  # noqa: E402
from flake8_fastapi_cors.plugin import check_tree, relevant  # noqa: E402
from flake8_fastapi_cors.registry import Options, all_rules  # noqa: E402


def package_of(path: Path, root: Path) -> str:
    return path.relative_to(root).parts[0]


def check_fix(path: Path, data: bytes, options: Options, codes) -> collections.Counter:
    """Fix one file in memory with unsafe fixes; does the output compile and converge?"""
    from flake8_fastapi_cors.fix import fix_source

    stats = collections.Counter(files=1)
    try:
        result = fix_source(str(path), data, options, codes, unsafe=True)
        again = fix_source(str(path), result.data, options, codes, unsafe=True)
    except Exception as error:  # InputError from a fix that went wrong, or a crash
        stats["errors"] += 1
        print(f"FIX ERROR {path}: {error}", file=sys.stderr)
        return stats
    stats["fixed"] += result.fixed
    stats["changed"] += result.data != data
    try:
        compile(result.data, str(path), "exec", dont_inherit=True)
        stats["compiles"] += 1
    except SyntaxError as error:
        print(f"FIX BROKE {path}: {error}", file=sys.stderr)
    if again.data == result.data:
        stats["converged"] += 1
    else:
        print(f"FIX DID NOT CONVERGE {path}", file=sys.stderr)
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None, help="corpus cache directory")
    parser.add_argument("--flake8", action="store_true", help="also run flake8 over the corpus and compare")
    parser.add_argument("--quiet", action="store_true", help="counts only")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="also fix (unsafe fixes included) every file with findings, in memory, and check that the "
        "output compiles and a second run changes nothing",
    )
    args = parser.parse_args()

    try:
        files = corpus_files(args.cache)
    except CorpusError as error:
        print(error, file=sys.stderr)
        return 2
    root = Path(os.path.commonpath([str(f) for f in files]))
    codes = [r.code for r in all_rules()]
    options = Options(opt_in=tuple(codes))
    per_code = collections.Counter()
    per_package = collections.defaultdict(collections.Counter)
    scanned = relevant_files = unparsable = crashes = 0
    findings_total = 0
    fix_stats: collections.Counter = collections.Counter()
    for path in files:
        scanned += 1
        try:
            data, text = read_source(str(path))
            tree = parse(str(path), data)
        except InputError:
            unparsable += 1
            continue
        lines = text.splitlines()
        if relevant(text):
            relevant_files += 1
        try:
            found = check_tree(tree, str(path), options, lines, codes)
        except Exception:  # a crash is what this sweep looks for
            crashes += 1
            print(f"CRASH {path}", file=sys.stderr)
            traceback.print_exc()
            continue
        if args.fix and found:
            fix_stats.update(check_fix(path, data, options, codes))
        for finding in found:
            findings_total += 1
            per_code[finding.code] += 1
            per_package[package_of(path, root)][finding.code] += 1
            if not args.quiet:
                source_line = lines[finding.line - 1].strip() if finding.line <= len(lines) else ""
                print(f"{path.relative_to(root)}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message}")
                print(f"    | {source_line[:160]}")

    print()
    print(
        f"packages: {len({package_of(p, root) for p in files})}  files: {scanned}  "
        f"unparsable (py2 / templates): {unparsable}  "
        f"naming a rule's marker (CORSMiddleware, Session, ...): {relevant_files}  "
        f"crashes: {crashes}  findings: {findings_total}"
    )
    for code in codes:
        print(f"  {code}: {per_code.get(code, 0)}")
    if args.fix:
        files_ = fix_stats["files"]
        print(
            f"fix: files {files_}  changed {fix_stats['changed']}  findings fixed {fix_stats['fixed']}  "
            f"compile {fix_stats['compiles']}/{files_}  converged {fix_stats['converged']}/{files_}  "
            f"errors {fix_stats['errors']}"
        )
    for package in sorted(per_package):
        counts = ", ".join(f"{c} x{n}" for c, n in sorted(per_package[package].items()))
        print(f"  {package}: {counts}")

    if args.flake8:
        package_dirs = sorted({str(root / package_of(p, root)) for p in files})
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "flake8",
                "--isolated",
                "--select",
                "FAC",
                "--extend-select",
                ",".join(codes),
                "--format",
                "%(code)s",
                *package_dirs,
            ],
            capture_output=True,
            text=True,
        )
        flake8_counts = collections.Counter(proc.stdout.split())
        same = all(flake8_counts.get(c, 0) == per_code.get(c, 0) for c in codes)
        print(
            f"flake8 exit {proc.returncode}, findings {sum(flake8_counts.values())}, "
            f"same counts as the sweep: {same}"
        )
        if proc.returncode not in (0, 1) or not same:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
