"""Run every rule over the real applications of the corpus and print each finding.

    python bench/corpus.py fetch      # once: download and unpack the pinned packages
    python bench/sweep.py             # every finding with its source line, then counts
    python bench/sweep.py --flake8    # also run the real flake8 over the corpus and compare
    python bench/sweep.py --quiet --fix   # counts only; also --fix --unsafe-fixes a copy of it

A crash on any file is reported (with the file) and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import CorpusError, corpus_files  # noqa: E402

from flake8_fastapi_cors.source import InputError, parse, read_source  # noqa: E402
from flake8_fastapi_cors.plugin import check_tree, relevant  # noqa: E402
from flake8_fastapi_cors.registry import INTERNAL_ERROR, Options, all_rules  # noqa: E402


def package_of(path: Path, root: Path) -> str:
    return path.relative_to(root).parts[0]


def fix_a_copy(files, root: Path, codes) -> bool:
    """Copy the corpus, run `flake8-fastapi-cors --fix --unsafe-fixes` over the
    copy twice, and check that every file it changed still compiles and that the
    second run changed nothing. Prints the counts; True when all is well."""
    command = [sys.executable, "-m", "flake8_fastapi_cors", "--select", ",".join(codes), "--fix", "--unsafe-fixes"]
    with tempfile.TemporaryDirectory(prefix="fac-sweep-") as tmp:
        copy = Path(tmp)
        for path in files:
            target = copy / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        before = _digests(copy)
        first = _run_in_batches(command, list(before), copy)  # named one by one: no default excludes
        after_first = _digests(copy)
        changed = [name for name in before if after_first[name] != before[name]]
        broken = []
        for name in changed:
            try:
                compile((copy / name).read_bytes(), name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                broken.append(f"{name}: {error}")
        second = _run_in_batches(command, changed, copy) if changed else None
        after_second = _digests(copy)
    moved = [name for name in changed if after_second[name] != after_first[name]]
    errors = [line for line in first.stderr.splitlines() if line.startswith("flake8-fastapi-cors: error: ")]
    unreadable = [e for e in errors if ": cannot parse: " in e or ": cannot decode: " in e]
    fix_errors = [e for e in errors if e not in unreadable]
    crashed = "Traceback" in first.stderr or first.returncode not in (0, 1, 2)
    if second is not None:
        crashed = crashed or "Traceback" in second.stderr or second.returncode not in (0, 1)
    fixed = sum(int(n) for n in re.findall(r"(\d+) fixed, \d+ remaining", first.stderr))
    remaining = sum(int(n) for n in re.findall(r"\d+ fixed, (\d+) remaining", first.stderr))
    print(
        f"fix on a copy: files {len(before)}  changed {len(changed)}  "
        f"findings fixed {fixed}  remaining {remaining}  "
        f"compile {len(changed) - len(broken)}/{len(changed)}  "
        f"converged {len(changed) - len(moved)}/{len(changed)}  "
        f"unparsable input {len(unreadable)}  fix errors {len(fix_errors)}  crashed {crashed}"
    )
    for line in broken + [f"did not converge: {name}" for name in moved] + fix_errors:
        print(f"  FIX PROBLEM {line}", file=sys.stderr)
    if crashed:
        print(first.stderr[-3000:], file=sys.stderr)
    return not (broken or moved or fix_errors or crashed)


def _run_in_batches(command, names, cwd: Path, size: int = 2000) -> subprocess.CompletedProcess:
    """The command over `names`, `size` at a time (command lines have a length
    limit); one result with the outputs joined and the worst exit status."""
    stderr, status = [], 0
    for start in range(0, len(names), size):
        proc = subprocess.run([*command, *names[start : start + size]], cwd=cwd, capture_output=True, text=True)
        stderr.append(proc.stderr)
        status = max(status, proc.returncode) if proc.returncode >= 0 else proc.returncode
    return subprocess.CompletedProcess(command, status, "", "".join(stderr))


def _digests(root: Path) -> Dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha1(path.read_bytes()).hexdigest() for path in sorted(root.rglob("*.py"))
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None, help="corpus cache directory")
    parser.add_argument("--flake8", action="store_true", help="also run flake8 over the corpus and compare")
    parser.add_argument("--quiet", action="store_true", help="counts only")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="also run --fix --unsafe-fixes over a copy of the corpus, and check that every file it changed "
        "compiles and that a second run changes nothing",
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
        except Exception:  # check_tree turns errors into FAC000; anything escaping it is a crash too
            crashes += 1
            print(f"CRASH {path}", file=sys.stderr)
            traceback.print_exc()
            continue
        for finding in found:
            if finding.code == INTERNAL_ERROR:
                crashes += 1
                print(f"CRASH {path}: {finding.message}", file=sys.stderr)
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
    fixed_well = fix_a_copy(files, root, codes) if args.fix else True
    return 1 if crashes or not fixed_well else 0


if __name__ == "__main__":
    raise SystemExit(main())
