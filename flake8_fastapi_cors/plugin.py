"""The flake8 entry point: `FAC = flake8_fastapi_cors.plugin:Plugin`."""

from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Sequence, Tuple

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.registry import (
    RULES,
    Finding,
    Options,
    all_rules,
    default_off_codes,
    enabled_codes,
    findings,
    opt_in_codes,
)

INTERNAL_ERROR = "FAC000"


def runnable_codes(lines: Optional[Sequence[str]], options: Options, codes=None) -> List[str]:
    """The selected codes whose rules can fire on this file at all: a cheap text
    test for the names each rule needs (`CORSMiddleware`, `Session`, ...)."""
    codes = enabled_codes(options) if codes is None else list(codes)
    if lines is None:
        return codes
    text = "".join(lines)
    extra = options.session_factories
    return [code for code in codes if any(marker in text for marker in RULES[code].markers + extra)]


def relevant(lines: Optional[Sequence[str]], options: Options = Options()) -> bool:
    return bool(runnable_codes(lines, options, [r.code for r in all_rules()]))


def check_tree(tree: ast.Module, filename: str, options: Options, lines: Optional[Sequence[str]] = None, codes=None):
    """Findings for one parsed module (shared by the plugin and the CLI).

    An internal error becomes one FAC000 finding on the file instead of an
    exception: in flake8 an exception would abort the whole run."""
    codes = runnable_codes(lines, options, codes)
    if not codes:
        return []
    from flake8_fastapi_cors.model import ModuleModel

    try:
        return list(findings(ModuleModel(tree, filename), options, codes))
    except RecursionError:
        reason = "the code is nested too deeply to analyse"
    except Exception as error:  # noqa: BLE001 - reported to the user, never swallowed
        reason = f"internal error {type(error).__name__}: {error}; please report this as a bug"
    return [Finding(1, 0, INTERNAL_ERROR, f"flake8-fastapi-cors could not check this file: {reason}")]


class Plugin:
    name = "flake8-fastapi-cors"
    version = __version__
    options = Options()

    def __init__(self, tree: ast.Module, filename: str = "<stdin>", lines: Optional[List[str]] = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager) -> None:
        defaults = Options()
        manager.add_option(
            "--fastapi-cors-origins-env",
            default=defaults.origins_env,
            parse_from_config=True,
            help="Environment variable the CORS messages and fixes read origins from " "(default: %(default)s).",
        )
        manager.add_option(
            "--fastapi-cors-short-circuit-middleware",
            default="",
            comma_separated_list=True,
            parse_from_config=True,
            help="Middleware class names that answer requests themselves (auth, rate limits), " "for FAC107.",
        )
        manager.add_option(
            "--fastapi-cors-pass-through-middleware",
            default="",
            comma_separated_list=True,
            parse_from_config=True,
            help="Middleware class names that always pass requests on, for FAC107.",
        )
        manager.add_option(
            "--fastapi-cors-session-factories",
            default="",
            comma_separated_list=True,
            parse_from_config=True,
            help="Names of SQLAlchemy session factories the plugin cannot see (for example ones "
            "built in another package), for the FAC2xx rules.",
        )
        manager.extend_default_ignore(default_off_codes())

    @classmethod
    def parse_options(cls, options) -> None:
        cls.options = Options(
            origins_env=options.fastapi_cors_origins_env,
            short_circuit_middleware=tuple(options.fastapi_cors_short_circuit_middleware or ()),
            pass_through_middleware=tuple(options.fastapi_cors_pass_through_middleware or ()),
            session_factories=tuple(options.fastapi_cors_session_factories or ()),
            opt_in=opt_in_codes([*(options.select or ()), *(options.extend_select or ())]),
        )

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        for finding in check_tree(self.tree, self.filename, self.options, self.lines):
            yield finding.line, finding.col, finding.text, type(self)
