"""Apply the fixes that findings carry: bytes in, bytes out.

Each pass re-checks the text with the same rules as the flake8 plugin, picks
the fixable findings that `# noqa` does not silence, and applies those whose
targets do not overlap (innermost first) with libcst. Overlapping fixes wait
for the next pass, so they never corrupt each other; passes repeat until no
fixable finding is left or nothing changes (at most MAX_PASSES). A pass whose
output does not compile is discarded and reported.

Writing is atomic (a temporary file in the same directory, then os.replace),
keeps the file's permissions, follows symlinks, and refuses a file that changed
on disk since it was read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from flake8_fastapi_cors.registry import SAFE, UNSAFE, Finding, Options, all_rules
from flake8_fastapi_cors.source import (
    InputError,
    check_source,
    decode,
    read_bytes,
    source_lines,
    source_lines_with_ends,
)

MAX_PASSES = 10


@dataclass
class FixResult:
    data: bytes  # the fixed bytes; the input itself when nothing changed
    fixed: int = 0  # findings whose fix was applied
    remaining: List[Finding] = field(default_factory=list)  # findings after fixing

    def unsafe_available(self) -> List[Finding]:
        return [f for f in self.remaining if f.fix_safety == UNSAFE]


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix_safety == SAFE or (unsafe and finding.fix_safety == UNSAFE)


def fix_source(path: str, data: bytes, options: Options, codes: Sequence[str], unsafe: bool = False) -> FixResult:
    """Fix `data` (the bytes of `path`); InputError when it cannot be decoded or
    parsed or a fix goes wrong (the caller then leaves the file as it was)."""
    all_rules()  # loads the rule records that findings are judged by
    text = decode(data, path)
    found = check_source(path, data, text, options, codes)
    fixed = 0
    for _ in range(MAX_PASSES):
        todo = [f for f in found if applicable(f, unsafe)]
        if not todo:
            break
        new_data, applied, refused = _apply_once(path, data, text, todo)
        if new_data == data:
            # what the fixers refused has no fix after all (e.g. comments among the items)
            found = [replace(f, fix=None) if f in refused else f for f in found]
            break
        problem = _compile_error(path, new_data)
        if problem is not None:
            codes_ = ", ".join(sorted({f.code for f in todo}))
            raise InputError(
                f"{path}: fixing {codes_} produced invalid code ({problem}); file left unchanged, "
                "please report this as a bug"
            )
        data, text = new_data, decode(new_data, path)
        found = check_source(path, data, text, options, codes)
        fixed += applied
    return FixResult(data, fixed, found)


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) to (end_line, end_column) by `content`:
    lines and columns 1-based, columns in characters, the end excluded."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


def edits(path: str, data: bytes, finding: Finding) -> Optional[List[Edit]]:
    """The edits of this one finding's fix on `data`, or None when its fixer
    refuses the code it finds there."""
    text = decode(data, path)
    new_data, applied, _ = _apply_once(path, data, text, [finding])
    if not applied or new_data == data:
        return None
    return text_edits(text, decode(new_data, path))


def text_edits(before: str, after: str) -> List[Edit]:
    """The changed stretches between two texts, each trimmed to the characters
    that differ."""
    import difflib

    old, new = source_lines_with_ends(before), source_lines_with_ends(after)
    found = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        head = len(_common_prefix(removed, added))
        tail = len(_common_prefix(removed[head:][::-1], added[head:][::-1]))
        start = _advance((i1 + 1, 1), removed[:head])
        end = _advance(start, removed[head : len(removed) - tail])
        found.append(Edit(*start, *end, added[head : len(added) - tail]))
    return found


def _common_prefix(a: str, b: str) -> str:
    return os.path.commonprefix([a, b])


def _advance(position: Tuple[int, int], text: str) -> Tuple[int, int]:
    """The position after `text` written from `position`."""
    line, column = position
    pieces = source_lines(text + "x")  # Python's line breaks; the "x" keeps a trailing empty line
    if len(pieces) == 1:
        return line, column + len(text)
    return line + len(pieces) - 1, len(pieces[-1])


def _compile_error(path: str, data: bytes) -> Optional[str]:
    """Why `data` would not compile (syntax, `await` outside async, ...), or None."""
    try:
        compile(data, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    except (ValueError, RecursionError, MemoryError) as error:
        return type(error).__name__
    return None


def _apply_once(path: str, data: bytes, text: str, todo: List[Finding]) -> Tuple[bytes, int, List[Finding]]:
    """One pass: apply the non-overlapping fixes of `todo`; (new bytes, findings
    fixed, findings whose fixer refused the code it found)."""
    import libcst as cst
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
    from libcst.metadata import MetadataWrapper, PositionProvider

    from flake8_fastapi_cors.fixers import FixContext, NoFix, bounds, load

    fixers = load()
    try:
        module = cst.parse_module(data)
    except Exception as error:  # libcst's ParserSyntaxError, or a grammar it does not know
        raise InputError(f"{path}: cannot fix: libcst cannot parse this file ({type(error).__name__})") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = source_lines(text)

    def to_chars(line: int, col: int) -> Tuple[int, int]:
        if 1 <= line <= len(lines):
            return line, len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))
        return line, col

    context = FixContext(wrapper.module, positions, to_chars)
    refused: List[Finding] = []
    candidates: Dict[tuple, list] = {}
    plan: Dict[int, list] = {}  # id(node) -> [fixer, Fix, findings]
    taken: List[Tuple[Tuple[int, int], Tuple[int, int]]] = []
    for finding in sorted(todo, key=_size):
        types, fn, exact = fixers[finding.fix.kind]
        if types not in candidates:
            candidates[types] = [(n, bounds(r)) for n, r in positions.items() if isinstance(n, types)]
        node = _innermost(candidates[types], context.chars(finding.fix.span), exact, lines)
        if node is None:
            refused.append(finding)  # not the shape the check saw (e.g. a comment inside the parentheses)
            continue
        entry = plan.get(id(node))
        if entry is not None:
            if entry[1].kind == finding.fix.kind:
                entry[2].append(finding)
            continue
        start, end = bounds(positions[node])
        if any(not (end <= s or e <= start) for s, e in taken):
            continue  # overlaps a fix of this pass: next pass
        taken.append((start, end))
        plan[id(node)] = [fn, finding.fix, [finding]]

    applied: List[Finding] = []

    class Apply(cst.CSTTransformer):
        def on_leave(self, original, updated):
            entry = plan.get(id(original))
            if entry is None:
                return updated
            fn, fix_, findings_ = entry
            try:
                # targets never nest within one pass, so `original` has no pending changes
                replacement = fn(original, dict(fix_.data), context)
            except NoFix:
                refused.extend(findings_)
                return updated
            applied.extend(findings_)
            return replacement

    new = wrapper.module.visit(Apply())
    scratch = context.codemod.scratch
    if scratch.get(AddImportsVisitor.CONTEXT_KEY):
        new = AddImportsVisitor(context.codemod).transform_module(new)
    if scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        new = RemoveImportsVisitor(context.codemod).transform_module(new)
    return new.bytes, len(applied), refused


def _size(finding: Finding) -> Tuple[int, int]:
    line, col, end_line, end_col = finding.fix.span
    return end_line - line, end_col - col if end_line == line else end_col


def _innermost(candidates, span, exact: bool, lines: Sequence[str]):
    """The node whose source is `span` (exact; the ast counts parentheses that
    libcst keeps outside a node), or the innermost one around it."""
    start, end = span
    best = None
    best_key = None
    for node, (node_start, node_end) in candidates:
        if exact:
            fits = (
                start <= node_start
                and node_end <= end
                and _only(lines, start, node_start, "(")
                and _only(lines, node_end, end, ")")
            )
            key = (-node_start[0], -node_start[1], node_end)  # the outermost that fits
        else:
            fits = node_start <= start and end <= node_end
            key = (node_start, (-node_end[0], -node_end[1]))  # the innermost around
        if fits and (best_key is None or key > best_key):
            best, best_key = node, key
    return best


def _only(lines: Sequence[str], start: Tuple[int, int], end: Tuple[int, int], bracket: str) -> bool:
    """Is the source between two positions only `bracket`s, whitespace and line breaks?"""
    if start == end:
        return True
    parts = []
    for number in range(start[0], end[0] + 1):
        line = lines[number - 1] if 1 <= number <= len(lines) else ""
        first = start[1] if number == start[0] else 0
        last = end[1] if number == end[0] else len(line)
        parts.append(line[first:last])
    return all(c == bracket or c.isspace() or c == "\\" for c in "".join(parts))


# -- writing -----------------------------------------------------------------


def write_atomic(path: str, expected: bytes, data: bytes) -> None:
    """Replace the file at `path` (through symlinks) by `data`, if it still holds
    `expected`: a temporary file in the same directory, then os.replace."""
    real = os.path.realpath(path)
    if read_bytes(real, path) != expected:
        raise InputError(f"{path}: changed on disk while it was being fixed; not written")
    mode = os.stat(real)
    if not os.access(real, os.W_OK) or not mode.st_mode & 0o222:  # root may write anything: ask the mode too
        raise InputError(f"{path}: file is read-only; not written")
    directory, name = os.path.split(real)
    try:
        handle, temporary = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".fac-tmp")
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(mode.st_mode))
        try:
            os.chown(temporary, mode.st_uid, mode.st_gid)
        except (PermissionError, AttributeError):
            pass  # only the owner or root may change ownership; the mode is what matters
        os.replace(temporary, real)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
