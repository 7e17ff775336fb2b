"""The per-file model: what a module means, computed once from the stdlib ast.

`ModuleModel(tree, filename)` knows the module's scopes, imports (as qualified
names), the values names hold, settings classes, and, lazily, the FastAPI /
Starlette apps with their middleware stacks, CORS configurations, routes and
exception handlers (`model.web`). Rules only ask it questions.
"""

from __future__ import annotations

import ast
import os
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from flake8_fastapi_cors.model.resolve import FIELD_FACTORIES, SETTINGS_BASES, Resolver
from flake8_fastapi_cors.model.scopes import Scope, ScopeBuilder, own_nodes
from flake8_fastapi_cors.model.values import (
    SETTINGS,
    ClassInfo,
    Const,
    RuntimeStr,
    Seq,
    Unknown,
    Value,
    with_origin,
)

# Sibling modules read while resolving names (a `database.py` that many modules
# import), cached between files. Their models take 20 to 40 times their source in
# memory, so the cache keeps the most recently used ones up to SIBLING_CACHE_BYTES
# of source, and a sibling larger than MAX_SIBLING_BYTES (a library's internals
# rather than an application's settings or session factory) is not read.
_SIBLINGS: "OrderedDict[str, Optional[ModuleModel]]" = OrderedDict()
_SIBLING_SIZES: Dict[str, int] = {}
_SIBLING_PATHS: Dict[Tuple[str, str, int], Optional[str]] = {}  # (directory, module, level) -> file
MAX_SIBLING_BYTES = 32_000
SIBLING_CACHE_BYTES = 64_000

STDIN_NAMES = frozenset({"<stdin>", "-", "stdin"})


class ModuleModel:
    def __init__(self, tree: ast.Module, filename: str = "<stdin>") -> None:
        self.tree = tree
        self.filename = filename
        builder = ScopeBuilder(tree)
        self.scope: Scope = builder.module
        self.calls = builder.calls
        self.functions = builder.functions
        self.loads = builder.loads
        self.assigns = builder.assigns
        self.scope_of = builder.scope_of
        self.main_guards = builder.main_guards
        self.resolver = Resolver(self)
        self._classes: Dict[int, ClassInfo] = {}
        self._web = None
        self._sessions: Dict[tuple, object] = {}

    # -- facts about the file -------------------------------------------
    @property
    def is_test_file(self) -> bool:
        """pytest's own naming: `test_*.py`, `*_test.py`, `conftest.py`. Directories do
        not count: a project may well live under a folder called `tests`."""
        base = os.path.basename(self.filename)
        return base == "conftest.py" or base.startswith("test_") or base.endswith("_test.py")

    @property
    def web(self):
        """Apps, middleware stacks, CORS configurations, routes (computed once)."""
        if self._web is None:
            from flake8_fastapi_cors.model.web import WebModel

            self._web = WebModel(self)
        return self._web

    def sessions(self, extra_factories: Tuple[str, ...] = ()):
        """Session factories, dependencies and handlers (computed once per option set)."""
        cached = self._sessions.get(extra_factories)
        if cached is None:
            from flake8_fastapi_cors.model.sessions import SessionModel

            cached = self._sessions[extra_factories] = SessionModel(self, extra_factories)
        return cached

    # -- names -----------------------------------------------------------
    def qualname(self, expr: ast.AST, scope: Scope) -> Optional[str]:
        """`fastapi.middleware.cors.CORSMiddleware` for `CORSMiddleware`, however
        imported, and through plain aliases (`Cors = CORSMiddleware`). A loop, not
        recursion: attribute chains can be thousands long and aliases circular."""
        attrs: List[str] = []
        seen = set()
        while True:
            while isinstance(expr, ast.Attribute):
                attrs.append(expr.attr)
                expr = expr.value
            if not isinstance(expr, ast.Name):
                return None
            owner = scope.lookup_scope(expr.id)
            if owner is None:
                return None
            if expr.id in owner.imports and expr.id not in owner.bindings:
                return ".".join([owner.imports[expr.id].qualname, *reversed(attrs)])
            bindings = owner.bindings.get(expr.id, [])
            if len(bindings) != 1 or not isinstance(bindings[0].value, (ast.Name, ast.Attribute)):
                return None
            alias = bindings[0].value
            if alias is expr or id(alias) in seen:
                return None
            seen.add(id(alias))
            expr, scope = alias, owner

    def resolve(self, expr: Optional[ast.expr], scope: Scope) -> Value:
        return self.resolver.resolve(expr, scope)

    # -- sibling modules -------------------------------------------------
    def sibling(self, module: str, level: int) -> Optional["ModuleModel"]:
        """The module `module` (with `level` leading dots) of this file's own
        package, parsed; None when it is not found, unreadable or broken."""
        if self.filename in STDIN_NAMES or not (module or level):
            return None
        path = _sibling_path(os.path.dirname(os.path.abspath(self.filename)), module, level)
        return load_module(path) if path is not None else None

    def submodule(self, name: str) -> Optional["ModuleModel"]:
        """`package.name` when this model is a package's `__init__.py`."""
        if os.path.basename(self.filename) != "__init__.py":
            return None
        base = os.path.join(os.path.dirname(self.filename), name)
        for path in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(path):
                return load_module(path)
        return None

    # -- classes and settings -------------------------------------------
    def class_info(self, node: ast.ClassDef) -> Optional[ClassInfo]:
        info = self._classes.get(id(node))
        if info is None:
            scope = self.scope_of.get(id(node))
            if scope is None:
                return None
            outer = scope.parent or self.scope
            bases = [self.qualname(b, outer) or "" for b in node.bases]
            info = ClassInfo(node, scope, self, bases)
            self._classes[id(node)] = info
        return info

    def local_class_bases(self, expr: ast.expr, scope: Scope) -> List[ast.expr]:
        """Base class expressions of a class defined in this module, transitively
        through other classes of this module (no other file is read)."""
        out: List[ast.expr] = []
        pending = [(expr, scope)]
        seen = set()
        while pending and len(seen) < 16:
            current, where = pending.pop()
            if not isinstance(current, ast.Name):
                continue
            owner = where.lookup_scope(current.id)
            bindings = owner.bindings.get(current.id, []) if owner else []
            if len(bindings) != 1 or bindings[0].kind != "class" or id(bindings[0].node) in seen:
                continue
            seen.add(id(bindings[0].node))
            for base in bindings[0].node.bases:
                out.append(base)
                pending.append((base, owner))
        return out

    def _base_classes(self, info: ClassInfo) -> List[ClassInfo]:
        out = []
        outer = info.scope.parent or self.scope
        for base in info.node.bases:
            value = self.resolve(base, outer)
            cls = getattr(value, "cls", None)
            if isinstance(cls, ClassInfo):
                out.append(cls)
        return out

    def is_settings_class(self, info: ClassInfo, _depth: int = 0) -> bool:
        """pydantic models and settings (their defaults are configuration);
        classes whose bases cannot be read count as settings too."""
        if _depth > 8:
            return True
        if any(b in SETTINGS_BASES for b in info.bases):
            return True
        readable = info.module._base_classes(info)
        if len(readable) < len([b for b in info.node.bases if not _is_object(b)]):
            return True  # a base we cannot read: do not call its defaults code
        return any(b.module.is_settings_class(b, _depth + 1) for b in readable)

    def field_value(self, info: ClassInfo, attr: str, anchor: ast.AST, instance: bool, _depth: int = 0) -> Value:
        """The value of `attr` on a class or instance: its default."""
        bindings = info.scope.bindings.get(attr)
        if not bindings:
            if _depth < 8:
                for base in self._base_classes(info):
                    value = base.module.field_value(base, attr, anchor, instance, _depth + 1)
                    if not isinstance(value, Unknown):
                        return value
            return Unknown(anchor)
        binding = bindings[-1]
        if binding.kind != "assign" and binding.value is None and binding.annotation is None:
            return Unknown(anchor)
        settings = self.is_settings_class(info)
        value = self._field_default(binding.value, info.scope) if binding.value is not None else Unknown(anchor)
        if settings:
            value = with_origin(value, SETTINGS)
            if _is_str_annotation(binding.annotation):
                default = value if isinstance(value, Const) else None
                return RuntimeStr(binding.node, SETTINGS, default, f"{info.node.name}.{attr}", attr.upper())
        return value

    def _field_default(self, expr: ast.expr, scope: Scope) -> Value:
        if isinstance(expr, ast.Call) and self.qualname(expr.func, scope.parent or self.scope) in FIELD_FACTORIES:
            keywords = {kw.arg: kw.value for kw in expr.keywords if kw.arg}
            if "default" in keywords:
                return self.resolve(keywords["default"], scope)
            if expr.args and not (isinstance(expr.args[0], ast.Constant) and expr.args[0].value is Ellipsis):
                return self.resolve(expr.args[0], scope)
            factory = keywords.get("default_factory")
            if isinstance(factory, ast.Lambda):
                return self.resolve(factory.body, scope)
            if isinstance(factory, ast.Name) and factory.id in ("list", "set", "tuple"):
                return Seq(factory, "code", (), factory.id, False, None)
            return Unknown(expr)
        return self.resolve(expr, scope)

    def def_of(self, expr: ast.expr, scope: Scope) -> Optional[ast.AST]:
        """The function a name is bound to (once, by `def`) where it is used."""
        if not isinstance(expr, ast.Name):
            return None
        owner = scope.lookup_scope(expr.id)
        bindings = owner.bindings.get(expr.id, []) if owner else []
        if len(bindings) == 1 and bindings[0].kind == "def":
            return bindings[0].node
        return None

    def function_return(self, func: ast.expr, scope: Scope) -> Optional[Value]:
        """What a call of a module function returns, when it has one `return`."""
        node = self.def_of(func, scope)
        if node is None:
            return None
        returns = [n for n in own_nodes(node) if isinstance(n, ast.Return)]
        if len(returns) != 1 or returns[0].value is None:
            return None
        return self.resolve(returns[0].value, self.scope_of[id(node)])


def _is_object(base: ast.expr) -> bool:
    return isinstance(base, ast.Name) and base.id in ("object", "Generic", "Protocol")


def _is_str_annotation(annotation: Optional[ast.expr]) -> bool:
    if isinstance(annotation, ast.Name):
        return annotation.id == "str"
    if isinstance(annotation, ast.Constant):
        return annotation.value == "str"
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        if annotation.value.id == "Optional":
            return _is_str_annotation(annotation.slice)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        return any(_is_str_annotation(s) for s in sides) and all(
            _is_str_annotation(s) or (isinstance(s, ast.Constant) and s.value is None) for s in sides
        )
    return False


def load_module(path: str) -> Optional[ModuleModel]:
    """A sibling module's model, parsed once while it stays cached; None when
    missing, too large or broken."""
    path = os.path.abspath(path)
    if path in _SIBLINGS:
        _SIBLINGS.move_to_end(path)
        return _SIBLINGS[path]
    _SIBLINGS[path] = None  # also guards against import cycles
    try:
        if os.path.getsize(path) > MAX_SIBLING_BYTES:
            return None
        with open(path, "rb") as handle:
            source = handle.read()
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    model = ModuleModel(tree, path)
    _SIBLINGS[path] = model
    _SIBLING_SIZES[path] = len(source)
    _evict(keep=path)
    return model


def _sibling_path(directory: str, module: str, level: int) -> Optional[str]:
    """The file of `module` (with `level` leading dots) imported from a file in
    `directory`, or None (remembered: many files import the same modules)."""
    key = (directory, module, level)
    if key not in _SIBLING_PATHS:
        _SIBLING_PATHS[key] = _find_sibling(directory, module, level)
    return _SIBLING_PATHS[key]


def _find_sibling(directory: str, module: str, level: int) -> Optional[str]:
    parts = [p for p in module.split(".") if p]
    candidates = []
    if level:
        base = directory
        for _ in range(level - 1):
            base = os.path.dirname(base)
        candidates.append(os.path.join(base, *parts))
    elif parts:
        candidates.append(os.path.join(directory, *parts))
        # absolute import of the file's own package: an ancestor named parts[0]
        ancestor = directory
        for _ in range(6):
            if os.path.basename(ancestor) == parts[0]:
                candidates.append(os.path.join(os.path.dirname(ancestor), *parts))
                break
            parent = os.path.dirname(ancestor)
            if parent == ancestor:
                break
            ancestor = parent
    for candidate in candidates:
        for path in (candidate + ".py", os.path.join(candidate, "__init__.py")):
            if os.path.isfile(path):
                return path
    return None


FROM_IMPORT = re.compile(rb"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import\b", re.MULTILINE)
_MENTIONS: Dict[Tuple[str, bytes], bool] = {}  # (file, word) -> does its source hold the word?


def imports_mentioning(filename: str, source: bytes, word: bytes) -> bool:
    """Does a module that `source` (the file `filename`) imports names from with
    `from ... import`, and that `ModuleModel.sibling` would read, hold `word`?
    A text test, to skip files where a rule cannot fire."""
    if filename in STDIN_NAMES:
        return False
    directory = os.path.dirname(os.path.abspath(filename))
    for match in FROM_IMPORT.finditer(source):
        module, level = match.group(2).decode("ascii", "replace"), len(match.group(1))
        if not (module or level):
            continue
        path = _sibling_path(directory, module, level)
        if path is None:
            continue
        if (path, word) not in _MENTIONS:
            try:
                small = os.path.getsize(path) <= MAX_SIBLING_BYTES
                with open(path, "rb") as handle:
                    _MENTIONS[(path, word)] = small and word in handle.read()
            except OSError:
                _MENTIONS[(path, word)] = False
        if _MENTIONS[(path, word)]:
            return True
    return False


def trim_sibling_cache() -> None:
    """Before a new file: keep the caches within their budgets."""
    if len(_SIBLING_PATHS) + len(_MENTIONS) > 10_000:
        _SIBLING_PATHS.clear()
        _MENTIONS.clear()
    _evict()


def forget_files() -> None:
    """Drop everything read from other files (sibling models, where modules are,
    which files hold which words): for a long-running process, after files
    changed on disk."""
    _SIBLINGS.clear()
    _SIBLING_SIZES.clear()
    _SIBLING_PATHS.clear()
    _MENTIONS.clear()


def _evict(keep: Optional[str] = None) -> None:
    """Drop the least recently used siblings beyond the budget (a model still
    in use stays alive through its users; it is only no longer cached)."""
    total = sum(_SIBLING_SIZES.values())
    for path in list(_SIBLINGS):
        if total <= SIBLING_CACHE_BYTES:
            break
        if path != keep and _SIBLINGS.get(path) is not None:  # None: being loaded (an import cycle guard)
            del _SIBLINGS[path]
            total -= _SIBLING_SIZES.pop(path, 0)
