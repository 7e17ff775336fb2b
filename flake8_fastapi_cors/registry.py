"""One record per rule: code, name, message, defaults, documentation, examples.

Rules register themselves with `@rule(...)` on their check function. Tests,
documentation and the flake8 option defaults are all derived from these
records, so they cannot drift apart.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Options:
    """Settings shared by the flake8 plugin and the command line."""

    origins_env: str = "CORS_ALLOWED_ORIGINS"
    short_circuit_middleware: Tuple[str, ...] = ()
    pass_through_middleware: Tuple[str, ...] = ()
    session_factories: Tuple[str, ...] = ()
    opt_in: Tuple[str, ...] = ()  # default-off codes the user selected by name


# The plugin prefix and one digit ("FAC1") name a family, not an opt-in rule.
FAMILY_PREFIX_LENGTH = len("FAC1")


def opt_in_codes(selections: Iterable[str]) -> Tuple[str, ...]:
    """Default-off codes that an explicit selection names: `FAC102`, `FAC10`, not `FAC`
    (so `--select FAC` means the default set, as with flake8-bugbear's B9 codes)."""
    chosen = [s.strip().upper() for s in selections if s and len(s.strip()) > FAMILY_PREFIX_LENGTH]
    return tuple(code for code in default_off_codes() if any(code.startswith(s) for s in chosen))


@dataclass(frozen=True)
class Fix:
    """How to remove one finding, decided by the check on the stdlib ast: the
    fixer to run (`kind`, see `fixers/`), the source span of the node it rewrites
    (`line, col, end_line, end_col` as the ast gives them) and the facts it needs.
    Only `--fix` turns this into text, with libcst."""

    kind: str
    span: Tuple[int, int, int, int]
    data: Tuple[Tuple[str, Any], ...] = ()


def span(node: Any) -> Tuple[int, int, int, int]:
    """Where an ast node is written: line, col, end_line, end_col."""
    return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset


def fix(kind: str, node: Any, **data: Any) -> Fix:
    """A Fix rewriting the source of the ast `node`."""
    return Fix(kind, span(node), tuple(sorted(data.items())))


@dataclass(frozen=True)
class Finding:
    line: int
    col: int  # 0-based; the ast's bytes until check_tree turns them into characters
    code: str
    message: str  # without the code
    fix: Optional[Fix] = field(default=None, compare=False)
    end: Optional[Tuple[int, int]] = field(default=None, compare=False)  # end line, end col of the node

    @property
    def text(self) -> str:
        return f"{self.code} {self.message}"

    @property
    def fix_safety(self) -> Optional[str]:
        """SAFE or UNSAFE when this finding carries a fix, else None."""
        return RULES[self.code].fix if self.fix is not None else None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    message: str  # a str.format template; the check supplies the fields
    default_enabled: bool
    fix: Optional[str]  # SAFE, UNSAFE or None
    what_it_does: str
    why_bad: str
    example: str
    use_instead: str
    fix_safety: str
    references: Tuple[str, ...]
    markers: Tuple[str, ...]  # the rule can only fire in a file containing one of these
    requires: Tuple[str, ...]  # ... and one of these, here or in a module it imports from its package
    flagged: Tuple[str, ...]
    fixed: Tuple[Optional[str], ...]  # per flagged example: the text after this rule's fix (None: no fix)
    clean: Tuple[str, ...]
    check: Callable = field(compare=False, repr=False)


RULES: Dict[str, Rule] = {}
MISSING = "<no expected fix given>"  # a fixable rule's example without its expected fix (a test fails)


def rule(
    *,
    code: str,
    name: str,
    summary: str,
    message: str,
    fix: Optional[str],
    what_it_does: str,
    why_bad: str,
    example: str,
    use_instead: str,
    fix_safety: str,
    markers: Iterable[str],
    requires: Iterable[str] = (),
    references: Iterable[str] = (),
    flagged: Iterable[Union[str, Tuple[str, Optional[str]]]] = (),
    clean: Iterable[str] = (),
    default_enabled: bool = True,
):
    """Register a check `fn(model, options) -> iterable of (node, message fields[, Fix])`.

    A fixable rule gives each flagged example as `(source, expected)`: the text
    after this rule's fix, or None when that shape has no fix."""

    def register(check: Callable) -> Callable:
        if code in RULES:
            raise ValueError(f"duplicate rule code {code}")
        examples = [e if isinstance(e, tuple) else (e, MISSING) for e in flagged]
        RULES[code] = Rule(
            code=code,
            name=name,
            summary=summary,
            message=message,
            default_enabled=default_enabled,
            fix=fix,
            what_it_does=_clean(what_it_does),
            why_bad=_clean(why_bad),
            example=_clean(example),
            use_instead=_clean(use_instead),
            fix_safety=_clean(fix_safety),
            references=tuple(references),
            markers=tuple(markers),
            requires=tuple(requires),
            flagged=tuple(_clean(source) for source, _ in examples),
            fixed=tuple(expected if expected in (None, MISSING) else _clean(expected) for _, expected in examples),
            clean=tuple(_clean(s) for s in clean),
            check=check,
        )
        return check

    return register


def _clean(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def all_rules() -> List[Rule]:
    _load_rules()
    return [RULES[code] for code in sorted(RULES)]


def default_off_codes() -> List[str]:
    return [r.code for r in all_rules() if not r.default_enabled]


def _load_rules() -> None:
    # importing the rule modules registers them
    from flake8_fastapi_cors.rules import cors, sessions  # noqa: F401


def enabled_codes(options: Options) -> List[str]:
    """Codes on by default, plus the opt-in ones the user named."""
    return [r.code for r in all_rules() if r.default_enabled or r.code in options.opt_in]


# The code of the one finding that says a file could not be (fully) checked.
INTERNAL_ERROR = "FAC000"


def internal_error(reason: str, codes: Iterable[str] = ()) -> Finding:
    """The FAC000 finding: `reason` (an exception, or nesting too deep) kept the
    rules `codes` (all of them when empty) from checking the file."""
    what = "check this file" if not codes else "finish checking this file (" + ", ".join(codes) + ")"
    return Finding(1, 0, INTERNAL_ERROR, f"flake8-fastapi-cors could not {what}: {reason}")


def failure_reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "the code is nested too deeply to analyse"
    return f"internal error {type(error).__name__}: {error}; please report this as a bug"


def findings(model, options: Options, codes: Optional[Iterable[str]] = None) -> Iterator[Finding]:
    """Every finding of the selected rules on a model, one per (line, col, code),
    in source order. A rule that raises costs only its own findings: the others
    are kept, and one FAC000 finding names the rules that failed and why."""
    selected = set(enabled_codes(options) if codes is None else codes)
    seen = set()
    out = []
    failed: Dict[str, str] = {}
    for rule_ in all_rules():
        if rule_.code not in selected:
            continue
        try:
            results = list(rule_.check(model, options))
        except Exception as error:  # noqa: BLE001 - reported as FAC000, never swallowed
            failed[rule_.code] = failure_reason(error)
            continue
        for node, fields, *fix_ in results:
            line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
            key = (line, col, rule_.code)
            if key in seen:
                continue
            seen.add(key)
            found_fix = fix_[0] if fix_ and rule_.fix else None
            end = (node.end_lineno, node.end_col_offset) if getattr(node, "end_lineno", None) else None
            out.append(Finding(line, col, rule_.code, rule_.message.format(**fields), found_fix, end))
    if failed:
        reasons = list(dict.fromkeys(failed.values()))
        out.append(internal_error("; ".join(reasons), failed))
    out.sort(key=lambda f: (f.line, f.col, f.code))
    return iter(out)
