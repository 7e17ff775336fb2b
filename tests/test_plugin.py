"""The plugin inside real flake8: registration, options, noqa, opt-in codes."""

import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import flake8_in_process, flake8_subprocess, lint_source

WILDCARD = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    public = FastAPI()
    public.add_middleware(CORSMiddleware, allow_origins=["*"])

    @public.exception_handler(Exception)
    async def on_error(request, exc): ...
""")


def test_flake8_version_lists_the_plugin():
    out = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert "flake8-fastapi-cors" in out


def test_subprocess_reports_code_line_and_column(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(WILDCARD)
    found = flake8_subprocess([path])[str(path)]
    assert [(line, col, code) for line, col, code, _ in found] == [(5, 50, "FAC101")]
    assert "Access-Control-Allow-Credentials" in found[0][3]


def test_opt_in_codes_need_naming():
    assert {c for _, _, c, _ in lint_source(WILDCARD)} == {"FAC101"}
    enabled = lint_source(WILDCARD, "--extend-select", "FAC102,FAC110")
    assert {(line, code) for line, _, code, _ in enabled} == {(5, "FAC101"), (7, "FAC102"), (9, "FAC110")}
    only_102 = lint_source(WILDCARD, "--select", "FAC102")
    assert {(line, code) for line, _, code, _ in only_102} == {(7, "FAC102")}


def test_default_flake8_run_without_select_keeps_opt_in_codes_off(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(WILDCARD)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", str(path)], capture_output=True, text=True)
    assert "FAC101" in proc.stdout
    assert "FAC102" not in proc.stdout and "FAC110" not in proc.stdout


def test_noqa_is_honoured():
    source = WILDCARD.replace("allow_credentials=True)", "allow_credentials=True)  # noqa: FAC101")
    assert lint_source(source) == []
    other = WILDCARD.replace("allow_credentials=True)", "allow_credentials=True)  # noqa: FAC103")
    assert [c for _, _, c, _ in lint_source(other)] == ["FAC101"]


def test_options_are_read_from_flake8_config_files(tmp_path):
    (tmp_path / "setup.cfg").write_text("[flake8]\nselect = FAC\nfastapi-cors-origins-env = FRONTEND_ORIGINS\n")
    (tmp_path / "app.py").write_text(WILDCARD)
    proc = subprocess.run([sys.executable, "-m", "flake8", "app.py"], capture_output=True, text=True, cwd=tmp_path)
    assert 'os.getenv("FRONTEND_ORIGINS")' in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "setup.cfg").write_text("[flake8]\nselect = FAC\nextend-select = FAC102\n")
    proc = subprocess.run([sys.executable, "-m", "flake8", "app.py"], capture_output=True, text=True, cwd=tmp_path)
    assert "FAC102" in proc.stdout and "FAC110" not in proc.stdout


def test_middleware_name_options_change_fac107():
    source = textwrap.dedent("""\
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware
        from company.middleware import TenantGate, AuthHeaders

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"])
        app.add_middleware(TenantGate)
        app.add_middleware(AuthHeaders)
    """)
    default = [c for _, _, c, _ in lint_source(source)]
    assert default == ["FAC107"]  # AuthHeaders: the name says auth
    quiet = lint_source(source, "--fastapi-cors-pass-through-middleware=AuthHeaders")
    assert quiet == []
    loud = lint_source(
        source,
        "--fastapi-cors-pass-through-middleware=AuthHeaders",
        "--fastapi-cors-short-circuit-middleware=TenantGate",
    )
    assert [(line, c) for line, _, c, _ in loud] == [(6, "FAC107")]
    assert "TenantGate" in loud[0][3]


def test_syntax_error_does_not_break_flake8(tmp_path):
    (tmp_path / "broken.py").write_text("from fastapi.middleware.cors import CORSMiddleware\ndef f(:\n")
    (tmp_path / "app.py").write_text(WILDCARD)
    found = flake8_in_process([tmp_path], "--select", "FAC,E999")
    assert [c for _, _, c, _ in found[str(tmp_path / "broken.py")]] == ["E999"]
    assert [c for _, _, c, _ in found[str(tmp_path / "app.py")]] == ["FAC101"]


def test_files_without_cors_are_skipped_quickly(tmp_path):
    (tmp_path / "plain.py").write_text("allow_origins = ['*']\nallow_credentials = True\n")
    assert flake8_in_process([tmp_path]) == {}


def test_the_project_passes_its_own_flake8_configuration():
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "flake8_fastapi_cors", "bench", "tests"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hard_coded_origins_are_fine_in_test_modules_only(tmp_path):
    source = WILDCARD.replace('["*"], allow_credentials=True', '["https://a.example.com"]')
    for name in ("test_cors.py", "cors_test.py", "conftest.py"):
        (tmp_path / name).write_text(source)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "app.py").write_text(source)
    found = flake8_in_process([tmp_path])
    assert list(found) == [str(tmp_path / "tests" / "app.py")]
    assert [c for _, _, c, _ in found[str(tmp_path / "tests" / "app.py")]] == ["FAC103"]
