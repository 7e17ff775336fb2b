"""Every option in one place: its name, what values it takes, its help.

The flake8 plugin registers the `fastapi-cors-*` options from this table
(`[flake8]` in setup.cfg, tox.ini or .flake8), and the command line reads the
same names from its arguments, from `[tool.flake8-fastapi-cors]` in the nearest
pyproject.toml and, for the plugin's own options, from the flake8 config file.
Both check values here, so a bad value gets the same one-line error everywhere.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from flake8_fastapi_cors.registry import Options, all_rules, opt_in_codes

CONFIG_TABLE = "flake8-fastapi-cors"
LOG = logging.getLogger(__name__)
DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class ConfigError(Exception):
    """A bad option name or value; the message names where it came from."""


@dataclass(frozen=True)
class Setting:
    name: str  # as written in config files and (with `--`) on the command line
    kind: str  # "env-name", "names", "codes", "globs", "bool" or "per-file-ignores"
    help: str
    plugin: bool = False  # registered with flake8 (flake8 has its own select, ignore, ...)


SETTINGS = (
    Setting(
        "fastapi-cors-origins-env",
        "env-name",
        "environment variable the CORS messages and fixes read origins from (default: CORS_ALLOWED_ORIGINS)",
        plugin=True,
    ),
    Setting(
        "fastapi-cors-short-circuit-middleware",
        "names",
        "comma-separated middleware class names that answer requests themselves (auth, rate limits), for FAC107",
        plugin=True,
    ),
    Setting(
        "fastapi-cors-pass-through-middleware",
        "names",
        "comma-separated middleware class names that always pass requests on, for FAC107",
        plugin=True,
    ),
    Setting(
        "fastapi-cors-session-factories",
        "names",
        "comma-separated names of SQLAlchemy session factories the checker cannot see "
        "(for example built in another package), for the FAC2xx rules",
        plugin=True,
    ),
    Setting("select", "codes", "codes or prefixes to check (replaces the default set)"),
    Setting("extend-select", "codes", "codes to add to the selection, e.g. FAC102,FAC110"),
    Setting("ignore", "codes", "codes or prefixes to skip"),
    Setting("extend-ignore", "codes", "more codes or prefixes to skip"),
    Setting(
        "per-file-ignores",
        "per-file-ignores",
        "codes to skip in files matching a pattern, as flake8 writes it: 'tests/*:FAC201 legacy.py:FAC1'",
    ),
    Setting("exclude", "globs", "comma-separated glob patterns to skip, added to the defaults"),
    Setting("unsafe-fixes", "bool", "also apply fixes that may change behaviour"),
)
BY_NAME = {s.name: s for s in SETTINGS}


def plugin_settings() -> List[Setting]:
    return [s for s in SETTINGS if s.plugin]


def split_items(value: str) -> List[str]:
    return [p.strip() for p in re.split(r"[,\s]", value) if p.strip()]


def check_value(setting: Setting, value, where: str):
    """`value` (a string from an ini file or the command line, or a TOML value)
    in the form the program uses; ConfigError naming `where` when it is bad."""
    kind = setting.kind
    if kind == "bool":
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            value = value.strip().lower() in ("true", "1", "yes", "on")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {setting.name} must be true or false, not {value!r}")
        return value
    if kind == "env-name":
        if not (isinstance(value, str) and value.strip().isidentifier()):
            raise ConfigError(f"{where}: {setting.name} must be an environment variable name, not {value!r}")
        return value.strip()
    if kind == "per-file-ignores":
        return _per_file_ignores(setting, value, where)
    items = _string_list(setting, value, where)
    if kind == "names":
        bad = [item for item in items if not DOTTED_NAME.match(item)]
        if bad:
            raise ConfigError(f"{where}: {setting.name} takes Python names, not {bad[0]!r}")
    if kind == "codes":
        items = [item.upper() for item in items]
        _check_codes(setting.name, items, where)
    return items


def _string_list(setting: Setting, value, where: str) -> List[str]:
    if isinstance(value, str):
        return split_items(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise ConfigError(f"{where}: {setting.name} must be a string or a list of strings, not {value!r}")


def _check_codes(name: str, codes: Sequence[str], where: str) -> None:
    known = [r.code for r in all_rules()]
    for code in codes:
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: {name}: unknown code or prefix {code!r} (codes are FAC101-FAC208)")


def _per_file_ignores(setting: Setting, value, where: str) -> List[Tuple[str, List[str]]]:
    """[(pattern, codes)]: from flake8's `pattern:codes ...` text or a TOML table
    `{"pattern" = ["codes"]}`; only the plugin's codes are kept from flake8's text."""
    from flake8.utils import parse_files_to_codes_mapping

    if isinstance(value, dict):
        pairs = [(pattern, _string_list(setting, codes, where)) for pattern, codes in value.items()]
    elif isinstance(value, str):
        try:
            pairs = parse_files_to_codes_mapping(value)
        except ValueError:
            raise ConfigError(
                f"{where}: {setting.name} must look like 'tests/*:FAC201,FAC208 legacy.py:FAC1', not {value!r}"
            ) from None
        pairs = [(pattern, [c for c in codes if c.upper().startswith("FAC")]) for pattern, codes in pairs]
    else:
        raise ConfigError(f"{where}: {setting.name} must be a table of patterns to codes, not {value!r}")
    pairs = [(pattern, [c.upper() for c in codes]) for pattern, codes in pairs]
    for _, codes in pairs:
        _check_codes(setting.name, codes, where)
    return pairs


# -- the command line's files ----------------------------------------------------


def find_pyproject(start: str) -> Optional[str]:
    """The nearest pyproject.toml at or above `start`."""
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_pyproject(path: Optional[str]) -> Dict[str, object]:
    """`[tool.flake8-fastapi-cors]` of a pyproject.toml, checked, by option name
    (`-` or `_` both accepted)."""
    if path is None:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle).get("tool", {}).get(CONFIG_TABLE, {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration: {error}") from None
    where = f"{path} [tool.{CONFIG_TABLE}]"
    config: Dict[str, object] = {}
    for key, value in table.items():
        setting = _known(key, where)
        config[setting.name] = check_value(setting, value, where)
    return config


def flake8_config(config: Optional[str] = None, extra: Sequence[str] = (), isolated: bool = False, start: str = "."):
    """The flake8 config flake8 would use when run in `start` (setup.cfg, tox.ini
    or .flake8): (configparser, the file's name for messages)."""
    from flake8.options import config as flake8_config_files

    if isolated:
        return flake8_config_files.load_config(None, [], isolated=True)[0], "flake8 configuration"
    if config is None:
        finder = getattr(flake8_config_files, "_find_config_file", None)
        config = finder(os.path.abspath(start)) if finder else None
        if config is None and finder and not extra:  # (flake8 itself would look in the current directory)
            return configparser.RawConfigParser(), "flake8 configuration"
    try:
        cfg, _ = flake8_config_files.load_config(config, list(extra))
    except Exception as error:  # flake8's ExecutionError: a named config file that does not exist
        raise ConfigError(str(error)) from None
    return cfg, config or "flake8 configuration"


def load_values(start: str = ".", pyproject: Optional[str] = None) -> Dict[str, object]:
    """Option values by name for files checked from `start`: `[tool.flake8-fastapi-cors]`
    of the nearest pyproject.toml (or of `pyproject`) over the plugin's own
    options in the flake8 config file, so that `--fix` and the language server
    do what flake8's messages say."""
    cfg, where = flake8_config(start=start)
    values = plugin_config_values(cfg, where)
    values.update(load_pyproject(pyproject or find_pyproject(start)))
    return values


def plugin_config_values(cfg, where: str) -> Dict[str, object]:
    """Checked values of the plugin's options in a flake8 config (a configparser),
    with an error for an unknown `fastapi-cors-*` key."""
    if "flake8" not in cfg:
        return {}
    names = {s.name for s in plugin_settings()}
    config: Dict[str, object] = {}
    for key in cfg["flake8"]:
        name = key.replace("_", "-")
        if name.startswith("fastapi-cors"):
            setting = _known(key, f"{where} [flake8]", names)
            config[name] = check_value(setting, cfg["flake8"][key], f"{where} [flake8]")
    return config


def _known(key: str, where: str, names=None) -> Setting:
    name = key.replace("_", "-")
    names = BY_NAME if names is None else names
    if name in names:
        return BY_NAME[name]
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(names)})"
    raise ConfigError(f"{where}: unknown option {key!r}{hint}")


def options_from(values: Dict[str, object], codes: Sequence[str]) -> Options:
    """The checker's Options from checked values (missing ones default)."""
    return Options(
        origins_env=values.get("fastapi-cors-origins-env") or Options().origins_env,
        short_circuit_middleware=_class_names(values.get("fastapi-cors-short-circuit-middleware")),
        pass_through_middleware=_class_names(values.get("fastapi-cors-pass-through-middleware")),
        session_factories=tuple(values.get("fastapi-cors-session-factories") or ()),
        opt_in=tuple(codes),
    )


def _class_names(names) -> Tuple[str, ...]:
    # middleware is matched by class name: `app.auth.AuthMiddleware` means AuthMiddleware
    return tuple(name.rsplit(".", 1)[-1] for name in names or ())


def matches(path: str, patterns: Sequence[str], root: str = os.curdir) -> bool:
    """flake8's file matching (for `exclude` and `per-file-ignores`): a pattern
    without `/` matches the file name, one with `/` the path from `root`
    (the current directory for the command line)."""
    from flake8.utils import matches_filename, normalize_path

    return matches_filename(path, [normalize_path(p, root) for p in patterns], "%(path)s", LOG)


def ignored_here(path: str, per_file: Sequence[Tuple[str, List[str]]], root: str = os.curdir) -> List[str]:
    """Codes `per-file-ignores` drops for `path`: those of the longest matching
    pattern, as in flake8."""
    from flake8.utils import normalize_path

    best: Optional[Tuple[str, List[str]]] = None
    for pattern, codes in per_file:
        normalised = normalize_path(pattern, root)
        if matches(path, [pattern], root) and (best is None or len(normalised) > len(best[0])):
            best = (normalised, codes)
    return best[1] if best else []


# -- what a configuration selects -------------------------------------------------

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
)


def selected_codes(select: Optional[List[str]], extend_select: List[str], ignore: List[str]) -> List[str]:
    """Codes to run: flake8's prefix semantics; default-off codes only when named."""
    named = opt_in_codes([*(select or ()), *extend_select])
    codes = []
    for rule in all_rules():
        chosen = (any(rule.code.startswith(s) for s in select) if select is not None else rule.default_enabled) or any(
            rule.code.startswith(s) for s in extend_select
        )
        if not rule.default_enabled and rule.code not in named:
            chosen = False
        if chosen and not any(rule.code.startswith(i) for i in ignore):
            codes.append(rule.code)
    return codes


@dataclass(frozen=True)
class Settings:
    """What a configuration asks of a run: the codes, the checker's options,
    whether unsafe fixes apply, and which files are skipped. Patterns with a
    `/` start from `root`."""

    codes: List[str]
    options: Options
    unsafe: bool = False
    per_file_ignores: List[Tuple[str, List[str]]] = field(default_factory=list)
    excludes: Tuple[str, ...] = DEFAULT_EXCLUDES
    root: str = os.curdir

    @classmethod
    def from_values(cls, values: Dict[str, object], root: str = os.curdir) -> "Settings":
        ignore = [*values.get("ignore", ()), *values.get("extend-ignore", ())]
        codes = selected_codes(values.get("select"), values.get("extend-select", []), ignore)
        return cls(
            codes,
            options_from(values, codes),
            bool(values.get("unsafe-fixes", False)),
            list(values.get("per-file-ignores", ())),
            (*DEFAULT_EXCLUDES, *values.get("exclude", ())),
            root,
        )

    def codes_for(self, path: str) -> List[str]:
        """The selected codes less those `per-file-ignores` drops for `path`."""
        ignored = ignored_here(path, self.per_file_ignores, self.root) if self.per_file_ignores else ()
        return [c for c in self.codes if not any(c.startswith(i) for i in ignored)]

    def excluded(self, path: str) -> bool:
        """Is `path`, or a folder it is in below `root`, excluded? (The command
        line prunes folders as it walks them; this is the same test for one file.)"""
        root, path = os.path.abspath(self.root), os.path.abspath(path)
        candidates = [path]
        folder = os.path.dirname(path)
        while folder.startswith(root + os.sep):
            candidates.append(folder)
            folder = os.path.dirname(folder)
        return any(matches(candidate, self.excludes, root) for candidate in candidates)
