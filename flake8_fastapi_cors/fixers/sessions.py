"""Fixers for the session rules (FAC201-FAC208)."""

from __future__ import annotations

from typing import List, Optional, Sequence

import libcst as cst
import libcst.matchers as m

from flake8_fastapi_cors.fixers import FixContext, NoFix, fixer, statements

FUNCTIONS = (cst.FunctionDef,)


def _close(name: str, is_async: bool) -> str:
    return f"await {name}.close()" if is_async else f"{name}.close()"


def _is_close_of(stmt: cst.CSTNode, name: str) -> bool:
    """Is `stmt` the line `name.close()` or `await name.close()`?"""
    call = m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("close")), args=[])
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=call | m.Await(expression=call))]))


def _try_finally(body: Sequence[cst.BaseStatement], final: Sequence[cst.BaseStatement], leading_lines) -> cst.Try:
    """`try: body / finally: final`, with `leading_lines` (blank lines, comments) above it."""
    body = list(body)
    body[0] = body[0].with_changes(leading_lines=())
    return cst.Try(
        body=cst.IndentedBlock(body=body),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=list(final))),
        leading_lines=leading_lines,
    )


def _close_line(name: str, is_async: bool, context: FixContext) -> cst.BaseStatement:
    return context.statement(_close(name, is_async) + "\n")


def _named(function: cst.FunctionDef, line: cst.SimpleStatementLine, value: cst.BaseExpression):
    """`value` bound to a free name, on `line` (which keeps its comments): (name, new line)."""
    name = _free_name(function)
    return name, line.with_changes(body=[cst.Assign([cst.AssignTarget(cst.Name(name))], value)])


def _free_name(function: cst.FunctionDef, preferred: Sequence[str] = ("db", "session", "db_session")) -> str:
    used = {n.value for n in m.findall(function, m.Name())}
    for name in preferred:
        if name not in used:
            return name
    raise NoFix("no free name for the session")


def _with_body(function: cst.FunctionDef, body: List[cst.BaseStatement]) -> cst.FunctionDef:
    return function.with_changes(body=function.body.with_changes(body=body))


@fixer("close-in-finally", *FUNCTIONS)
def close_in_finally(function: cst.FunctionDef, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC202: the yield dependency closes its session in `finally`.

    `yield db` and what follows it up to `db.close()` go into `try:`, the close
    into `finally:`; a `try` around the yield gets (or extends) its `finally`."""
    body = statements(function.body)
    at = context.index_of(body, data["yield"])
    stmt = body[at]
    name: Optional[str] = data["name"]
    prefix: List[cst.BaseStatement] = []
    if name is None:  # `yield SessionLocal()`: name the session first
        match = m.SimpleStatementLine(body=[m.Expr(value=m.Yield(value=m.Call()))])
        if not m.matches(stmt, match):
            raise NoFix("not a plain `yield <session>` line")
        name, assignment = _named(function, stmt, stmt.body[0].value.value)
        prefix = [assignment]
        stmt = cst.SimpleStatementLine([cst.Expr(cst.Yield(cst.Name(name)))])
    close_at = next((i for i in range(at + 1, len(body)) if _is_close_of(body[i], name)), None)
    close = body[close_at] if close_at is not None else _close_line(name, data["is_async"], context)
    end = close_at if close_at is not None else len(body)
    if isinstance(stmt, cst.Try):
        if end > at + 1:
            raise NoFix("statements between the try and the close")
        final = stmt.finalbody
        if final is None:
            replacement = stmt.with_changes(finalbody=cst.Finally(body=cst.IndentedBlock(body=[close])))
        else:
            replacement = stmt.with_changes(
                finalbody=final.with_changes(body=final.body.with_changes(body=[*statements(final.body), close]))
            )
        new = [*body[:at], replacement, *body[end + 1 :]]
    elif m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.Yield())])):
        above = () if prefix else stmt.leading_lines
        guarded = _try_finally([stmt, *body[at + 1 : end]], [close.with_changes(leading_lines=())], above)
        new = [*body[:at], *prefix, guarded, *body[end + 1 :]]
    else:
        raise NoFix("the yield is nested in another statement")
    return _with_body(function, new)


@fixer("return-to-yield", *FUNCTIONS, imports=True)
def return_to_yield(function: cst.FunctionDef, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC203: `return db` becomes `try: yield db / finally: db.close()`; the
    return annotation `X` becomes `Iterator[X]` (`AsyncIterator[X]`)."""
    returns = m.findall(function.body, m.Return())
    nested = m.findall(function.body, m.FunctionDef() | m.Lambda() | m.ClassDef())
    if len(returns) != 1 or nested:
        raise NoFix("several returns or nested functions")
    body = statements(function.body)
    at = context.index_of(body, data["return"])
    stmt = body[at]
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Return()])):
        raise NoFix("the return is nested in another statement")
    value = stmt.body[0].value
    name = data["name"]
    prefix: List[cst.BaseStatement] = []
    if name is None:
        name, assignment = _named(function, stmt, value)
        prefix = [assignment]
    yielded = cst.SimpleStatementLine(
        [cst.Expr(cst.Yield(cst.Name(name)))],
        trailing_whitespace=cst.TrailingWhitespace() if prefix else stmt.trailing_whitespace,
    )
    above = () if prefix else stmt.leading_lines
    guarded = _try_finally([yielded], [_close_line(name, data["is_async"], context)], above)
    function = _with_body(function, [*body[:at], *prefix, guarded, *body[at + 1 :]])
    if function.returns is not None:
        iterator = "AsyncIterator" if function.asynchronous else "Iterator"
        context.add_import("typing", iterator)
        annotation = function.returns.annotation
        wrapped = cst.Subscript(cst.Name(iterator), [cst.SubscriptElement(cst.Index(annotation))])
        function = function.with_changes(returns=function.returns.with_changes(annotation=wrapped))
    return function


@fixer("drop-decorator", cst.Decorator, exact=False, imports=True)
def drop_decorator(decorator: cst.Decorator, data: dict, context: FixContext):
    """FAC204: FastAPI drives the generator itself; the decorator goes, and its
    import too when nothing else uses it."""
    if any(line.comment is not None for line in decorator.leading_lines):
        raise NoFix("a comment sits on the decorator")
    context.remove_unused_import(data["module"], data.get("obj"), data.get("asname"))
    return cst.RemoveFromParent()


@fixer("reraise", cst.ExceptHandler)
def reraise(handler: cst.ExceptHandler, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC205: the handler re-raises after its own work (a lone `pass` becomes `raise`)."""
    body = handler.body
    if isinstance(body, cst.SimpleStatementSuite):
        small = [s for s in body.body if not isinstance(s, cst.Pass)]
        return handler.with_changes(body=body.with_changes(body=[*small, cst.Raise()]))
    lines = list(body.body)
    if len(lines) == 1 and m.matches(lines[0], m.SimpleStatementLine(body=[m.Pass()])):
        return handler.with_changes(body=body.with_changes(body=[lines[0].with_changes(body=[cst.Raise()])]))
    return handler.with_changes(body=body.with_changes(body=[*lines, cst.SimpleStatementLine([cst.Raise()])]))


@fixer("await", cst.Call)
def await_call(call: cst.Call, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC206: `db.close()` becomes `await db.close()`."""
    return cst.Await(call.with_changes(lpar=[], rpar=[]), lpar=call.lpar, rpar=call.rpar)


@fixer("with-session", *FUNCTIONS)
def with_session(function: cst.FunctionDef, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC208: `db = SessionLocal()` and the rest of the handler become
    `with SessionLocal() as db:` around that rest."""
    body = statements(function.body)
    at = context.index_of(body, data["assign"])
    stmt = body[at]
    name = data["name"]
    assign = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(name))])])
    if not m.matches(stmt, assign):
        raise NoFix("not a plain `name = session` line")
    # `with` closes it now; a close line carrying a comment stays
    rest = [s for s in body[at + 1 :] if not (_is_close_of(s, name) and not m.findall(s, m.Comment()))]
    if not rest:
        rest = [cst.SimpleStatementLine([cst.Pass()])]
    first = rest[0].with_changes(leading_lines=())
    block = cst.With(
        items=[cst.WithItem(stmt.body[0].value, asname=cst.AsName(cst.Name(name)))],
        body=cst.IndentedBlock(body=[first, *rest[1:]], header=stmt.trailing_whitespace),
        asynchronous=cst.Asynchronous() if data["is_async"] else None,
        leading_lines=stmt.leading_lines,
    )
    return _with_body(function, [*body[:at], block])


@fixer("inject-session", cst.Module, exact=False, imports=True)
def inject_session(module: cst.Module, data: dict, context: FixContext) -> cst.CSTNode:
    """FAC201: after the global session, a yield dependency that makes one session
    per request; each handler that used the global gets it as a parameter of the
    same name, `name=Depends(get_db)`, so its body is unchanged. The global stays
    for code outside requests."""
    body = list(module.body)
    at = context.index_of(body, data["binding"])
    name, dependency, is_async = data["name"], data["dependency"], data["is_async"]
    statement = body[at]
    if not m.matches(
        statement, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name(name))], value=m.Call())])
    ):
        raise NoFix("not a plain `name = factory()` line")
    call = context.code(statement.body[0].value)
    definition = context.statement(
        f"{'async ' if is_async else ''}def {dependency}():\n"
        f"    {name} = {call}\n"
        f"    try:\n"
        f"        yield {name}\n"
        f"    finally:\n"
        f"        {_close(name, is_async)}\n"
    ).with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    handlers = [context.index_of(body, span) for span in data["handlers"]]
    for index in handlers:
        body[index] = _with_dependency(body[index], name, dependency)
    body.insert(at + 1, definition)
    context.add_import("fastapi", "Depends")
    return module.with_changes(body=body)


def _with_dependency(function: cst.CSTNode, name: str, dependency: str) -> cst.FunctionDef:
    """`function` with the parameter `name=Depends(dependency)` (keyword-only when
    it has `*args` or `*`)."""
    if not isinstance(function, cst.FunctionDef):
        raise NoFix("the handler is not a plain def here")
    if m.findall(function.body, m.Global() | m.Nonlocal()):
        raise NoFix("the handler declares the name global")
    params = function.params
    if any(p.name.value == name for p in (*params.params, *params.kwonly_params, *params.posonly_params)):
        raise NoFix("the handler already has a parameter of that name")
    param = cst.Param(
        cst.Name(name),
        default=cst.Call(cst.Name("Depends"), [cst.Arg(cst.Name(dependency))]),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)) or params.kwonly_params:
        params = params.with_changes(kwonly_params=[*params.kwonly_params, param])
    else:
        params = params.with_changes(params=[*params.params, param])
    return function.with_changes(params=params)
