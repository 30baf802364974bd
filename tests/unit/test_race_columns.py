"""The race's columns in the replications table, their censoring and their identities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import SCENARIOS
from tripwire.loader import load_scenario
from tripwire.runner import run_batch, to_table
from tripwire.scenario import COUNTRIES, Scenario
from tripwire.summary import AREAS, point_metrics, summarise


@pytest.fixture(scope="module")
def brigade() -> tuple[Scenario, dict[str, np.ndarray]]:
    s = load_scenario(SCENARIOS / "brigade.yaml").scenario
    return s, to_table(run_batch([s], 60, 20261123, workers=1)[s.name])


def test_the_race_columns_and_their_censoring(brigade):
    s, t = brigade
    for c in COUNTRIES:
        fa, hold = t[f"fait_accompli_{c}_h"], t[f"hold_{c}"].astype(bool)
        # NaN exactly when the capital was not reached within the horizon
        assert np.array_equal(np.isnan(fa), hold)
        assert np.all(fa[~hold] <= s.horizon_hours) and np.all(fa[~hold] > 0)
        axis = getattr(s.countries, c).axis_km
        adv, stab = t[f"advance_km_{c}"], t[f"stabilised_{c}_h"]
        assert np.allclose(adv[~hold], axis)  # a fallen capital: the whole axis
        assert np.all(adv[hold] < axis) and np.all(adv >= 0)
        assert np.all(np.isnan(stab[~hold]))  # no halt once the capital fell
        assert np.all(t[f"attacker_loss_{c}"] >= 0) and np.all(t[f"defender_loss_{c}"] >= 0)
        assert np.all(t[f"min_force_ratio_{c}"] > 0)
        # reinforced before the fait accompli: reinforced within the horizon, and before
        # the capital fell if it did
        ttr, cens = t[f"ttr_{c}_h"], t[f"censored_{c}"].astype(bool)
        beat = (~cens) & (hold | (ttr <= np.nan_to_num(fa, nan=math.inf)))
        assert np.array_equal(t[f"beat_fa_{c}"].astype(bool), beat)
    held = np.column_stack([t[f"hold_{c}"] for c in COUNTRIES]).astype(bool)
    assert np.array_equal(t["hold_theatre"].astype(bool), held.all(axis=1))
    first = np.nanmin(
        np.column_stack([t[f"fait_accompli_{c}_h"] for c in COUNTRIES]), axis=1, initial=np.inf
    )
    assert np.array_equal(np.isnan(t["fait_accompli_theatre_h"]), np.isinf(first))
    fin = ~np.isinf(first)
    assert np.allclose(t["fait_accompli_theatre_h"][fin], first[fin])


def test_requirement_is_combat_power(brigade):
    """required = threat power / 3 - host power x effectiveness, by hand from the draws'
    bounds: Lithuania's threat 25,000-40,000 troops of the threat mix (weight 1.25)."""
    s, t = brigade
    w = s.combat.weight(s.countries.lithuania.threat_type)
    host = s.countries.lithuania
    host_power = 20_000 * host.host_nation_effectiveness * s.combat.weight(host.host_nation_type)
    lo, hi = 25_000 * w / 3 - host_power, 40_000 * w / 3 - host_power
    req = t["required_lithuania"]
    assert np.all((req >= lo - 1e-6) & (req <= hi + 1e-6))


def test_summaries_give_p_hold_and_the_fait_accompli_curve(brigade):
    s, t = brigade
    meta = {"scenario": s.name, "posture": s.posture, "seed": 1, "horizon_hours": s.horizon_hours}
    summ = summarise(t, meta, s.checkpoints_hours)
    for area in AREAS:
        a = summ["areas"][area]
        held = float(np.mean(t[f"hold_{area}"]))
        assert a["p_hold"]["value"] == pytest.approx(held)
        assert a["p_hold"]["lo"] <= held <= a["p_hold"]["hi"]
        curve = np.array(a["fa_curve"], dtype=float)
        # P(capital reached by the horizon) = 1 - P(hold)
        assert curve[-1, 1] == pytest.approx(1 - held)
    pm = point_metrics(t, s.horizon_hours, s.checkpoints_hours)
    assert pm["p_hold_theatre"] == pytest.approx(float(np.mean(t["hold_theatre"])))
    assert pm["p_beat_fa_theatre"] == pytest.approx(float(np.mean(t["beat_fa_theatre"])))
