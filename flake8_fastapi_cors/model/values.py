"""What an expression holds, as far as it can be known without running it.

Values keep the node where they are written in the checked file (`node`) and
where they come from (`where`): `code` for literals written in code, `env` for
the default of an environment lookup, `settings` for a pydantic / settings
field default. Rules decide from that whether a value is a configuration
default (fine to hard-code) or a literal in code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Iterator, List, Optional, Tuple

CODE, ENV, SETTINGS = "code", "env", "settings"


@dataclass(frozen=True)
class Value:
    node: ast.AST
    where: str = CODE


@dataclass(frozen=True)
class Unknown(Value):
    """Only known at run time."""


@dataclass(frozen=True)
class Const(Value):
    value: object = None


@dataclass(frozen=True)
class Seq(Value):
    """A list / tuple / set. `literal` is the list display written in code, if
    any; `open` means items may exist that are not listed (mutations, env)."""

    items: Tuple[Value, ...] = ()
    kind: str = "list"
    open: bool = False
    literal: Optional[ast.AST] = None
    added: Tuple[Value, ...] = ()  # items put there by `.append(...)`, `+=`, ... later


@dataclass(frozen=True)
class Concat(Value):
    """`a + b` of sequences."""

    parts: Tuple[Value, ...] = ()


@dataclass(frozen=True)
class RuntimeStr(Value):
    """A `str` read at run time (environment, settings typed `str`), with the
    value it has when nothing is configured, if known. `source` names the
    lookup for messages, e.g. `os.getenv("ORIGINS")`."""

    default: Optional[Value] = None
    source: str = ""
    var: Optional[str] = None


@dataclass(frozen=True)
class Generator(Value):
    """A one-shot iterator (generator expression, `filter(...)`, `map(...)`):
    consumed by the first `in` test."""

    kind: str = "a generator"


@dataclass(frozen=True)
class Mapping(Value):
    """A dict display or `dict(...)` call resolved to keyword -> (value, expr)."""

    entries: Tuple[Tuple[str, Value, ast.expr], ...] = ()
    open: bool = False


@dataclass(frozen=True)
class OneOf(Value):
    """A name bound differently in exclusive branches."""

    options: Tuple[Value, ...] = ()


@dataclass(frozen=True)
class Instance(Value):
    """An instance of a class defined in a module we can read (settings objects)."""

    cls: object = None  # ClassInfo


@dataclass(frozen=True)
class SessionFactory(Value):
    """`sessionmaker(...)`, `async_sessionmaker(...)`, `scoped_session(...)`: calling
    it makes a session. `scoped` registries keep one session per scope; `scopefunc`
    says whether a scope function was given (the default is the thread)."""

    is_async: bool = False
    scoped: bool = False
    scopefunc: bool = False


@dataclass(frozen=True)
class SessionObject(Value):
    """A `Session` / `AsyncSession` instance; `begun` for `factory.begin()`, a context
    manager that commits and closes."""

    is_async: bool = False
    begun: bool = False
    scoped: bool = False  # handed out by a scoped_session registry, which owns its lifecycle


@dataclass(frozen=True)
class ClassRef(Value):
    """A class defined in a module we can read."""

    cls: object = None  # ClassInfo


@dataclass(frozen=True)
class ModuleRef(Value):
    """A sibling module of the same package."""

    module: object = None  # ModuleModel


def at(value: Value, node: ast.AST) -> Value:
    """The same value, reported at `node` (used for values read from another file)."""
    if isinstance(value, Seq):
        literal = node if value.literal is not None else None
        return _map_items(replace(value, node=node, literal=literal), lambda i: at(i, node))
    if isinstance(value, Concat):
        return replace(value, node=node, parts=tuple(at(p, node) for p in value.parts))
    if isinstance(value, OneOf):
        return replace(value, node=node, options=tuple(at(o, node) for o in value.options))
    if isinstance(value, RuntimeStr) and value.default is not None:
        return replace(value, node=node, default=at(value.default, node))
    if isinstance(value, Mapping):
        return replace(value, node=node, entries=tuple((k, at(v, node), e) for k, v, e in value.entries))
    return replace(value, node=node)


def with_origin(value: Value, where: str) -> Value:
    """Mark a value (and its parts) as coming from `where`."""
    if isinstance(value, Seq):
        return _map_items(replace(value, where=where), lambda i: with_origin(i, where))
    if isinstance(value, Concat):
        return replace(value, where=where, parts=tuple(with_origin(p, where) for p in value.parts))
    if isinstance(value, OneOf):
        return replace(value, where=where, options=tuple(with_origin(o, where) for o in value.options))
    if isinstance(value, RuntimeStr):
        default = with_origin(value.default, where) if value.default is not None else None
        return replace(value, where=where, default=default)
    return replace(value, where=where)


def _map_items(seq: "Seq", change) -> "Seq":
    """`seq` with `change` applied to every item, keeping track of added ones."""
    new_items = tuple(change(i) for i in seq.items)
    added = tuple(n for o, n in zip(seq.items, new_items) if any(o is a for a in seq.added))
    return replace(seq, items=new_items, added=added)


def options(value: Value) -> List[Value]:
    """Every value a name may hold (one unless bound in exclusive branches)."""
    if isinstance(value, OneOf):
        out: List[Value] = []
        for option in value.options:
            out.extend(options(option))
        return out
    return [value]


def definite(value: Value) -> Value:
    """The value if it is one value; Unknown when it depends on a branch."""
    return Unknown(value.node) if isinstance(value, OneOf) else value


def items(value: Value) -> Iterator[Value]:
    """Items of a sequence value; an Unknown item stands for items not known."""
    if isinstance(value, Seq):
        yield from value.items
        if value.open:
            yield Unknown(value.node, value.where)
    elif isinstance(value, Concat):
        for part in value.parts:
            yield from items(part)
    else:
        yield Unknown(value.node, value.where)


def unset(value: Value) -> Value:
    """What a runtime string holds when nothing is configured (its default), if known."""
    if isinstance(value, RuntimeStr) and isinstance(value.default, Const):
        return value.default
    return value


def string_of(value: Value) -> Optional[str]:
    if isinstance(value, Const) and isinstance(value.value, str):
        return value.value
    return None


def truthy(value: Value) -> Optional[bool]:
    """Truthiness the way Starlette reads it (`if allow_credentials:`);
    for a runtime string, the truthiness of its unconfigured default."""
    if isinstance(value, Const):
        return bool(value.value)
    if isinstance(value, (Seq,)) and not value.open:
        return bool(value.items)
    if isinstance(value, RuntimeStr) and value.default is not None:
        return truthy(value.default)
    return None


def split_string(value: Const, sep: Optional[str], strip: bool = False) -> Seq:
    text = value.value if isinstance(value.value, str) else ""
    pieces = text.split(sep) if sep is not None else text.split()
    if strip:
        pieces = [p.strip() for p in pieces]
    return Seq(value.node, value.where, tuple(Const(value.node, value.where, p) for p in pieces))


@dataclass
class ClassInfo:
    """A class whose body we can read: settings classes and middleware classes."""

    node: ast.ClassDef
    scope: object  # the class Scope
    module: object  # the ModuleModel that defines it
    bases: List[str] = field(default_factory=list)  # qualified names of the bases
