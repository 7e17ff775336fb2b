"""SQLAlchemy sessions in a FastAPI module: factories, session instances,
dependencies and route handlers, computed once per file.

Factories and sessions are found by data flow (what a name was assigned, see
`resolve.py`), never by name. Dependencies are found the way FastAPI finds
them: `Depends(x)` / `Security(x)` anywhere (parameter defaults, `Annotated`
aliases, `dependencies=[...]`), `app.dependency_overrides[...] = x`,
`functools.partial`, class instances with a generator `__call__`.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from flake8_fastapi_cors.model.scopes import Binding, Scope, keyword_arg, own_nodes, unparse
from flake8_fastapi_cors.model.values import ClassRef, SessionFactory, SessionObject, Value

if TYPE_CHECKING:  # pragma: no cover
    from flake8_fastapi_cors.model import ModuleModel

DEPENDS = frozenset(
    {
        "fastapi.Depends",
        "fastapi.Security",
        "fastapi.params.Depends",
        "fastapi.params.Security",
        "fastapi.param_functions.Depends",
        "fastapi.param_functions.Security",
    }
)
CONTEXT_MANAGERS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
FIXTURES = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
PARTIALS = frozenset({"functools.partial"})
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Created:
    """A session made inside a function: `name = factory()` or `with factory() as name`."""

    name: Optional[str]
    node: ast.AST  # the assignment (or the call when not assigned)
    value: SessionObject
    in_with: bool


class SessionModel:
    def __init__(self, model: "ModuleModel", extra_factories: Tuple[str, ...] = ()) -> None:
        self.model = model
        self.extra_factories = frozenset(extra_factories)
        self.dependencies: Dict[int, ast.AST] = {}  # the defs FastAPI calls as dependencies
        self.handlers: Dict[int, ast.AST] = {}
        self.depends_calls: List[Tuple[ast.Call, ast.expr, Scope]] = []  # Depends(target) anywhere
        self._other_uses: set = set()  # names read anywhere but as a Depends(...) target
        self._imported: Optional[set] = None  # top-level packages imported anywhere
        self._yield_dependencies: Optional[List[ast.AST]] = None
        self._find_dependencies_and_handlers()

    # -- what kind of file ------------------------------------------------
    @property
    def handles_requests(self) -> bool:
        """Tests, conftest.py and Alembic's env.py are not request handling."""
        model = self.model
        if model.is_test_file:
            return False
        if os.path.basename(model.filename) == "env.py" and self.imports("alembic"):
            return False
        return True

    def imports(self, package: str) -> bool:
        """Does the module import `package` (or something inside it) anywhere?"""
        if self._imported is None:
            self._imported = {
                imp.qualname.split(".")[0] for scope in self._all_scopes() for imp in scope.imports.values()
            }
        return package in self._imported

    def _all_scopes(self) -> Iterator[Scope]:
        seen = set()
        for scope in self.model.scope_of.values():
            if id(scope) not in seen:
                seen.add(id(scope))
                yield scope

    def in_main_block(self, binding_path) -> bool:
        return any(node_id in self.model.main_guards for node_id, _kind, _field in binding_path)

    # -- sessions ---------------------------------------------------------
    def session_value(self, expr: ast.expr, scope: Scope) -> Optional[Value]:
        """The session or factory an expression holds, if it is one."""
        value = self.model.resolve(expr, scope)
        if isinstance(value, (SessionObject, SessionFactory)):
            return value
        if isinstance(expr, ast.Call) and self._extra_factory(expr.func):
            return SessionObject(expr)
        return None

    def _extra_factory(self, func: ast.expr) -> bool:
        if not self.extra_factories:
            return False
        text = unparse(func)
        return text in self.extra_factories or text.rsplit(".", 1)[-1] in self.extra_factories

    def param_session(self, func: ast.AST, name: str) -> Optional[SessionObject]:
        """A parameter annotated `AsyncSession` / `Session` (directly, in
        `Annotated[...]`, or through an alias such as `SessionDep`)."""
        from flake8_fastapi_cors.model.resolve import ASYNC_SESSION_CLASSES, SESSION_CLASSES

        args = func.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs:
            if arg.arg != name or arg.annotation is None:
                continue
            annotation = self._unalias(arg.annotation)
            qualname = self.model.qualname(annotation, self.model.scope)
            if qualname in SESSION_CLASSES:
                return SessionObject(arg, "code", qualname in ASYNC_SESSION_CLASSES)
        return None

    def _unalias(self, annotation: ast.expr, depth: int = 0) -> ast.expr:
        """`Annotated[AsyncSession, Depends(...)]` and `SessionDep` -> `AsyncSession`."""
        if depth > 4:
            return annotation
        if isinstance(annotation, ast.Subscript):
            qualname = self.model.qualname(annotation.value, self.model.scope) or ""
            if qualname.endswith("Annotated"):
                inner = annotation.slice
                first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                return self._unalias(first, depth + 1)
        if isinstance(annotation, ast.Name):
            bindings = self.model.scope.bindings.get(annotation.id, [])
            if len(bindings) == 1 and isinstance(bindings[0].value, ast.Subscript):
                return self._unalias(bindings[0].value, depth + 1)
        return annotation

    def created_sessions(self, func: ast.AST) -> List[Created]:
        """Sessions a function makes itself (not ones it receives or reads from globals)."""
        scope = self.model.scope_of[id(func)]
        out = []
        for node in own_nodes(func):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    value = self.session_value(item.context_expr, scope)
                    if isinstance(value, SessionObject):
                        name = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
                        out.append(Created(name, node, value, True))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not (len(targets) == 1 and isinstance(targets[0], ast.Name)):
                    continue
                value = self.session_value(node.value, scope)
                if is_new_session(value) and _inside(value.node, func):
                    out.append(Created(targets[0].id, node, value, False))
        return out

    # -- dependencies and handlers ---------------------------------------
    def _find_dependencies_and_handlers(self) -> None:
        model = self.model
        depends_args = set()
        for site in model.calls:
            call = site.call
            qualname = model.qualname(call.func, site.scope)
            if qualname in DEPENDS:
                target = call.args[0] if call.args else keyword_arg(call, "dependency")
                if target is not None:
                    depends_args.add(id(target))
                    self.depends_calls.append((call, target, site.scope))
                    for func in self._local(self._dependency_functions(target, site.scope)):
                        self.dependencies.setdefault(id(func), func)
        for app in model.web.apps.values():
            for route in app.routes:
                if route.endpoint is not None and (not route.decorated or self._looks_like_route(route.node)):
                    self.handlers[id(route.endpoint)] = route.endpoint
        for node in model.assigns:
            # app.dependency_overrides[get_db] = override_get_db
            if any(_is_overrides(t) for t in node.targets):
                scope = model.scope  # overrides name module-level functions
                for func in self._local(self._dependency_functions(node.value, scope)):
                    self.dependencies.setdefault(id(func), func)
        self._other_uses.update(name.id for name in model.loads if id(name) not in depends_args)

    def _local(self, funcs: List[ast.AST]) -> List[ast.AST]:
        """Only functions written in this module are checked here (others in their own file)."""
        return [f for f in funcs if id(f) in self.model.scope_of]

    def _looks_like_route(self, call: ast.Call) -> bool:
        """`@x.get("/path")`: a path string first, in a module that uses FastAPI or Starlette."""
        first = call.args[0] if call.args else keyword_arg(call, "path")
        is_path = isinstance(first, ast.Constant) and isinstance(first.value, str)
        return (is_path or first is None) and (self.imports("fastapi") or self.imports("starlette"))

    def _dependency_functions(self, target: ast.expr, scope: Scope, depth: int = 0) -> List[ast.AST]:
        """The def FastAPI ends up calling for `Depends(target)`."""
        if depth > 4:
            return []
        if isinstance(target, ast.Call):
            qualname = self.model.qualname(target.func, scope)
            if qualname in PARTIALS and target.args:
                return self._dependency_functions(target.args[0], scope, depth + 1)
            # Depends(SomeClass(...)): an instance; FastAPI calls its __call__
            value = self.model.resolve(target.func, scope)
            if isinstance(value, ClassRef):
                call = _method(value.cls.node, "__call__")
                return [call] if call is not None else []
            return []
        func = self.model.def_of(target, scope)
        if func is not None:
            return [func]
        if isinstance(target, ast.Name):  # replica_db = partial(get_db, "replica"); alias = get_db
            owner = scope.lookup_scope(target.id)
            bindings = owner.bindings.get(target.id, []) if owner else []
            if len(bindings) == 1 and isinstance(bindings[0].value, (ast.Call, ast.Name)):
                found = self._dependency_functions(bindings[0].value, owner, depth + 1)
                if found:
                    return found
        value = self.model.resolve(target, scope)  # an instance bound to a name
        cls = getattr(value, "cls", None)
        if cls is not None and hasattr(cls, "node") and not isinstance(value, ClassRef):
            call = _method(cls.node, "__call__")
            return [call] if call is not None else []
        return []

    def function_anywhere(self, expr: ast.expr, scope: Scope):
        """(def, its module model) for a name bound to a function here or imported
        from a sibling module of the same package."""
        func = self.model.def_of(expr, scope)
        if func is not None:
            return func, self.model
        if not isinstance(expr, ast.Name):
            return None
        owner = scope.lookup_scope(expr.id)
        imp = owner.imports.get(expr.id) if owner is not None and expr.id not in owner.bindings else None
        if imp is None or imp.name is None:
            return None
        other = self.model.sibling(imp.module, imp.level)
        bindings = other.scope.bindings.get(imp.name, []) if other is not None else []
        if len(bindings) == 1 and bindings[0].kind == "def":
            return bindings[0].node, other
        return None

    def decorated_with(self, func: ast.AST, qualnames) -> bool:
        return self.decorator(func, qualnames) is not None

    def decorator(self, func: ast.AST, qualnames) -> Optional[Tuple[ast.expr, str]]:
        """The decorator of `func` whose qualified name is one of `qualnames`, and that name."""
        scope = self.model.scope_of[id(func)].parent or self.model.scope
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualname = self.model.qualname(target, scope)
            if qualname in qualnames:
                return decorator, qualname
        return None

    def used_only_through_depends(self, name: str) -> bool:
        """Is `name` read in this module only as the target of Depends(...)?"""
        return name not in self._other_uses

    def yield_dependencies(self) -> List[ast.AST]:
        """Generator dependencies: used through Depends, or shaped like one (a
        generator that makes a session and yields) when this module does not use
        it any other way, is not a context manager and not a pytest fixture."""
        if self._yield_dependencies is not None:
            return self._yield_dependencies
        out = []
        for func in self.model.functions:
            if not _is_generator(func):
                continue
            if id(func) in self.dependencies:
                out.append(func)
                continue
            if func.name in self._other_uses or self.decorated_with(func, CONTEXT_MANAGERS | FIXTURES):
                continue
            if self.created_sessions(func) or self._yields_new_session(func):
                out.append(func)
        self._yield_dependencies = out
        return out

    def _yields_new_session(self, func: ast.AST) -> bool:
        scope = self.model.scope_of[id(func)]
        return any(
            isinstance(n, ast.Yield)
            and n.value is not None
            and is_new_session(self.session_value(n.value, scope))
            and _inside(n.value, func)
            for n in own_nodes(func)
        )

    def global_sessions(self) -> Iterator[Tuple[Scope, Binding]]:
        """Module- and class-level names bound to a session instance."""
        for scope in self._all_scopes():
            if scope.kind not in ("module", "class"):
                continue
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.value is None or self.in_main_block(binding.path):
                        continue
                    value = self.session_value(binding.value, scope)
                    if isinstance(value, SessionObject) and not value.begun:
                        yield scope, binding

    def request_functions(self) -> List[ast.AST]:
        """Route handlers and dependencies: code that runs per request."""
        funcs = {**self.handlers, **self.dependencies}
        for func in self.yield_dependencies():
            funcs.setdefault(id(func), func)
        return list(funcs.values())


# -- small AST helpers ----------------------------------------------------


def is_new_session(value: Optional[Value]) -> bool:
    """A session made here that someone must close: not `factory.begin()` (a context
    manager) and not a scoped registry's session (the registry owns it)."""
    return isinstance(value, SessionObject) and not value.begun and not value.scoped


def _is_generator(func: ast.AST) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(func))


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    line = getattr(node, "lineno", 0)
    return outer.lineno <= line <= getattr(outer, "end_lineno", line)


def _method(cls: ast.ClassDef, name: str) -> Optional[ast.AST]:
    for node in cls.body:
        if isinstance(node, FUNCTIONS) and node.name == name:
            return node
    return None


def _is_overrides(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Attribute)
        and target.value.attr == "dependency_overrides"
    )
