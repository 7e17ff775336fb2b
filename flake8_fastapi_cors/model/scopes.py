"""Scopes, imports and bindings of one module, collected in a single pass.

The pass never modifies the tree (flake8 shares it between plugins). It records
where every name is bound, which imports are in force, and every call site with
the scope and the block (branch) it sits in, so later questions such as "what
does this name hold here?" or "are these two calls in exclusive branches?" are
answered without walking the tree again.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# A block path identifies the statement list a statement lives in: a tuple of
# (id(compound statement), statement type, field name) from the scope's body down.
BlockPath = Tuple[Tuple[int, str, str], ...]


@dataclass(frozen=True)
class Import:
    """`import module` / `from module import name`, `level` dots for relative imports."""

    module: str
    name: Optional[str]
    level: int = 0

    @property
    def qualname(self) -> str:
        prefix = "." * self.level
        if self.name is None:
            return prefix + self.module
        if self.module:
            return f"{prefix}{self.module}.{self.name}"
        return prefix + self.name


@dataclass
class Binding:
    """One place where a name gets a value. `value` is None for opaque bindings
    (parameters, loop targets, tuple unpacking...)."""

    name: str
    value: Optional[ast.expr]
    node: ast.AST
    path: BlockPath
    kind: str = "assign"  # assign | def | class | opaque
    annotation: Optional[ast.expr] = None


@dataclass
class Scope:
    kind: str  # module | function | class
    node: ast.AST
    parent: Optional["Scope"]
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    imports: Dict[str, Import] = field(default_factory=dict)
    mutations: Dict[str, List[ast.AST]] = field(default_factory=dict)
    global_names: set = field(default_factory=set)

    def bind(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    @property
    def module(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup_scope(self, name: str) -> Optional["Scope"]:
        """The scope whose binding of `name` is visible here (Python rules:
        class bodies are not visible from functions nested in them)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            if name in scope.global_names:
                return self.module
            if (first or scope.kind != "class") and (name in scope.bindings or name in scope.imports):
                return scope
            first = False
            scope = scope.parent
        return None


@dataclass
class CallSite:
    call: ast.Call
    scope: Scope
    path: BlockPath
    stmt: ast.stmt
    decorates: Optional[ast.AST] = None  # the def/class when the call is a decorator


MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "add"})
# Fields of expression nodes that never hold a node to visit, and the fields
# that may, by node type (filled as types are met).
_LEAF_FIELDS = frozenset({"ctx", "id", "attr", "arg", "kind", "conversion", "is_async"})
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


class ScopeBuilder(ast.NodeVisitor):
    """Builds the scope tree, the call sites, the functions and the names read,
    in one walk over every node."""

    def __init__(self, tree: ast.Module) -> None:
        self.module = Scope("module", tree, None)
        self.scope = self.module
        self.path: BlockPath = ()
        self.stmt: Optional[ast.stmt] = None
        self.calls: List[CallSite] = []
        self.functions: List[ast.AST] = []  # every def, outer before inner
        self.loads: List[ast.Name] = []  # every name read
        self.assigns: List[ast.Assign] = []  # every `a = b` (at any depth)
        self.main_guards: set = set()  # ids of `if __name__ == "__main__":` blocks
        self.scope_of: Dict[int, Scope] = {id(tree): self.module}
        self._decorating: Optional[ast.AST] = None
        self._methods: Dict[type, object] = {}
        self._visit_body(tree, "body")

    def visit(self, node: ast.AST) -> None:
        method = self._methods.get(type(node))
        if method is None:
            kind = type(node)
            if issubclass(kind, ast.expr):
                method = self._visit_expression if kind is not ast.Constant else _skip
            else:
                method = getattr(self, "visit_" + kind.__name__, self.generic_visit)
            self._methods[kind] = method
        method(node)

    def _visit_expression(self, root: ast.expr) -> None:
        """An expression and everything in it, in the order a recursive visit
        takes, with a stack of its own: expressions nest as deeply as the parser
        allows (thousands of levels), statements only about a hundred."""
        stack: List[object] = [root]
        pop, push, loads = stack.pop, stack.append, self.loads
        while stack:
            node = pop()
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Load:
                    loads.append(node)
                continue
            if kind is tuple:  # `(name, value, node)`: a binding made after its value
                self._bind(*node)
                continue
            if kind is ast.Call:
                self._call_site(node)
            elif kind is ast.NamedExpr:
                push((node.target.id, node.value, node))
                push(node.value)
                continue
            fields = _CHILD_FIELDS.get(kind)
            if fields is None:
                fields = _CHILD_FIELDS[kind] = tuple(reversed([f for f in kind._fields if f not in _LEAF_FIELDS]))
            for name in fields:  # last field first: the stack gives them back in order
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in reversed(value):
                        if isinstance(item, ast.AST) and type(item) is not ast.Constant:
                            push(item)
                elif isinstance(value, ast.AST) and type(value) is not ast.Constant:
                    push(value)

    # -- statement lists -------------------------------------------------
    def _visit_body(self, owner: ast.AST, field_name: str) -> None:
        saved = self.path
        if not isinstance(owner, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.path = saved + ((id(owner), type(owner).__name__, field_name),)
        for stmt in getattr(owner, field_name):
            saved_stmt = self.stmt
            self.stmt = stmt
            self.visit(stmt)
            self.stmt = saved_stmt
        self.path = saved

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._visit_body(node, name)
                else:
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                self.visit(value)

    def _bind(self, name: str, value, node, kind="assign", annotation=None) -> None:
        self.scope.bind(Binding(name, value, node, self.path, kind, annotation))

    def _bind_target(self, target: ast.expr, value: Optional[ast.expr], node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, value, node, "assign" if value is not None else "opaque")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._bind_target(elt.value if isinstance(elt, ast.Starred) else elt, None, node)
        else:
            # attribute / subscript targets: `app.user_middleware = [...]` etc.
            self.visit(target)

    # -- scopes ----------------------------------------------------------
    def _enter(self, kind: str, node: ast.AST) -> Scope:
        scope = Scope(kind, node, self.scope)
        self.scope_of[id(node)] = scope
        return scope

    def _visit_function(self, node) -> None:
        self._visit_decorators(node)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        args = node.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)  # `Annotated[Session, Depends(get_db)]`
        if node.returns is not None:
            self.visit(node.returns)
        self._bind(node.name, None, node, "def")
        self.functions.append(node)
        outer_scope, outer_path = self.scope, self.path
        self.scope = self._enter("function", node)
        self.path = ()
        args = node.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if arg is not None:
                self._bind(arg.arg, None, arg, "opaque", arg.annotation)
        self._visit_body(node, "body")
        self.scope, self.path = outer_scope, outer_path

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_decorators(node)
        for base in node.bases:
            self.visit(base)
        for kw in node.keywords:
            self.visit(kw.value)
        self._bind(node.name, None, node, "class")
        outer_scope, outer_path = self.scope, self.path
        self.scope = self._enter("class", node)
        self.path = ()
        self._visit_body(node, "body")
        self.scope, self.path = outer_scope, outer_path

    def _visit_decorators(self, node) -> None:
        for decorator in node.decorator_list:
            self._decorating = node
            self.visit(decorator)
            self._decorating = None

    # -- bindings --------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.scope.imports[alias.asname] = Import(alias.name, None)
            else:
                top = alias.name.split(".")[0]
                self.scope.imports[top] = Import(top, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            self.scope.imports[alias.asname or alias.name] = Import(node.module or "", alias.name, node.level or 0)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.assigns.append(node)
        self.visit(node.value)
        for target in node.targets:
            self._bind_target(target, node.value, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._bind(
                node.target.id, node.value, node, "assign" if node.value is not None else "opaque", node.annotation
            )
        else:
            self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.scope.mutations.setdefault(node.target.id, []).append(node)
        else:
            self.visit(node.target)

    def _visit_loop(self, node) -> None:
        self.visit(node.iter)
        self._bind_target(node.target, None, node)
        self._visit_body(node, "body")
        self._visit_body(node, "orelse")

    visit_For = visit_AsyncFor = _visit_loop

    def _visit_with(self, node) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, None, node)
        self._visit_body(node, "body")

    visit_With = visit_AsyncWith = _visit_with

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._bind(node.name, None, node, "opaque")
        self._visit_body(node, "body")

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
        ):
            self.main_guards.add(id(node))
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.global_names.update(node.names)

    def visit_Nonlocal(self, node) -> None:
        pass

    # -- calls -----------------------------------------------------------
    def _call_site(self, node: ast.Call) -> None:
        decorates, self._decorating = self._decorating, None
        self.calls.append(CallSite(node, self.scope, self.path, self.stmt, decorates))
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in MUTATING_METHODS:
            self.scope.mutations.setdefault(func.value.id, []).append(node)


def _skip(node: ast.AST) -> None:
    pass


def exclusive_branches(a: BlockPath, b: BlockPath) -> bool:
    """True when two statements of one scope can never both run: they sit in
    the two arms of the same `if` (or in different `match` cases)."""
    for (node_a, kind_a, field_a), (node_b, _kind_b, field_b) in zip(a, b):
        if node_a != node_b:
            return kind_a == "match_case" and _kind_b == "match_case"
        if field_a != field_b:
            return kind_a == "If"
    return False


NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(func: ast.AST) -> List[ast.AST]:
    """Nodes of a function body, not descending into nested functions, classes or
    lambdas (kept on the node: rules ask for them again and again)."""
    found = func.__dict__.get("_own_nodes")
    if found is None:
        found = []
        stack = list(func.body)
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, NESTED))
        func._own_nodes = found
    return found


def unparse(node: ast.AST) -> str:
    """`ast.unparse`, which recurses: code nested deeper than the recursion limit
    gets a placeholder instead of an error."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return "<deeply nested expression>"


def keyword_arg(call: ast.Call, name: str) -> Optional[ast.expr]:
    """The value of `name=...` in a call, if given."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None
