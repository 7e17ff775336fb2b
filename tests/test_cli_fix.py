"""`flake8-fastapi-cors --fix`, `--unsafe-fixes`, `--diff`, stdin, pyproject.toml
options and the summary line, run as the installed command in a subprocess."""

import os
import shutil
import subprocess
import textwrap

import pytest

EXE = shutil.which("flake8-fastapi-cors", path=os.path.dirname(os.sys.executable)) or "flake8-fastapi-cors"

APP = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins="https://app.example.com", allow_credentials=True)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""")
# FAC106 makes the string a list, then (second pass) FAC103 moves it into the environment
SAFE_FIXED = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    import os

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "https://app.example.com").split(",") if o.strip()], allow_credentials=True)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""")


def run(*args, stdin=None, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, input=stdin, cwd=cwd)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def test_check_mode_writes_nothing_and_summarises(project):
    proc = run("app.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.decode().count("app.py:") == 2
    assert proc.stderr.decode().strip() == (
        "flake8-fastapi-cors: 2 findings; 1 fixable with --fix; 1 fixable with --unsafe-fixes (FAC101)"
    )
    assert (project / "app.py").read_text() == APP


def test_fix_applies_safe_fixes_and_reports_what_remains(project):
    proc = run("--fix", ".", cwd=project)
    assert proc.returncode == 1  # FAC101 remains: its fix is unsafe
    assert (project / "app.py").read_text() == SAFE_FIXED
    assert "FAC101" in proc.stdout.decode() and "FAC106" not in proc.stdout.decode()
    assert proc.stderr.decode().strip() == (
        "flake8-fastapi-cors: 3 findings: 2 fixed, 1 remaining; 1 fixable with --unsafe-fixes (FAC101)"
    )


def test_unsafe_fixes_fix_everything_and_exit_0(project):
    proc = run("--fix", "--unsafe-fixes", "app.py", cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = (project / "app.py").read_text()
    assert 'os.getenv("CORS_ALLOWED_ORIGINS", "").split(",")' in text and "import os\n" in text
    assert proc.stderr.decode().strip() == "flake8-fastapi-cors: 3 findings: 3 fixed, 0 remaining"
    assert run("app.py", cwd=project).returncode == 0


def test_diff_prints_the_fix_and_writes_nothing(project):
    proc = run("--diff", "app.py", cwd=project)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("--- a/app.py\n+++ b/app.py\n")
    assert '-app.add_middleware(CORSMiddleware, allow_origins="https://app.example.com"' in out
    assert "FAC101" in proc.stderr.decode()  # findings go to stderr, the diff alone to stdout
    assert (project / "app.py").read_text() == APP


def test_stdin_fix_writes_the_fixed_text_to_stdout(project):
    proc = run("--fix", "-", "--stdin-display-name", "web/app.py", stdin=APP.encode(), cwd=project)
    assert proc.stdout.decode() == SAFE_FIXED
    assert proc.returncode == 1
    assert "web/app.py:7:51: FAC101" in proc.stderr.decode()  # reported at the fixed text


def test_unchanged_files_are_not_written(project):
    (project / "app.py").write_text(SAFE_FIXED.replace('["*"], allow_credentials=True', '["*"]'))
    before = os.stat(project / "app.py")
    proc = run("--fix", ".", cwd=project)
    after = os.stat(project / "app.py")
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert proc.returncode == 0


def test_fix_keeps_permissions(project):
    os.chmod(project / "app.py", 0o751)
    run("--fix", "app.py", cwd=project)
    assert (project / "app.py").read_text() == SAFE_FIXED
    assert os.stat(project / "app.py").st_mode & 0o777 == 0o751


def test_bad_files_are_reported_by_name_and_left_byte_identical(project):
    (project / "broken.py").write_bytes(b"def broken(:\n")
    (project / "latin.py").write_bytes(b"x = '\xff'\n")
    proc = run("--fix", ".", cwd=project)
    assert proc.returncode == 2
    errors = proc.stderr.decode().splitlines()
    assert any(e.startswith("flake8-fastapi-cors: error: ./broken.py: cannot parse") for e in errors)
    assert any(e.startswith("flake8-fastapi-cors: error: ./latin.py: cannot decode") for e in errors)
    assert (project / "broken.py").read_bytes() == b"def broken(:\n"
    assert (project / "latin.py").read_bytes() == b"x = '\xff'\n"
    assert (project / "app.py").read_text() == SAFE_FIXED  # the good file is still fixed


def test_pyproject_options_are_read(project):
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.flake8-fastapi-cors]
        fastapi-cors-origins-env = "FRONTEND_ORIGINS"
        unsafe-fixes = true
        ignore = ["FAC106"]
    """))
    proc = run("--fix", "app.py", cwd=project)
    text = (project / "app.py").read_text()
    assert 'os.getenv("FRONTEND_ORIGINS", "")' in text
    assert 'allow_origins="https://app.example.com"' in text  # FAC106 ignored, so no list for FAC103
    assert proc.returncode == 0


def test_command_line_overrides_pyproject(project):
    (project / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nselect = "FAC106"\n')
    assert run("app.py", cwd=project).stdout.decode().count("FAC106") == 1
    proc = run("--select", "FAC101", "app.py", cwd=project)
    assert "FAC101" in proc.stdout.decode() and "FAC106" not in proc.stdout.decode()


@pytest.mark.parametrize(
    "table, message",
    [
        ('colour = "red"', "unknown option 'colour'"),
        ("unsafe-fixes = 1", "unsafe-fixes must be true or false"),
        ("select = 3", "select must be a string or a list of strings"),
        ('select = "XYZ1"', "unknown code or prefix 'XYZ1'"),
    ],
)
def test_bad_configuration_is_a_clear_error(project, table, message):
    (project / "pyproject.toml").write_text(f"[tool.flake8-fastapi-cors]\n{table}\n")
    proc = run("app.py", cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert len(proc.stderr.decode().strip().splitlines()) == 1


LIBCST_PROBE = (
    "import sys\n"
    "from flake8_fastapi_cors.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print('libcst' in sys.modules, status)\n"
)


@pytest.mark.parametrize(
    "source, loaded",
    [
        ("import os\n\nprint(os.getcwd())\n", "False"),  # names nothing a rule needs
        (APP.replace('allow_origins=["*"], allow_credentials=True', 'allow_origins=["*"]'), "True"),  # safe fixes
        (
            "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\n"
            'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n',
            "False",
        ),  # unsafe only
    ],
    ids=["unrelated", "safe-fix", "unsafe-fix-only"],
)
def test_fix_loads_libcst_only_when_there_is_a_fix_to_apply(tmp_path, source, loaded):
    (tmp_path / "app.py").write_text(source)
    proc = subprocess.run(
        [os.sys.executable, "-c", LIBCST_PROBE, "--fix", str(tmp_path / "app.py")], capture_output=True, text=True
    )
    assert proc.stdout.splitlines()[-1].split()[0] == loaded, proc.stdout + proc.stderr  # after the findings
