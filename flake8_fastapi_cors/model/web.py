"""FastAPI / Starlette apps of a module: middleware stacks, CORS configurations,
routes and exception handlers.

Every way of registering `CORSMiddleware` is read into one `CorsConfig`:
`app.add_middleware(CORSMiddleware, ...)`, `Middleware(CORSMiddleware, ...)`
in any `middleware=[...]` list, `app.user_middleware.insert/append(...)` and
direct wrapping `CORSMiddleware(app, ...)`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from flake8_fastapi_cors.model.scopes import CallSite, Scope, exclusive_branches, keyword_arg, unparse
from flake8_fastapi_cors.model.values import (
    ClassInfo,
    ClassRef,
    Concat,
    Const,
    Mapping,
    Seq,
    Value,
    items,
    options,
    string_of,
)

if TYPE_CHECKING:  # pragma: no cover
    from flake8_fastapi_cors.model import ModuleModel

CORS_CLASSES = frozenset(
    {
        "fastapi.middleware.cors.CORSMiddleware",
        "starlette.middleware.cors.CORSMiddleware",
    }
)
MIDDLEWARE_SPEC = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
APP_CLASSES = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "starlette.applications.Starlette",
    }
)
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter", "starlette.routing.Router"})
ROUTE_CLASSES = frozenset(
    {
        "starlette.routing.Route",
        "starlette.routing.Mount",
        "starlette.routing.WebSocketRoute",
        "starlette.routing.Host",
        "fastapi.routing.APIRoute",
        "fastapi.routing.APIWebSocketRoute",
    }
)
BASE_HTTP_MIDDLEWARE = frozenset({"starlette.middleware.base.BaseHTTPMiddleware"})
HTTP_ENDPOINTS = frozenset({"starlette.endpoints.HTTPEndpoint", "fastapi.endpoints.HTTPEndpoint"})
HTTP_METHOD_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "trace"})

# What a middleware does with a request it does not like.
SHORT_CIRCUIT = "short-circuit"  # answers legitimate browser requests itself (401, 429, ...)
PASS_THROUGH = "pass-through"  # always returns the inner app's response
NON_BROWSER = "non-browser"  # only rejects traffic no browser app sends

KNOWN_BEHAVIOUR = {
    "starlette.middleware.authentication.AuthenticationMiddleware": SHORT_CIRCUIT,
    "slowapi.middleware.SlowAPIMiddleware": SHORT_CIRCUIT,
    "slowapi.middleware.SlowAPIASGIMiddleware": SHORT_CIRCUIT,
    "starlette.middleware.gzip.GZipMiddleware": PASS_THROUGH,
    "fastapi.middleware.gzip.GZipMiddleware": PASS_THROUGH,
    "starlette.middleware.sessions.SessionMiddleware": PASS_THROUGH,
    "uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware": PASS_THROUGH,
    "starlette.middleware.trustedhost.TrustedHostMiddleware": NON_BROWSER,
    "fastapi.middleware.trustedhost.TrustedHostMiddleware": NON_BROWSER,
    "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware": NON_BROWSER,
    "fastapi.middleware.httpsredirect.HTTPSRedirectMiddleware": NON_BROWSER,
}
SHORT_CIRCUIT_NAME = re.compile(
    r"auth|limit|throttl|firewall|ip_?filter|ip_?block|blocklist|denylist|blacklist|"
    r"whitelist|allowlist|jwt|api_?key|permission|csrf",
    re.IGNORECASE,
)
RESPONSE_NAME = re.compile(r"Response$")
# Host-header checks (TrustedHost and its home-grown twins) only reject requests
# whose Host a browser app does not send.
NON_BROWSER_NAME = re.compile(
    r"trusted_?hosts?|(allowed|valid)_?hosts?|hosts?_?(valid|check|filter)|https_?redirect",
    re.IGNORECASE,
)
CORS_HEADER = "access-control-allow-origin"

# Starlette's CORSMiddleware signature after `app`, and its defaults.
CORS_PARAMETERS = (
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "allow_credentials",
    "allow_origin_regex",
    "allow_private_network",
    "expose_headers",
    "max_age",
)
CORS_DEFAULTS = {
    "allow_origins": (),
    "allow_methods": ("GET",),
    "allow_headers": (),
    "allow_credentials": False,
    "allow_origin_regex": None,
    "allow_private_network": False,
    "expose_headers": (),
    "max_age": 600,
}


@dataclass
class Setting:
    """One CORSMiddleware argument: its value and the expression it was written as
    (None when the default applies)."""

    value: Value
    expr: Optional[ast.expr]


@dataclass
class CorsConfig:
    call: ast.Call
    site: CallSite
    settings: Dict[str, Setting]
    complete: bool  # False when a `**spread` could not be read: absent keys are unknown
    app: Optional["App"] = None

    def get(self, name: str) -> Optional[Setting]:
        """The argument as passed, the default if it was not passed, or None when
        it cannot be known."""
        if name in self.settings:
            return self.settings[name]
        if not self.complete:
            return None
        default = CORS_DEFAULTS[name]
        if isinstance(default, tuple):
            value: Value = Seq(self.call, "code", tuple(Const(self.call, "code", d) for d in default), "tuple")
        else:
            value = Const(self.call, "code", default)
        return Setting(value, None)


@dataclass
class MiddlewareEntry:
    """A middleware registered on an app."""

    app: "App"
    cls_expr: ast.expr
    site: CallSite
    how: str  # add | list | append | insert
    index: int = 0
    group: int = 0  # for `list` entries: which list display
    behaviour: str = "unknown"
    cors: Optional[CorsConfig] = None
    label: str = ""
    position: Tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.position:
            node = self.site.stmt if self.site.decorates is not None else self.site.call
            self.position = (node.lineno, node.col_offset)


@dataclass
class Route:
    methods: Tuple[str, ...]
    node: ast.AST
    endpoint: Optional[ast.AST] = None  # the handler def, when written here
    decorated: bool = False  # registered by `@x.get(...)` on the def


@dataclass
class App:
    key: tuple
    label: str
    kind: str = "unknown"  # fastapi | starlette | router | route | unknown
    node: Optional[ast.AST] = None
    middleware: List[MiddlewareEntry] = field(default_factory=list)
    routes: List[Route] = field(default_factory=list)
    routers: List["App"] = field(default_factory=list)
    error_handlers: List[ast.AST] = field(default_factory=list)
    wrapped_by_cors: List[CorsConfig] = field(default_factory=list)
    parents: List["App"] = field(default_factory=list)  # apps whose stack wraps this one (mounts)

    def ancestors(self) -> Iterator["App"]:
        seen = {id(self)}
        stack = list(self.parents)
        while stack:
            app = stack.pop()
            if id(app) not in seen:
                seen.add(id(app))
                yield app
                stack.extend(app.parents)

    def all_routes(self) -> Iterator[Route]:
        seen = set()
        stack = [self]
        while stack:
            app = stack.pop()
            if id(app) in seen:
                continue
            seen.add(id(app))
            yield from app.routes
            stack.extend(app.routers)

    def stack_order(self, a: MiddlewareEntry, b: MiddlewareEntry) -> Optional[bool]:
        """True when `a` is outside `b` in this app's stack, False when inside,
        None when the code does not say (different scopes, exclusive branches)."""
        rank = {"add": 0, "list": 1, "append": 2}
        if a.how not in rank or b.how not in rank:
            return None
        if rank[a.how] != rank[b.how]:
            return rank[a.how] < rank[b.how]
        if a.how == "list":
            return a.index < b.index if a.group == b.group else None
        if a.site.scope is not b.site.scope or exclusive_branches(a.site.path, b.site.path):
            return None
        later = a.position > b.position
        return later if a.how == "add" else not later


class WebModel:
    def __init__(self, model: "ModuleModel") -> None:
        self.model = model
        self.apps: Dict[tuple, App] = {}
        self.cors_configs: List[CorsConfig] = []
        self._seen_specs: set = set()
        self._sites = {id(s.call): s for s in model.calls}
        # `app.middleware("http")(func)`: the call applying a decorator by hand
        self._applied = {id(s.call.func): s for s in model.calls if isinstance(s.call.func, ast.Call)}
        self._build()

    # -- identity of apps ------------------------------------------------
    def app_for(self, expr: ast.expr, scope: Scope, create: bool = True) -> Optional[App]:
        """The app an expression refers to: `app` (by its binding), `self.app`
        (the same in every method of a class), or any other receiver by its text
        within the scope."""
        if isinstance(expr, ast.Name):
            owner = scope.lookup_scope(expr.id)
            if owner is not None and expr.id in owner.imports and expr.id not in owner.bindings:
                key: tuple = ("import", owner.imports[expr.id].qualname)
            else:
                key = ("name", id(owner), expr.id)
        elif isinstance(expr, ast.Call):
            key = ("call", id(expr))
        else:
            owner = scope
            root = expr
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if (
                isinstance(root, ast.Name)
                and root.id == "self"
                and scope.kind == "function"
                and scope.parent
                and scope.parent.kind == "class"
            ):
                owner = scope.parent  # `self.app` means the same app in every method
            key = ("expr", id(owner), unparse(expr))
        app = self.apps.get(key)
        if app is None and create:
            label = unparse(expr.func if isinstance(expr, ast.Call) else expr)
            app = App(key, label)
            self.apps[key] = app
        return app

    # -- the pass over call sites ---------------------------------------
    def _build(self) -> None:
        model = self.model
        deferred = []
        for site in model.calls:
            call, scope = site.call, site.scope
            func = call.func
            qualname = model.qualname(func, scope)
            if qualname in APP_CLASSES or qualname in ROUTER_CLASSES or qualname in ROUTE_CLASSES:
                self._constructor(site, qualname)
            elif self.is_cors_class(func, scope):
                self._direct_wrap(site)
            elif isinstance(func, ast.Attribute):
                deferred.append(site)
        # method calls after constructors so that apps know their kind
        for site in deferred:
            self._method_call(site)
        # `Middleware(CORSMiddleware, ...)` not inside any app's list still configures CORS
        for site in model.calls:
            if model.qualname(site.call.func, site.scope) in MIDDLEWARE_SPEC and id(site.call) not in self._seen_specs:
                cors = self._cors_from_spec(site)
                if cors is not None:
                    self.cors_configs.append(cors)
        self._inline_helpers()

    def _inline_helpers(self) -> None:
        """`install_cors(app)`, `add_security(app)`: what a module function does to
        its app parameter happens to the app passed in, at the place of the call."""
        for site in self.model.calls:
            helper = self.model.def_of(site.call.func, site.scope)
            if helper is None or helper is _enclosing_function(site.scope):
                continue
            helper_scope = self.model.scope_of[id(helper)]
            params = [a.arg for a in helper.args.posonlyargs + helper.args.args]
            passed = list(zip(params, site.call.args))
            passed += [(k.arg, k.value) for k in site.call.keywords if k.arg in params]
            for param, argument in passed:
                inner = self.apps.get(("name", id(helper_scope), param))
                if inner is None or isinstance(argument, ast.Starred):
                    continue
                outer = self.app_for(argument, site.scope)
                if outer is not inner:
                    self._merge(inner, outer, site)

    def _merge(self, inner: App, outer: App, site: CallSite) -> None:
        for entry in inner.middleware:
            copy = replace(
                entry, app=outer, site=site, position=(site.call.lineno, site.call.col_offset) + entry.position
            )
            outer.middleware.append(copy)
            if copy.cors is not None:
                copy.cors.app = outer
        outer.routes.extend(inner.routes)
        outer.routers.extend(inner.routers)
        outer.error_handlers.extend(inner.error_handlers)

    def is_cors_class(self, expr: ast.expr, scope: Scope) -> bool:
        """CORSMiddleware under any import, or a subclass of it defined in this module."""
        if self.model.qualname(expr, scope) in CORS_CLASSES:
            return True
        return any(
            self.model.qualname(base, self.model.scope) in CORS_CLASSES
            for base in self.model.local_class_bases(expr, scope)
        )

    def _constructor(self, site: CallSite, qualname: str) -> None:
        call = site.call
        kind = (
            "fastapi"
            if qualname.startswith("fastapi.") and qualname in APP_CLASSES
            else "starlette" if qualname in APP_CLASSES else "router" if qualname in ROUTER_CLASSES else "route"
        )
        app = self._app_of_constructor(site)
        app.kind = kind
        app.node = call
        for keyword in call.keywords:
            if keyword.arg == "middleware":
                self._middleware_list(app, keyword.value, site)
            elif keyword.arg == "routes":
                self._route_list(app, keyword.value, site.scope)
            elif keyword.arg == "exception_handlers":
                display = self._dict_display(keyword.value, site.scope)
                for key in display.keys if display is not None else ():
                    if key is not None and self._is_error_key(key, site.scope):
                        app.error_handlers.append(key)

    def _dict_display(self, expr: ast.expr, scope: Scope) -> Optional[ast.Dict]:
        """The dict display an expression is, or a name bound once to."""
        if isinstance(expr, ast.Name):
            owner = scope.lookup_scope(expr.id)
            bindings = owner.bindings.get(expr.id, []) if owner else []
            if len(bindings) == 1:
                expr = bindings[0].value
        return expr if isinstance(expr, ast.Dict) else None

    def _app_of_constructor(self, site: CallSite) -> App:
        """`app = FastAPI()` -> the app named `app`; otherwise the call itself."""
        stmt = site.stmt
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is site.call:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            if isinstance(target, (ast.Name, ast.Attribute)):
                app = self.app_for(target, site.scope)
                if app is not None:
                    return app
        return self.app_for(site.call, site.scope)

    def _middleware_list(self, app: App, expr: ast.expr, site: CallSite) -> None:
        """`middleware=[Middleware(...), ...]`, directly or through a name."""
        value = self.model.resolve(expr, site.scope)
        for option in options(value):
            if isinstance(option, Seq) and option.literal is None:
                continue
            if not isinstance(option, (Seq, Concat)):
                continue
            specs = [item.node for item in items(option) if isinstance(item.node, ast.Call)]
            for index, element in enumerate(specs):
                spec_site = self._sites.get(id(element))
                if spec_site is not None:
                    self._register_spec(app, spec_site, "list", index, id(option.node))

    def _register_spec(self, app: App, site: CallSite, how: str, index: int = 0, group: int = 0) -> None:
        call = site.call
        if self.model.qualname(call.func, site.scope) not in MIDDLEWARE_SPEC or not call.args:
            return
        self._seen_specs.add(id(call))
        self._register(MiddlewareEntry(app, call.args[0], site, how, index, group), call.args[1:], call.keywords)

    def _register(self, entry: MiddlewareEntry, args, keywords) -> None:
        """Add a middleware to its app: a CORS configuration, or a behaviour."""
        if self.is_cors_class(entry.cls_expr, entry.site.scope):
            entry.cors = self._cors_config(entry.site.call, entry.site, args, keywords, entry.app)
            self.cors_configs.append(entry.cors)
        else:
            entry.behaviour, entry.label = self.behaviour(entry.cls_expr, keywords, entry.site.scope)
        entry.app.middleware.append(entry)

    def _cors_from_spec(self, site: CallSite) -> Optional[CorsConfig]:
        call = site.call
        if not call.args or not self.is_cors_class(call.args[0], site.scope):
            return None
        return self._cors_config(call, site, call.args[1:], call.keywords, None)

    def _route_list(self, app: App, expr: ast.expr, scope: Scope) -> None:
        """`routes=[Route(...), Mount(...)]`: each route or group is part of `app`
        (its routes count for the app's CORS) and is wrapped by the app's stack."""
        value = self.model.resolve(expr, scope)
        for option in options(value):
            if not isinstance(option, Seq):
                continue
            for item in option.items:
                node = item.node
                if not isinstance(node, ast.Call):
                    continue
                qualname = self.model.qualname(node.func, scope)
                if qualname not in ROUTE_CLASSES:
                    continue
                child = self.app_for(node, scope)
                child.parents.append(app)
                app.routers.append(child)
                if qualname in ("starlette.routing.Route", "fastapi.routing.APIRoute"):
                    methods = self._methods_keyword(node, scope, default=None)
                    if methods is None:
                        endpoint = node.args[1] if len(node.args) > 1 else keyword_arg(node, "endpoint")
                        methods = self._endpoint_methods(endpoint, scope) if endpoint is not None else None
                    app.routes.append(Route(methods or ("GET",), node))
                mounted = keyword_arg(node, "app") if qualname == "starlette.routing.Mount" else None
                if mounted is not None:
                    self.app_for(mounted, scope).parents.append(child)

    def _endpoint_methods(self, endpoint: ast.expr, scope: Scope) -> Optional[Tuple[str, ...]]:
        """The methods of a class-based endpoint (`HTTPEndpoint` subclass) of this module."""
        bases = self.model.local_class_bases(endpoint, scope)
        if not any(self.model.qualname(b, self.model.scope) in HTTP_ENDPOINTS for b in bases):
            return None
        value = self.model.resolve(endpoint, scope)
        info = value.cls if isinstance(value, ClassRef) else None
        if not isinstance(info, ClassInfo):
            return None
        names = [n.name.upper() for n in info.node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return tuple(n for n in names if n.lower() in HTTP_METHOD_DECORATORS) or None

    def _methods_keyword(self, call: ast.Call, scope: Scope, default=None) -> Optional[Tuple[str, ...]]:
        for keyword in call.keywords:
            if keyword.arg == "methods":
                value = self.model.resolve(keyword.value, scope)
                if isinstance(value, Seq) and not value.open:
                    names = [string_of(i) for i in value.items]
                    if all(n is not None for n in names):
                        return tuple(n.upper() for n in names)
                return None
        return default

    # -- middleware registration and routes through method calls --------
    def _method_call(self, site: CallSite) -> None:
        call, scope = site.call, site.scope
        func = call.func
        method = func.attr
        receiver = func.value
        if method == "add_middleware":
            app = self.app_for(receiver, scope)
            cls_expr = call.args[0] if call.args else keyword_arg(call, "middleware_class")
            if app is None or cls_expr is None:
                return
            keywords = [k for k in call.keywords if k.arg != "middleware_class"]
            self._register(MiddlewareEntry(app, cls_expr, site, "add"), call.args[1:], keywords)
        elif method == "middleware":
            applied = self._applied.get(id(call))
            function = site.decorates
            if function is None and applied is not None and applied.call.args:
                function = self.model.def_of(applied.call.args[0], scope)
                site = applied
            app = self.app_for(receiver, scope)
            if app is not None and function is not None:
                entry = MiddlewareEntry(app, func, site, "add")
                entry.behaviour = dispatch_behaviour(function)
                entry.label = f"@{app.label}.middleware function {function.name}()"
                app.middleware.append(entry)
        elif (
            method in ("insert", "append")
            and isinstance(receiver, ast.Attribute)
            and receiver.attr == "user_middleware"
        ):
            app = self.app_for(receiver.value, scope)
            spec = call.args[-1] if call.args else None
            if app is None or not isinstance(spec, ast.Call):
                return
            spec_site = self._sites.get(id(spec))
            if spec_site is None:
                return
            if method == "append":
                self._register_spec(app, spec_site, "append")
            elif call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value == 0:
                self._register_spec(app, spec_site, "add")
                app.middleware[-1].site = site
            else:
                self._register_spec(app, spec_site, "insert")
        elif method in HTTP_METHOD_DECORATORS or method in (
            "api_route",
            "route",
            "add_api_route",
            "add_route",
            "websocket",
        ):
            self._route_call(site, method)
        elif method == "mount":
            mounted = call.args[1] if len(call.args) > 1 else keyword_arg(call, "app")
            if mounted is not None:
                self.app_for(mounted, scope).parents.append(self.app_for(receiver, scope))
        elif method == "include_router":
            app = self.app_for(receiver, scope)
            router_expr = call.args[0] if call.args else keyword_arg(call, "router")
            router = self.app_for(router_expr, scope) if router_expr is not None else None
            if app is not None and router is not None and router is not app:
                app.routers.append(router)
        elif method in ("exception_handler", "add_exception_handler"):
            key = call.args[0] if call.args else keyword_arg(call, "exc_class_or_status_code")
            if key is not None and self._is_error_key(key, scope):
                if method == "add_exception_handler" or self._decorator_in_use(site):
                    app = self.app_for(receiver, scope)
                    if app is not None:
                        app.error_handlers.append(call)

    def _route_call(self, site: CallSite, method: str) -> None:
        call, scope = site.call, site.scope
        if method in HTTP_METHOD_DECORATORS or method == "websocket":
            if not self._decorator_in_use(site):
                return
            methods: Tuple[str, ...] = (method.upper(),) if method != "websocket" else ()
        else:
            if method in ("api_route", "route") and not self._decorator_in_use(site):
                return
            # methods that cannot be read count as none: the route is still a handler
            methods = self._methods_keyword(call, scope, default=("GET",)) or ()
        decorated = isinstance(site.decorates, (ast.FunctionDef, ast.AsyncFunctionDef))
        endpoint = site.decorates if decorated else None
        if method == "add_api_route" and len(call.args) > 1:
            endpoint = self.model.def_of(call.args[1], scope)
        receiver = call.func.value
        if isinstance(receiver, ast.Attribute) and receiver.attr == "router":
            receiver = receiver.value  # app.router.add_api_route(...) registers on app
        self.app_for(receiver, scope).routes.append(Route(methods, call, endpoint, decorated))

    def _decorator_in_use(self, site: CallSite) -> bool:
        """`@app.post(...)` on a def, or applied by hand: `app.post(...)(handler)`."""
        return site.decorates is not None or id(site.call) in self._applied

    def _direct_wrap(self, site: CallSite) -> None:
        call = site.call
        app_expr = call.args[0] if call.args else keyword_arg(call, "app")
        app = self.app_for(app_expr, site.scope) if app_expr is not None else None
        keywords = [k for k in call.keywords if k.arg != "app"]
        cors = self._cors_config(call, site, call.args[1:], keywords, app)
        self.cors_configs.append(cors)
        if app is not None:
            app.wrapped_by_cors.append(cors)

    def _is_error_key(self, expr: ast.expr, scope: Scope) -> bool:
        if isinstance(expr, ast.Name) and expr.id == "Exception" and scope.lookup_scope("Exception") is None:
            return True
        qualname = self.model.qualname(expr, scope) or ""
        if qualname.endswith("HTTP_500_INTERNAL_SERVER_ERROR"):
            return True
        value = self.model.resolve(expr, scope)
        return isinstance(value, Const) and value.value == 500 and not isinstance(value.value, bool)

    # -- CORS arguments ---------------------------------------------------
    def _cors_config(self, call, site, args, keywords, app) -> CorsConfig:
        settings: Dict[str, Setting] = {}
        complete = True
        for name, arg in zip(CORS_PARAMETERS, args):
            if isinstance(arg, ast.Starred):
                complete = False
                break
            settings[name] = Setting(self.model.resolve(arg, site.scope), arg)
        for keyword in keywords:
            if keyword.arg is None:
                spread = self.model.resolve(keyword.value, site.scope)
                if isinstance(spread, Mapping):
                    # entries of a dict written in this file are reported where written
                    local = isinstance(spread.node, (ast.Dict, ast.Call))
                    for name, value, expr in spread.entries:
                        settings[name] = Setting(value, expr if local else keyword.value)
                    complete = complete and not spread.open
                else:
                    complete = False
                continue
            settings[keyword.arg] = Setting(self.model.resolve(keyword.value, site.scope), keyword.value)
        return CorsConfig(call, site, settings, complete, app)

    # -- what a middleware does -------------------------------------------
    def behaviour(self, cls_expr: ast.expr, keywords, scope: Scope) -> Tuple[str, str]:
        """(behaviour, label) of a middleware class as registered."""
        qualname = self.model.qualname(cls_expr, scope)
        label = unparse(cls_expr)
        if qualname in BASE_HTTP_MIDDLEWARE:
            dispatch = _keyword_from(keywords, "dispatch")
            func = self.model.def_of(dispatch, scope) if dispatch is not None else None
            if func is None:
                return "unknown", label
            return dispatch_behaviour(func), f"BaseHTTPMiddleware(dispatch={func.name})"
        if qualname in KNOWN_BEHAVIOUR:
            return KNOWN_BEHAVIOUR[qualname], label
        name = label.rsplit(".", 1)[-1]
        if NON_BROWSER_NAME.search(name):
            return NON_BROWSER, label
        value = self.model.resolve(cls_expr, scope)
        info = value.cls if isinstance(value, ClassRef) else None
        if isinstance(info, ClassInfo):
            return class_behaviour(info), label
        if SHORT_CIRCUIT_NAME.search(name):
            return SHORT_CIRCUIT, label
        return "unknown", label


def _enclosing_function(scope: Scope) -> Optional[ast.AST]:
    while scope is not None and scope.kind != "function":
        scope = scope.parent
    return scope.node if scope is not None else None


def _keyword_from(keywords, name: str) -> Optional[ast.expr]:
    for keyword in keywords:
        if keyword.arg == name:
            return keyword.value
    return None


# -- middleware behaviour from source ------------------------------------


def class_behaviour(info: ClassInfo) -> str:
    """A middleware class we can read: BaseHTTPMiddleware-style `dispatch`, or a
    pure ASGI class that builds its own responses."""
    if _sets_cors_headers(info.node):
        return PASS_THROUGH  # a CORS implementation of its own: its answers carry the headers
    methods = {node.name: node for node in info.node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if "dispatch" in methods:
        return dispatch_behaviour(methods["dispatch"], skip_self=True)
    sends_own = False
    for method in methods.values():
        for node in ast.walk(method):
            if isinstance(node, ast.Call) and _builds_response(node):
                sends_own = True
            if isinstance(node, ast.Dict) and _is_response_start(node):
                sends_own = True
    if sends_own:
        return SHORT_CIRCUIT
    if methods:
        return PASS_THROUGH
    name = info.node.name
    return SHORT_CIRCUIT if SHORT_CIRCUIT_NAME.search(name) else "unknown"


def _sets_cors_headers(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and CORS_HEADER in n.value.lower()
        for n in ast.walk(node)
    )


def _builds_response(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return bool(RESPONSE_NAME.search(name))


def _is_response_start(node: ast.Dict) -> bool:
    for key, value in zip(node.keys, node.values):
        if isinstance(key, ast.Constant) and key.value == "type":
            return isinstance(value, ast.Constant) and value.value == "http.response.start"
    return False


def dispatch_behaviour(func, skip_self: bool = False) -> str:
    """`async def mw(request, call_next)`: short-circuit when some `return`
    hands back a response that did not come from `call_next` on a path where
    `call_next` has not run (an early 401, an `except` that answers 500)."""
    if _sets_cors_headers(func):
        return PASS_THROUGH
    params = [a.arg for a in func.args.posonlyargs + func.args.args]
    if skip_self and params:
        params = params[1:]
    if len(params) < 2:
        return "unknown"
    call_next = params[1]
    parents: Dict[int, Tuple[ast.AST, str, int]] = {}
    returns: List[ast.Return] = []
    next_results: Dict[str, int] = {}
    other_bindings: Dict[str, int] = {}

    def walk(node: ast.AST) -> None:
        for field_name, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if not isinstance(child, ast.AST):
                    continue
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    continue
                parents[id(child)] = (node, field_name, index)
                if isinstance(child, ast.Return):
                    returns.append(child)
                if isinstance(child, ast.Assign):
                    is_next = _calls(child.value, call_next)
                    for target in child.targets:
                        if isinstance(target, ast.Name):
                            bucket = next_results if is_next else other_bindings
                            bucket[target.id] = bucket.get(target.id, 0) + 1
                walk(child)

    walk(func)
    for ret in returns:
        value = ret.value
        if value is None or _calls(value, call_next):
            continue
        if isinstance(value, ast.Name) and value.id in next_results and value.id not in other_bindings:
            continue
        if not _dominated_by_call_next(ret, func, parents, call_next):
            return SHORT_CIRCUIT
    return PASS_THROUGH


def _calls(expr: Optional[ast.AST], name: str) -> bool:
    if expr is None:
        return False
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            return True
    return False


def _dominated_by_call_next(ret: ast.Return, func, parents, call_next: str) -> bool:
    """Has `call_next` certainly run before this return? Looks at the statements
    that precede it in its block and every enclosing block."""
    node: ast.AST = ret
    while id(node) in parents:
        parent, field_name, index = parents[id(node)]
        if isinstance(parent, ast.ExceptHandler):
            return False  # the call (if any) raised
        if isinstance(node, ast.stmt):
            siblings = getattr(parent, field_name)
            for earlier in siblings[:index]:
                if _straight_line_calls(earlier, call_next):
                    return True
        node = parent
        if node is func:
            break
    return False


def _straight_line_calls(stmt: ast.stmt, name: str) -> bool:
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return any(_straight_line_calls(s, name) for s in stmt.body)
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try)):
        return False
    return _calls(stmt, name)
