"""Output formats of the command line: text (flake8's), json, sarif, github.

Text and GitHub annotations are printed as files are checked; JSON and SARIF
are one document, printed when the run ends. Columns count characters from 1.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import IO, List, Optional, Sequence

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.registry import RULES, Finding, Rule, all_rules

FORMATS = ("text", "json", "sarif", "github")
HOMEPAGE = "https://github.com/flake8-fastapi-cors/flake8-fastapi-cors"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def rule_url(code: str) -> str:
    """Where a rule's documentation is published (docs/rules/ of the repository)."""
    return f"{HOMEPAGE}/blob/main/docs/rules/{code}.md"


@dataclass
class Located:
    """A finding, where it is, and (for the formats that show them) its fix's edits."""

    path: str
    finding: Finding
    edits: Optional[list] = None  # fix.Edit list when the finding's fix applies here

    @property
    def column(self) -> int:  # 1-based, characters
        return self.finding.col + 1

    @property
    def end_line(self) -> int:
        return (self.finding.end or (self.finding.line, self.finding.col))[0]

    @property
    def end_column(self) -> int:  # 1-based, characters, excluded
        return (self.finding.end or (self.finding.line, self.finding.col))[1] + 1


class Reporter:
    """Shows what one run finds: `show` per file, `problem` per file that could
    not be checked, `close` at the end."""

    needs_edits = False  # the format shows each fix's edits

    def __init__(self, out: Optional[IO[str]] = None) -> None:
        self.out = out or sys.stdout
        self.problems: List[str] = []

    def show(self, located: Sequence[Located]) -> None:
        raise NotImplementedError

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def close(self) -> None:
        pass


class TextReporter(Reporter):
    def show(self, located):
        for item in located:
            f = item.finding
            print(f"{item.path}:{f.line}:{item.column}: {f.code} {f.message}", file=self.out)


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: one annotation per finding."""

    def show(self, located):
        for item in located:
            f = item.finding
            where = f"file={_property(item.path)},line={f.line},col={item.column}"
            where += f",endLine={item.end_line},endColumn={item.end_column}"
            title = _property(f"{f.code} {_name(f.code)}")
            print(f"::warning {where},title={title}::{_data(f.message)}", file=self.out)

    def problem(self, message):
        super().problem(message)
        print(f"::error title=flake8-fastapi-cors::{_data(message)}", file=self.out)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class JsonReporter(Reporter):
    needs_edits = True

    def __init__(self, out=None):
        super().__init__(out)
        self.items: List[dict] = []

    def show(self, located):
        for item in located:
            f = item.finding
            self.items.append(
                {
                    "code": f.code,
                    "name": _name(f.code),
                    "message": f.message,
                    "path": item.path,
                    "line": f.line,
                    "column": item.column,
                    "end_line": item.end_line,
                    "end_column": item.end_column,
                    "url": rule_url(f.code) if f.code in RULES else None,
                    "fix": _json_fix(item),
                }
            )

    def close(self):
        json.dump({"findings": self.items, "errors": self.problems}, self.out, indent=2)
        self.out.write("\n")


def _json_fix(item: Located) -> Optional[dict]:
    if item.edits is None:
        return None
    return {
        "safety": item.finding.fix_safety,
        "edits": [
            {
                "line": e.line,
                "column": e.column,
                "end_line": e.end_line,
                "end_column": e.end_column,
                "content": e.content,
            }
            for e in item.edits
        ],
    }


class SarifReporter(Reporter):
    """SARIF 2.1.0, as GitHub code scanning reads it, built with sarif-pydantic."""

    needs_edits = True

    def __init__(self, out=None):
        super().__init__(out)
        self.located: List[Located] = []

    def show(self, located):
        for item in located:
            if item.finding.code in RULES:
                self.located.append(item)
            else:  # FAC000: the file could not be checked
                self.problem(f"{item.path}: {item.finding.message}")

    def close(self):
        from sarif_pydantic import sarif as s

        rules = all_rules()
        index = {r.code: i for i, r in enumerate(rules)}
        driver = s.ToolDriver(
            name="flake8-fastapi-cors",
            version=__version__,
            semantic_version=__version__,
            information_uri=HOMEPAGE,
            rules=[_descriptor(s, r) for r in rules],
        )
        results = [_result(s, item, index[item.finding.code]) for item in self.located]
        notifications = [
            s.Notification(level=s.Level.ERROR, message=s.Message(text=problem)) for problem in self.problems
        ]
        # sarif-pydantic has no field for these two; its models keep extra fields as named
        invocation = s.Invocation(
            execution_successful=not self.problems, toolExecutionNotifications=notifications or None
        )
        run = s.Run(
            tool=s.Tool(driver=driver),
            invocations=[invocation],
            results=results,
            columnKind="unicodeCodePoints",
            original_uri_base_ids={"%SRCROOT%": s.ArtifactLocation(uri=_directory_uri(os.getcwd()))},
        )
        log = s.Sarif(version="2.1.0", schema_uri=SARIF_SCHEMA, runs=[run])
        self.out.write(log.model_dump_json(by_alias=True, exclude_none=True, indent=2))
        self.out.write("\n")


def _descriptor(s, rule: Rule):
    from flake8_fastapi_cors.docs import rule_markdown

    return s.ReportingDescriptor(
        id=rule.code,
        name=rule.name,
        short_description=s.Message(text=rule.summary),
        full_description=s.Message(text=rule.what_it_does.strip()),
        help=s.Message(text=rule.what_it_does.strip(), markdown=rule_markdown(rule)),
        help_uri=rule_url(rule.code),
        default_configuration=s.ReportingConfiguration(enabled=rule.default_enabled, level="warning"),
        properties={"tags": [_family(rule.code)], "fix": rule.fix or "none"},
    )


def _family(code: str) -> str:
    return "cors" if code.startswith("FAC1") else "sqlalchemy-session"


def _result(s, item: Located, rule_index: int):
    f = item.finding
    location = s.ArtifactLocation(uri=_uri(item.path), uri_base_id=None if os.path.isabs(item.path) else "%SRCROOT%")
    region = s.Region(start_line=f.line, start_column=item.column, end_line=item.end_line, end_column=item.end_column)
    fixes = None
    if item.edits:
        replacements = [
            s.Replacement(
                deleted_region=s.Region(
                    start_line=e.line, start_column=e.column, end_line=e.end_line, end_column=e.end_column
                ),
                inserted_content=s.ArtifactContent(text=e.content),
            )
            for e in item.edits
        ]
        fixes = [
            s.Fix(
                description=s.Message(text=f"Fix {f.code} ({f.fix_safety} fix)"),
                artifact_changes=[s.ArtifactChange(artifact_location=location, replacements=replacements)],
            )
        ]
    return s.Result(
        rule_id=f.code,
        rule_index=rule_index,
        level=s.Level.WARNING,
        message=s.Message(text=f.message),
        locations=[s.Location(physical_location=s.PhysicalLocation(artifact_location=location, region=region))],
        fixes=fixes,
    )


def _uri(path: str) -> str:
    from urllib.parse import quote

    if os.path.isabs(path):
        return "file://" + quote(path.replace(os.sep, "/"))
    return quote(os.path.normpath(path).replace(os.sep, "/"))


def _directory_uri(path: str) -> str:
    return _uri(path).rstrip("/") + "/"


def _name(code: str) -> str:
    return RULES[code].name if code in RULES else "internal-error"


REPORTERS = {"text": TextReporter, "json": JsonReporter, "sarif": SarifReporter, "github": GithubReporter}
