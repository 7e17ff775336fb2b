#!/usr/bin/env python3
"""Run flake8 in this process and time every plugin's calls inside the run.

    python bench/flake8_timed.py --json OUT [--without PACKAGE ...] -- FLAKE8 ARGS

flake8 runs exactly as its command does (`-j1` keeps every check in this
process), except that each checker a plugin registers is wrapped: the wrapper
times the call and consumes the plugin's results, so a plugin's time includes
its generators. Loading each plugin (its import) and its option hooks are timed
too. `--without` leaves an installed package's plugins out, as if it were not
installed. OUT receives one JSON object:

    {"total": s, "calls": {package: s}, "load": {package: s}, "maxrss_kb": n,
     "files": n, "findings": n, "exit": code}

`total` is the whole flake8 run (startup, option parsing, checks, report);
`calls` is the time inside each package's checkers, per-file work only.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time
from typing import Any, Callable, Dict, Sequence

from flake8.main import application
from flake8.plugins import finder

CALLS: Dict[str, float] = collections.defaultdict(float)
LOAD: Dict[str, float] = collections.defaultdict(float)


def _timed(function: Callable, package: str, account: Dict[str, float], consume: bool) -> Callable:
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            result = function(*args, **kwargs)
            if consume:
                result = _consumed(result)
            return result
        finally:
            account[package] += time.perf_counter() - start

    return call


def _consumed(result: Any) -> Any:
    """The plugin's results, fully computed, in a form flake8 accepts."""
    if result is None or isinstance(result, tuple):  # physical-line checks may return one tuple
        return result
    runner = getattr(result, "run", None)  # a tree plugin's checker object
    return list(runner() if runner is not None else result)


def _wrap(loaded: finder.LoadedPlugin) -> finder.LoadedPlugin:
    package = loaded.plugin.package
    checker = _timed(loaded.obj, package, CALLS, consume=True)
    for hook in ("add_options", "parse_options"):
        original = getattr(loaded.obj, hook, None)
        if original is not None:
            setattr(checker, hook, _timed(original, package, LOAD, consume=False))
    # flake8 passes arguments by the parameters it read off the original object
    return loaded._replace(obj=checker)


def install(without: Sequence[str]) -> None:
    find_importlib_plugins = finder._find_importlib_plugins
    load_plugin = finder._load_plugin
    load_plugins = finder.load_plugins

    def find_without() -> Any:
        return (p for p in find_importlib_plugins() if p.package not in without)

    def load_one(plugin: finder.Plugin) -> finder.LoadedPlugin:
        start = time.perf_counter()
        try:
            return load_plugin(plugin)
        finally:
            LOAD[plugin.package] += time.perf_counter() - start

    def load_all(*args: Any, **kwargs: Any) -> finder.Plugins:
        plugins = load_plugins(*args, **kwargs)
        checkers = finder.Checkers(*([_wrap(p) for p in group] for group in plugins.checkers))
        return plugins._replace(checkers=checkers)

    finder._find_importlib_plugins = find_without
    finder._load_plugin = load_one
    finder.load_plugins = load_all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the measurements")
    parser.add_argument("--without", action="append", default=[], metavar="PACKAGE")
    parser.add_argument("flake8_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    flake8_args = args.flake8_args[1:] if args.flake8_args[:1] == ["--"] else args.flake8_args
    install(args.without)
    app = application.Application()
    start = time.perf_counter()
    app.run(flake8_args)
    total = time.perf_counter() - start
    manager = app.file_checker_manager
    record = {
        "total": total,
        "calls": dict(CALLS),
        "load": dict(LOAD),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "files": len(manager.filenames) if manager else 0,
        "findings": app.result_count,
        "exit": app.exit_code(),
        "plugins": sorted({p.plugin.package for p in app.plugins.all_plugins()}) if app.plugins else [],
    }
    with open(args.json, "w") as out:
        json.dump(record, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
