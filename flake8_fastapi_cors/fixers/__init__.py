"""libcst fixers, one per kind of rewrite a check can ask for (`registry.Fix`).

A fixer receives the libcst node found at the Fix's span (the innermost node of
its declared type around it), the Fix's data and a FixContext, and returns the
replacement node. It raises NoFix when the code turns out not to have the shape
the check described; the finding then stays, unfixed. Imports are asked for
through the context and written once per pass by `imports.py`.

This package imports libcst; only `fix.py` imports it, and only when fixing.
"""

from __future__ import annotations

import json
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

import libcst as cst
from libcst.metadata import CodeRange

from flake8_fastapi_cors.fixers.imports import Removal, Requests

Fixer = Callable[[cst.CSTNode, dict, "FixContext"], Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]]
FIXERS: Dict[str, "Registered"] = {}


class NoFix(Exception):
    """The code does not have the shape the fix needs; leave it alone."""


class Registered(NamedTuple):
    types: Tuple[Type[cst.CSTNode], ...]
    fn: Fixer
    exact: bool
    imports: bool  # may add or remove an import (the module's leading imports are rewritten)


def fixer(
    kind: str,
    *node_types: Type[cst.CSTNode],
    exact: bool = True,
    imports: bool = False,
):
    """Register the fixer for `kind`. It is applied to the node of one of
    `node_types` whose source is exactly the Fix's span, or with `exact=False`
    (blocks, decorators) to the innermost such node that contains the span.
    A fixer sees the top-level statements its Fix's spans lie in (see fix.py);
    one that declares `imports` may ask for imports to be added or removed."""

    def register(fn: Fixer) -> Fixer:
        FIXERS[kind] = Registered(node_types, fn, exact, imports)
        return fn

    return register


class FixContext:
    """What a fixer may use besides its node: the module, positions of original
    nodes, and import scheduling."""

    def __init__(
        self,
        module: cst.Module,
        positions,
        to_chars: Callable[[int, int], Tuple[int, int]],
        requests: Optional[Requests] = None,
    ) -> None:
        self.module = module
        self.positions = positions
        self.requests = requests or Requests()  # shared by the parts of one module
        self._to_chars = to_chars

    # -- building code ------------------------------------------------------
    def expression(self, code: str) -> cst.BaseExpression:
        return cst.parse_expression(code, config=self.module.config_for_parsing)

    def statement(self, code: str) -> cst.BaseStatement:
        return cst.parse_statement(code, config=self.module.config_for_parsing)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- imports ------------------------------------------------------------
    def add_import(self, module: str, obj: Optional[str] = None) -> None:
        self.requests.adds.append((module, obj))

    def remove_unused_import(self, module: str, obj: Optional[str] = None, asname: Optional[str] = None) -> None:
        """Remove `from module import obj as asname` (`import module` without obj)
        once the pass's fixes leave it unused."""
        self.requests.removals.append(Removal(module, obj, asname))

    # -- finding original nodes ----------------------------------------------
    def chars(self, span: Sequence[int]) -> Tuple[Tuple[int, int], Tuple[int, int]]:
        """An ast span (UTF-8 byte columns) as libcst (line, character column) pairs."""
        line, col, end_line, end_col = span
        return self._to_chars(line, col), self._to_chars(end_line, end_col)

    def contains(self, node: cst.CSTNode, span: Sequence[int]) -> bool:
        where: Optional[CodeRange] = self.positions.get(node)
        if where is None:
            return False
        (start, end), (node_start, node_end) = self.chars(span), bounds(where)
        return node_start <= start and end <= node_end

    def index_of(self, body: Sequence[cst.CSTNode], span: Sequence[int]) -> int:
        """Index of the statement of `body` that contains `span`."""
        for index, stmt in enumerate(body):
            if self.contains(stmt, span):
                return index
        raise NoFix("statement not found")


def bounds(where: CodeRange) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """A libcst range as comparable (line, column) pairs."""
    return (where.start.line, where.start.column), (where.end.line, where.end.column)


def string_literal(text: str) -> str:
    """Python source for the string `text` (double quotes, escapes as needed)."""
    return json.dumps(text, ensure_ascii=False)


def string_value(node: cst.CSTNode) -> str:
    """The value of a plain string literal (no f-string, no bytes, no implicit
    concatenation); NoFix for anything else."""
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        raise NoFix("not a plain string literal")
    value = node.evaluated_value
    if not isinstance(value, str):
        raise NoFix("not a str literal")
    return value


def with_value(node: cst.SimpleString, value: str) -> cst.SimpleString:
    """The literal `node` holding `value`, in its own quotes and prefix where the
    value allows it."""
    prefix, quote = node.prefix, node.quote
    raw = "r" in prefix.lower()
    body = value if raw else value.replace("\\", "\\\\")
    plain = quote not in value and "\n" not in value and not (raw and value.endswith("\\"))
    if plain and (raw or value.isprintable()):
        return node.with_changes(value=f"{prefix}{quote}{body}{quote}")
    return cst.SimpleString(string_literal(value))


def env_list(env: str, default: str) -> str:
    """The comma-separated environment lookup the CORS fixes write."""
    return split_list(f"os.getenv({string_literal(env)}, {string_literal(default)})")


def split_list(expr: str) -> str:
    """A comma-separated string expression as a list of its stripped, non-empty items."""
    return f'[o.strip() for o in {expr}.split(",") if o.strip()]'


def statements(body: cst.BaseSuite) -> List[cst.BaseStatement]:
    if not isinstance(body, cst.IndentedBlock):
        raise NoFix("one-line body")
    return list(body.body)


def load() -> Dict[str, Registered]:
    from flake8_fastapi_cors.fixers import cors, sessions  # noqa: F401 - registers the fixers

    return FIXERS
