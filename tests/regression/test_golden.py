"""Each shipped scenario reproduces its golden summary at a fixed seed (see golden.py)."""

import json

import pytest

from tests.conftest import SHIPPED
from tests.regression.golden import (
    GOLDEN,
    GOLDEN_CLOCK_HEADCOUNT,
    PREVIOUS_RULES,
    golden_summary,
)

EXPECTED = json.loads(GOLDEN.read_text())
BEFORE_THE_RACE = json.loads(GOLDEN_CLOCK_HEADCOUNT.read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_matches_golden(name):
    got = golden_summary(name)
    want = EXPECTED[name]
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, list | float):
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-6), key
        else:
            assert got[key] == value, key


@pytest.mark.parametrize("name", SHIPPED)
def test_clock_and_headcount_reproduce_the_model_before_the_race(name):
    """`adversary: clock` with `requirement: headcount` keeps the previous rules: every
    shipped scenario gives the summaries of the calibrated model before the combat race
    (golden_clock_headcount.json, saved from that model and never regenerated) exactly."""
    got = golden_summary(name, PREVIOUS_RULES)
    want = BEFORE_THE_RACE[name]
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == value, key  # exact: same draws, same arithmetic
