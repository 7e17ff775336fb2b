"""Runs at the same time, and one failing rule among many: two `--fix` runs on
one tree never leave a file half-written, flake8 -j 2 finds what -j 1 finds,
and a rule that raises costs only its own findings, reported as one FAC000."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import textwrap
import threading
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_fastapi_cors.registry import all_rules
from helpers import APP, APP_FINDINGS, command_line, example_sources, flake8_subprocess, run_command_line

ROOT = Path(__file__).resolve().parent.parent
ALL_CODES = [r.code for r in all_rules()]
FIXABLE = [(source, name) for source, _path, name in example_sources() if "example-" in name]


def fix_command(*paths: str) -> List[str]:
    return command_line("--fix", "--unsafe-fixes", *paths)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """Every rule example and fixture, with the fixed text a single run gives."""
    root = tmp_path_factory.mktemp("concurrent") / "original"
    for index, (source, name) in enumerate(FIXABLE):
        path = root / f"m{index:03d}_{name.replace('-', '_')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    shutil.copytree(ROOT / "fixtures", root / "fixtures")
    return root


@pytest.fixture(scope="module")
def expected(tree, tmp_path_factory) -> Dict[str, bytes]:
    alone = tmp_path_factory.mktemp("alone") / "tree"
    shutil.copytree(tree, alone)
    proc = subprocess.run(fix_command("."), cwd=alone, capture_output=True, text=True)
    assert proc.returncode in (0, 1) and "error" not in proc.stderr, proc.stderr
    return {str(p.relative_to(alone)): p.read_bytes() for p in sorted(alone.rglob("*.py"))}


def test_two_fix_runs_at_once_never_leave_a_file_half_written(tree, expected, tmp_path):
    changed = [name for name, data in expected.items() if data != (tree / name).read_bytes()]
    assert len(changed) > 50, "too few files with fixes to race"
    for round_ in range(3):
        work = tmp_path / f"round{round_}"
        shutil.copytree(tree, work)
        originals = {name: (work / name).read_bytes() for name in expected}
        seen_wrong: List[str] = []
        stop = threading.Event()

        reader = threading.Thread(target=read_while_fixing, args=(work, changed, originals, expected, stop, seen_wrong))
        reader.start()
        runs = [subprocess.Popen(fix_command("."), cwd=work, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(run.wait(), run.stderr.read()) for run in runs]
        stop.set()
        reader.join()
        for status, stderr in outcomes:
            assert "Traceback" not in stderr
            assert status in (0, 1, 2), stderr
            for line in stderr.splitlines():
                # the run that writes second finds the file already fixed by the other
                assert line.endswith("changed on disk while it was being fixed; not written") or (
                    "finding" in line
                ), line
        assert not seen_wrong, f"a reader saw a half-written file: {seen_wrong[:3]}"
        actual = {str(p.relative_to(work)): p.read_bytes() for p in sorted(work.rglob("*.py"))}
        assert actual == expected
        assert not [p for p in work.rglob("*") if p.name.endswith(".fac-tmp")]


def read_while_fixing(work: Path, names, originals, expected, stop: threading.Event, seen_wrong: List[str]) -> None:
    """Every read sees the file whole: as it was, or as fixed."""
    while not stop.is_set():
        for name in names:
            data = (work / name).read_bytes()
            if data not in (originals[name], expected[name]):
                seen_wrong.append(name)


def flake8_findings(paths, *args: str, env=None) -> Dict[str, List[Tuple[int, int, str, str]]]:
    return flake8_subprocess(paths, "--extend-select", ",".join(ALL_CODES), *args, env=env)


def test_flake8_with_two_jobs_finds_what_one_job_finds(tree):
    one = flake8_findings([tree], "-j", "1")
    assert sum(len(found) for found in one.values()) > 100
    assert flake8_findings([tree], "-j", "2") == one


BROKEN_RULE = """
    # Makes FAC106 raise on files named broken_*.py: the internal error a real
    # bug would cause. Loaded at interpreter start (PYTHONPATH), so that flake8's
    # worker processes have it whatever their start method.
    import dataclasses
    import os

    from flake8_fastapi_cors.registry import RULES, all_rules

    all_rules()
    rule = RULES["FAC106"]
    real_check = rule.check


    def check(model, options):
        if os.path.basename(model.filename).startswith("broken_"):
            raise KeyError("simulated bug")
        return real_check(model, options)


    RULES["FAC106"] = dataclasses.replace(rule, check=check)
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_that_raises_costs_only_its_own_findings(tmp_path, jobs):
    patch = tmp_path / "patch"
    patch.mkdir()
    (patch / "sitecustomize.py").write_text(textwrap.dedent(BROKEN_RULE))
    files = tmp_path / "src"
    files.mkdir()
    for name in ("broken_app.py", "ok_app.py", "other.py"):
        (files / name).write_text(APP)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(patch), os.environ.get("PYTHONPATH", "")]))
    found = flake8_findings([files], "-j", jobs, env=env)
    by_file = {os.path.basename(path): items for path, items in found.items()}
    for name in ("ok_app.py", "other.py"):
        assert [(line, code) for line, _col, code, _text in by_file[name]] == APP_FINDINGS
    broken = by_file["broken_app.py"]
    assert [(line, code) for line, _col, code, _text in broken] == [(1, "FAC000"), (4, "FAC101")]
    assert broken[0][3] == (
        "flake8-fastapi-cors could not finish checking this file (FAC106): "
        "internal error KeyError: 'simulated bug'; please report this as a bug"
    )


def test_the_command_line_reports_the_same_way(tmp_path):
    patch = tmp_path / "patch"
    patch.mkdir()
    (patch / "sitecustomize.py").write_text(textwrap.dedent(BROKEN_RULE))
    (tmp_path / "broken_app.py").write_text(APP)
    (tmp_path / "ok_app.py").write_text(APP)
    env = dict(os.environ, PYTHONPATH=str(patch))
    proc = run_command_line("--fix", "broken_app.py", "ok_app.py", cwd=tmp_path, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "broken_app.py:1:1: FAC000 flake8-fastapi-cors could not finish checking this file (FAC106)" in proc.stdout
    ast.parse((tmp_path / "broken_app.py").read_text())
    assert "allow_origins=[" in (tmp_path / "ok_app.py").read_text()
