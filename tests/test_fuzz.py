"""Fuzzing: whatever valid module comes in, the rules never raise, and
`--fix --unsafe-fixes` never raises, gives code that parses, and changes
nothing on a second run. See tests/fuzzing.py for the strategies and
`python bench/fuzz.py` for long runs."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from fuzzing import (
    FUZZ,
    check_robustness,
    cors_modules,
    inserted,
    mutated_sources,
    random_expressions,
    random_modules,
    session_modules,
    parses,
)

# hypothesmith's code is valid but odd: `1()` and `x is 1` draw SyntaxWarnings from the compiler
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


@FUZZ
@given(random_modules)
def test_random_modules(source):
    check_robustness(source)


@FUZZ
@given(cors_modules())
@example("from fastapi.middleware.cors import CORSMiddleware\nA = B\nB = A\napp.add_middleware(A)\n")
def test_cors_modules(source):
    assume(parses(source))
    check_robustness(source)


@FUZZ
@given(session_modules())
def test_session_modules(source):
    assume(parses(source))
    check_robustness(source)


@FUZZ
@given(mutated_sources())
def test_mutated_examples_and_fixtures(case):
    source, path = case
    check_robustness(source, path)


@FUZZ
@given(st.one_of(cors_modules(), session_modules()), random_expressions, st.randoms(use_true_random=False))
def test_any_expression_in_any_slot(module, expression, rng):
    """An arbitrary expression as the value of any keyword or assignment."""
    source = inserted(module, expression, rng) if parses(module) and parses(f"({expression})") else module
    assume(parses(source))
    check_robustness(source)
