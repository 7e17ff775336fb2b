"""The example apps in fixtures/: the plugin, run by flake8 as a subprocess,
reports exactly the `# FACxxx` markers of each file, and nothing in clean files.

A first line `# flake8-options: ...` gives extra flake8 arguments for that file
(used for the opt-in codes FAC102 and FAC110).
"""

import collections
import os
import shlex
from pathlib import Path

import pytest

from helpers import expected_markers, flake8_subprocess

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OPTIONS_HEADER = "# flake8-options:"
FILES = sorted(p for p in FIXTURES.rglob("*.py"))


def _options(path: Path) -> tuple:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return tuple(shlex.split(first[len(OPTIONS_HEADER) :])) if first.startswith(OPTIONS_HEADER) else ()


@pytest.fixture(scope="module")
def results():
    groups = collections.defaultdict(list)
    for path in FILES:
        groups[_options(path)].append(path)
    found = {}
    for options, paths in groups.items():
        found.update(flake8_subprocess(paths, *options))
    return found


def test_fixture_tree_has_flagged_and_clean_apps():
    assert any("flagged" in p.parts for p in FILES)
    assert any("clean" in p.parts for p in FILES)
    for path in FILES:
        if "clean" in path.parts:
            assert not expected_markers(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture(results, path):
    found = results.get(os.path.normpath(str(path)), [])
    got = {(line, code) for line, _col, code, _text in found}
    assert got == expected_markers(path.read_text(encoding="utf-8"))
