"""The rule pages and README table are generated from the records and must be
current; `flake8-fastapi-cors rule` prints the same pages."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_fastapi_cors.docs import GENERATED, TABLE_END, TABLE_START, rule_markdown, stale_files, write
from flake8_fastapi_cors.registry import RULES, all_rules

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("flake8-fastapi-cors", path=os.path.dirname(sys.executable)) or "flake8-fastapi-cors"
SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## References")


def test_generated_docs_are_current():
    stale = stale_files(str(ROOT))
    assert stale == [], f"stale generated docs, run `python -m flake8_fastapi_cors.docs`: {stale}"


@pytest.mark.parametrize("code", [r.code for r in all_rules()])
def test_each_rule_page_has_the_six_sections_in_order(code):
    page = (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
    positions = [page.find(section) for section in SECTIONS]
    assert -1 not in positions and positions == sorted(positions)
    assert page.startswith(GENERATED)


def test_readme_table_links_every_rule():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(TABLE_START) : readme.index(TABLE_END)]
    for rule in all_rules():
        assert f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.name} |" in table


def test_staleness_is_detected_and_repaired(tmp_path):
    (tmp_path / "README.md").write_text(f"# x\n\n{TABLE_START}\nold\n{TABLE_END}\n")
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "rules" / "FAC999.md").write_text("a rule that no longer exists\n")
    stale = stale_files(str(tmp_path))
    assert str(tmp_path / "README.md") in stale
    assert str(tmp_path / "docs" / "rules" / "FAC999.md") in stale
    assert str(tmp_path / "docs" / "rules" / "FAC101.md") in stale
    write(str(tmp_path))
    assert stale_files(str(tmp_path)) == []
    assert not (tmp_path / "docs" / "rules" / "FAC999.md").exists()
    (tmp_path / "docs" / "rules" / "FAC101.md").write_text("edited by hand\n")
    assert stale_files(str(tmp_path)) == [str(tmp_path / "docs" / "rules" / "FAC101.md")]


def test_docs_command_check_mode_exits_1_when_stale(tmp_path):
    (tmp_path / "README.md").write_text(f"{TABLE_START}\n{TABLE_END}\n")
    check = [sys.executable, "-m", "flake8_fastapi_cors.docs", "--root", str(tmp_path), "--check"]
    assert subprocess.run(check, capture_output=True).returncode == 1
    subprocess.run([sys.executable, "-m", "flake8_fastapi_cors.docs", "--root", str(tmp_path)], check=True)
    assert subprocess.run(check, capture_output=True).returncode == 0


def test_rule_command_prints_the_page():
    proc = subprocess.run([EXE, "rule", "FAC101"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout == rule_markdown(RULES["FAC101"])
    page = (ROOT / "docs" / "rules" / "FAC101.md").read_text(encoding="utf-8")
    assert page == GENERATED + "\n\n" + proc.stdout


def test_rule_command_takes_names_lists_rules_and_rejects_unknown_ones():
    by_name = subprocess.run([EXE, "rule", "global-session"], capture_output=True, text=True)
    assert by_name.stdout.startswith("# FAC201: global-session\n")
    listing = subprocess.run([EXE, "rule"], capture_output=True, text=True).stdout.splitlines()
    assert len(listing) == len(all_rules())
    assert listing[1] == "FAC102  wildcard-origin: Every origin allowed (no credentials) (off by default)"
    unknown = subprocess.run([EXE, "rule", "FAC999"], capture_output=True, text=True)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "flake8-fastapi-cors: error: no rule 'FAC999' (codes are FAC101-FAC208)"


def _yaml_blocks(readme):
    yaml = pytest.importorskip("yaml")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", readme, re.S)]


def test_readme_pre_commit_snippet_names_the_shipped_hooks():
    yaml = pytest.importorskip("yaml")
    shipped = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ours = [b for b in _yaml_blocks(readme) if "repos" in b and "flake8-fastapi-cors" in b["repos"][0]["repo"]]
    assert [hook["id"] for hook in ours[0]["repos"][0]["hooks"]] == sorted(shipped)


@pytest.mark.skipif(sys.version_info < (3, 10), reason="SARIF output needs Python 3.10")
def test_readme_github_workflow_writes_the_sarif_it_uploads(tmp_path):
    """The workflow's check step, run as written, fails on findings and leaves a
    SARIF file that the upload step (which runs anyway) names."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [workflow] = [b for b in _yaml_blocks(readme) if "jobs" in b]
    assert workflow["permissions"]["security-events"] == "write"
    [job] = workflow["jobs"].values()
    check = next(step for step in job["steps"] if step.get("name") == "Check")
    upload = next(step for step in job["steps"] if "upload-sarif" in step.get("uses", ""))
    assert upload["if"] == "always()"
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\n"
        'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
    )
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run(["bash", "-c", check["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1  # the job fails on findings
    log = json.loads((tmp_path / upload["with"]["sarif_file"]).read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["FAC101"]
