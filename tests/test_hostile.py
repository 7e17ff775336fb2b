"""Broken and hostile input: each case gets a one-line error naming the file or
a correct result, never a traceback, and nothing is written that should not be.

The command line runs as a subprocess over all cases at once, so one bad file
is also shown not to stop the others; flake8 runs on the valid ones."""

from __future__ import annotations

import ast
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_fastapi_cors.fix import fix_source
from flake8_fastapi_cors.registry import Options, all_rules
from flake8_fastapi_cors.source import InputError, check_source, decode, read_source
from helpers import APP, flake8_subprocess, run_command_line
from helpers import APP_FINDINGS as FOUND

ALL_CODES = [r.code for r in all_rules()]
EVERYTHING = Options(opt_in=tuple(ALL_CODES))


def nested(depth: int) -> str:
    """A valid expression `depth` levels deep."""
    return "x" + ".y" * depth


# name -> (bytes, fragment of the one-line error)
BROKEN: Dict[str, Tuple[bytes, str]] = {
    "syntax_error.py": (b"def f(:\n    pass\n", "cannot parse: invalid syntax (line 1)"),
    "unclosed.py": (APP.encode() + b"x = (\n", "(line 6)"),
    "null_byte.py": (APP.encode() + b"x = 1\x00\n", "null bytes"),
    "undecodable.py": (APP.encode() + b'x = "\xff\xfe"\n', "cannot decode"),
    "unknown_encoding.py": (b"# -*- coding: no-such-codec -*-\n" + APP.encode(), "unknown encoding: no-such-codec"),
    "utf16_declared.py": (b"# coding: utf-16\n" + APP.encode(), "cannot decode: encoding problem: utf-16"),
    "bom_and_latin1.py": (b"\xef\xbb\xbf# coding: latin-1\n" + APP.encode(), "cannot decode: encoding problem"),
    "too_deep_to_parse.py": (APP.encode() + b"x = " + b"-" * 200_000 + b"1\n", "cannot parse: "),
    "parentheses.py": (APP.encode() + b"x = " + b"(" * 300 + b")" * 300 + b"\n", "too many nested parentheses"),
}


def valid_cases() -> Dict[str, Tuple[bytes, List[Tuple[int, str]]]]:
    """name -> (bytes, the (line, code) findings expected)."""
    lf = APP.encode()
    crlf = APP.replace("\n", "\r\n").encode()
    mixed = b"".join(line + end for line, end in zip(lf.split(b"\n"), [b"\r\n", b"\n", b"\r", b"\r\n", b"\n"]))
    long_list = ", ".join(f'"https://host{i}.example.com"' for i in range(20_000))
    long_line = APP.replace('"https://example.com"', f"[{long_list}]").replace('["*"]', '["*", ' + long_list + "]")
    form_feeds = APP.replace("app = FastAPI()\n", "\x0c\napp = FastAPI()\n\x0c# section\n")
    tabs = (
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\n\n"
        "def create_app():\n\tapp = FastAPI()\n\tif True:\n"
        '\t\tapp.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
        '\tapp.add_middleware(CORSMiddleware, allow_origins="https://example.com")\n\treturn app\n'
    )
    # a module of generated data, as resource compilers write them: 5 MB of string literals
    chunk = "".join(chr(65 + (i * 7) % 26) for i in range(76))
    assets = "ASSETS = (\n" + f'    "{chunk}"\n' * 65_000 + ")\n"
    imports, app_lines = APP.split("app = FastAPI()\n")
    big = imports + assets + "app = FastAPI()\n" + app_lines
    deep = APP.replace('"https://example.com"', f'"https://example.com" if {nested(2_500)} else ""')
    latin1 = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + lf
    wrong_declaration = b"# -*- coding: latin-1 -*-\n# caf\xc3\xa9 (UTF-8 bytes read as latin-1)\n" + lf
    shift_jis = "# -*- coding: shift_jis -*-\n# 日本語のコメント\n".encode("shift_jis") + lf
    return {
        "empty.py": (b"", []),
        "only_bom.py": (b"\xef\xbb\xbf", []),
        "blank_lines.py": (b"\n\n   \n\t\n", []),
        "bom.py": (b"\xef\xbb\xbf" + lf, FOUND),
        "crlf.py": (crlf, FOUND),
        "mixed_endings.py": (mixed, FOUND),
        "form_feeds.py": (form_feeds.encode(), [(6, "FAC101"), (7, "FAC106")]),
        "tabs.py": (tabs.encode(), [(8, "FAC101"), (9, "FAC106")]),
        "long_lines.py": (long_line.encode(), [(4, "FAC101"), (5, "FAC103")]),
        "five_megabytes.py": (big.encode(), [(65_006, "FAC101"), (65_007, "FAC106")]),
        "deep_but_parses.py": (deep.encode(), FOUND),
        "latin1.py": (latin1, [(6, "FAC101"), (7, "FAC106")]),
        "wrong_declaration.py": (wrong_declaration, [(6, "FAC101"), (7, "FAC106")]),
        "shift_jis.py": (shift_jis, [(6, "FAC101"), (7, "FAC106")]),
        "no_final_newline.py": (lf.rstrip(b"\n"), FOUND),
    }


VALID = valid_cases()


# root reads any file; without these capabilities file modes apply to it too
NOT_ROOT = ("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search")


def cli(*args: str, cwd: Path, drop_root: bool = False) -> subprocess.CompletedProcess:
    return run_command_line(*args, cwd=cwd, wrapper=NOT_ROOT if drop_root else ())


def errors_by_file(stderr: str) -> Dict[str, str]:
    """`flake8-fastapi-cors: error: PATH: reason` lines by path; anything else
    on stderr but the summary fails the test."""
    found = {}
    for line in stderr.splitlines():
        if line.startswith("flake8-fastapi-cors: error: "):
            path, _, reason = line[len("flake8-fastapi-cors: error: ") :].partition(": ")
            assert path not in found, f"two errors for {path}"
            found[path] = reason
        else:
            assert line.startswith("flake8-fastapi-cors: ") and "finding" in line, f"unexpected stderr: {line[:300]}"
    return found


def findings_by_file(stdout: str) -> Dict[str, List[Tuple[int, str]]]:
    found: Dict[str, List[Tuple[int, str]]] = {}
    for line in stdout.splitlines():
        path, row, _col, rest = line.split(":", 3)
        found.setdefault(path, []).append((int(row), rest.split()[0]))
    return found


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    for name, (data, _) in {**BROKEN, **VALID}.items():
        (root / name).write_bytes(data)
    return root


def test_check_reports_each_broken_file_in_one_line_and_every_valid_file_correctly(tree):
    names = sorted(BROKEN) + sorted(VALID) + ["missing.py"]
    proc = cli(*names, cwd=tree)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    errors = errors_by_file(proc.stderr)
    assert errors == {**{n: errors[n] for n in BROKEN}, "missing.py": "no such file or directory"}
    for name, (_, fragment) in BROKEN.items():
        assert fragment in errors[name], (name, errors[name])
    found = findings_by_file(proc.stdout)
    for name, (_, expected) in VALID.items():
        assert sorted(found.get(name, [])) == expected, name


def test_fix_leaves_broken_files_byte_identical_and_fixes_the_valid_ones(tree, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(tree, work)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in work.iterdir()}
    proc = cli("--fix", "--unsafe-fixes", ".", cwd=work)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    errors = errors_by_file(proc.stderr)
    assert sorted(errors) == sorted(f"./{name}" for name in BROKEN)
    for path in work.iterdir():
        data, mtime, inode = before[path.name]
        if path.name in BROKEN or not VALID[path.name][1]:
            assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == (data, mtime, inode), path
            continue
        new = path.read_bytes()
        assert new != data, path.name
        ast.parse(new)
        assert findings_by_file(cli(path.name, cwd=work).stdout).get(path.name, []) == FIX_REMAINS.get(path.name, [])
        _assert_untouched_lines_kept(data, new, path.name)
    assert not [p for p in work.iterdir() if p.name.endswith(".fac-tmp")], "a temporary file was left behind"
    after = {p.name: p.read_bytes() for p in work.iterdir() if p.name in VALID and VALID[p.name][1]}
    # a second run changes nothing
    fixable = [name for name, (_, found) in VALID.items() if found]
    again = cli("--fix", "--unsafe-fixes", *fixable, cwd=work)
    assert again.returncode == (1 if FIX_REMAINS else 0), again.stderr
    assert sorted(findings_by_file(again.stdout)) == sorted(FIX_REMAINS)
    assert {n: (work / n).read_bytes() for n in fixable} == after


# libcst cannot parse the 2,500 levels of the expression this fix rewrites; the finding stays
FIX_REMAINS = {"deep_but_parses.py": [(7, "FAC106")]}


def _assert_untouched_lines_kept(before: bytes, after: bytes, name: str) -> None:
    """Every line the fixes did not rewrite is still there, byte for byte, with
    its own line ending and its encoding."""
    old = before.splitlines(keepends=True)
    new = set(after.splitlines(keepends=True))
    kept = [line for line in old if b"add_middleware" not in line and b"import" not in line]
    missing = [line[:80] for line in kept if line not in new]
    assert not missing, f"{name}: lines lost or changed: {missing[:3]}"
    if before.startswith(b"\xef\xbb\xbf"):
        assert after.startswith(b"\xef\xbb\xbf"), f"{name}: the BOM was lost"


@pytest.mark.parametrize("name", sorted(VALID))
def test_flake8_gives_the_same_findings_as_the_command_line(tree, name):
    if name in ("five_megabytes.py", "deep_but_parses.py"):
        # pycodestyle takes minutes on 5 MB, and pyflakes (a default flake8 plugin) fails on deep
        # code with a RecursionError that stops flake8 before any plugin reports
        pytest.skip("flake8's own plugins cannot run on this file")
    found = flake8_subprocess([tree / name], "--extend-select", ",".join(ALL_CODES))
    assert sorted((line, code) for line, _col, code, _text in found.get(str(tree / name), [])) == VALID[name][1]


@pytest.mark.parametrize("name", ["deep_but_parses.py", "five_megabytes.py"])
def test_the_plugin_as_flake8_calls_it(name):
    """Where flake8's own plugins cannot run: the plugin class with the tree and
    lines flake8 would give it."""
    from flake8_fastapi_cors.plugin import Plugin

    data, expected = VALID[name]
    found = Plugin(ast.parse(data), name, data.decode().splitlines(keepends=True)).run()
    assert sorted((line, text.split()[0]) for line, _col, text, _type in found) == expected


def test_columns_count_characters_after_a_bom_and_non_ascii_text(tmp_path):
    source = "\ufeffé = 1\n" + APP.replace(
        'app.add_middleware(CORSMiddleware, allow_origins="',
        'x = "é"; app.add_middleware(CORSMiddleware, allow_origins="',
    )
    path = tmp_path / "app.py"
    path.write_bytes(source.encode("utf-8"))
    data, text = read_source(str(path))
    found = {f.code: f for f in check_source(str(path), data, text, EVERYTHING, ALL_CODES)}
    line = text.splitlines()[found["FAC106"].line - 1]
    assert line[found["FAC106"].col :].startswith('"https://example.com"')


def test_a_directory_passed_as_a_file(tmp_path):
    package = tmp_path / "looks_like_a_file.py"
    package.mkdir()
    (package / "inner.py").write_text(APP)
    proc = cli("looks_like_a_file.py", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert sorted(findings_by_file(proc.stdout)[os.path.join("looks_like_a_file.py", "inner.py")]) == FOUND
    with pytest.raises(InputError, match=r"^looks_like_a_file\.py: is a directory$"):
        read_source(str(package), "looks_like_a_file.py")


def test_an_unreadable_file(tmp_path):
    path = tmp_path / "secret.py"
    path.write_text(APP)
    (tmp_path / "other.py").write_text(APP)
    path.chmod(0)
    drop_root = os.geteuid() == 0
    if drop_root and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no way to make a file unreadable")
    for args in ((), ("--fix",)):
        proc = cli(*args, "secret.py", "other.py", cwd=tmp_path, drop_root=drop_root)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert errors_by_file(proc.stderr) == {"secret.py": "permission denied"}
    path.chmod(0o644)
    assert path.read_text() == APP
    assert "allow_origins=[" in (tmp_path / "other.py").read_text(), "the readable file was not fixed"


def test_a_read_only_file_with_a_fix_pending(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(APP)
    path.chmod(0o444)
    proc = cli("--fix", "app.py", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert errors_by_file(proc.stderr) == {"app.py": "file is read-only; not written"}
    assert path.read_text() == APP and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_symlinks(tmp_path):
    target = tmp_path / "real.py"
    target.write_text(APP)
    (tmp_path / "link.py").symlink_to("real.py")
    (tmp_path / "dangling.py").symlink_to("nowhere.py")
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    proc = cli("--fix", "link.py", "dangling.py", "loop_a.py", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = errors_by_file(proc.stderr)
    assert errors["dangling.py"] == "no such file or directory"
    assert errors["loop_a.py"].startswith("cannot read: ")
    assert set(errors) == {"dangling.py", "loop_a.py"}
    assert (tmp_path / "link.py").is_symlink() and os.readlink(tmp_path / "link.py") == "real.py"
    assert "allow_origins=[" in target.read_text()


def test_a_file_that_changes_between_read_and_write(tmp_path, monkeypatch, capsys):
    """Another program (an editor, a formatter) writes the file while it is
    being fixed: the fix is dropped and the other program's text kept."""
    from flake8_fastapi_cors import cli as cli_module
    from flake8_fastapi_cors import fix

    path = tmp_path / "app.py"
    path.write_text(APP)
    edited = APP + "# saved by the editor meanwhile\n"
    real_fix_source = fix.fix_source

    def fix_while_the_editor_saves(*args, **kwargs):
        result = real_fix_source(*args, **kwargs)
        path.write_text(edited)
        return result

    monkeypatch.setattr(fix, "fix_source", fix_while_the_editor_saves)
    status = cli_module.main(["--fix", str(path)])
    assert status == 2
    assert path.read_text() == edited
    err = capsys.readouterr().err
    assert f"flake8-fastapi-cors: error: {path}: changed on disk while it was being fixed; not written" in err


def test_deep_nesting_in_the_statement_a_fix_rewrites(tmp_path):
    """libcst recurses more deeply than the ast: a fix inside code nested
    thousands deep is a one-line error, and the file is left as it was."""
    source = APP.replace('"https://example.com"', f'"https://example.com" if {nested(2_500)} else ""')
    source = source.replace('allow_origins=["*"], ', f"allow_origins=['*'] if {nested(2_500)} else [], ")
    data = source.encode()
    try:
        result = fix_source("deep.py", data, EVERYTHING, ALL_CODES, unsafe=True)
    except InputError as error:
        assert str(error).startswith("deep.py: cannot fix: ") and "\n" not in str(error)
    else:
        ast.parse(result.data)


def test_unusual_encodings_are_kept_by_the_fix():
    for name in ("latin1.py", "wrong_declaration.py", "shift_jis.py"):
        data = VALID[name][0]
        result = fix_source(name, data, EVERYTHING, ALL_CODES, unsafe=True)
        assert result.fixed >= 2 and not result.remaining
        assert result.data.split(b"\n")[:2] == data.split(b"\n")[:2], name
        decode(result.data, name)


@pytest.mark.parametrize(
    "before", ["app = FastAPI()", "app.add_middleware", 'app.add_middleware(CORSMiddleware, allow_origins="']
)
def test_form_feeds_in_front_of_statements_are_kept_or_the_fix_refused(tmp_path, before):
    """libcst drops a form feed in front of a top-level statement: where the fix
    would need libcst to reproduce one, it refuses with one line and writes
    nothing; otherwise every form feed survives the fix."""
    source = APP.replace(before, "\x0c" + before, 1)
    path = tmp_path / "app.py"
    path.write_text(source)
    assert sorted(findings_by_file(cli("app.py", cwd=tmp_path).stdout)["app.py"]) == FOUND
    proc = cli("--fix", "--unsafe-fixes", "app.py", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert errors_by_file(proc.stderr)["app.py"].startswith("cannot fix: libcst would not give this file back")
        assert path.read_text() == source
    else:
        assert proc.returncode == 0, proc.stderr
        assert path.read_text().count("\x0c" + before.split("(")[0]) == source.count("\x0c" + before.split("(")[0])


def test_an_expression_nested_100_000_deep(tmp_path):
    """Python 3.11 refuses to build its tree (RecursionError); Python 3.9 builds
    it, and the rules walk it without recursion."""
    (tmp_path / "deep.py").write_bytes(APP.encode() + b"x = " + b"+".join([b"a"] * 100_000) + b"\n")
    proc = cli("deep.py", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert errors_by_file(proc.stderr) == {"deep.py": "cannot parse: nested too deeply"}
    else:
        assert sorted(findings_by_file(proc.stdout)["deep.py"]) == FOUND
