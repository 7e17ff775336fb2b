#!/usr/bin/env python3
"""The benchmark: what flake8-fastapi-cors costs, as ratios, in one table.

    pip install -e ".[bench]"      # flake8-bugbear and Fixit, the references
    python bench/run.py [--rounds N] [--cache DIR] [--output FILE]

It fetches the pinned benchmark corpus (`bench/corpus.py --set bench`) into the
cache outside the repository, then measures in rounds. A round runs every
command once, one after the other (A B C ... A B C ...), and each figure is a
ratio of two timings of the same round; round 0 is a warm-up and is dropped,
and the table gives the median with the min-max over the other rounds. No
figure is a single absolute time: this machine is too noisy for that.

- Inside flake8 (`bench/flake8_timed.py`, flake8 -j1 in one process): the time
  spent in the plugin's calls (checks, import, option hooks) over the default
  run (the whole run less this plugin and flake8-bugbear), and the same for
  flake8-bugbear in the same run.
- Peak memory: the same flake8 run with and without the plugin installed.
- The standalone check against `ast.parse` of every file in one process (the
  floor) and against flake8's default run.
- `--fix` on a copy of the corpus with nothing left to fix, against the check.
- `--fix --unsafe-fixes` on a tree where every file has fixes, against
  `fixit fix` with one trivial rule on a copy of the same tree.
- Per line, in this process: generated modules of 1k, 10k and 100k lines and
  pathological shapes (bench/shapes.py), the plugin's work on a parsed tree.

The table is printed and written with the machine's description to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402
import shapes  # noqa: E402

from flake8_fastapi_cors.plugin import check_tree, relevant  # noqa: E402
from flake8_fastapi_cors.registry import Options, all_rules  # noqa: E402
from flake8_fastapi_cors.source import InputError, parse, read_source, source_lines  # noqa: E402

PLUGIN = "flake8-fastapi-cors"
BUGBEAR = "flake8-bugbear"
FIX_TREE_FILES = {"fixtures": 300, "applications": 150}  # about this many files in each tree
FLOOR = """
import ast, os, sys
for top in sys.argv[1:]:
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(root, name), "rb") as handle:
                    data = handle.read()
                try:
                    ast.parse(data)
                except (SyntaxError, ValueError):
                    pass
"""
LIBCST_PROBE = """
import sys
from flake8_fastapi_cors.cli import main
main(sys.argv[1:])
sys.stderr.write("\\nlibcst loaded: %s\\n" % ("libcst" in sys.modules))
"""
FIXIT_RULE = '''
import libcst as cst
from fixit import LintRule


class StringProbe(LintRule):
    """Visits every string literal; reports only the probe, which the tree lacks."""

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node.value == '"fixit-bench-probe"':
            self.report(node, "probe", replacement=node.with_changes(value='"fixit-bench-probed"'))
'''


class Row(NamedTuple):
    name: str
    values: List[float]  # one per measured round
    unit: str  # "%", "x", "MB", ...
    target: str = ""  # e.g. "<= 1.5"
    met: Optional[bool] = None
    note: str = ""

    def cells(self) -> List[str]:
        if not self.values:
            return [self.name, "-", "-", self.target, "", self.note]
        low, mid, high = min(self.values), statistics.median(self.values), max(self.values)
        spread = f"{_num(low)} - {_num(high)}" if len(self.values) > 1 else ""
        verdict = "" if self.met is None else ("met" if self.met else "MISSED")
        return [self.name, f"{_num(mid)}{self.unit}", spread, self.target, verdict, self.note]


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    digits = max(2, 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{digits}f}"


def judged(name: str, values: List[float], unit: str, bound: float, at_most: bool, note: str = "") -> Row:
    """A row whose median is held to a target."""
    mid = statistics.median(values)
    met = mid <= bound if at_most else mid >= bound
    return Row(name, values, unit, f"{'<=' if at_most else '>='} {_num(bound)}{unit}", met, note)


# -- running things ----------------------------------------------------------------


def tool(name: str) -> List[str]:
    """A console script of this environment, run by this interpreter."""
    return [sys.executable, "-m", {"flake8-fastapi-cors": "flake8_fastapi_cors", "fixit": "fixit"}[name]]


def timed(command: Sequence[str], cwd: Optional[Path] = None, ok: Sequence[int] = (0, 1)) -> float:
    """Wall time of one command, its output discarded; a failure stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"bench: {' '.join(map(str, command))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def flake8_run(roots: Sequence[Path], work: Path, without: Sequence[str] = ()) -> dict:
    out = work / "flake8.json"
    command = [sys.executable, str(BENCH / "flake8_timed.py"), "--json", str(out)]
    for package in without:
        command += ["--without", package]
    timed([*command, "--", "-j1", "--isolated", *map(str, roots)], cwd=work)
    return json.loads(out.read_text())


def snapshot(roots: Sequence[Path]) -> Dict[str, str]:
    found = {}
    for top in roots:
        for path in sorted(top.rglob("*.py")):
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# -- trees -------------------------------------------------------------------------


def copy_roots(roots: Sequence[Path], dest: Path) -> List[Path]:
    copies = []
    for index, top in enumerate(roots):
        target = dest / f"{index}-{top.name}"
        shutil.copytree(top, target)
        copies.append(target)
    return copies


def fixable(paths: Sequence[Path], root: Path, max_lines: int = 0) -> Dict[str, bytes]:
    """The files (by path relative to `root`) that `--fix --unsafe-fixes`
    changes where they lie; with `max_lines`, only files up to that length."""
    from flake8_fastapi_cors.fix import fix_source

    codes = [r.code for r in all_rules()]
    options = Options(opt_in=tuple(codes))
    chosen = {}
    for path in paths:
        try:
            data, text = read_source(str(path))
        except InputError:
            continue
        if not relevant(text, options) or (max_lines and text.count("\n") > max_lines):
            continue
        try:
            if fix_source(str(path), data, options, codes, unsafe=True).fixed:
                chosen[str(path.relative_to(root))] = data
        except InputError:
            continue
    return chosen


def build_fix_tree(dest: Path, sources: Dict[str, bytes], files: int) -> Path:
    """`dest/tree`: copies of `sources`, about `files` files, and beside it the
    Fixit configuration with its one rule."""
    tree = dest / "tree"
    for copy in range(max(1, round(files / len(sources)))):
        for relative, data in sources.items():
            target = tree / f"copy{copy}" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    (dest / "bench_rule.py").write_text(FIXIT_RULE)
    (dest / "pyproject.toml").write_text(
        '[tool.fixit]\nroot = true\nenable = [".bench_rule"]\ndisable = ["fixit.rules"]\n'
    )
    return tree


def fix_trees(cache: Path, work: Path) -> Dict[str, Dict[str, bytes]]:
    """The two trees that every file has fixes in: the fixture apps, and the
    modules of released applications (corpus pins) whose findings have fixes,
    each checked again once copied alone (a fix may need the file's package)."""
    found = {
        "fixtures": fixable(sorted((ROOT / "fixtures").rglob("*.py")), ROOT / "fixtures"),
        "applications": fixable(
            corpus.corpus_files(cache, "bench") + corpus.corpus_files(cache, "fixes"), cache / "src", max_lines=2000
        ),
    }
    trees = {}
    for name, sources in found.items():
        probe = build_fix_tree(work / f"probe-{name}", sources, 1) / "copy0"
        alone = fixable(sorted(probe.rglob("*.py")), probe)
        trees[name] = {relative: sources[relative] for relative in alone}
    return trees


# -- per line ----------------------------------------------------------------------


def per_line_costs(rounds: int) -> Dict[str, List[float]]:
    """Microseconds per line of the plugin's work on a parsed tree (what it does
    inside flake8), for each generated module; interleaved, warm-up dropped."""
    codes = [r.code for r in all_rules()]
    options = Options(opt_in=tuple(codes))
    modules = {
        "ordinary 1k lines": shapes.ordinary(1_000),
        "ordinary 10k lines": shapes.ordinary(10_000),
        "ordinary 100k lines": shapes.ordinary(100_000),
        "10k module constants": shapes.constants(10_000),
        "100 add_middleware calls": shapes.middleware_calls(100),
        "1k add_middleware calls": shapes.middleware_calls(1_000),
        "5k routes": shapes.routes(5_000),
    }
    prepared = {}
    folder = Path(tempfile.mkdtemp(prefix="fac-shapes-"))
    for name, text in modules.items():
        lines = text.splitlines(keepends=True)
        prepared[name] = (ast.parse(text), str(folder / "app.py"), lines)
    costs: Dict[str, List[float]] = {name: [] for name in modules}
    for round_ in range(rounds + 1):
        for name, (tree, filename, lines) in prepared.items():
            repeat = max(1, 20_000 // len(lines))  # at least ~20k lines per timing
            start = time.perf_counter()
            for _ in range(repeat):
                check_tree(tree, filename, options, lines, codes)
            elapsed = time.perf_counter() - start
            if round_:
                costs[name].append(elapsed / repeat / len(lines) * 1e6)
    shutil.rmtree(folder, ignore_errors=True)
    return costs


# -- the corpus itself ---------------------------------------------------------------


def corpus_facts(files: Sequence[Path]) -> dict:
    """Files, lines, the share passing the pre-filter, and whether the pre-filter
    changes any finding (every rule, with and without it)."""
    codes = [r.code for r in all_rules()]
    options = Options(opt_in=tuple(codes))
    facts = {"files": 0, "lines": 0, "relevant": 0, "findings": 0, "differ": [], "unreadable": 0}
    for path in files:
        try:
            data, text = read_source(str(path))
            tree = parse(str(path), data)
        except InputError:
            facts["unreadable"] += 1
            continue
        lines = source_lines(text)
        facts["files"] += 1
        facts["lines"] += len(lines)
        facts["relevant"] += relevant(text)
        with_filter = check_tree(tree, str(path), options, lines, codes)
        without = check_tree(tree, str(path), options, lines, codes, prefilter=False)
        facts["findings"] += len(with_filter)
        if [(f, f.fix) for f in with_filter] != [(f, f.fix) for f in without]:
            facts["differ"].append(str(path))
    return facts


# -- the machine ----------------------------------------------------------------------


def machine() -> List[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    versions = []
    for package in ("flake8-fastapi-cors", "flake8", "flake8-bugbear", "pyflakes", "pycodestyle", "fixit", "libcst"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return [
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{memory}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        ", ".join(versions),
    ]


# -- the benchmark ---------------------------------------------------------------------


def require(packages: Sequence[str]) -> None:
    missing = []
    for package in packages:
        try:
            importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
    if missing:
        raise SystemExit(f"bench: {', '.join(missing)} not installed; run: pip install -e \".[bench]\"")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after the warm-up (default 3)")
    parser.add_argument("--cache", help="corpus cache (default: $FASTAPI_CORS_CORPUS or ~/.cache/...)")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"), help="where to write the results")
    args = parser.parse_args(argv)
    require([PLUGIN, BUGBEAR, "fixit"])
    started = time.perf_counter()
    # bytecode for the package, as pip writes it when it installs the wheel: from an
    # editable install, under PYTHONDONTWRITEBYTECODE, every start would compile it
    import flake8_fastapi_cors

    compileall.compile_dir(os.path.dirname(flake8_fastapi_cors.__file__), quiet=1)

    corpus.fetch(args.cache, which="bench")
    corpus.fetch(args.cache, which="fixes")
    cache = corpus.cache_dir(args.cache)
    roots = [corpus.source_dir(p, cache) / p.subdir for p in corpus.packages("bench")]
    files = corpus.corpus_files(args.cache, "bench")
    log = _logger(started)

    log("corpus facts and the pre-filter's recall (every rule, with and without it)")
    facts = corpus_facts(files)

    work = Path(tempfile.mkdtemp(prefix="fac-bench-"))
    try:
        log("preparing the trees: a copy of the corpus with every safe fix applied, and the fix tree")
        converged = copy_roots(roots, work / "converged")
        timed([*tool(PLUGIN), "--fix", *map(str, converged)])
        before = snapshot(converged)
        fix_sources = fix_trees(cache, work)
        probe = subprocess.run(
            [sys.executable, "-c", LIBCST_PROBE, "--fix", *map(str, converged)], capture_output=True, text=True
        )
        libcst_loaded = "libcst loaded: True" in probe.stderr

        rounds = _measure(args.rounds, roots, converged, fix_sources, work, log)
        unchanged = snapshot(converged) == before
        log("per-line cost of generated modules")
        per_line = per_line_costs(args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = _rows(rounds, per_line, facts, libcst_loaded, unchanged, fix_sources)
    table = _table(rows)
    print()
    print(table)
    _write(Path(args.output), table, facts, args.rounds, time.perf_counter() - started)
    print(f"\nwritten to {args.output}")
    return 0


def _logger(started: float) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f}s] {message}", file=sys.stderr, flush=True)

    return log


def _measure(count: int, roots, converged, fix_sources, work: Path, log) -> List[dict]:
    rounds = []
    for round_ in range(count + 1):
        log(f"round {round_} of {count}" + (" (warm-up, dropped)" if round_ == 0 else ""))
        result = {
            "with": flake8_run(roots, work),
            "without": flake8_run(roots, work, without=[PLUGIN]),
            "check": timed([*tool(PLUGIN), *map(str, roots)]),
            "floor": timed([sys.executable, "-c", FLOOR, *map(str, roots)], ok=(0,)),
            "check converged": timed([*tool(PLUGIN), *map(str, converged)]),
            "fix nothing": timed([*tool(PLUGIN), "--fix", *map(str, converged)]),
        }
        for name, sources in fix_sources.items():
            fix_dir = work / f"fix-{name}-{round_}"
            ours = build_fix_tree(fix_dir / "ours", sources, FIX_TREE_FILES[name])
            fixit = build_fix_tree(fix_dir / "fixit", sources, FIX_TREE_FILES[name])
            result[f"fix {name}"] = timed([*tool(PLUGIN), "--fix", "--unsafe-fixes", str(ours)])
            result[f"fixit {name}"] = timed([*tool("fixit"), "fix", "--automatic", str(fixit)], cwd=fix_dir / "fixit")
            result[f"files {name}"] = len(list(ours.rglob("*.py")))
            result[f"changed {name}"] = _changed(ours, sources)
            shutil.rmtree(fix_dir, ignore_errors=True)
        if round_:
            rounds.append(result)
    return rounds


def _changed(tree: Path, sources: Dict[str, bytes]) -> int:
    changed = 0
    for copy in tree.iterdir():
        for relative, data in sources.items():
            changed += (copy / relative).read_bytes() != data
    return changed


def _share(run: dict, package: str) -> float:
    """A package's time (calls and loading) as a share of the default run: the
    whole run less this plugin and flake8-bugbear."""
    own = {p: run["calls"].get(p, 0.0) + run["load"].get(p, 0.0) for p in (PLUGIN, BUGBEAR)}
    default = run["total"] - sum(own.values())
    return own[package] / default


def _default_run(run: dict) -> float:
    extra = sum(run["calls"].get(p, 0.0) + run["load"].get(p, 0.0) for p in (PLUGIN, BUGBEAR))
    return run["total"] - extra


def _rows(rounds: List[dict], per_line, facts: dict, libcst_loaded: bool, unchanged: bool, fix_sources) -> List[Row]:
    ours = [_share(r["with"], PLUGIN) * 100 for r in rounds]
    bugbear = [_share(r["with"], BUGBEAR) * 100 for r in rounds]
    rows = [
        Row(
            "corpus",
            [],
            "",
            note=f"{facts['files']} files, {facts['lines']} lines; {facts['relevant']} files "
            f"({facts['relevant'] / facts['files']:.0%}) pass the pre-filter",
        ),
        Row(
            "pre-filter recall on the corpus",
            [],
            "",
            "identical findings",
            not facts["differ"],
            f"{facts['findings']} findings with and without it"
            + (f"; differ in {', '.join(facts['differ'][:3])}" if facts["differ"] else ""),
        ),
        judged(
            "plugin inside flake8 -j1 (share of the default run)",
            ours,
            "%",
            1.5,
            True,
            "checks + import + option hooks",
        ),
        Row("flake8-bugbear, same run (reference)", bugbear, "%"),
        judged("plugin / flake8-bugbear", [o / b for o, b in zip(ours, bugbear)], "x", 1 / 8, True),
        judged(
            "extra peak memory of flake8 with the plugin",
            [(r["with"]["maxrss_kb"] - r["without"]["maxrss_kb"]) / 1024 for r in rounds],
            " MB",
            3,
            True,
            "max RSS, with vs without the plugin installed",
        ),
        Row(
            "whole flake8 run, with / without the plugin",
            [r["with"]["total"] / r["without"]["total"] for r in rounds],
            "x",
            note="whole-command timing; noise here is about +-15%",
        ),
        judged(
            "check / ast.parse of every file",
            [r["check"] / r["floor"] for r in rounds],
            "x",
            0.5,
            True,
            "both one process, interpreter start included",
        ),
        judged(
            "flake8 default run / check",
            [_default_run(r["without"]) / r["check"] for r in rounds],
            "x",
            8,
            False,
            "flake8 -j1 with its default plugins",
        ),
        judged(
            "--fix with nothing to fix / check",
            [r["fix nothing"] / r["check converged"] for r in rounds],
            "x",
            1.1,
            True,
            f"libcst loaded: {'yes' if libcst_loaded else 'no'}; files written: {'none' if unchanged else 'SOME'}",
        ),
    ]
    for name, what in (("fixtures", "fixture apps"), ("applications", "modules of released applications")):
        sources = fix_sources[name]
        lines = sum(data.count(b"\n") for data in sources.values()) / len(sources)
        rows.append(
            judged(
                f"fixing {name}: throughput / Fixit (one trivial rule)",
                [r[f"fixit {name}"] / r[f"fix {name}"] for r in rounds],
                "x",
                5,
                False,
                f"{rounds[0][f'files {name}']} files: {len(sources)} {what} with fixes ({lines:.0f} lines on "
                f"average), copied; {min(r[f'changed {name}'] for r in rounds)} changed by --fix --unsafe-fixes",
            )
        )
    base_1k = per_line["ordinary 1k lines"]
    base_10k = per_line["ordinary 10k lines"]
    for name, values in per_line.items():
        rows.append(Row(f"per line: {name}", values, " us"))
    rows.append(judged("per line: 100k / 1k lines", _ratios(per_line["ordinary 100k lines"], base_1k), "x", 1.5, True))
    rows.append(Row("per line: 10k / 1k lines", _ratios(base_10k, base_1k), "x"))
    for name in ("10k module constants", "1k add_middleware calls", "5k routes"):
        rows.append(judged(f"per line: {name} / ordinary 10k", _ratios(per_line[name], base_10k), "x", 3, True))
    rows.append(
        Row(
            "per line: 1k / 100 add_middleware calls",
            _ratios(per_line["1k add_middleware calls"], per_line["100 add_middleware calls"]),
            "x",
            note="each such line is a whole CORS configuration with a finding",
        )
    )
    return rows


def _ratios(a: Sequence[float], b: Sequence[float]) -> List[float]:
    return [x / y for x, y in zip(a, b)]


def _table(rows: List[Row]) -> str:
    header = ["measurement", "median", "min - max", "target", "", "notes"]
    body = [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def _write(path: Path, table: str, facts: dict, rounds: int, elapsed: float) -> None:
    pins = ", ".join(
        f"{p.name} {p.version}" + (f" ({p.subdir})" if "/" in p.subdir else "") for p in corpus.packages("bench")
    )
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            "Written by `python bench/run.py`; see that file for what each figure means.",
            "",
            "## Machine",
            "",
            *(f"- {line}" for line in machine()),
            "",
            "## Corpus",
            "",
            f"{pins}: {facts['files']} files, {facts['lines']} lines.",
            "",
            "## Results",
            "",
            f"{rounds} measured rounds after a warm-up round; {elapsed / 60:.0f} minutes in all.",
            "",
            table,
            "",
        ]
    )
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
