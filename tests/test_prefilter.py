"""The pre-filter (a text test for the names each rule needs) only skips work:
with it and without it, every example, fixture and runtime app gives the same
findings, fixes and positions."""

from __future__ import annotations

import pytest

from flake8_fastapi_cors.plugin import Plugin, relevant, runnable_codes
from flake8_fastapi_cors.registry import Options, all_rules
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
    depends = "from fastapi import Depends\n\ndef f(x=Depends(g)):\n    return x\n"
    assert runnable_codes(depends, EVERYTHING, ALL_CODES) == []
    generator = depends + "\ndef g():\n    yield 1\n"
    assert runnable_codes(generator, EVERYTHING, ALL_CODES) == ["FAC205"]
    decorated = "from contextlib import contextmanager\n" + generator
    assert runnable_codes(decorated, EVERYTHING, ALL_CODES) == ["FAC204", "FAC205"]
    # a factory named in the options counts as a marker of every rule
    assert runnable_codes("db = make_db()\n", FACTORY, ["FAC201"]) == ["FAC201"]


def test_a_yield_dependency_without_a_session_is_checked():
    source = (
        "from fastapi import Depends, FastAPI\n\napp = FastAPI()\n\n\ndef get_username():\n    try:\n"
        '        yield "Rick"\n    except ValueError:\n        print("oops")\n\n\n@app.get("/items")\n'
        "def items(username: str = Depends(get_username)):\n    return username\n"
    )
    found = check_source("app.py", source.encode(), source, EVERYTHING, ALL_CODES)
    assert [(f.line, f.code) for f in found] == [(9, "FAC205")]


def test_the_decorator_in_the_module_a_dependency_is_imported_from_counts(tmp_path):
    """FAC204 needs `contextmanager` in the file, or in the sibling module the
    dependency comes from: the pre-filter reads that module's text."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "deps.py").write_text(
        "from contextlib import contextmanager\n\n\n@contextmanager\ndef get_db():\n    yield 1\n"
    )
    main = "from fastapi import Depends, FastAPI\n\nfrom .deps import get_db\n\napp = FastAPI()\n\n\n"
    main += '@app.get("/x")\ndef x(db=Depends(get_db)):\n    return db\n'
    path = str(package / "main.py")
    (package / "main.py").write_text(main)
    # FAC205 runs too: deps.py holds a `yield` (the test is by text, and errs towards running)
    assert runnable_codes(main, EVERYTHING, ALL_CODES, path) == ["FAC204", "FAC205"]
    assert runnable_codes(main, EVERYTHING, ALL_CODES) == []  # no file: no sibling to read
    found = check_source(path, main.encode(), main, EVERYTHING, ALL_CODES)
    assert [(f.line, f.code) for f in found] == [(9, "FAC204")]
    assert found == check_source(path, main.encode(), main, EVERYTHING, ALL_CODES, prefilter=False)


def test_plugin_prefilters_the_lines_flake8_gives():
    source = next(s for s, _, name in SOURCES if name == "example-FAC101-0")
    lines = source.splitlines(keepends=True)
    tree = parse("app.py", source.encode())
    assert [f[2].split()[0] for f in Plugin(tree, "app.py", lines).run()] == ["FAC101"]
    assert list(Plugin(tree, "app.py", ["# nothing here\n"]).run()) == []
