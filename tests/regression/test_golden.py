"""Each shipped scenario reproduces its golden summary at a fixed seed (see golden.py)."""

import json

import pytest

from tests.conftest import SHIPPED
from tests.regression.golden import GOLDEN, golden_summary

EXPECTED = json.loads(GOLDEN.read_text())


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
