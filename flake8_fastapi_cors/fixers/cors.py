"""Fixers for the CORS rules (FAC101, FAC103-FAC109)."""

from __future__ import annotations

import re
from typing import List

import libcst as cst
import libcst.matchers as m

from flake8_fastapi_cors.fixers import (
    FixContext,
    NoFix,
    env_list,
    fixer,
    split_list,
    string_literal,
    string_value,
    with_value,
)
from flake8_fastapi_cors.model.origins import origin_problem

COLLECTIONS = (cst.List, cst.Tuple, cst.Set)
REFERENCES = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
ENV_GETTERS = ("getenv", "get")


@fixer("env-origins", *COLLECTIONS, cst.SimpleString, imports=True)
def env_origins(node: cst.CSTNode, data: dict, context: FixContext) -> cst.CSTNode:
    """A literal origin collection becomes a comma-separated environment variable
    whose default is the same origins (FAC103) or empty (FAC101)."""
    if isinstance(node, cst.SimpleString):
        string_value(node)
    new = context.expression(env_list(data["env"], data["default"]))
    if isinstance(node, COLLECTIONS):
        new = _in_brackets_of(node, new)
    context.add_import("os")
    return _keep_parens(node, new)


def _in_brackets_of(old: cst.CSTNode, new: cst.ListComp) -> cst.ListComp:
    """`new` laid out in the brackets of the collection `old`, so a comment after
    the opening bracket stays; comments among the items cannot, so no fix then."""
    if isinstance(old, cst.Tuple):
        opening, closing = (old.lpar[0], old.rpar[0]) if old.lpar else (None, None)
    else:
        opening, closing = (old.lbracket, old.rbracket) if isinstance(old, cst.List) else (old.lbrace, old.rbrace)
    if m.findall(cst.List(elements=old.elements), m.Comment()):
        raise NoFix("comments among the items")
    if opening is None:
        return new
    return new.with_changes(
        lbracket=cst.LeftSquareBracket(whitespace_after=opening.whitespace_after),
        rbracket=cst.RightSquareBracket(whitespace_before=closing.whitespace_before),
    )


@fixer("set-string", cst.SimpleString)
def set_string(node: cst.SimpleString, data: dict, context: FixContext) -> cst.CSTNode:
    if string_value(node) != data["expect"]:
        raise NoFix("the string changed")
    return with_value(node, data["value"])


@fixer("empty-list", cst.List)
def empty_list(node: cst.List, data: dict, context: FixContext) -> cst.CSTNode:
    return node.with_changes(elements=[])


@fixer("normalise-origins", cst.SimpleString)
def normalise_origins(node: cst.SimpleString, data: dict, context: FixContext) -> cst.CSTNode:
    """An origin written as the browser sends it; in a comma-separated default
    string, every entry that needs it."""
    value = string_value(node)
    if value == data["expect"]:
        return with_value(node, _normalised(value))
    for separator in (",", " ", ";"):
        parts = value.split(separator)
        if data["expect"] in parts or data["expect"] in (p.strip() for p in parts):
            new = separator.join(_normalised(p) if p.strip() else p for p in parts)
            if new == value:
                raise NoFix("nothing to normalise")
            return with_value(node, new)
    raise NoFix("origin not found in the string")


def _normalised(origin: str) -> str:
    problem = origin_problem(origin)
    return problem.fixed if problem is not None and problem.fixed else origin


@fixer("narrow-regex", cst.SimpleString)
def narrow_regex(node: cst.SimpleString, data: dict, context: FixContext) -> cst.CSTNode:
    if string_value(node) != data["expect"]:
        raise NoFix("the pattern changed")
    pattern = data["value"]
    if '"' not in pattern and not pattern.endswith("\\"):
        return cst.SimpleString(f'r"{pattern}"')
    return cst.SimpleString(string_literal(pattern))


@fixer("string-to-list", cst.SimpleString)
def string_to_list(node: cst.SimpleString, data: dict, context: FixContext) -> cst.CSTNode:
    string_value(node)
    items = ", ".join(string_literal(i) for i in data["items"])
    return _keep_parens(node, context.expression(f"[{items}]"))


@fixer("wrap-in-list", *REFERENCES)
def wrap_in_list(node: cst.BaseExpression, data: dict, context: FixContext) -> cst.CSTNode:
    return cst.List([cst.Element(node.with_changes(lpar=[], rpar=[]))], lpar=node.lpar, rpar=node.rpar)


@fixer("split-string", *REFERENCES)
def split_string(node: cst.BaseExpression, data: dict, context: FixContext) -> cst.CSTNode:
    """A comma-separated runtime string becomes the list of its items; an
    environment lookup without a default gets an empty one."""
    inner = node.with_changes(lpar=[], rpar=[])
    if (
        isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Attribute)
        and inner.func.attr.value in ENV_GETTERS
        and len(inner.args) == 1
        and inner.args[0].keyword is None
        and inner.args[0].star == ""
    ):
        inner = inner.with_changes(
            args=[inner.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT), cst.Arg(cst.SimpleString('""'))]
        )
    return _keep_parens(node, context.expression(split_list(context.code(inner))))


@fixer("listify", cst.GeneratorExp, cst.Call)
def listify(node: cst.CSTNode, data: dict, context: FixContext) -> cst.CSTNode:
    """A generator (consumed once) becomes a list."""
    if isinstance(node, cst.GeneratorExp):
        return cst.ListComp(elt=node.elt, for_in=node.for_in)  # the brackets replace its parentheses
    return cst.Call(cst.Name("list"), [cst.Arg(node)])


@fixer("append-strings", *COLLECTIONS)
def append_strings(node: cst.CSTNode, data: dict, context: FixContext) -> cst.CSTNode:
    added = [cst.Element(cst.SimpleString(string_literal(i))) for i in data["items"]]
    single_tuple = isinstance(node, cst.Tuple) and len(node.elements) == 1  # its comma is syntax, not style
    return node.with_changes(elements=_extend(list(node.elements), added, keep_trailing=not single_tuple))


@fixer("add-keyword", cst.Call)
def add_keyword(node: cst.Call, data: dict, context: FixContext) -> cst.CSTNode:
    if any(a.keyword is not None and a.keyword.value == data["name"] for a in node.args):
        raise NoFix("already given")
    if any(a.star == "**" for a in node.args):
        raise NoFix("keywords may come from **kwargs")
    arg = cst.Arg(
        context.expression(data["value"]),
        keyword=cst.Name(data["name"]),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    return node.with_changes(args=_extend(list(node.args), [arg]))


def _extend(existing: List, new: List, keep_trailing: bool = True) -> List:
    """`existing + new` for elements or arguments, following the existing commas:
    one per line stays one per line, a trailing comma stays."""
    if not existing:
        return new
    last = existing[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) and keep_trailing else None
    multiline = trailing is not None and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace)
    separator = trailing if multiline else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    items = existing[:-1] + [last.with_changes(comma=separator)]
    for index, item in enumerate(new):
        final = index == len(new) - 1
        items.append(
            item.with_changes(
                comma=(trailing if trailing is not None else cst.MaybeSentinel.DEFAULT) if final else separator
            )
        )
    return items


@fixer("upper-string", cst.SimpleString)
def upper_string(node: cst.SimpleString, data: dict, context: FixContext) -> cst.CSTNode:
    value = string_value(node)
    if data["expect"] != value and data["expect"] not in re.split(r"[\s,;]+", value):
        raise NoFix("entry not found in the string")
    return with_value(node, value.upper())


@fixer("move-after", cst.Module, cst.IndentedBlock, exact=False)
def move_after(node: cst.CSTNode, data: dict, context: FixContext) -> cst.CSTNode:
    """Move the CORS registration after the last middleware registration of the
    same block, so that it becomes the outermost middleware. Comments above it
    move with it; blank lines stay where they were."""
    body = list(node.body)
    moved = context.index_of(body, data["statement"])
    anchor = context.index_of(body, data["anchor"])
    statement = body[moved]
    if anchor <= moved or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        raise NoFix("not a single statement before its anchor")
    follower = body[moved + 1]
    if not any(line.comment for line in (*statement.leading_lines, *follower.leading_lines)):
        statement, body[moved + 1] = (
            statement.with_changes(leading_lines=follower.leading_lines),
            follower.with_changes(leading_lines=statement.leading_lines),
        )
    del body[moved]
    body.insert(anchor, statement)
    return node.with_changes(body=body)


@fixer("move-first", cst.List, cst.Tuple, exact=False)
def move_first(node: cst.CSTNode, data: dict, context: FixContext) -> cst.CSTNode:
    """Put the Middleware(CORSMiddleware, ...) entry first in the middleware list.
    Line breaks stay where they are; the comment at the end of an entry's line
    moves with the entry."""
    elements = list(node.elements)
    index = context.index_of(elements, data["entry"])
    if index == 0:
        raise NoFix("already first")
    order = [index, *range(index), *range(index + 1, len(elements))]
    comments = [_line_end(node, p) for p in range(len(elements))]
    if any(c is not None and c.comment is not None for c in comments) and None in comments:
        raise NoFix("a comment would lose its entry")
    moved = node.with_changes(elements=[elements[i].with_changes(value=elements[o].value) for i, o in enumerate(order)])
    if None in comments:
        return moved
    for position, origin in enumerate(order):
        moved = _with_line_end(moved, position, comments[origin])
    return moved


def _slot(node: cst.CSTNode, position: int):
    """The whitespace after entry `position`: its comma's, or the closing bracket's
    for the last entry without a line break after its comma."""
    comma = node.elements[position].comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        return "comma", comma.whitespace_after
    if position == len(node.elements) - 1:
        closing = node.rbracket if isinstance(node, cst.List) else (node.rpar[-1] if node.rpar else None)
        if closing is not None and isinstance(closing.whitespace_before, cst.ParenthesizedWhitespace):
            return "closing", closing.whitespace_before
    return None, None


def _line_end(node: cst.CSTNode, position: int) -> "cst.TrailingWhitespace | None":
    """The end of entry `position`'s line (with its comment), if a line ends there."""
    _, space = _slot(node, position)
    return space.first_line if space is not None else None


def _with_line_end(node: cst.CSTNode, position: int, line_end: cst.TrailingWhitespace) -> cst.CSTNode:
    where, space = _slot(node, position)
    space = space.with_changes(first_line=line_end)
    if where == "comma":
        element = node.elements[position]
        elements = list(node.elements)
        elements[position] = element.with_changes(comma=element.comma.with_changes(whitespace_after=space))
        return node.with_changes(elements=elements)
    if isinstance(node, cst.List):
        return node.with_changes(rbracket=node.rbracket.with_changes(whitespace_before=space))
    rpar = list(node.rpar)
    rpar[-1] = rpar[-1].with_changes(whitespace_before=space)
    return node.with_changes(rpar=rpar)


def _keep_parens(old: cst.BaseExpression, new: cst.BaseExpression) -> cst.BaseExpression:
    """`new` in the place of `old`, keeping parentheses written around `old` (a
    tuple's first pair is its own)."""
    lpar, rpar = list(old.lpar), list(old.rpar)
    if isinstance(old, cst.Tuple):
        lpar, rpar = lpar[1:], rpar[1:]
    return new.with_changes(lpar=lpar, rpar=rpar) if lpar else new
