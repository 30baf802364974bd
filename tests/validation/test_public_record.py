"""Validation against RAND's wargames (P4, P5), encoded in scenarios/validation/.

The records of real moves (the 2017 brigade and its first train, the 2022 airborne element,
port offloads, road marches...) are in scenarios/validation/REGISTER.yaml and are run by
``simulate validate`` (CI runs it); the machinery is tested in test_register.py.

Re-run: ``python -m pytest -m validation tests/validation/test_public_record.py -s -rxX``
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SCENARIOS
from tripwire.loader import load_scenario
from tripwire.runner import run_batch, to_table
from tripwire.scenario import Scenario
from tripwire.summary import censored_times

pytestmark = [pytest.mark.validation, pytest.mark.slow]

VALIDATION = SCENARIOS / "validation"
REPS, SEED = 300, 20261123


def run(name: str, **changes) -> dict[str, np.ndarray]:
    s = load_scenario(VALIDATION / f"{name}.yaml").scenario
    if changes:
        s = Scenario.model_validate({**s.model_dump(by_alias=True), **changes})
    return to_table(run_batch([s], REPS, SEED, workers=2)[s.name])


def median_h(t: dict[str, np.ndarray], area: str) -> float:
    return float(np.median(censored_times(t, area)))


def test_rand_2015_posture_cannot_defend():
    t = run("rand_2015")
    p = {a: float(np.mean(t[f"beat_fa_{a}"])) for a in ("estonia", "latvia", "theatre")}
    print(f"RAND 2015 posture: P(reinforced before the fait accompli) {p}")
    assert p["theatre"] <= 0.10 and p["estonia"] <= 0.10 and p["latvia"] <= 0.10


def test_rand_seven_brigades_hold():
    t = run("rand_seven_brigades")
    p = float(np.mean(t["beat_fa_theatre"]))
    print(f"RAND seven brigades in place: P(theatre held before the fait accompli) {p:.3f}")
    assert p >= 0.9
