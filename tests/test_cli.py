"""The check-only command line: output, exit status, bad input, selection."""

import os
import subprocess
import sys
import textwrap

from flake8_fastapi_cors.cli import main

FLAGGED = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""")
CLEAN = FLAGGED.replace('["*"], allow_credentials=True', '["*"]')


def run(*args, stdin=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "flake8_fastapi_cors", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
    )


def test_findings_exit_1_and_clean_exit_0(tmp_path):
    (tmp_path / "bad.py").write_text(FLAGGED)
    (tmp_path / "good.py").write_text(CLEAN)
    proc = run(tmp_path / "bad.py")
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{tmp_path / 'bad.py'}:5:51: FAC101 ")
    assert run(tmp_path / "good.py").returncode == 0


def test_directories_are_walked_and_default_excludes_skipped(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "main.py").write_text(FLAGGED)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "vendored.py").write_text(FLAGGED)
    (tmp_path / "skipme").mkdir()
    (tmp_path / "skipme" / "x.py").write_text(FLAGGED)
    proc = run(".", "--exclude", "skipme", cwd=tmp_path)
    assert proc.returncode == 1
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [os.path.join(".", "pkg", "main.py")]


def test_stdin(tmp_path):
    proc = run("-", "--stdin-display-name", "app.py", stdin=FLAGGED)
    assert proc.returncode == 1
    assert proc.stdout.startswith("app.py:5:51: FAC101")


def test_bad_input_is_one_line_error_naming_the_file(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    undecodable = tmp_path / "latin.py"
    undecodable.write_bytes(b"x = '\xff\xfe'\n")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "app.py").write_text(CLEAN)
    proc = run(broken, undecodable, tmp_path / "missing.py", tmp_path / "ok")
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0] == f"flake8-fastapi-cors: error: {broken}: cannot parse: invalid syntax (line 1)"
    assert lines[1].startswith(f"flake8-fastapi-cors: error: {undecodable}: cannot decode")
    assert lines[2] == f"flake8-fastapi-cors: error: {tmp_path / 'missing.py'}: no such file or directory"
    assert "Traceback" not in proc.stderr
    assert len(lines) == 3  # the directory itself is walked, not an error


def test_select_ignore_and_opt_in(tmp_path, capsys):
    path = tmp_path / "app.py"
    path.write_text(FLAGGED + 'public = FastAPI()\npublic.add_middleware(CORSMiddleware, allow_origins=["*"])\n')
    assert main([str(path), "--ignore", "FAC101"]) == 0
    capsys.readouterr()
    assert main([str(path), "--extend-select", "FAC102"]) == 1
    out = capsys.readouterr().out
    assert ":5:51: FAC101" in out and ":7:" in out and "FAC102" in out
    assert main([str(path), "--select", "FAC"]) == 1
    assert "FAC102" not in capsys.readouterr().out
    assert main([str(path), "--select", "NOPE1"]) == 2
    assert "unknown code" in capsys.readouterr().err


def test_noqa_in_cli(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(FLAGGED.replace("allow_credentials=True)", "allow_credentials=True)  # noqa: FAC101"))
    assert run(path).returncode == 0
    path.write_text(FLAGGED.replace("allow_credentials=True)", "allow_credentials=True)  # noqa"))
    assert run(path).returncode == 0
