"""The comment that "Ignore FACxxx on this line" adds (the language server's
noqa action), in process: where it goes, that it silences the finding, and
that it is not offered where it would change or break the code."""

import pytest

pytest.importorskip("pygls")

from flake8_fastapi_cors.fix import Edit  # noqa: E402
from flake8_fastapi_cors.server import check_document, noqa_comment  # noqa: E402

NOQA_CASES = [
    ("plain", 'ORIGINS = ["http://localhost:3000/"]', 'ORIGINS = ["http://localhost:3000/"]  # noqa: FAC104'),
    (
        "after a comment",
        'ORIGINS = ["http://localhost:3000/"]  # the dev server',
        'ORIGINS = ["http://localhost:3000/"]  # the dev server  # noqa: FAC104',
    ),
    (
        "into a noqa list",
        'ORIGINS = ["http://localhost:3000/"]  # noqa: E501 (long)',
        'ORIGINS = ["http://localhost:3000/"]  # noqa: E501, FAC104 (long)',
    ),
    (
        "trailing spaces",
        'ORIGINS = ["http://localhost:3000/"]   ',
        'ORIGINS = ["http://localhost:3000/"]  # noqa: FAC104',
    ),
    ("a noqa in a string", 'ORIGINS = ["http://localhost:3000/", "# noqa: E501"]', None),
    ("inside a string", 'ORIGINS = ["http://localhost:3000/", """\nx"""]', None),
    ("a backslash", 'ORIGINS = ["http://localhost:3000/",  \\\n    "http://b.example"]', None),
]


@pytest.mark.parametrize("name, line, expected", NOQA_CASES, ids=[c[0] for c in NOQA_CASES])
def test_noqa_comment(tmp_path, name, line, expected):
    head = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\n"
    tail = "\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=ORIGINS)\n"
    text = head + line + tail
    checked = check_document(str(tmp_path / "app.py"), text, 1, [str(tmp_path)])
    finding = next(f for f in checked.findings if f.code == "FAC104")

    edits = noqa_comment(checked, finding)

    if expected is None:
        assert edits is None
        return
    [edit] = edits
    assert isinstance(edit, Edit) and edit.line == edit.end_line == 4
    lines = text.splitlines()
    lines[3] = lines[3][: edit.column - 1] + edit.content + lines[3][edit.end_column - 1 :]
    assert lines[3] == expected
    silenced = check_document(str(tmp_path / "app.py"), "\n".join(lines) + "\n", 2, [str(tmp_path)])
    assert "FAC104" not in [f.code for f in silenced.findings]
