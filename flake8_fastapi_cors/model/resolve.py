"""Static evaluation of expressions into `Value`s.

Follows names to their bindings (in this module and in sibling modules of the
same package), folds string operations on literals, reads environment lookups
as runtime strings with their defaults, and reads settings-class field
defaults. Anything else is `Unknown`: a value only known at run time is never
guessed at.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List, Optional

from flake8_fastapi_cors.model.scopes import Binding, Import, Scope, exclusive_branches
from flake8_fastapi_cors.model.values import (
    CODE,
    ENV,
    ClassRef,
    Concat,
    Const,
    Generator,
    Instance,
    Mapping,
    ModuleRef,
    OneOf,
    RuntimeStr,
    Seq,
    SessionFactory,
    SessionObject,
    Unknown,
    Value,
    at,
    options,
    split_string,
    string_of,
    with_origin,
)

if TYPE_CHECKING:  # pragma: no cover
    from flake8_fastapi_cors.model import ModuleModel

MAX_DEPTH = 24

ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
    }
)
FIELD_FACTORIES = frozenset({"pydantic.Field", "pydantic.fields.Field", "dataclasses.field"})
CSV_CASTS = frozenset(
    {
        "starlette.datastructures.CommaSeparatedStrings",
        "decouple.Csv",
    }
)
CONFIG_CLASSES = frozenset({"starlette.config.Config", "decouple.Config", "decouple.AutoConfig"})
STR_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "replace", "removesuffix", "removeprefix"}
)
SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)
SCOPED_SESSIONS = frozenset(
    {
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
    }
)
ASYNC_SESSION_CLASSES = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
SESSION_CLASSES = ASYNC_SESSION_CLASSES | {
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.Session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
}
ITERATOR_BUILTINS = frozenset({"filter", "map", "iter", "reversed", "zip", "enumerate"})
SEQ_BUILTINS = {"list": "list", "tuple": "tuple", "set": "set", "frozenset": "set", "sorted": "list"}


class Resolver:
    def __init__(self, model: "ModuleModel") -> None:
        self.model = model
        self._depth = 0
        self._active: set = set()

    # -- entry points ----------------------------------------------------
    def resolve(self, expr: Optional[ast.expr], scope: Scope) -> Value:
        if expr is None:
            return Const(self.model.tree, CODE, None)
        key = (id(expr), id(scope))
        if key in self._active or self._depth > MAX_DEPTH:
            return Unknown(expr)
        self._active.add(key)
        self._depth += 1
        try:
            method = getattr(self, "_" + type(expr).__name__, None)
            return method(expr, scope) if method else Unknown(expr)
        except RecursionError:
            return Unknown(expr)
        finally:
            self._depth -= 1
            self._active.discard(key)

    def resolve_global(self, name: str, anchor: ast.AST) -> Optional[Value]:
        """A module-level name of this module, for another module importing it."""
        scope = self.model.scope
        if name not in scope.bindings and name not in scope.imports:
            return None
        return self._name_in(name, scope, anchor, None)

    # -- literals --------------------------------------------------------
    def _Constant(self, expr: ast.Constant, scope: Scope) -> Value:
        return Const(expr, CODE, expr.value)

    def _seq(self, expr, scope, kind) -> Value:
        resolved: List[Value] = []
        open_ = False
        for elt in expr.elts:
            if isinstance(elt, ast.Starred):
                inner = self.resolve(elt.value, scope)
                if isinstance(inner, Seq):
                    resolved.extend(inner.items)
                    open_ = open_ or inner.open
                else:
                    open_ = True
                continue
            resolved.append(self.resolve(elt, scope))
        return Seq(expr, CODE, tuple(resolved), kind, open_, expr)

    def _List(self, expr, scope):
        return self._seq(expr, scope, "list")

    def _Tuple(self, expr, scope):
        return self._seq(expr, scope, "tuple")

    def _Set(self, expr, scope):
        return self._seq(expr, scope, "set")

    def _Dict(self, expr: ast.Dict, scope: Scope) -> Value:
        entries = []
        open_ = False
        for key, value in zip(expr.keys, expr.values):
            if key is None:  # {**other}
                inner = self.resolve(value, scope)
                if isinstance(inner, Mapping):
                    entries.extend(inner.entries)
                    open_ = open_ or inner.open
                else:
                    open_ = True
                continue
            name = string_of(self.resolve(key, scope))
            if name is None:
                open_ = True
                continue
            entries.append((name, self.resolve(value, scope), value))
        return Mapping(expr, CODE, tuple(entries), open_)

    def _JoinedStr(self, expr: ast.JoinedStr, scope: Scope) -> Value:
        parts = []
        for part in expr.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            if isinstance(part, ast.FormattedValue) and part.format_spec is None and part.conversion == -1:
                text = string_of(self.resolve(part.value, scope))
                if text is not None:
                    parts.append(text)
                    continue
            return Unknown(expr)
        return Const(expr, CODE, "".join(parts))

    def _IfExp(self, expr: ast.IfExp, scope: Scope) -> Value:
        return OneOf(expr, CODE, (self.resolve(expr.body, scope), self.resolve(expr.orelse, scope)))

    def _BoolOp(self, expr: ast.BoolOp, scope: Scope) -> Value:
        # `os.getenv("X") or "default"`: the right side is the default.
        if isinstance(expr.op, ast.Or) and len(expr.values) == 2:
            left = self.resolve(expr.values[0], scope)
            if isinstance(left, RuntimeStr) and left.default is None:
                default = self.resolve(expr.values[1], scope)
                if isinstance(default, Const):
                    return RuntimeStr(expr, left.where, with_origin(default, ENV), left.source, left.var)
                if isinstance(default, (Seq, Concat)):
                    # `os.getenv("X") or ["a"]`: a str when set, the list otherwise
                    runtime = RuntimeStr(expr, left.where, None, left.source, left.var)
                    return OneOf(expr, CODE, (runtime, with_origin(default, ENV)))
            if isinstance(left, Seq) and left.where == ENV and left.open and not left.items:
                # `[o for o in os.getenv("X", "").split(",") if o] or ["*"]`: the list when
                # nothing is configured is the right side, a configuration default
                return Concat(expr, ENV, (left, with_origin(self.resolve(expr.values[1], scope), ENV)))
            if isinstance(left, Const):
                return left if left.value else self.resolve(expr.values[1], scope)
        return Unknown(expr)

    def _Compare(self, expr: ast.Compare, scope: Scope) -> Value:
        if len(expr.ops) != 1:
            return Unknown(expr)
        left = _default_const(self.resolve(expr.left, scope))
        right_value = self.resolve(expr.comparators[0], scope)
        op = expr.ops[0]
        if left is None:
            return Unknown(expr)
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right_value, Seq) and not right_value.open:
            pool = [i.value for i in right_value.items if isinstance(i, Const)]
            if len(pool) != len(right_value.items):
                return Unknown(expr)
            result = left in pool
            return Const(expr, CODE, result if isinstance(op, ast.In) else not result)
        right = _default_const(right_value)
        if right is None:
            return Unknown(expr)
        if isinstance(op, ast.Eq):
            return Const(expr, CODE, left == right)
        if isinstance(op, ast.NotEq):
            return Const(expr, CODE, left != right)
        return Unknown(expr)

    def _UnaryOp(self, expr: ast.UnaryOp, scope: Scope) -> Value:
        if isinstance(expr.op, ast.Not):
            inner = self.resolve(expr.operand, scope)
            if isinstance(inner, Const):
                return Const(expr, CODE, not inner.value)
        if isinstance(expr.op, ast.USub):
            inner = self.resolve(expr.operand, scope)
            if isinstance(inner, Const) and isinstance(inner.value, (int, float)):
                return Const(expr, CODE, -inner.value)
        return Unknown(expr)

    def _BinOp(self, expr: ast.BinOp, scope: Scope) -> Value:
        if not isinstance(expr.op, ast.Add):
            return Unknown(expr)
        left = self.resolve(expr.left, scope)
        right = self.resolve(expr.right, scope)
        if isinstance(left, Const) and isinstance(right, Const):
            if isinstance(left.value, str) and isinstance(right.value, str):
                return Const(expr, CODE, left.value + right.value)
            return Unknown(expr)
        if _is_seq_like(left) or _is_seq_like(right):
            return Concat(expr, CODE, (left, right))
        return Unknown(expr)

    def _comprehension(self, expr, scope, kind) -> Value:
        if len(expr.generators) != 1 or expr.generators[0].is_async:
            return Unknown(expr)
        gen = expr.generators[0]
        if not isinstance(gen.target, ast.Name):
            return Unknown(expr)
        source = self.resolve(gen.iter, scope)
        if isinstance(source, Concat) or (isinstance(source, Seq)):
            mapped, open_ = self._map_items(source, gen, expr.elt, scope)
            literal = source.literal if isinstance(source, Seq) else None
            return Seq(expr, source.where, tuple(mapped), kind, open_, literal)
        return Unknown(expr)

    def _map_items(self, source: Value, gen: ast.comprehension, elt: ast.expr, scope: Scope):
        """Apply `elt` with `gen.target` bound to each known item of `source`."""
        from flake8_fastapi_cors.model.values import items as iter_items

        name = gen.target.id
        out: List[Value] = []
        open_ = False
        for item in iter_items(source):
            if isinstance(item, Unknown):
                open_ = True
                continue
            keep = True
            for condition in gen.ifs:
                verdict = self._eval_with(condition, name, item, scope)
                if isinstance(verdict, Const):
                    keep = keep and bool(verdict.value)
            if keep:
                mapped = self._eval_with(elt, name, item, scope)
                out.append(mapped)
        return out, open_

    def _eval_with(self, expr: ast.expr, name: str, item: Value, scope: Scope) -> Value:
        """Evaluate a comprehension element where `name` is bound to `item`."""
        if isinstance(expr, ast.Name) and expr.id == name:
            return item
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            receiver = self._eval_with(expr.func.value, name, item, scope)
            if receiver is not None:
                return self._str_method(expr, receiver, scope)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "str"
            and len(expr.args) == 1
        ):
            return self._eval_with(expr.args[0], name, item, scope)
        if isinstance(expr, ast.JoinedStr) and len(expr.values) == 1 and isinstance(expr.values[0], ast.FormattedValue):
            return self._eval_with(expr.values[0].value, name, item, scope)
        return Unknown(item.node, item.where)

    def _ListComp(self, expr, scope):
        return self._comprehension(expr, scope, "list")

    def _SetComp(self, expr, scope):
        return self._comprehension(expr, scope, "set")

    def _GeneratorExp(self, expr, scope):
        return Generator(expr, CODE, "a generator")

    # -- names -----------------------------------------------------------
    def _Name(self, expr: ast.Name, scope: Scope) -> Value:
        return self._name_in(expr.id, scope, expr, expr)

    def _name_in(self, name: str, scope: Scope, anchor: ast.AST, use: Optional[ast.Name]) -> Value:
        owner = scope.lookup_scope(name)
        if owner is None:
            if name in ("True", "False", "None"):
                return Const(anchor, CODE, {"True": True, "False": False, "None": None}[name])
            return Unknown(anchor)
        if name in owner.imports and name not in owner.bindings:
            return self._imported(owner.imports[name], anchor)
        bindings = owner.bindings.get(name, [])
        chosen = self._visible_bindings(bindings, use, owner is scope)
        if not chosen:
            return Unknown(anchor)
        values = []
        for binding in chosen:
            if binding.kind == "class":
                values.append(self._class_value(binding, owner, anchor))
                continue
            if binding.value is None:
                return Unknown(anchor)
            values.append(self._mutated(self.resolve(binding.value, owner), name, owner, binding))
        if len(values) == 1:
            return values[0]
        return OneOf(anchor, CODE, tuple(values))

    @staticmethod
    def _visible_bindings(bindings: List[Binding], use: Optional[ast.Name], same_scope: bool) -> List[Binding]:
        """The binding(s) a use sees: the last one in straight-line code, or one
        per exclusive branch."""
        if not bindings:
            return []
        if same_scope and use is not None:
            before = [b for b in bindings if (b.node.lineno, b.node.col_offset) < (use.lineno, use.col_offset)]
            bindings = before or bindings
        last = bindings[-1]
        if len(bindings) == 1:
            return [last]
        if all(b.path == last.path for b in bindings):
            return [last]
        # bound in branches: keep the last binding of each branch that may have run
        chosen = [last]
        for binding in reversed(bindings[:-1]):
            if all(exclusive_branches(binding.path, other.path) for other in chosen):
                chosen.append(binding)
            elif len(binding.path) <= len(last.path) and last.path[: len(binding.path)] == binding.path:
                break
            else:
                # a conditional rebinding after an unconditional one: either may win
                chosen.append(binding)
        return list(reversed(chosen))

    def _mutated(self, value: Value, name: str, scope: Scope, binding: Binding) -> Value:
        """Apply `name.append(...)`, `name += [...]`, ... found in the same scope."""
        mutations = scope.mutations.get(name)
        if not mutations or not isinstance(value, Seq):
            return value
        current: List[Value] = list(value.items)
        open_ = value.open
        for node in mutations:
            if (node.lineno, node.col_offset) < (binding.node.lineno, binding.node.col_offset):
                continue
            if isinstance(node, ast.AugAssign):
                extra = self.resolve(node.value, scope) if isinstance(node.op, ast.Add) else Unknown(node)
                for option in options(extra):
                    if isinstance(option, Seq):
                        current.extend(option.items)
                        open_ = open_ or option.open
                    else:
                        open_ = True
                continue
            method = node.func.attr
            if method in ("append", "add") and len(node.args) == 1:
                current.append(self.resolve(node.args[0], scope))
            elif method == "insert" and len(node.args) == 2:
                index = self.resolve(node.args[0], scope)
                position = index.value if isinstance(index, Const) and isinstance(index.value, int) else len(current)
                current.insert(position, self.resolve(node.args[1], scope))
            elif method in ("extend", "update") and len(node.args) == 1:
                extra = self.resolve(node.args[0], scope)
                if isinstance(extra, Seq):
                    current.extend(extra.items)
                    open_ = open_ or extra.open
                else:
                    open_ = True
            else:
                open_ = True
        added = tuple(item for item in current if not any(item is own for own in value.items))
        return Seq(value.node, value.where, tuple(current), value.kind, open_, value.literal, added)

    def _imported(self, imp: Import, anchor: ast.AST) -> Value:
        if imp.name is None:  # `import settings`, `import app.config as config`
            module = self.model.sibling(imp.module, 0)
            return ModuleRef(anchor, CODE, module) if module is not None else Unknown(anchor)
        other = self.model.sibling(imp.module, imp.level)
        if other is not None:
            value = other.resolver.resolve_global(imp.name, anchor)
            if value is not None:
                return _reanchor(value, anchor)
        # `from . import config` -> the module itself
        module = self.model.sibling(f"{imp.module}.{imp.name}" if imp.module else imp.name, imp.level)
        if module is not None:
            return ModuleRef(anchor, CODE, module)
        return Unknown(anchor)

    def _class_value(self, binding: Binding, owner: Scope, anchor: ast.AST) -> Value:
        info = self.model.class_info(binding.node)
        return ClassRef(anchor, CODE, info) if info else Unknown(anchor)

    # -- attributes and subscripts --------------------------------------
    def _Attribute(self, expr: ast.Attribute, scope: Scope) -> Value:
        qualname = self.model.qualname(expr, scope)
        if qualname == "os.environ":
            return Unknown(expr)
        base = self.resolve(expr.value, scope)
        if isinstance(base, ModuleRef):
            value = base.module.resolver.resolve_global(expr.attr, expr)
            if value is None:
                submodule = base.module.submodule(expr.attr)
                return ModuleRef(expr, CODE, submodule) if submodule is not None else Unknown(expr)
            return _reanchor(value, expr)
        if isinstance(base, (Instance, ClassRef)):
            value = base.cls.module.field_value(base.cls, expr.attr, expr, isinstance(base, Instance))
            return value if base.cls.module is self.model else _reanchor(value, expr)
        return Unknown(expr)

    def _Subscript(self, expr: ast.Subscript, scope: Scope) -> Value:
        if self.model.qualname(expr.value, scope) == "os.environ":
            key = string_of(self.resolve(_subscript_index(expr), scope))
            return RuntimeStr(expr, ENV, None, f'os.environ["{key}"]', key)
        container = self.resolve(expr.value, scope)
        if isinstance(container, Mapping):  # CORS["origins"] of a dict constant
            key = string_of(self.resolve(_subscript_index(expr), scope))
            for name, value, _expr in container.entries:
                if name == key:
                    return value
        return Unknown(expr)

    # -- calls -----------------------------------------------------------
    def _Call(self, expr: ast.Call, scope: Scope) -> Value:
        func = expr.func
        qualname = self.model.qualname(func, scope)
        if qualname in ENV_GETTERS or (qualname and qualname.endswith(".getenv") and qualname.startswith("os")):
            return self._env_lookup(expr, scope, qualname)
        if isinstance(func, ast.Attribute) and func.attr in ("split", "splitlines"):
            return self._split(expr, scope)
        if isinstance(func, ast.Attribute) and func.attr in STR_METHODS:
            return self._str_method(expr, self.resolve(func.value, scope), scope)
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(expr.args) == 1:
            sep = string_of(self.resolve(func.value, scope))
            parts = self.resolve(expr.args[0], scope)
            if sep is not None and isinstance(parts, Seq) and not parts.open:
                texts = [string_of(i) for i in parts.items]
                if all(t is not None for t in texts):
                    return Const(expr, CODE, sep.join(texts))
            return Unknown(expr)
        if isinstance(func, ast.Name) and func.id in ITERATOR_BUILTINS and scope.lookup_scope(func.id) is None:
            return Generator(expr, CODE, f"an iterator ({func.id}(...))")
        if isinstance(func, ast.Name) and func.id in SEQ_BUILTINS and scope.lookup_scope(func.id) is None:
            return self._seq_builtin(expr, scope, SEQ_BUILTINS[func.id])
        if isinstance(func, ast.Name) and func.id == "dict" and scope.lookup_scope("dict") is None and not expr.args:
            entries = tuple((kw.arg, self.resolve(kw.value, scope), kw.value) for kw in expr.keywords if kw.arg)
            return Mapping(expr, CODE, entries, any(kw.arg is None for kw in expr.keywords))
        if (
            isinstance(func, ast.Name)
            and func.id in ("str", "bool")
            and len(expr.args) == 1
            and scope.lookup_scope(func.id) is None
        ):
            inner = self.resolve(expr.args[0], scope)
            if (
                func.id == "str"
                and isinstance(inner, (Const, RuntimeStr))
                and (not isinstance(inner, Const) or isinstance(inner.value, str))
            ):
                return inner
            if func.id == "bool" and isinstance(inner, Const):
                return Const(expr, CODE, bool(inner.value))
            return Unknown(expr)
        config_value = self._config_lookup(expr, scope)
        if config_value is not None:
            return config_value
        session = self._session_call(expr, scope, qualname)
        if session is not None:
            return session
        callee = self.resolve(func, scope) if isinstance(func, (ast.Name, ast.Attribute, ast.Call)) else None
        if isinstance(callee, ClassRef):
            return Instance(expr, CODE, callee.cls)
        if isinstance(callee, SessionFactory):
            return SessionObject(expr, CODE, callee.is_async, scoped=callee.scoped)
        returned = self.model.function_return(func, scope)
        if returned is not None:
            return returned
        return Unknown(expr)

    def _session_call(self, expr: ast.Call, scope: Scope, qualname: Optional[str]) -> Optional[Value]:
        """SQLAlchemy sessions by data flow: what a call of a factory or a session
        class makes, never guessed from a name."""
        keywords = {kw.arg: kw.value for kw in expr.keywords if kw.arg}
        if qualname in SESSIONMAKERS:
            cls = keywords.get("class_")
            is_async = "async_" in qualname or (
                cls is not None and self.model.qualname(cls, scope) in ASYNC_SESSION_CLASSES
            )
            return SessionFactory(expr, CODE, is_async)
        if qualname in SCOPED_SESSIONS:
            factory = self.resolve(expr.args[0], scope) if expr.args else None
            is_async = qualname.rsplit(".", 1)[-1].startswith("async_") or getattr(factory, "is_async", False)
            scopefunc = "scopefunc" in keywords or len(expr.args) > 1
            return SessionFactory(expr, CODE, is_async, True, scopefunc)
        if qualname in SESSION_CLASSES:
            return SessionObject(expr, CODE, qualname in ASYNC_SESSION_CLASSES)
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "begin" and not expr.args:
            factory = self.resolve(func.value, scope)
            if isinstance(factory, SessionFactory):
                return SessionObject(expr, CODE, factory.is_async, begun=True)
        return None

    def _env_lookup(self, expr: ast.Call, scope: Scope, qualname: str) -> Value:
        args = list(expr.args)
        keywords = {kw.arg: kw.value for kw in expr.keywords if kw.arg}
        var_expr = args[0] if args else keywords.get("key")
        var = string_of(self.resolve(var_expr, scope)) if var_expr is not None else None
        default_expr = args[1] if len(args) > 1 else keywords.get("default")
        default = None
        if default_expr is not None:
            resolved = self.resolve(default_expr, scope)
            if isinstance(resolved, Const):
                default = with_origin(resolved, ENV)
            elif isinstance(resolved, RuntimeStr):
                default = resolved.default
            elif isinstance(resolved, (Seq, Concat)):
                return OneOf(expr, CODE, (RuntimeStr(expr, ENV, None, _env_source(qualname, var), var), resolved))
            else:
                default = None
        elif default_expr is None:
            default = Const(expr, ENV, None)
        shown = "os.getenv" if qualname.endswith("getenv") else qualname
        return RuntimeStr(expr, ENV, default, _env_source(shown, var), var)

    def _config_lookup(self, expr: ast.Call, scope: Scope) -> Optional[Value]:
        """`config("X", default=..., cast=...)` of starlette.config / python-decouple."""
        func = expr.func
        if not isinstance(func, ast.Name):
            return None
        qualname = self.model.qualname(func, scope)
        is_config = qualname in ("decouple.config",)
        if not is_config:
            owner = scope.lookup_scope(func.id)
            if owner is None:
                return None
            bindings = owner.bindings.get(func.id, [])
            if len(bindings) != 1 or not isinstance(bindings[0].value, ast.Call):
                return None
            is_config = self.model.qualname(bindings[0].value.func, owner) in CONFIG_CLASSES
        if not is_config or not expr.args:
            return None
        var = string_of(self.resolve(expr.args[0], scope))
        keywords = {kw.arg: kw.value for kw in expr.keywords if kw.arg}
        default_expr = keywords.get("default", expr.args[2] if len(expr.args) > 2 else None)
        cast = keywords.get("cast", expr.args[1] if len(expr.args) > 1 else None)
        default = None
        if default_expr is not None:
            resolved = self.resolve(default_expr, scope)
            default = with_origin(resolved, ENV) if isinstance(resolved, Const) else None
        value = RuntimeStr(expr, ENV, default, f'config("{var}")', var)
        if cast is None:
            return value
        cast_name = self.model.qualname(cast.func if isinstance(cast, ast.Call) else cast, scope)
        if cast_name in CSV_CASTS:
            pieces = (
                split_string(default, ",", strip=True).items
                if isinstance(default, Const) and isinstance(default.value, str)
                else ()
            )
            return Seq(expr, ENV, tuple(pieces), "list", True)
        if isinstance(cast, ast.Name) and cast.id == "bool" and isinstance(default, Const):
            text = str(default.value).lower() if not isinstance(default.value, bool) else default.value
            return RuntimeStr(
                expr,
                ENV,
                Const(
                    default.node, ENV, text in ("true", "1", "yes", "on", "y", "t") if isinstance(text, str) else text
                ),
                value.source,
                var,
            )
        return Unknown(expr)

    def _split(self, expr: ast.Call, scope: Scope) -> Value:
        func = expr.func
        receiver = self.resolve(func.value, scope)
        sep_value = self.resolve(expr.args[0], scope) if expr.args else None
        sep = string_of(sep_value) if sep_value is not None else None
        if expr.args and sep is None:
            return Unknown(expr)
        if func.attr == "splitlines":
            sep = "\n"
        if isinstance(receiver, Const) and isinstance(receiver.value, str):
            # a literal written as one string: "a,b".split(",")
            return Seq(expr, receiver.where, split_string(receiver, sep).items, "list", False, receiver.node)
        if isinstance(receiver, RuntimeStr):
            pieces = ()
            if isinstance(receiver.default, Const) and isinstance(receiver.default.value, str):
                pieces = split_string(receiver.default, sep).items
            return Seq(expr, receiver.where, pieces, "list", True)
        return Unknown(expr)

    def _str_method(self, expr: ast.Call, receiver: Value, scope: Scope) -> Value:
        method = expr.func.attr
        args = [string_of(self.resolve(a, scope)) for a in expr.args]
        if any(a is None for a in args):
            return Unknown(expr)
        if isinstance(receiver, Const) and isinstance(receiver.value, str):
            try:
                return Const(receiver.node, receiver.where, getattr(receiver.value, method)(*args))
            except (TypeError, ValueError, AttributeError):
                return Unknown(expr)
        if isinstance(receiver, RuntimeStr):
            default = receiver.default
            if isinstance(default, Const) and isinstance(default.value, str):
                try:
                    default = Const(default.node, default.where, getattr(default.value, method)(*args))
                except (TypeError, ValueError, AttributeError):
                    default = None
            return RuntimeStr(expr, receiver.where, default, receiver.source, receiver.var)
        return Unknown(expr)

    def _seq_builtin(self, expr: ast.Call, scope: Scope, kind: str) -> Value:
        if not expr.args:
            return Seq(expr, CODE, (), kind, False, None)
        if len(expr.args) != 1:
            return Unknown(expr)
        inner = self.resolve(expr.args[0], scope)
        if isinstance(inner, Seq):
            return Seq(expr, inner.where, inner.items, kind, inner.open, inner.literal)
        if isinstance(inner, Generator):
            # list(gen) materialises the generator: what does it yield?
            if isinstance(expr.args[0], ast.GeneratorExp):
                return self._comprehension(expr.args[0], scope, kind)
            return Unknown(expr)
        if isinstance(inner, Concat):
            return Concat(expr, inner.where, inner.parts)
        if isinstance(inner, RuntimeStr) and kind in ("list", "tuple", "set"):
            return Unknown(expr)
        return Unknown(expr)


def _default_const(value: Value) -> Optional[object]:
    if isinstance(value, Const):
        return value.value
    if isinstance(value, RuntimeStr) and isinstance(value.default, Const):
        return value.default.value
    return None


def _is_seq_like(value: Value) -> bool:
    return isinstance(value, (Seq, Concat)) or (
        isinstance(value, OneOf) and any(isinstance(o, (Seq, Concat)) for o in value.options)
    )


def _subscript_index(expr: ast.Subscript) -> ast.expr:
    index = expr.slice
    legacy_index = getattr(ast, "Index", None)  # Python 3.8 wrapped subscripts
    return index.value if legacy_index is not None and isinstance(index, legacy_index) else index


def _reanchor(value: Value, anchor: ast.AST) -> Value:
    """A value read from another file, reported at its use in this one."""
    if isinstance(value, (Instance, ClassRef, ModuleRef)):
        return value
    return at(value, anchor)


def _env_source(func: str, var: Optional[str]) -> str:
    return f'{func}("{var}")' if var else f"{func}(...)"
