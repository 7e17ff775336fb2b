"""The flake8 entry point: `FAC = flake8_fastapi_cors.plugin:Plugin`."""

from __future__ import annotations

import ast
import gc
from dataclasses import replace
from typing import Iterator, List, Optional, Sequence, Tuple

from flake8_fastapi_cors import __version__
from flake8_fastapi_cors.config import (
    ConfigError,
    check_value,
    flake8_config,
    options_from,
    plugin_config_values,
    plugin_settings,
)
from flake8_fastapi_cors.registry import (
    RULES,
    Finding,
    Options,
    all_rules,
    default_off_codes,
    enabled_codes,
    failure_reason,
    findings,
    internal_error,
    opt_in_codes,
)


def runnable_codes(text: Optional[str], options: Options, codes=None, filename: Optional[str] = None) -> List[str]:
    """The selected codes whose rules can fire on this text at all: a cheap test
    for the names each rule needs (`CORSMiddleware`, `Session`, ...), and for
    what some rules also need here or in a module imported from the file's
    package (`yield`, `contextmanager`). With no text, every selected code."""
    codes = enabled_codes(options) if codes is None else list(codes)
    if text is None:
        return codes
    extra = options.session_factories
    wanted = {marker for code in codes for marker in RULES[code].markers + extra}
    found = {marker for marker in wanted if marker in text}
    if not found:
        return []
    return [
        code
        for code in codes
        if not found.isdisjoint(RULES[code].markers + extra) and _required(RULES[code].requires, text, filename)
    ]


def _required(words: Sequence[str], text: str, filename: Optional[str]) -> bool:
    if not words or any(word in text for word in words):
        return True
    if filename is None:
        return False
    from flake8_fastapi_cors.model import imports_mentioning

    source = text.encode("utf-8", "surrogatepass")
    return any(imports_mentioning(filename, source, word.encode()) for word in words)


def relevant(text: Optional[str], options: Optional[Options] = None) -> bool:
    return bool(runnable_codes(text, options or Options(), [r.code for r in all_rules()]))


def check_tree(
    tree: ast.Module,
    filename: str,
    options: Options,
    lines: Optional[Sequence[str]] = None,
    codes=None,
    prefilter: bool = True,
    text: Optional[str] = None,
) -> List[Finding]:
    """Findings for one parsed module (shared by the plugin and the CLI).

    With `prefilter`, only the rules whose marker names occur in the text (`text`,
    or `lines` joined) run; most files name none of them and cost one text scan.
    An internal error becomes one FAC000 finding on the file instead of an
    exception: in flake8 an exception would abort the whole run. (An error in
    one rule costs only that rule's findings: see `registry.findings`.)"""
    if text is None and lines is not None:
        text = "".join(lines)  # flake8's lines keep their line breaks
    codes = runnable_codes(text if prefilter else None, options, codes, filename)
    if not codes:
        return []
    from flake8_fastapi_cors.model import ModuleModel, trim_sibling_cache

    trim_sibling_cache()
    # The model allocates many small objects while the module's tree (and, in
    # flake8, every other plugin's data) is alive: the cyclic garbage collector
    # would walk all of it again and again. It runs after the check instead.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [_in_characters(f, lines) for f in findings(ModuleModel(tree, filename), options, codes)]
    except Exception as error:  # noqa: BLE001 - reported as FAC000, never swallowed
        return [internal_error(failure_reason(error))]
    finally:
        if collecting:
            gc.enable()


def char_column(lines: Optional[Sequence[str]], line: int, col: int) -> int:
    """A UTF-8 byte column (the ast's) of a 1-based line as a character column."""
    if lines is None or not 1 <= line <= len(lines) or lines[line - 1].isascii():
        return col
    return len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))


def _in_characters(finding: Finding, lines: Optional[Sequence[str]]) -> Finding:
    """The ast counts columns in UTF-8 bytes; editors and people count characters."""
    end = finding.end and (finding.end[0], char_column(lines, *finding.end))
    return replace(finding, col=char_column(lines, finding.line, finding.col), end=end)


def _check_config_keys(options) -> None:
    """flake8 ignores unknown keys in its config file; a misspelt `fastapi-cors-*`
    key would silently do nothing, so it is an error here."""
    cfg, where = flake8_config(
        getattr(options, "config", None),
        getattr(options, "append_config", None) or (),
        bool(getattr(options, "isolated", False)),
    )
    plugin_config_values(cfg, where)


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
        for setting in plugin_settings():
            manager.add_option(
                f"--{setting.name}",
                default=Options().origins_env if setting.kind == "env-name" else "",
                comma_separated_list=setting.kind == "names",
                parse_from_config=True,
                help=setting.help[0].upper() + setting.help[1:] + ".",
            )
        manager.extend_default_ignore(default_off_codes())

    @classmethod
    def parse_options(cls, manager, options, filenames=None) -> None:
        """Check the plugin's options (from the command line or the config file) and
        its keys in the config file; a bad one stops flake8 with a one-line error."""
        from flake8.exceptions import ExecutionError

        try:
            values = {
                s.name: check_value(s, getattr(options, s.name.replace("-", "_")), "flake8-fastapi-cors")
                for s in plugin_settings()
            }
            _check_config_keys(options)
        except ConfigError as error:
            raise ExecutionError(str(error)) from None
        selected = opt_in_codes([*(options.select or ()), *(options.extend_select or ())])
        cls.options = options_from(values, selected)

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        for finding in check_tree(self.tree, self.filename, self.options, self.lines):
            yield finding.line, finding.col, finding.text, type(self)
