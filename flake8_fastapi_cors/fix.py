"""Apply the fixes that findings carry: bytes in, bytes out.

Each pass re-checks the text with the same rules as the flake8 plugin, picks
the fixable findings that `# noqa` does not silence, and applies those whose
targets do not overlap (innermost first) with libcst. libcst parses only what
the fixes touch: the expression a fix rewrites, or the top-level statements it
lies in (and the leading imports when a fix changes imports); the result is
the same as parsing the whole module, which remains the fallback. Overlapping
fixes wait for the next pass, so they never corrupt each other; passes repeat
until no fixable finding is left or nothing changes (at most MAX_PASSES). A
pass whose output does not compile is discarded and reported.

Writing is atomic (a temporary file in the same directory, then os.replace),
keeps the file's permissions, follows symlinks, and refuses a file that changed
on disk since it was read.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field, replace
from typing import AnyStr, Dict, List, NamedTuple, Optional, Sequence, Tuple

from flake8_fastapi_cors.plugin import char_column
from flake8_fastapi_cors.registry import SAFE, UNSAFE, Finding, Options, all_rules, failure_reason
from flake8_fastapi_cors.source import (
    InputError,
    check_source,
    decode,
    encoding_of,
    parse,
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


def fix_source(
    path: str,
    data: bytes,
    options: Options,
    codes: Sequence[str],
    unsafe: bool = False,
    regions: bool = True,
    text: Optional[str] = None,
) -> FixResult:
    """Fix `data` (the bytes of `path`, decoded: `text`); InputError when it
    cannot be decoded or parsed or a fix goes wrong (the caller then leaves the
    file as it was). `regions=False` has libcst parse the whole module on every
    pass instead of the statements the fixes touch (the same output, slower)."""
    all_rules()  # loads the rule records that findings are judged by
    text = decode(data, path) if text is None else text
    tree = parse(path, data)
    found = check_source(path, data, text, options, codes, tree=tree)
    fixed = 0
    broken: Optional[str] = ""  # why the input does not compile; "" until asked
    for _ in range(MAX_PASSES):
        todo = [f for f in found if applicable(f, unsafe)]
        if not todo:
            break
        new_data, applied, refused = _guarded(_apply_once, path, data, text, todo, tree if regions else None)
        if new_data == data:
            # what the fixers refused has no fix after all (e.g. comments among the items)
            found = [replace(f, fix=None) if f in refused else f for f in found]
            break
        new_tree, problem = _compiled(path, new_data)
        if problem is not None and new_tree is not None:
            if broken == "":
                broken = _compile_error(path, tree)
            if _same_error(broken, problem):
                problem = None
        if problem is not None:
            codes_ = ", ".join(sorted({f.code for f in todo}))
            raise InputError(
                f"{path}: fixing {codes_} produced invalid code ({problem}); file left unchanged, "
                "please report this as a bug"
            )
        data, text, tree = new_data, decode(new_data, path), new_tree
        found = check_source(path, data, text, options, codes, tree=tree)
        fixed += applied
    return FixResult(data, fixed, found)


def _guarded(apply, path: str, *args):
    """`apply(path, *args)`, with any failure but a reported one (InputError)
    turned into a one-line error naming the file: a fixer's bug must cost one
    file its fixes, never the run."""
    try:
        return apply(path, *args)
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - reported with the file, never swallowed
        raise InputError(f"{path}: cannot fix: {failure_reason(error)}; file left unchanged") from None


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
    refuses the code it finds there (or fails: `--fix` reports that)."""
    text = decode(data, path)
    try:
        new_data, applied, _ = _guarded(_apply_once, path, data, text, [finding], parse(path, data))
    except InputError:
        return None
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


def _compiled(path: str, data: bytes) -> Tuple[Optional[ast.Module], Optional[str]]:
    """The tree of `data` (None when it does not parse) and why it would not
    compile (a syntax error, `await` outside async, ...), or None."""
    try:
        tree = ast.parse(data, path)
    except SyntaxError as error:
        return None, f"{error.msg} (line {error.lineno})"
    except (ValueError, RecursionError, MemoryError) as error:
        return None, type(error).__name__
    return tree, _compile_error(path, tree)


def _compile_error(path: str, tree: ast.Module) -> Optional[str]:
    """Why a parsed module would not compile (`return` outside a function,
    `await` outside async, ...), or None."""
    try:
        compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    except (ValueError, RecursionError, MemoryError) as error:
        return type(error).__name__
    return None


def _same_error(before: Optional[str], after: str) -> bool:
    """The fixed code fails to compile for the reason the input already did
    (`return` outside a function...): the fix did not cause it."""
    return before is not None and before.rsplit(" (line ", 1)[0] == after.rsplit(" (line ", 1)[0]


def _apply_once(path: str, data: bytes, text: str, todo: List[Finding], tree: Optional[ast.Module]):
    """One pass: apply the non-overlapping fixes of `todo`; (new bytes, findings
    fixed, findings whose fixer refused the code it found).

    With the module's `tree`, libcst parses only the parts of the module the
    fixes touch (see `_parts`), which saves most of the cost of fixing; without
    it, or when a part cannot stand alone, the whole module."""
    from flake8_fastapi_cors.fixers import load

    fixers = load()
    if tree is not None and tree.body:
        done = _apply_in_parts(path, data, text, tree, todo, fixers)
        if done is not None:
            return done
    return _apply_to_module(path, data, text, todo, fixers)


class _Part(NamedTuple):
    """Lines `first`..`last` (1-based, inclusive) of the module, a run of whole
    top-level statements with the comments above them; `head` when it holds the
    leading imports that fixes may add to or remove from."""

    first: int
    last: int
    findings: List[Finding]
    head: bool


def _parts(tree: ast.Module, todo: List[Finding], head: bool) -> List[_Part]:
    """The parts of the module that `todo`'s fixes touch, and with `head` its
    leading imports."""
    statements = [(first_line(s), s.end_lineno or s.lineno) for s in tree.body]
    wanted = [(*_extent(f), [f], False) for f in todo]
    if head:
        wanted.append((1, statements[_head_end(tree)][1], [], True))
    ranges = []
    for low, high, findings_, is_head in wanted:
        first = next((i for i, (_, end) in enumerate(statements) if end >= low), len(statements) - 1)
        last = max([first, *(i for i, (start, _) in enumerate(statements) if start <= high)])
        while first and statements[first - 1][1] >= statements[first][0]:
            first -= 1  # `a = 1; b = 2`: one line holds both
        while last + 1 < len(statements) and statements[last + 1][0] <= statements[last][1]:
            last += 1
        ranges.append([statements[first - 1][1] + 1 if first else 1, statements[last][1], findings_, is_head])
    ranges.sort(key=lambda r: r[0])
    merged: List[list] = []
    for current in ranges:
        if merged and current[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], current[1])
            merged[-1][2] += current[2]
            merged[-1][3] = merged[-1][3] or current[3]
        else:
            merged.append(current)
    return [_Part(*m) for m in merged]


def first_line(statement: ast.stmt) -> int:
    """Where a statement's text starts: its first decorator, if any."""
    decorators = getattr(statement, "decorator_list", ())
    return min([statement.lineno, *(d.lineno for d in decorators)])


def _extent(finding: Finding) -> Tuple[int, int]:
    """The first and last line of every span a fix names (its target, and the
    statements some fixes move or rewrite)."""
    spans = [finding.fix.span]
    for _, value in finding.fix.data:
        values = value if isinstance(value, (list, tuple)) and not _is_span(value) else [value]
        spans.extend(v for v in values if _is_span(v))
    return min(s[0] for s in spans), max(s[2] for s in spans)


def _is_span(value) -> bool:
    return isinstance(value, tuple) and len(value) == 4 and all(isinstance(v, int) for v in value)


def _head_end(tree: ast.Module) -> int:
    """Index of the first top-level statement after the docstring that is not an
    import: imports are added after the ones before it, with a blank line above
    it."""
    for index, statement in enumerate(tree.body):
        docstring = index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        if not docstring and not isinstance(statement, (ast.Import, ast.ImportFrom)):
            return index
    return len(tree.body) - 1


def _indent(tree: ast.Module, lines: List[str]) -> str:
    """The indentation libcst detects for the whole module: that of the first
    indented block."""
    for statement in tree.body:
        body = getattr(statement, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            line = lines[first_line(body[0]) - 1]
            width = len(line) - len(line.lstrip(" \t"))
            if width and width == body[0].col_offset:  # the block's first statement starts its line
                return line[:width]
    return "    "


PLACEHOLDER = "pass"


def _apply_in_parts(path: str, data: bytes, text: str, tree: ast.Module, todo: List[Finding], fixers):
    """Fix the parts of the module the fixes touch, each on its own, and splice
    their new text in. A fix of one expression outside every part is applied to
    that expression alone (`_expression_edits`); each part of whole statements
    is parsed after a placeholder statement, so that the comments above its
    first statement stay that statement's leading lines, as in the whole module.
    None when a part cannot be parsed on its own, or an import to remove lies
    outside the leading imports (the caller then fixes the whole module)."""
    import libcst as cst

    from flake8_fastapi_cors.fixers.imports import Requests

    lines = source_lines_with_ends(text)
    quick = [f for f in todo if _alone(f, fixers)]
    parts = _parts(tree, [f for f in todo if f not in quick], any(fixers[f.fix.kind].imports for f in todo))
    for finding in list(quick):
        low, high = _extent(finding)
        inside = next((p for p in parts if p.first <= high and low <= p.last), None)
        if inside is not None:
            inside.findings.append(finding)
            quick.remove(finding)
    requests = Requests()
    replaced, applied, refused = _expression_edits(lines, quick, fixers, requests)
    head = None
    for part in sorted(parts, key=lambda p: p.head):  # imports last, once all are asked for
        own = lines[part.first - 1 : part.last]
        kept = _stand_in(tree, part, own) if part.head else None
        if kept is not None:
            own = own[: -len(kept)] + [PLACEHOLDER + _line_break(own[-1])]
        placeholder = [PLACEHOLDER + (_line_break(own[0]) or "\n")] if part.first > 1 else []
        try:
            parsed = _exact_module("".join(placeholder + own))
        except Exception:  # noqa: BLE001 - libcst's ParserSyntaxError or a grammar it lacks: try the whole module
            return None
        if parsed is None:
            return None
        module, ending = parsed
        if not any(isinstance(getattr(s, "body", None), cst.IndentedBlock) for s in module.body):
            module = module.with_changes(default_indent=_indent(tree, lines))  # as detected on the whole module
        shift = part.first - 1 - len(placeholder)
        new, done, no = _rewrite(module, part.findings, fixers, placeholder + own, shift, requests)
        applied.extend(done)
        refused.extend(no)
        if part.head:
            head = (part, new, ending, kept)
            continue
        code = new.code + ending
        if placeholder and not code.startswith(placeholder[0]):
            return None
        replaced[(part.first, part.last)] = code[len(placeholder[0]) :] if placeholder else code
    if head is not None:
        part, module, ending, kept = head
        code = _restored(module.code + ending, kept)
        if code is not None and (requests.adds or requests.removals):
            replaced[(part.first, part.last)] = code
            module = _edit_imports(module, requests, _assembled(lines, replaced), len(source_lines(module.code)))
            code = None if module is None else _restored(module.code + ending, kept)
        if code is None:
            return None
        replaced[(part.first, part.last)] = code
    elif requests.adds or requests.removals:
        return None  # a fixer asked for an import without declaring it
    try:
        new_data = _assembled(lines, replaced).encode(encoding_of(data))
    except UnicodeEncodeError as error:
        raise InputError(f"{path}: cannot fix: the fix needs characters the file's encoding lacks ({error})") from None
    return new_data, len(applied), refused


def _stand_in(tree: ast.Module, part: _Part, own: List[str]) -> Optional[List[str]]:
    """The lines of the statement that ends the leading imports' part, when libcst
    need not parse them: that statement is there only to place the blank lines
    above new imports, and it may be a long class or a table of generated data
    (which libcst may not even parse). None when a fix touches it, it is one
    line, or it shares a line with the statement before it."""
    index = _head_end(tree)
    statement = tree.body[index]
    first = first_line(statement)
    if statement.end_lineno != part.last or first == part.last or first <= part.first:
        return None
    if index and (tree.body[index - 1].end_lineno or 0) >= first:
        return None
    if any(_extent(f)[1] >= first for f in part.findings):
        return None
    return own[first - part.first :]


def _restored(code: str, kept: Optional[List[str]]) -> Optional[str]:
    """`code` with the stand-in statement that ends it replaced by the `kept`
    lines again (None if the stand-in is not where it was)."""
    if kept is None:
        return code
    stand_in = PLACEHOLDER + _line_break(kept[-1])
    if not code.endswith(stand_in) or not (len(code) == len(stand_in) or code[-len(stand_in) - 1] in "\r\n"):
        return None
    return code[: -len(stand_in)] + "".join(kept)


def _alone(finding: Finding, fixers) -> bool:
    """Can this fix be applied to its expression alone? Its fixer rewrites
    exactly one expression and needs no other span."""
    import libcst as cst

    registered = fixers[finding.fix.kind]
    if not registered.exact or not all(issubclass(t, cst.BaseExpression) for t in registered.types):
        return False
    values = [v for _, v in finding.fix.data]
    return not any(_is_span(v) or (isinstance(v, (list, tuple)) and any(map(_is_span, v))) for v in values)


def _expression_edits(lines: List[str], quick: List[Finding], fixers, requests):
    """Apply fixes of single expressions: libcst parses each expression's text
    alone; ({(first line, last line): new text of those lines}, applied, refused).
    A fix whose text does not parse alone waits for the next pass."""
    import libcst as cst

    from flake8_fastapi_cors.fixers import FixContext, NoFix

    edits = []  # (start, end, new text): positions (line, character column)
    applied: List[Finding] = []
    refused: List[Finding] = []
    done: Dict[Tuple[int, int, int, int], Tuple[str, list]] = {}
    for finding in sorted(quick, key=_size):
        line, col, end_line, end_col = finding.fix.span
        start, end = (line, char_column(lines, line, col)), (end_line, char_column(lines, end_line, end_col))
        same = done.get(finding.fix.span)
        if same is not None:
            if same[0] == finding.fix.kind:
                same[1].append(finding)
            continue
        if any(not (end <= s or e <= start) for s, e, _ in edits):
            continue  # overlaps a fix of this pass: next pass
        source = _between(lines, start, end)
        try:
            node = cst.parse_expression(source)
        except Exception:  # noqa: BLE001 - not an expression on its own (a string split over lines)
            continue
        registered = fixers[finding.fix.kind]
        if not isinstance(node, registered.types):
            refused.append(finding)
            continue
        newline = _line_break(source.splitlines(keepends=True)[0]) or _line_break(lines[0]) or "\n"
        module = cst.Module(body=[], default_newline=newline)
        context = FixContext(module, {}, lambda ln, c: (ln, c), requests)
        try:
            replacement = registered.fn(node, dict(finding.fix.data), context)
        except NoFix:
            refused.append(finding)
            continue
        done[finding.fix.span] = (finding.fix.kind, [finding])
        edits.append((start, end, module.code_for_node(replacement)))
    for _, group in done.values():
        applied.extend(group)
    # edits that share a line are applied together to those lines, the last one first
    replaced: Dict[Tuple[int, int], str] = {}
    clusters: List[list] = []
    for edit in sorted(edits):
        if clusters and edit[0][0] <= clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], edit[1][0])
            clusters[-1][2].append(edit)
        else:
            clusters.append([edit[0][0], edit[1][0], [edit]])
    for first, last, group in clusters:
        text = "".join(lines[first - 1 : last])
        for (start_line, start_col), (end_line, end_col), new in reversed(group):
            begin, stop = _offset(lines, first, start_line, start_col), _offset(lines, first, end_line, end_col)
            text = text[:begin] + new + text[stop:]
        replaced[(first, last)] = text
    return replaced, applied, refused


def _between(lines: List[str], start: Tuple[int, int], end: Tuple[int, int]) -> str:
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1] : end[1]]
    middle = lines[start[0] : end[0] - 1]
    return "".join([lines[start[0] - 1][start[1] :], *middle, lines[end[0] - 1][: end[1]]])


def _offset(lines: List[str], first: int, line: int, col: int) -> int:
    """Character offset of (line, col) in the text of lines first..."""
    return sum(len(lines[i - 1]) for i in range(first, line)) + col


def _assembled(lines: List[str], replaced: Dict[Tuple[int, int], str]) -> str:
    """The module with the line ranges (first, last) replaced; ranges never overlap."""
    out = list(lines)
    for first, last in sorted(replaced, reverse=True):
        out[first - 1 : last] = [replaced[(first, last)]]
    return "".join(out)


def _edit_imports(module, requests, new_text: str, head_lines: Optional[int] = None):
    """`module` with the imports the pass asked for added, and those it asked to
    remove removed when nothing in `new_text` (the whole module after the pass)
    uses them any more. With `head_lines`, `module` is the module's first lines
    only: None when an import to remove lies after them."""
    from flake8_fastapi_cors.fixers.imports import add_imports, remove_imports, unused_names

    if requests.removals:
        tree = ast.parse(new_text)
        unused = unused_names(tree, [r.bound for r in requests.removals])
        removals = [r for r in requests.removals if r.bound in unused]
        if head_lines is not None and any(
            getattr(n, "end_lineno", 0) > head_lines and any(_binds(n, r) for r in removals) for n in ast.walk(tree)
        ):
            return None
        module = remove_imports(module, removals)
    return add_imports(module, requests.adds) if requests.adds else module


def _binds(node: ast.AST, removal) -> bool:
    """Is `node` an import statement that binds what `removal` removes?"""
    if isinstance(node, ast.Import):
        return removal.obj is None and any(a.name == removal.module and a.asname == removal.asname for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (
            removal.obj is not None
            and not node.level
            and node.module == removal.module
            and any(a.name == removal.obj and a.asname == removal.asname for a in node.names)
        )
    return False


def _apply_to_module(path: str, data: bytes, text: str, todo: List[Finding], fixers):
    """One pass on the whole module (the reference the parts are checked against)."""
    from flake8_fastapi_cors.fixers.imports import Requests

    try:
        parsed = _exact_module(data)
    except Exception as error:  # libcst's ParserSyntaxError, or a grammar it does not know
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{path}: cannot fix: libcst cannot parse this file ({reason})") from None
    if parsed is None:
        raise InputError(
            f"{path}: cannot fix: libcst would not give this file back byte for byte (a form feed in front "
            "of a statement); file left unchanged"
        )
    module, ending = parsed
    requests = Requests()
    new, applied, refused = _rewrite(module, todo, fixers, source_lines(text), 0, requests)
    if requests.adds or requests.removals:
        new = _edit_imports(new, requests, new.code)
    return new.bytes + ending, len(applied), refused


# Where libcst's output can differ from its input: it drops a form feed in front
# of a top-level statement, and a carriage return that ends the text.
LOSSY = re.compile(r"\x0c|\r(?!\n)")
LOSSY_BYTES = re.compile(rb"\x0c|\r(?!\n)")


def _exact_module(source: AnyStr):
    """(libcst's module of `source`, the carriage return that ends `source` or
    nothing): the module gives back exactly the source without that ending. None
    when it would not (a form feed in front of a statement)."""
    import libcst as cst

    ending = source[-1:] if source[-1:] in ("\r", b"\r") else source[:0]
    body = source[: len(source) - len(ending)]
    module = cst.parse_module(body)
    lossy = LOSSY if isinstance(body, str) else LOSSY_BYTES
    if lossy.search(body) and (module.code if isinstance(body, str) else module.bytes) != body:
        return None
    return module, ending


def _rewrite(module, todo: List[Finding], fixers, module_lines: List[str], shift: int, requests):
    """Apply the non-overlapping fixes of `todo` to `module`, whose line n is line
    n + shift of the file; (new module, applied, refused)."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from flake8_fastapi_cors.fixers import FixContext, NoFix, bounds

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)

    def to_chars(line: int, col: int) -> Tuple[int, int]:
        """A file position (UTF-8 byte column) as a module position (characters)."""
        return line - shift, char_column(module_lines, line - shift, col)

    context = FixContext(wrapper.module, positions, to_chars, requests)
    refused: List[Finding] = []
    candidates: Dict[tuple, list] = {}
    plan: Dict[int, list] = {}  # id(node) -> [fixer, Fix, findings]
    taken: List[Tuple[Tuple[int, int], Tuple[int, int]]] = []
    for finding in sorted(todo, key=_size):
        types, fn, exact = fixers[finding.fix.kind][:3]
        if types not in candidates:
            candidates[types] = [(n, bounds(r)) for n, r in positions.items() if isinstance(n, types)]
        node = _innermost(candidates[types], context.chars(finding.fix.span), exact, module_lines)
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

    return wrapper.module.visit(Apply()), applied, refused


def _line_break(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


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
    `expected`: a temporary file in the same directory, then os.replace. The file
    is compared with `expected` before the temporary file is written and again
    just before the replace; between that last read and the replace, another
    program's write would still be lost (no portable lock prevents it)."""
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
        if read_bytes(real, path) != expected:  # asked again, as late as can be
            raise InputError(f"{path}: changed on disk while it was being fixed; not written")
        os.replace(temporary, real)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
