"""`--fix` with the real libcst: each rule's expected fixes (from its record),
the invariants every fix keeps, and what a rewrite must never lose."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from flake8_fastapi_cors.fix import applicable, fix_source, write_atomic
from flake8_fastapi_cors.registry import MISSING, Options, all_rules
from flake8_fastapi_cors.source import InputError, check_source, decode
from helpers import example_sources

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
ALL_CODES = [r.code for r in all_rules()]
EVERYTHING = Options(opt_in=tuple(ALL_CODES))
FIXABLE = [r for r in all_rules() if r.fix]


def fixed(source: str, codes=ALL_CODES, unsafe: bool = True, path: str = "app.py") -> str:
    return fix_source(path, source.encode(), Options(opt_in=tuple(codes)), codes, unsafe).data.decode()


# -- the records ------------------------------------------------------------------


def test_every_fixable_rule_gives_the_expected_fix_of_every_flagged_example():
    for rule in all_rules():
        if rule.fix:
            missing = [i for i, f in enumerate(rule.fixed) if f is MISSING]
            assert not missing, f"{rule.code}: flagged examples {missing} lack their expected fix"
            assert any(f is not None for f in rule.fixed), f"{rule.code} is fixable but no example shows a fix"
        else:
            assert all(f is MISSING for f in rule.fixed), f"{rule.code} has no fix but gives expected fixes"


EXAMPLES = [
    pytest.param(rule, index, id=f"{rule.code}-{index}") for rule in FIXABLE for index in range(len(rule.flagged))
]


@pytest.mark.parametrize("rule, index", EXAMPLES)
def test_fix_of_flagged_example(rule, index):
    """Only this rule's fix, unsafe ones included: exactly the recorded text (or no
    change where the record says the shape has no fix)."""
    source, expected = rule.flagged[index], rule.fixed[index]
    assert fixed(source, [rule.code]) == (source if expected is None else expected)


@pytest.mark.parametrize("rule, index", EXAMPLES)
def test_safe_mode_applies_only_safe_fixes(rule, index):
    source, expected = rule.flagged[index], rule.fixed[index]
    result = fixed(source, [rule.code], unsafe=False)
    assert result == (expected if rule.fix == "safe" and expected is not None else source)


CLEAN = [pytest.param(rule, i, id=f"{rule.code}-clean-{i}") for rule in all_rules() for i in range(len(rule.clean))]


@pytest.mark.parametrize("rule, index", CLEAN)
def test_clean_example_is_left_alone(rule, index):
    source = rule.clean[index]
    assert fixed(source, [rule.code]) == source


# -- invariants over every flagged example, fixture and runtime app -----------------


@pytest.mark.parametrize("source, path", [pytest.param(s, p, id=i) for s, p, i in example_sources()])
def test_fix_invariants(source, path):
    """With every code and unsafe fixes: the output compiles, every fix converged
    (no finding with an applicable fix remains, and a code whose findings all had
    one is gone), and a second run changes nothing."""
    data = source.encode()
    before = check_source(path, data, source, EVERYTHING, ALL_CODES)
    result = fix_source(path, data, EVERYTHING, ALL_CODES, unsafe=True)
    compile(result.data, path, "exec", dont_inherit=True)
    assert not [f for f in result.remaining if applicable(f, True)]
    fully_fixable = {f.code for f in before} - {f.code for f in before if not applicable(f, True)}
    assert not fully_fixable & {f.code for f in result.remaining if f.fix is not None}
    again = fix_source(path, result.data, EVERYTHING, ALL_CODES, unsafe=True)
    assert again.data == result.data and again.fixed == 0


def test_overlapping_fixes_converge_in_several_passes():
    """FAC104 (inside the list) and FAC103 (the list) overlap: FAC104 goes first, then
    FAC103 moves the clean origins into the environment default."""
    source = (
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\n"
        'app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/", "https://App.example.com"])\n'
    )
    out = fixed(source, ["FAC103", "FAC104"], unsafe=False)
    assert 'os.getenv("CORS_ALLOWED_ORIGINS", "http://localhost:3000,https://app.example.com")' in out
    assert out.count("import os") == 1


# -- what a rewrite keeps --------------------------------------------------------------

STRING_ORIGINS = (
    "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\n"
    "# the storefront\n"
    'app.add_middleware(CORSMiddleware, allow_origins="https://shop.example.com")  # see ops#12\n'
)
STRING_ORIGINS_FIXED = STRING_ORIGINS.replace('"https://shop.example.com")', '["https://shop.example.com"])')


def test_comments_and_untouched_formatting_are_kept():
    assert fixed(STRING_ORIGINS, ["FAC106"]) == STRING_ORIGINS_FIXED


def test_crlf_line_endings_are_kept():
    crlf = STRING_ORIGINS.replace("\n", "\r\n")
    result = fix_source("app.py", crlf.encode(), EVERYTHING, ["FAC106"])
    assert result.data == STRING_ORIGINS_FIXED.replace("\n", "\r\n").encode()


def test_imports_added_with_crlf_use_crlf():
    source = STRING_ORIGINS.replace('"https://shop.example.com")', '["https://shop.example.com"])').replace(
        "\n", "\r\n"
    )
    out = fix_source("app.py", source.encode(), EVERYTHING, ["FAC103"]).data
    assert b"import os\r\n" in out and b"\n" not in out.replace(b"\r\n", b"")


def test_bom_and_encoding_declaration_are_kept():
    bom = b"\xef\xbb\xbf" + STRING_ORIGINS.encode()
    assert fix_source("app.py", bom, EVERYTHING, ["FAC106"]).data == b"\xef\xbb\xbf" + STRING_ORIGINS_FIXED.encode()
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + STRING_ORIGINS).encode("latin-1")
    out = fix_source("app.py", latin, EVERYTHING, ["FAC106"]).data
    assert out == ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + STRING_ORIGINS_FIXED).encode("latin-1")


def test_non_ascii_before_the_fix_on_the_same_line():
    source = STRING_ORIGINS.replace("app.add_middleware(", 'café = "é"; app.add_middleware(')
    assert fixed(source, ["FAC106"]) == STRING_ORIGINS_FIXED.replace(
        "app.add_middleware(", 'café = "é"; app.add_middleware('
    )


def test_noqa_stops_the_fix_as_well_as_the_report():
    source = STRING_ORIGINS.replace("# see ops#12", "# noqa: FAC106")
    result = fix_source("app.py", source.encode(), EVERYTHING, ["FAC106"])
    assert result.data == source.encode() and result.fixed == 0 and result.remaining == []
    other = STRING_ORIGINS.replace("# see ops#12", "# noqa: FAC101")
    assert fixed(other, ["FAC106"]) != other


def test_unsafe_fix_needs_unsafe_fixes():
    source = (
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\n"
        'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
    )
    safe = fix_source("app.py", source.encode(), EVERYTHING, ["FAC101"], unsafe=False)
    assert safe.data == source.encode()
    assert [f.code for f in safe.unsafe_available()] == ["FAC101"]
    assert "os.getenv" in fixed(source, ["FAC101"], unsafe=True)


def test_syntax_error_is_reported_not_fixed():
    with pytest.raises(InputError, match=r"app\.py: cannot parse"):
        fix_source("app.py", b"def broken(:\n", EVERYTHING, ALL_CODES)


def test_undecodable_file_is_reported_not_fixed():
    with pytest.raises(InputError, match=r"app\.py: cannot decode"):
        fix_source("app.py", b"x = '\xff\xfe'\n", EVERYTHING, ALL_CODES)


# -- writing ---------------------------------------------------------------------------


def test_write_is_atomic_and_keeps_permissions(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomic(str(path), b"old\n", b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["app.py"]  # no temporary file left


def test_write_through_a_symlink_replaces_the_target(tmp_path):
    target = tmp_path / "real.py"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    write_atomic(str(link), b"old\n", b"new\n")
    assert link.is_symlink() and target.read_bytes() == b"new\n"


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(b"edited meanwhile\n")
    with pytest.raises(InputError, match="changed on disk"):
        write_atomic(str(path), b"as read\n", b"fixed\n")
    assert path.read_bytes() == b"edited meanwhile\n"


def test_a_read_only_file_is_not_written(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(b"old\n")
    path.chmod(0o444)
    with pytest.raises(InputError, match="read-only"):
        write_atomic(str(path), b"old\n", b"new\n")
    assert path.read_bytes() == b"old\n"


def test_decode_keeps_the_declared_encoding():
    assert decode("# coding: latin-1\nx = 'é'\n".encode("latin-1"), "f.py").endswith("'é'\n")


# -- fixing the parts a fix touches is fixing the whole module -----------------------


VARIANTS = {
    "as-written": lambda s: s.encode(),
    "crlf": lambda s: s.replace("\n", "\r\n").encode(),
    "bom-and-header-comment": lambda s: b"\xef\xbb\xbf# a header comment\n\n" + s.encode(),
    "two-space-indent": lambda s: "\n".join(_halve_indent(line) for line in s.split("\n")).encode(),
}


def _halve_indent(line: str) -> str:
    width = len(line) - len(line.lstrip(" "))
    return " " * (width // 2) + line[width:] if width % 4 == 0 else line


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fixing_only_the_touched_statements_gives_the_whole_module_result(variant):
    """libcst parses only the statements a pass touches; on every example, fixture
    and runtime app (and their CRLF, BOM and two-space variants) the result is
    byte for byte the one of fixing the whole module (unsafe fixes included)."""
    compared = 0
    differ = []
    for source, path, name in example_sources():
        data = VARIANTS[variant](source)
        try:
            compile(data, path, "exec", dont_inherit=True)
        except SyntaxError:
            continue  # halving the indent broke a multi-line string's layout
        parts = fix_source(path, data, EVERYTHING, ALL_CODES, unsafe=True)
        whole = fix_source(path, data, EVERYTHING, ALL_CODES, unsafe=True, regions=False)
        compared += parts.fixed > 0
        if (parts.data, parts.fixed, parts.remaining) != (whole.data, whole.fixed, whole.remaining):
            differ.append(name)
    assert not differ
    assert compared > 100  # fixes were applied, not only compared unchanged
