"""The pre-filter (a text test for the names each rule needs) only skips work:
with it and without it, every example, fixture and runtime app gives the same
findings, fixes and positions."""

from __future__ import annotations

import pytest

from flake8_fastapi_cors.plugin import Plugin, relevant, runnable_codes
from flake8_fastapi_cors.registry import RULES, Options, all_rules
from flake8_fastapi_cors.source import check_source, parse
from helpers import example_sources

ALL_CODES = [r.code for r in all_rules()]
EVERYTHING = Options(opt_in=tuple(ALL_CODES))
FACTORY = Options(opt_in=tuple(ALL_CODES), session_factories=("make_db",))
SOURCES = example_sources()


def _found(source: str, path: str, options: Options, prefilter: bool):
    found = check_source(path, source.encode(), source, options, ALL_CODES, prefilter=prefilter)
    return [(f, f.fix, f.end) for f in found]


@pytest.mark.parametrize("options", [EVERYTHING, FACTORY], ids=["defaults", "session-factory-option"])
def test_prefilter_keeps_every_finding(options):
    differ = []
    total = 0
    for source, path, name in SOURCES:
        with_filter = _found(source, path, options, True)
        total += len(with_filter)
        if with_filter != _found(source, path, options, False):
            differ.append(name)
    assert not differ, f"the pre-filter changed the findings of {differ}"
    # the comparison covers real findings, not empty lists: each flagged example has one at least
    assert total >= sum(len(r.flagged) for r in all_rules())


def test_prefilter_skips_files_without_any_marker():
    skipped = [path for source, path, _ in SOURCES if not relevant(source)]
    assert skipped, "every source passed the pre-filter: it is not being tested"
    plain = "import os\n\n\ndef main():\n    return os.getcwd()\n"
    assert runnable_codes(plain, EVERYTHING, ALL_CODES) == []


def test_prefilter_runs_only_the_rules_whose_markers_occur():
    source = "from fastapi import Depends\n\ndef f(x=Depends(g)):\n    return x\n"
    assert runnable_codes(source, EVERYTHING, ALL_CODES) == [c for c in ALL_CODES if "Depends" in RULES[c].markers]
    # a factory named in the options counts as a marker of every rule
    assert runnable_codes("db = make_db()\n", FACTORY, ["FAC201"]) == ["FAC201"]


def test_plugin_prefilters_the_lines_flake8_gives():
    source = next(s for s, _, name in SOURCES if name == "example-FAC101-0")
    lines = source.splitlines(keepends=True)
    tree = parse("app.py", source.encode())
    assert [f[2].split()[0] for f in Plugin(tree, "app.py", lines).run()] == ["FAC101"]
    assert list(Plugin(tree, "app.py", ["# nothing here\n"]).run()) == []
