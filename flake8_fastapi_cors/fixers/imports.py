"""Imports that fixes add or leave unused, written the way libcst's
AddImportsVisitor and RemoveImportsVisitor write them, without their cost
(they copy the tree and run scope analysis: tens of milliseconds per file).

Adding looks only at the module's leading imports (after a docstring): a name
already imported there is not imported again, a module already imported from
gets the name added in front of its names, anything else becomes a new
statement after the leading imports, `import x` lines (sorted) before
`from x import a, b` lines (sorted by module), with a blank line before the
code that follows. Removing drops the alias from its import statement, and the
statement when it was the last, once `unused_names` finds no other use."""

from __future__ import annotations

import ast
import re
from typing import Dict, Iterable, List, NamedTuple, Optional, Set

import libcst as cst
from libcst.helpers import get_full_name_for_node


class Removal(NamedTuple):
    module: str
    obj: Optional[str]  # None: `import module`
    asname: Optional[str]

    @property
    def bound(self) -> str:
        """The name the import binds in the module."""
        return self.asname or self.obj or self.module.split(".")[0]


class Requests:
    """The imports the fixes of one pass ask for, whichever part of the module
    they rewrite."""

    def __init__(self) -> None:
        self.adds: List[tuple] = []  # (module, obj or None)
        self.removals: List[Removal] = []


def leading_imports(module: cst.Module) -> List[int]:
    """Indexes of the module's first statements that are import lines (after a
    docstring or `__strict__` flag)."""
    body = module.body
    start = 1 if body and _docstring_or_strict(body[0]) else 0
    found = []
    for index in range(start, len(body)):
        if not _is_import_line(body[index]):
            break
        found.append(index)
    return found


def add_imports(module: cst.Module, wanted: Iterable[tuple]) -> cst.Module:
    body = list(module.body)
    top = leading_imports(module)
    have_modules: Set[str] = set()
    have_objects: Dict[str, Set[str]] = {}
    for index in top:
        statement = body[index].body[0]
        if isinstance(statement, cst.Import):
            have_modules.update(a.evaluated_name for a in statement.names if a.asname is None)
            continue
        name = _absolute(statement)
        if name is not None:
            names = have_objects.setdefault(name, set())
            if isinstance(statement.names, cst.ImportStar):
                names.add("*")
            else:
                names.update(a.evaluated_name for a in statement.names if a.asname is None)
    new_modules = sorted({m for m, obj in wanted if obj is None} - have_modules)
    new_objects: Dict[str, Set[str]] = {}
    for module_name, obj in wanted:
        if obj is not None:
            new_objects.setdefault(module_name, set()).add(obj)
    for module_name in list(new_objects):
        have = have_objects.get(module_name, set())
        new_objects[module_name] = set() if "*" in have else new_objects[module_name] - have
        if not new_objects[module_name]:
            del new_objects[module_name]
    for index in top:
        statement = body[index].body[0]
        name = _absolute(statement) if isinstance(statement, cst.ImportFrom) else None
        if name in new_objects and not isinstance(statement.names, cst.ImportStar):
            added = [cst.ImportAlias(name=cst.Name(obj)) for obj in sorted(new_objects.pop(name))]
            body[index] = body[index].with_changes(body=[statement.with_changes(names=[*added, *statement.names])])
    if not new_modules and not new_objects:
        return module.with_changes(body=body)
    at = top[-1] + 1 if top else (1 if body and _docstring_or_strict(body[0]) else 0)
    config = module.config_for_parsing
    lines = [cst.parse_statement(f"import {name}", config=config) for name in new_modules]
    lines += [
        cst.parse_statement(f"from {name} import {', '.join(sorted(objs))}", config=config)
        for name, objs in sorted(new_objects.items())
    ]
    rest = body[at:]
    if rest:
        leading = rest[0].leading_lines
        if not leading:
            rest[0] = rest[0].with_changes(leading_lines=(cst.EmptyLine(),))
        elif leading[0].comment is not None:
            rest[0] = rest[0].with_changes(leading_lines=(cst.EmptyLine(), *leading))
    return module.with_changes(body=[*body[:at], *lines, *rest])


def unused_names(tree: ast.Module, names: Iterable[str]) -> Set[str]:
    """The names nothing in the module reads: no name node, and no string (an
    annotation, `__all__`) that holds the name as a word."""
    wanted = set(names)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in wanted}
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for name in wanted - used:
        word = re.compile(rf"\b{re.escape(name)}\b")
        if any(word.search(s) for s in strings):
            used.add(name)
    return wanted - used


def remove_imports(module: cst.Module, removals: Iterable[Removal]) -> cst.Module:
    removals = list(removals)
    if not removals:
        return module
    return module.visit(_Remover(removals))


class _Remover(cst.CSTTransformer):
    def __init__(self, removals: List[Removal]) -> None:
        super().__init__()
        self.removals = removals

    def leave_Import(self, original: cst.Import, updated: cst.Import):
        drop = {(r.module, r.asname) for r in self.removals if r.obj is None}
        return _without(updated, lambda a: (a.evaluated_name, a.evaluated_alias) in drop)

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom):
        if isinstance(updated.names, cst.ImportStar):
            return updated
        name = _absolute(updated)
        drop = {(r.obj, r.asname) for r in self.removals if r.obj is not None and r.module == name}
        return _without(updated, lambda a: (a.evaluated_name, a.evaluated_alias) in drop)


def _without(statement, dropped):
    names = list(statement.names)
    keep = [a for a in names if not dropped(a)]
    if len(keep) == len(names):
        return statement
    if not keep:
        return cst.RemoveFromParent()
    if keep[-1] is not names[-1]:
        keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(names=keep)


def _absolute(statement: cst.ImportFrom) -> Optional[str]:
    """The module of a `from` import; None for a relative one."""
    if statement.relative or statement.module is None:
        return None
    return get_full_name_for_node(statement.module)


def _is_import_line(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def _docstring_or_strict(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )
