"""The hooks in `.pre-commit-hooks.yaml`, installed and run by the real pre-commit.

A git repository holding a copy of the current working tree (uncommitted changes
included) plays the hook repository; pre-commit installs it once per module into
its own store, then runs the hooks in a throw-away user repository per test."""

import fnmatch
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_cors.config import DEFAULT_EXCLUDES

ROOT = Path(__file__).parents[1]
HOOK_IDS = ("flake8-fastapi-cors", "flake8-fastapi-cors-fix")
# not part of the project: version control, environments, build output, caches
NOT_COPIED = (*DEFAULT_EXCLUDES, "*.py[co]")
GIT_CONFIG = (
    "-c",
    "user.name=flake8-fastapi-cors tests",
    "-c",
    "user.email=tests@flake8-fastapi-cors.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "core.autocrlf=false",
)

FLAWED = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/"], allow_methods=["*"])
""")
FAC103 = (
    'app.py:5:50: FAC103 origins "http://localhost:3000/" are hard-coded: each deploy target needs its own list.'
    ' Read them from configuration, e.g. os.getenv("CORS_ALLOWED_ORIGINS", "http://localhost:3000/").split(",").'
)
FAC104 = (
    'app.py:5:51: FAC104 origin "http://localhost:3000/" never matches: it has a trailing slash, and Starlette'
    ' compares the browser\'s Origin exactly; write "http://localhost:3000".'
)
# FAC104 drops the slash, FAC103 moves the list into the environment (both fixes are safe)
FIXED = (
    "from fastapi import FastAPI\n"
    "from fastapi.middleware.cors import CORSMiddleware\n"
    "import os\n"
    "\n"
    "app = FastAPI()\n"
    # one line in the file, split here only to keep this module's lines short
    'app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS",'
    ' "http://localhost:3000").split(",") if o.strip()], allow_methods=["*"])\n'
)
# FAC101 only has an unsafe fix: `--fix` leaves the file alone and exits 1
UNFIXABLE = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""")
CLEAN = textwrap.dedent("""\
    import os

    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.strip() for o in os.getenv("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()],
        allow_methods=["GET", "POST"],
    )
""")


def _base_env():
    """This process's environment without anything that steers git or pre-commit elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key not in ("SKIP", "PIP_USER")
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def git(cwd, *args):
    proc = subprocess.run(["git", *GIT_CONFIG, *args], cwd=cwd, env=_base_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout.strip()


def _copy_project(target):
    for root, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not any(fnmatch.fnmatch(d, pattern) for pattern in NOT_COPIED)]
        for name in files:
            source = Path(root, name)
            if any(fnmatch.fnmatch(name, pattern) for pattern in NOT_COPIED) or not source.is_file():
                continue
            destination = target / source.relative_to(ROOT)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """(file:// url, commit sha) of a git repository holding the current working tree."""
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH; pre-commit needs it")
    repo = tmp_path_factory.mktemp("hook-repo")
    _copy_project(repo)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "working tree of flake8-fastapi-cors")
    return repo.as_uri(), git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One pre-commit store for the module: the hook environment is built once."""
    return {**_base_env(), "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}


@pytest.fixture
def user_repo(tmp_path, hook_repo):
    url, sha = hook_repo
    repo = tmp_path / "user"
    repo.mkdir()
    git(repo, "init", "--quiet")
    hooks = "".join(f"      - id: {hook_id}\n" for hook_id in HOOK_IDS)
    (repo / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: {url}\n    rev: {sha}\n    hooks:\n{hooks}")
    return repo


def add_app(repo, source):
    (repo / "app.py").write_text(source, encoding="utf-8")
    git(repo, "add", "--all")


def run_hook(repo, env, hook_id):
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook_id, "--all-files", "--color=never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    # 0: hook passed, 1: hook failed; anything else (3: install or other error) is never expected
    assert proc.returncode in (0, 1), f"pre-commit exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    return proc


def test_manifest_lists_the_check_and_the_fixer():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [(hook["id"], hook["entry"], hook["language"], hook["types"]) for hook in hooks] == [
        ("flake8-fastapi-cors", "flake8-fastapi-cors", "python", ["python"]),
        ("flake8-fastapi-cors-fix", "flake8-fastapi-cors --fix", "python", ["python"]),
    ]
    assert all(hook["name"] and hook["description"] for hook in hooks)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        env=_base_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_hook_reports_findings_and_writes_nothing(user_repo, env):
    add_app(user_repo, FLAWED)
    proc = run_hook(user_repo, env, "flake8-fastapi-cors")
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()
    assert "- hook id: flake8-fastapi-cors" in lines and "- exit code: 1" in lines
    assert FAC103 in lines and FAC104 in lines
    assert "files were modified" not in proc.stdout
    assert (user_repo / "app.py").read_text(encoding="utf-8") == FLAWED


def test_fix_hook_rewrites_the_file_and_fails_until_staged(user_repo, env):
    add_app(user_repo, FLAWED)
    proc = run_hook(user_repo, env, "flake8-fastapi-cors-fix")
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()
    # every finding was fixed, so the command exited 0: pre-commit fails the hook for the rewrite alone
    assert "- hook id: flake8-fastapi-cors-fix" in lines and "- files were modified by this hook" in lines
    assert not any(line.startswith("- exit code:") for line in lines)
    assert "flake8-fastapi-cors: 2 findings: 2 fixed, 0 remaining" in lines
    assert (user_repo / "app.py").read_text(encoding="utf-8") == FIXED

    git(user_repo, "add", "--all")
    again = run_hook(user_repo, env, "flake8-fastapi-cors-fix")
    assert again.returncode == 0, again.stdout
    assert (user_repo / "app.py").read_text(encoding="utf-8") == FIXED
    check = run_hook(user_repo, env, "flake8-fastapi-cors")
    assert check.returncode == 0, check.stdout


def test_fix_hook_fails_on_findings_without_a_safe_fix(user_repo, env):
    add_app(user_repo, UNFIXABLE)
    proc = run_hook(user_repo, env, "flake8-fastapi-cors-fix")
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()
    assert "- exit code: 1" in lines and "- files were modified by this hook" not in lines
    assert any(line.startswith("app.py:5:") and " FAC101 " in line for line in lines), proc.stdout
    assert (user_repo / "app.py").read_text(encoding="utf-8") == UNFIXABLE


def test_clean_app_passes_both_hooks(user_repo, env):
    add_app(user_repo, CLEAN)
    for hook_id in HOOK_IDS:
        proc = run_hook(user_repo, env, hook_id)
        assert proc.returncode == 0, proc.stdout
        assert proc.stdout.rstrip().endswith("Passed"), proc.stdout
    assert (user_repo / "app.py").read_text(encoding="utf-8") == CLEAN
