"""Run the fuzz tests long: many examples, new ones on every run.

    python bench/fuzz.py                      # 2,000 examples per test
    python bench/fuzz.py --examples 20000     # longer
    python bench/fuzz.py --seed 12345         # the same examples again

The tests are tests/test_fuzz.py (the properties are in tests/fuzzing.py): the
rules never raise, `--fix --unsafe-fixes` never raises, its output parses and a
second run changes nothing. In the test suite they run 50 examples each, the
same ones every time. A failure prints the smallest example hypothesis found and
a `@reproduce_failure` line that replays it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per test (default: 2000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: a new one)")
    parser.add_argument("-k", default=None, help="run only the tests matching this pytest expression")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"fuzzing with {args.examples} examples per test, seed {seed}", flush=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--hypothesis-seed={seed}",
        "--hypothesis-show-statistics",
        str(ROOT / "tests" / "test_fuzz.py"),
    ]
    if args.k:
        command += ["-k", args.k]
    env = dict(os.environ, FAC_FUZZ_EXAMPLES=str(args.examples))
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
