"""Running the real flake8 on sources and files, and reading expected findings
from `# FACxxx` marker comments."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from flake8.main.cli import main as flake8_main

FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"

# An application with FAC101 (an unsafe fix) on line 4 and FAC106 (a safe fix) on line 5.
APP = (
    "from fastapi import FastAPI\n"
    "from fastapi.middleware.cors import CORSMiddleware\n"
    "app = FastAPI()\n"
    'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
    'app.add_middleware(CORSMiddleware, allow_origins="https://example.com")\n'
)
APP_FINDINGS = [(4, "FAC101"), (5, "FAC106")]
# A marker comment starts with the code: `# FAC101` or `# FAC103 FAC104:51` (col is 0-based).
MARKER = re.compile(r"^#\s*(FAC\d{3}(?::\d+)?(?:[\s,]+FAC\d{3}(?::\d+)?)*)\b")

Found = Tuple[int, int, str, str]  # line, col (0-based), code, text


def expected_markers(source: str) -> Set[Tuple[int, str]]:
    """(line, code) pairs from marker comments."""
    return {(line, code) for line, code, _col in expected_with_columns(source)}


def expected_with_columns(source: str) -> List[Tuple[int, str, Optional[int]]]:
    out = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = MARKER.match(token.string)
        if not match:
            continue
        for item in re.findall(r"FAC\d{3}(?::\d+)?", match.group(1)):
            code, _, col = item.partition(":")
            out.append((token.start[0], code, int(col) if col else None))
    return out


def _parse(output: str) -> Dict[str, List[Found]]:
    results: Dict[str, List[Found]] = {}
    for line in output.splitlines():
        path, row, col, code, text = line.split("\t", 4)
        results.setdefault(os.path.normpath(path), []).append((int(row), int(col) - 1, code, text))
    return results


def flake8_in_process(paths: Iterable[str], *args: str) -> Dict[str, List[Found]]:
    """Run flake8 in this process (`--isolated`, FAC codes only unless args say otherwise)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.txt")
        argv = [
            "--isolated",
            "--select",
            "FAC",
            f"--format={FORMAT}",
            f"--output-file={report}",
            *args,
            *map(str, paths),
        ]
        try:
            flake8_main(argv)
        except SystemExit as exit_:
            assert exit_.code in (0, 1, None), f"flake8 exited {exit_.code}"
        with open(report, encoding="utf-8") as handle:
            return _parse(handle.read())


def flake8_subprocess(
    paths: Iterable[str], *args: str, cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None
) -> Dict[str, List[Found]]:
    argv = [
        sys.executable,
        "-m",
        "flake8",
        "--isolated",
        "--select",
        "FAC",
        f"--format={FORMAT}",
        *args,
        *map(str, paths),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    return _parse(proc.stdout)


def command_line(*args: str) -> List[str]:
    """`python -m flake8_fastapi_cors` with every code selected (the default-off
    ones too), then `args`."""
    from flake8_fastapi_cors.registry import all_rules

    return [sys.executable, "-m", "flake8_fastapi_cors", "--select", ",".join(r.code for r in all_rules()), *args]


def run_command_line(
    *args: str, cwd, env: Optional[Dict[str, str]] = None, wrapper: Iterable[str] = ()
) -> subprocess.CompletedProcess:
    """Run `command_line(*args)` (behind `wrapper`, e.g. setpriv) in `cwd`."""
    command = [*wrapper, *command_line(*args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def lint_source(source: str, *args: str, filename: str = "app.py") -> List[Found]:
    """Write `source` to a temporary file and run flake8 on it in process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        return flake8_in_process([str(path)], *args).get(os.path.normpath(str(path)), [])


def codes_at_lines(found: List[Found]) -> Set[Tuple[int, str]]:
    return {(line, code) for line, _col, code, _text in found}


def example_sources() -> List[Tuple[str, str, str]]:
    """(source, path, id) of every rule's flagged example, every fixture file
    (at its real path, so sibling modules resolve) and every runtime test app."""
    from flake8_fastapi_cors.registry import all_rules

    out = []
    for rule in all_rules():
        for index, source in enumerate(rule.flagged):
            out.append((source, f"{rule.code.lower()}_{index}.py", f"example-{rule.code}-{index}"))
    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "fixtures").rglob("*.py")):
        out.append((path.read_text(encoding="utf-8"), str(path), str(path.relative_to(root))))
    sys.path.insert(0, str(Path(__file__).parent))
    import test_runtime_cors
    import test_runtime_sessions

    for module in (test_runtime_cors, test_runtime_sessions):
        for name, value in sorted(vars(module).items()):
            if name.isupper() and isinstance(value, str) and "import" in value and "TEMPLATE" not in name:
                out.append((value, "app.py", f"{module.__name__}.{name}"))
    return out
