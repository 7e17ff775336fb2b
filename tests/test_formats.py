"""`--format json|sarif|github`: the installed command in a subprocess. SARIF is
validated against the official SARIF 2.1.0 schema (tests/data, from OASIS)."""

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_cors.fix import _apply_once, edits, text_edits
from flake8_fastapi_cors.registry import RULES, Options, all_rules
from flake8_fastapi_cors.source import check_source, decode

EXE = shutil.which("flake8-fastapi-cors", path=os.path.dirname(sys.executable)) or "flake8-fastapi-cors"
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

APP = textwrap.dedent("""\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000/"])
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # é
""")
ALL_CODES = [r.code for r in all_rules()]


def run(*args, cwd):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "broken.py").write_text("x = (\n")
    return tmp_path


def apply_edits(text, found):
    """Apply 1-based line/character edits (as JSON and SARIF give them)."""
    lines = text.splitlines(keepends=True) + [""]
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(line, column):
        return offsets[line - 1] + column - 1

    for edit in sorted(found, key=lambda e: (e["line"], e["column"]), reverse=True):
        start, end = offset(edit["line"], edit["column"]), offset(edit["end_line"], edit["end_column"])
        text = text[:start] + edit["content"] + text[end:]
    return text


def test_json_lists_positions_fix_safety_and_edits(project):
    proc = run("--format", "json", "app.py", "broken.py", cwd=project)
    assert proc.returncode == 2  # broken.py could not be parsed
    report = json.loads(proc.stdout)
    [error] = report["errors"]  # the wording of the syntax error depends on the Python version
    assert error.startswith("broken.py: cannot parse: ") and error.endswith(" (line 1)")
    found = {(f["code"], f["line"], f["column"], f["end_line"], f["end_column"]) for f in report["findings"]}
    assert found == {
        ("FAC103", 5, 50, 5, 76),  # the list
        ("FAC104", 5, 51, 5, 75),  # the string
        ("FAC101", 6, 51, 6, 54),
    }
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code["FAC104"]["fix"] == {
        "safety": "safe",
        "edits": [{"line": 5, "column": 73, "end_line": 5, "end_column": 74, "content": ""}],
    }
    assert by_code["FAC101"]["fix"]["safety"] == "unsafe"
    assert by_code["FAC101"]["path"] == "app.py"
    assert by_code["FAC101"]["name"] == "credentialed-wildcard-origin"
    assert by_code["FAC101"]["message"].startswith("allow_credentials is on and allow_origins contains")
    assert by_code["FAC101"]["url"].endswith("/docs/rules/FAC101.md")
    # each fix's edits, applied alone, remove its finding
    for code in ("FAC101", "FAC104", "FAC103"):
        fixed = apply_edits(APP, by_code[code]["fix"]["edits"])
        left = check_source("app.py", fixed.encode(), fixed, Options(), ALL_CODES)
        assert code not in {f.code for f in left}, code


def test_json_columns_count_characters_after_non_ascii(tmp_path):
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\napp = FastAPI()\n"
        'ü = 1; app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n',
        encoding="utf-8",
    )
    report = json.loads(run("--format", "json", "app.py", cwd=tmp_path).stdout)
    [finding] = report["findings"]
    line = (tmp_path / "app.py").read_text(encoding="utf-8").splitlines()[3]
    assert finding["column"] == line.index('["*"]') + 2  # the "*" inside the brackets, 1-based characters
    assert f"app.py:4:{line.index('[') + 2}: FAC101" in run("app.py", cwd=tmp_path).stdout  # text too


def test_json_of_a_clean_tree_is_an_empty_list(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    proc = run("--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"findings": [], "errors": []}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sarif-pydantic needs Python 3.10")
def test_sarif_validates_against_the_official_schema(project):
    jsonschema = pytest.importorskip("jsonschema")
    proc = run("--format", "sarif", "app.py", "broken.py", cwd=project)
    assert proc.returncode == 2
    log = json.loads(proc.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(log)]
    assert errors == []
    [sarif_run] = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == ALL_CODES
    fac101 = driver["rules"][0]
    assert fac101["name"] == "credentialed-wildcard-origin"
    assert fac101["helpUri"].endswith("/docs/rules/FAC101.md")
    assert fac101["help"]["markdown"].startswith("# FAC101: credentialed-wildcard-origin")
    assert fac101["shortDescription"]["text"] == RULES["FAC101"].summary
    results = {r["ruleId"]: r for r in sarif_run["results"]}
    assert set(results) == {"FAC101", "FAC103", "FAC104"}
    for result in results.values():
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    location = results["FAC104"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 51, "endLine": 5, "endColumn": 75}
    [fix] = results["FAC104"]["fixes"]
    [change] = fix["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 5, "startColumn": 73, "endLine": 5, "endColumn": 74},
            "insertedContent": {"text": ""},
        }
    ]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    [invocation] = sarif_run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].startswith("broken.py: cannot parse")


def test_github_prints_workflow_annotations(project):
    proc = run("--format", "github", "app.py", "broken.py", cwd=project)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "::warning file=app.py,line=5,col=50,endLine=5,endColumn=76,title=FAC103 hardcoded-origins::origins "
    )
    assert lines[2].startswith(
        "::warning file=app.py,line=6,col=51,endLine=6,endColumn=54,title=FAC101 credentialed-wildcard-origin::"
    )
    assert lines[-1].startswith("::error title=flake8-fastapi-cors::broken.py: cannot parse: ")
    assert lines[-1].endswith(" (line 1)")


def test_github_escapes_what_workflow_commands_reserve(tmp_path):
    name = "a,b%c.py"
    (tmp_path / name).write_text(APP)
    line = run("--format", "github", name, cwd=tmp_path).stdout.splitlines()[0]
    assert line.startswith("::warning file=a%2Cb%25c.py,line=5,")


def test_formats_that_cannot_share_stdout_are_refused(project):
    proc = run("--diff", "--format", "json", "app.py", cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "flake8-fastapi-cors: error: --diff prints a diff; it cannot be combined with --format json"
    )


def test_json_after_fix_reports_what_remains(project):
    proc = run("--fix", "--format", "json", "app.py", cwd=project)
    report = json.loads(proc.stdout)
    assert [f["code"] for f in report["findings"]] == ["FAC101"]  # unsafe: not applied
    text = (project / "app.py").read_text(encoding="utf-8")
    assert (
        report["findings"][0]["line"]
        == text.splitlines().index(next(line for line in text.splitlines() if '["*"]' in line)) + 1
    )


# -- the edits themselves, on every flagged example of every rule ---------------


@pytest.mark.parametrize("code", [r.code for r in all_rules() if r.fix])
def test_edits_reproduce_each_fix(code):
    """A finding's edits, applied to the original text, give exactly the text its
    fix gives (CRLF and non-ASCII included)."""
    checked = 0
    for source in RULES[code].flagged:
        for variant in (source, source.replace("\n", "\r\n")):
            data = variant.encode("utf-8")
            for finding in check_source("example.py", data, variant, Options(opt_in=tuple(ALL_CODES)), [code]):
                if finding.fix is None:
                    continue
                found = edits("example.py", data, finding)
                if found is None:
                    continue
                new_data, _, _ = _apply_once("example.py", data, variant, [finding], ast.parse(data))
                as_dicts = [e.__dict__ for e in found]
                assert apply_edits(variant, as_dicts) == decode(new_data, "example.py")
                checked += 1
    assert checked, f"no example of {code} had an applicable fix"


def test_text_edits_positions():
    before = "a = 1\nb = [2]\nc\n"
    after = "import os\na = 1\nb = [3]\nc\n"
    assert [(e.line, e.column, e.end_line, e.end_column, e.content) for e in text_edits(before, after)] == [
        (1, 1, 1, 1, "import os\n"),
        (2, 6, 2, 7, "3"),
    ]
    assert text_edits("same\n", "same\n") == []


def test_flake8_plugin_columns_count_characters_too(tmp_path):
    source = (
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\napp = FastAPI()\n"
        'ü = "é"; app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
    )
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    flake8 = shutil.which("flake8", path=os.path.dirname(sys.executable)) or "flake8"
    proc = subprocess.run(
        [flake8, "--isolated", "--select", "FAC", "app.py"], capture_output=True, text=True, cwd=tmp_path
    )
    line = source.splitlines()[3]
    assert proc.stdout.startswith(f"app.py:4:{line.index('[') + 2}: FAC101 ")
