"""Configuration in one place: the same option names in flake8's config files
(for the plugin) and in pyproject.toml (for the command line), per-file ignores
with flake8's matching, and a one-line error for an unknown option or a bad value.
Real flake8 and the installed command, as subprocesses."""

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from flake8_fastapi_cors.config import SETTINGS, plugin_settings

BIN = os.path.dirname(sys.executable)
FLAKE8 = shutil.which("flake8", path=BIN) or "flake8"
EXE = shutil.which("flake8-fastapi-cors", path=BIN) or "flake8-fastapi-cors"

APP = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""")
FINDING = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>FAC\d+) ", re.M)


def flake8(cwd, *args):
    return subprocess.run([FLAKE8, "--select", "FAC", *args], capture_output=True, text=True, cwd=cwd)


def cli(cwd, *args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd)


def found(output):
    return sorted((os.path.normpath(m["path"]), int(m["line"]), m["code"]) for m in FINDING.finditer(output))


@pytest.fixture
def project(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(APP)
    return tmp_path


@pytest.mark.parametrize("filename", ["setup.cfg", "tox.ini", ".flake8"])
def test_plugin_reads_its_options_from_each_flake8_config_file(project, filename):
    (project / filename).write_text("[flake8]\nfastapi-cors-origins-env = FRONTEND_ORIGINS\n")
    proc = flake8(project, "app.py")
    assert proc.returncode == 1
    assert 'os.getenv("FRONTEND_ORIGINS")' in proc.stdout


def test_underscored_spelling_is_the_same_option(project):
    (project / "setup.cfg").write_text("[flake8]\nfastapi_cors_origins_env = FRONTEND_ORIGINS\n")
    assert 'os.getenv("FRONTEND_ORIGINS")' in flake8(project, "app.py").stdout
    assert 'os.getenv("FRONTEND_ORIGINS")' in cli(project, "app.py").stdout


def test_unknown_plugin_option_in_flake8_config_is_an_error(project):
    (project / "setup.cfg").write_text("[flake8]\nfastapi-cors-origin-env = FRONTEND_ORIGINS\n")
    proc = flake8(project, "app.py")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    setup_cfg = str(project / "setup.cfg")
    assert proc.stdout.splitlines() == [
        "There was a critical error during execution of Flake8:",
        f"{setup_cfg} [flake8]: unknown option 'fastapi-cors-origin-env'; did you mean 'fastapi-cors-origins-env'?",
    ]
    # the command line reads the same file and refuses it the same way
    proc = cli(project, "app.py")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"flake8-fastapi-cors: error: {setup_cfg} [flake8]: unknown option 'fastapi-cors-origin-env'; "
        "did you mean 'fastapi-cors-origins-env'?"
    )


@pytest.mark.parametrize(
    "line, error",
    [
        ("fastapi-cors-origins-env = FRONTEND-ORIGINS", "must be an environment variable name, not 'FRONTEND-ORIGINS'"),
        ("fastapi-cors-session-factories = db.SessionLocal, 2fast", "takes Python names, not '2fast'"),
        ("fastapi-cors-pass-through-middleware = Audit Headers!", "takes Python names, not 'Headers!'"),
    ],
)
def test_bad_values_in_flake8_config_are_errors(project, line, error):
    (project / "tox.ini").write_text(f"[flake8]\n{line}\n")
    proc = flake8(project, "app.py")
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert error in proc.stdout.splitlines()[-1]
    proc = cli(project, "app.py")
    assert proc.returncode == 2 and error in proc.stderr


def test_bad_values_on_the_command_line_are_errors(project):
    proc = flake8(project, "--fastapi-cors-origins-env", "a b", "app.py")
    assert "fastapi-cors-origins-env must be an environment variable name, not 'a b'" in proc.stdout
    proc = cli(project, "--fastapi-cors-origins-env", "a b", "app.py")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "flake8-fastapi-cors: error: command line: fastapi-cors-origins-env must be an environment variable name, "
        "not 'a b'"
    )
    proc = cli(project, "--per-file-ignores", "legacy/*:FAC999", "app.py")
    assert proc.returncode == 2
    assert "unknown code or prefix 'FAC999'" in proc.stderr


def test_every_plugin_option_has_one_name_everywhere(project):
    flake8_help = subprocess.run([FLAKE8, "--help"], capture_output=True, text=True).stdout
    cli_help = cli(project, "--help").stdout
    for setting in plugin_settings():
        assert f"--{setting.name}" in flake8_help
    for setting in SETTINGS:
        assert f"--{setting.name}" in cli_help
    table = "\n".join(
        f'{s.name} = {"false" if s.kind == "bool" else chr(34) + "X" + chr(34)}'
        for s in SETTINGS
        if s.kind in ("bool", "env-name", "names", "globs")
    )
    (project / "pyproject.toml").write_text(f"[tool.flake8-fastapi-cors]\n{table}\n")
    assert cli(project, "app.py").returncode == 1  # every name accepted; FAC101 still found


# -- per-file ignores --------------------------------------------------------------


def test_per_file_ignores_in_flake8_config(project):
    (project / "setup.cfg").write_text("[flake8]\nper-file-ignores =\n    legacy/*.py: FAC101\n")
    assert found(flake8(project, ".").stdout) == [("app.py", 5, "FAC101")]


@pytest.mark.parametrize(
    "table",
    [
        '[tool.flake8-fastapi-cors]\nper-file-ignores = {"legacy/*.py" = ["FAC101"]}\n',
        '[tool.flake8-fastapi-cors.per-file-ignores]\n"legacy/*.py" = "FAC1"\n',
        '[tool.flake8-fastapi-cors]\nper-file-ignores = "legacy/*.py:FAC101,E501"\n',
    ],
)
def test_per_file_ignores_in_pyproject_match_flake8(project, table):
    (project / "pyproject.toml").write_text(table)
    (project / "setup.cfg").write_text("[flake8]\nper-file-ignores =\n    legacy/*.py: FAC101\n")
    by_cli = found(cli(project, ".").stdout)
    assert by_cli == [("app.py", 5, "FAC101")]
    assert by_cli == found(flake8(project, ".").stdout)


def test_per_file_ignores_on_the_command_line(project):
    proc = cli(project, "--per-file-ignores", "old.py:FAC101", "app.py", "legacy/old.py")
    assert found(proc.stdout) == [("app.py", 5, "FAC101")]
    # flake8's own option on the same files agrees
    assert found(flake8(project, "--per-file-ignores", "old.py:FAC101", "app.py", "legacy/old.py").stdout) == [
        ("app.py", 5, "FAC101")
    ]


def test_per_file_ignores_also_stop_fixes(project):
    (project / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nper-file-ignores = {"legacy/*" = "FAC1"}\n')
    cli(project, "--fix", "--unsafe-fixes", ".")
    assert (project / "legacy" / "old.py").read_text() == APP
    assert (project / "app.py").read_text() != APP


# -- where the command line reads from ---------------------------------------------


def test_command_line_uses_the_plugin_options_of_the_flake8_config(project):
    (project / ".flake8").write_text("[flake8]\nfastapi-cors-origins-env = FRONTEND_ORIGINS\nmax-line-length = 99\n")
    cli(project, "--fix", "--unsafe-fixes", "app.py")
    assert 'os.getenv("FRONTEND_ORIGINS", "")' in (project / "app.py").read_text()


def test_pyproject_wins_over_flake8_config_and_the_command_line_over_both(project):
    (project / "setup.cfg").write_text("[flake8]\nfastapi-cors-origins-env = FROM_SETUP_CFG\n")
    (project / "pyproject.toml").write_text('[tool.flake8-fastapi-cors]\nfastapi-cors-origins-env = "FROM_PYPROJECT"\n')
    assert 'os.getenv("FROM_PYPROJECT")' in cli(project, "app.py").stdout
    assert 'os.getenv("FROM_ARGS")' in cli(project, "--fastapi-cors-origins-env", "FROM_ARGS", "app.py").stdout


@pytest.mark.parametrize("pattern", ["legacy", "legacy/*", "old.py"])
def test_exclude_matches_files_as_flake8_does(project, pattern):
    by_cli = found(cli(project, "--exclude", pattern, ".").stdout)
    assert by_cli == [("app.py", 5, "FAC101")]
    assert by_cli == found(flake8(project, "--extend-exclude", pattern, ".").stdout)
