"""Every rule's own flagged and clean examples, checked through the real flake8.

All examples are written to one directory and checked by a single in-process
flake8 run; each flagged example must produce exactly the findings its
`# FACxxx` markers name (codes on by default plus the rule's own), each clean
example none of the rule's code.
"""

import os

import pytest

from flake8_fastapi_cors.registry import all_rules
from helpers import expected_with_columns, flake8_in_process

RULES = all_rules()
OPT_IN = ",".join(r.code for r in RULES if not r.default_enabled)
DEFAULT_CODES = {r.code for r in RULES if r.default_enabled}


def _cases():
    for rule in RULES:
        for index, source in enumerate(rule.flagged):
            yield rule, "flagged", index, source
        for index, source in enumerate(rule.clean):
            yield rule, "clean", index, source
        yield rule, "doc-example", 0, rule.example
        yield rule, "doc-use-instead", 0, rule.use_instead


CASES = list(_cases())


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("examples")
    paths = {}
    for rule, kind, index, source in CASES:
        path = root / f"{rule.code}_{kind}_{index}.py"
        path.write_text(source, encoding="utf-8")
        paths[(rule.code, kind, index)] = os.path.normpath(str(path))
    found = flake8_in_process([str(root)], "--extend-select", OPT_IN)
    return {key: found.get(path, []) for key, path in paths.items()}


def test_every_rule_has_six_flagged_and_six_clean_examples():
    for rule in RULES:
        assert len(rule.flagged) >= 6, rule.code
        assert len(rule.clean) >= 6, rule.code


@pytest.mark.parametrize(
    "rule,kind,index,source",
    CASES,
    ids=[f"{r.code}-{k}-{i}" for r, k, i, _ in CASES],
)
def test_example(results, rule, kind, index, source):
    found = results[(rule.code, kind, index)]
    relevant = DEFAULT_CODES | {rule.code}
    got = {(line, code) for line, _col, code, _text in found if code in relevant}
    if kind == "doc-example":
        assert any(code == rule.code for _line, code in got), found
        return
    if kind == "doc-use-instead":
        assert not any(code == rule.code for _line, code in got), found
        return
    markers = expected_with_columns(source)
    expected = {(line, code) for line, code, _col in markers if code in relevant}
    assert got == expected
    if kind == "flagged":
        assert any(code == rule.code for _line, code in expected), "a flagged example needs a marker"
    else:
        assert not any(code == rule.code for _line, code in expected)
    columns = {(line, code): col for line, col, code, _text in found}
    for line, code, col in markers:
        if col is not None:
            assert columns[(line, code)] == col, (line, code)
