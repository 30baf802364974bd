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


def _race_mini(axis_km: float, unit_type: str, requirement: str = "combat_power"):
    """mini (tests/conftest.py) with a threat to Lithuania, a host nation and the race.

    Threat 3,000 armoured soldiers (weight 1.5: 4,500 combat power); host nation 1,000
    light soldiers at effectiveness 0.5 (weight 0.4: 200); force ratio 3. Required combat
    power = 4,500 / 3 - 200 = 1,300; required troops (head count) = 1,000 - 500 = 500.
    Unit A (1,000 troops) arrives in one load after 2 h of service and 10 h of transit:
    combat-ready at 12 h.
    """
    from tests.conftest import mini, run_one

    lt = {
        "required_troops": None,
        "threat_troops": 3000,
        "threat_type": "armoured",
        "host_nation_troops": 1000,
        "host_nation_type": "light",
        "host_nation_effectiveness": 0.5,
        "axis_km": axis_km,
    }
    other = {
        "required_troops": None,
        "threat_troops": 0,
        "threat_type": "light",
        "host_nation_type": "light",
        "axis_km": 100,
    }
    data = mini(
        requirement=requirement,
        adversary="race",
        countries={"lithuania": lt, "latvia": other, "estonia": other},
        combat={
            "weights": {
                "light": 0.4,
                "motorised": 0.7,
                "mechanised": 1,
                "armoured": 1.5,
                "fires": 1.5,
            },
            "attrition": {
                "attacker_loss_per_day": 0.035,
                "defender_loss_per_day": 0.019,
                "reference_ratio": 3,
            },
            "advance": [{"from_ratio": 3, "km_per_day": 16}, {"from_ratio": 18, "km_per_day": 240}],
        },
        equipment_items_per_troop={"light": 0, "mechanised": 0, "armoured": 0},
    )
    data["network"]["links"][0]["troops_per_load"] = 1000
    data["units"][0]["type"] = unit_type
    return run_one(data)


def test_hand_case_requirement_in_combat_power_and_a_fast_fall():
    row = _race_mini(30, "mechanised")
    assert row["required_lithuania"] == pytest.approx(1300)
    # 1,000 mechanised = 1,000 < 1,300: never reinforced in combat power
    assert row["censored_lithuania"] and math.isnan(row["ttr_lithuania_h"])
    # the front: 200 against 4,500, 22.5:1, rising (above sqrt(a/b) = 4.07): the road
    # march band all the way, 30 km at 10 km/h
    assert row["fait_accompli_lithuania_h"] == pytest.approx(3.0)
    assert not row["hold_lithuania"] and not row["beat_fa_lithuania"]
    # by head count 500 troops are required: the same arrival reinforces at 12 h
    head = _race_mini(30, "mechanised", requirement="headcount")
    assert head["required_lithuania"] == pytest.approx(500)
    assert head["ttr_lithuania_h"] == pytest.approx(12.0)
    # an armoured unit (1,500 combat power) reinforces at 12 h in combat power too
    assert _race_mini(30, "armoured")["ttr_lithuania_h"] == pytest.approx(12.0)


def test_hand_case_an_arrival_slows_or_halts_the_attacker():
    """On a 300 km axis the attacker marches 10 km/h for 12 h (120 km), then the unit
    joins. Mechanised (1,000 combat power): about 4,490 against about 1,186, 3.8:1, the
    16 km/day band; the ratio falls (below sqrt(a/b) = 4.07) but not to 3 before the
    capital: 180 km more at 16 km/day, the capital at 12 + 270 = 282 h.
    Armoured (1,500): about 4,490 against 1,686, 2.7:1, below the rule: halted for good at
    12 h, 120 km from the border."""
    row = _race_mini(300, "mechanised")
    assert row["fait_accompli_lithuania_h"] == pytest.approx(12 + 180 / (16 / 24))
    assert 3 < row["min_force_ratio_lithuania"] < 4.07
    row = _race_mini(300, "armoured")
    assert row["hold_lithuania"] and math.isnan(row["fait_accompli_lithuania_h"])
    assert row["stabilised_lithuania_h"] == pytest.approx(12.0)
    assert row["advance_km_lithuania"] == pytest.approx(120.0)
    assert row["min_force_ratio_lithuania"] < 3
    assert row["beat_fa_lithuania"]  # reinforced at 12 h, and the capital holds
    # the other countries face no threat: held from the start, nothing lost
    assert row["hold_latvia"] and row["stabilised_latvia_h"] == 0
    assert row["attacker_loss_latvia"] == 0
