"""Cases with closed-form answers the model must reproduce exactly."""

import math

import pytest

from tests.conftest import link, mini, run_one

# verification checks of docs/validation.md (fast: they also run in the default suite)
pytestmark = pytest.mark.validation


@pytest.mark.parametrize("channels", [1, 2, 3, 7])
@pytest.mark.parametrize("loads", [1, 5, 10])
def test_one_link_of_capacity_c_gives_closed_form_arrival(channels, loads):
    # loads of 100 items; each holds one of c channels for 2 h, then 10 h of transit
    data = mini(
        units=[
            {
                "name": "A",
                "troops": 100 * loads,
                "type": "armoured",
                "origin": "origin",
                "destination": "lithuania",
                "readiness_hours": 0,
            }
        ]
    )
    data["countries"]["lithuania"]["required_troops"] = 100 * loads
    data["network"]["links"][0]["channels"] = channels
    row = run_one(data)
    assert row["ttr_lithuania_h"] == math.ceil(loads / channels) * 2 + 10
    assert row["route_main_loads"] == loads
    assert row["route_main_wait_h_mean"] == 0


def test_fifo_queue_of_two_formations_matches_hand_computation():
    # A (5 loads, ready at 0) then B (3 loads, ready at 1 h) on 2 channels of 2 h.
    # A's loads start 0,0,2,2,4 -> last ends 6; B's start when channels free: 4 (ch freed
    # by A's 3rd/4th at 4 -> one channel takes A's 5th, the other B's 1st), 6, 6 -> ends 8.
    units = [
        {
            "name": "A",
            "troops": 500,
            "type": "armoured",
            "origin": "origin",
            "destination": "lithuania",
            "readiness_hours": 0,
        },
        {
            "name": "B",
            "troops": 300,
            "type": "armoured",
            "origin": "origin",
            "destination": "lithuania",
            "readiness_hours": 1,
        },
    ]
    data = mini(units=units)
    data["network"]["links"][0].update(channels=2, transit_hours=10)
    data["countries"]["lithuania"]["required_troops"] = 800
    row = run_one(data)
    assert row["ttr_lithuania_h"] == 8 + 10
    assert row["route_main_wait_h_mean"] == pytest.approx((0 + 3) / 2)  # B waited 4 - 1 h
    data["countries"]["lithuania"]["required_troops"] = 500
    assert run_one(data)["ttr_lithuania_h"] == 6 + 10


def test_unlimited_capacity_has_zero_wait():
    units = [
        {
            "name": "A",
            "troops": 5000,
            "type": "armoured",
            "origin": "origin",
            "destination": "lithuania",
            "readiness_hours": 0,
            "count": 4,
        }
    ]
    data = mini(units=units)
    data["network"]["links"][0]["channels"] = None
    data["countries"]["lithuania"]["required_troops"] = 20000
    row = run_one(data)
    assert row["route_main_wait_h_mean"] == 0 and row["route_main_wait_h_max"] == 0
    assert row["ttr_lithuania_h"] == 2 + 10


def _gap_theatre(closure_hours: float, probability: float = 1.0) -> dict:
    """origin -> gap (corridor, land) -> lt, or origin -> port -> lt by sea (slower)."""
    data = mini()
    data["network"]["nodes"]["port"] = {"kind": "port"}
    data["network"]["links"] = [
        link(
            "gap",
            "origin",
            "lt",
            mode="road",
            corridor=True,
            channels=1,
            service_hours=1,
            transit_hours=5,
        ),
        link("to_port", "origin", "port", mode="rail", transit_hours=10),
        link("sea", "port", "lt", mode="sea", transit_hours=40),
        link("lt_lv", "lt", "lv", mode="road"),
        link("lv_ee", "lv", "ee", mode="road"),
    ]
    data["suwalki"] = {"closure_probability": probability, "closure_hours": closure_hours}
    return data


def test_corridor_closed_at_attack_start_sends_nothing_by_land():
    row = run_one(_gap_theatre(closure_hours=0))
    assert row["corridor_closed"] is True
    assert row["route_gap_loads"] == 0
    assert row["route_sea_loads"] == 10
    assert row["ttr_lithuania_h"] == 10 + 40


def test_corridor_open_uses_land():
    row = run_one(_gap_theatre(closure_hours=0, probability=0.0))
    assert row["route_gap_loads"] == 10 and row["route_sea_loads"] == 0
    assert row["ttr_lithuania_h"] == 10 * 1 + 5


def test_cut_mid_crossing_reroutes_the_loads_not_yet_across():
    # 10 loads of 1 h on one channel; the cut at 3.5 h lets loads started at 0,1,2,3 cross
    row = run_one(_gap_theatre(closure_hours=3.5))
    assert row["route_gap_loads"] == 4
    assert row["route_sea_loads"] == 6
    assert row["detachments_rerouted"] == 1
    # the detachment leaves the gap entry at the cut (3.5 h) and goes by sea: 3.5 + 10 + 40
    assert row["ttr_lithuania_h"] == pytest.approx(3.5 + 50)


def test_prepositioned_set_lets_a_fly_in_unit_beat_heavy_lift():
    data = mini()
    data["network"]["nodes"]["airfield"] = {"kind": "airfield"}
    data["network"]["links"] += [
        link(
            "air",
            "origin",
            "airfield",
            mode="air",
            channels=None,
            transit_hours=3,
            troops_per_load=100,
        ),
        link("apron", "airfield", "lt", mode="road", transit_hours=1),
    ]
    data["units"][0]["lift"] = "fly_in"
    data["prepositioned"] = [{"site": "lt", "sets": 1, "troops_per_set": 1000, "draw_hours": 24}]
    row = run_one(data)
    assert row["sets_drawn"] == 1
    assert row["ttr_lithuania_h"] == 3 + 1 + 24
    data["prepositioned"][0]["sets"] = 0  # no set: the unit falls back to heavy lift
    row = run_one(data)
    assert row["sets_drawn"] == 0
    assert row["ttr_lithuania_h"] == 10 * 2 + 10


def test_warning_decision_and_readiness_shift_arrival():
    data = mini(warning={"days": 2, "decision_delay_hours": 6, "peacetime_clearance_hours": 0})
    data["units"][0]["readiness_hours"] = 4
    # decision 6 h after warning, ready 4 h later, 10 loads x 2 h + 10 h transit = 30 h
    assert run_one(data)["ttr_lithuania_h"] == pytest.approx(6 + 4 + 30 - 48)
    # peacetime clearance of 100 h: moves wait for the attack (48 h after warning)
    data["warning"]["peacetime_clearance_hours"] = 100
    assert run_one(data)["ttr_lithuania_h"] == pytest.approx(0 + 30)


def test_horizon_censors_instead_of_inventing_a_time():
    data = mini(horizon_days=0.5)  # 12 h, the crossing takes 30 h
    row = run_one(data)
    assert row["censored_lithuania"] is True and math.isnan(row["ttr_lithuania_h"])
    assert row["censored_theatre"] is True and math.isnan(row["ttr_theatre_h"])
    assert row["beat_fa_theatre"] is False


def test_forces_in_place_already_sufficient_hold_from_the_start():
    data = mini(
        warning={"days": 1, "decision_delay_hours": 0},
        in_place=[{"name": "P", "country": "lithuania", "kind": "permanent", "troops": 1000}],
    )
    row = run_one(data)
    assert row["ttr_lithuania_h"] == -24
    assert row["in_place_lithuania"] == 1000


def test_forward_brigade_ramps_in_by_scenario_date():
    def strength(date: str, delay: float = 0) -> float:
        data = mini(
            scenario_date=date,
            units=[],
            in_place=[
                {
                    "name": "FB",
                    "country": "lithuania",
                    "kind": "forward",
                    "troops": 4000,
                    "fielding": {
                        "start_date": "2025-01-01",
                        "full_date": "2026-01-01",
                        "initial_troops": 400,
                        "delay_days": delay,
                    },
                }
            ],
        )
        return run_one(data)["in_place_lithuania"]

    assert strength("2024-06-01") == 400
    assert strength("2025-07-02") == pytest.approx(400 + 3600 * 182 / 365)
    assert strength("2026-01-01") == 4000
    assert strength("2026-01-01", delay=365) == pytest.approx(400 + 3600 * 365 / 730)


def test_rotational_handover_weakens_until_it_ends():
    # handover window covers the whole cycle: always caught mid-handover
    data = mini(
        units=[],
        warning={"days": 0, "decision_delay_hours": 0},
        in_place=[
            {
                "name": "R",
                "country": "lithuania",
                "kind": "rotational",
                "troops": 1000,
                "rotation": {"cycle_days": 10, "handover_days": 10, "handover_fraction": 0.5},
            }
        ],
    )
    row = run_one(data)
    assert row["in_place_lithuania"] == 500
    assert 0 < row["ttr_lithuania_h"] <= 240  # full strength when the handover ends


def test_fait_accompli_rule():
    data = mini(units=[])
    data["countries"]["lithuania"] = {
        "node": "lt",
        "threat_troops": 30000,
        "force_ratio": 3,
        "host_nation_troops": 6000,
        "host_nation_effectiveness": 0.5,
        "fait_accompli_unopposed_hours": 40,
        "defence_delay_factor": 2.0,
        "reception_hours": 0,
    }
    data["in_place"] = [{"name": "P", "country": "lithuania", "kind": "permanent", "troops": 3000}]
    row = run_one(data)
    assert row["required_lithuania"] == 30000 / 3 - 3000
    # D = 3000 NATO + 3000 host; T = 40 * (1 + 2 * 6000 / 30000)
    assert row["fait_accompli_lithuania_h"] == pytest.approx(40 * 1.4)


def test_shortfall_allocation_sends_formations_where_the_gap_is_largest():
    data = mini(checkpoints_hours=[100])
    data["countries"]["estonia"]["required_troops"] = 2000
    data["countries"]["lithuania"]["required_troops"] = 500
    data["units"] = [
        {
            "name": "F",
            "troops": 1000,
            "type": "light",
            "origin": "origin",
            "readiness_hours": 0,
            "count": 3,
        }
    ]
    row = run_one(data)
    # gaps: ee 2000, lt 500 -> ee, ee (gap 0), then lt; all across by 70 h
    assert row["strength_estonia_100h"] == 2000
    assert row["strength_lithuania_100h"] == 1000


def test_pool_tiers_become_formations_with_their_readiness():
    data = mini(
        units=[],
        pool={
            "total_troops": 10000,
            "theatre_share": 0.5,
            "formation_troops": 1000,
            "type": "light",
            "origin": "origin",
            "lift": "heavy",
            "tiers": [
                {"name": "t1", "share": 0.4, "readiness_days": 1},
                {"name": "t2", "share": 0.6, "readiness_days": 10},
            ],
        },
    )
    data["network"]["links"][0].update(channels=None, service_hours=0, transit_hours=0)
    # 5,000 earmarked: tier 1 has 2,000 (2 formations ready at 24 h), tier 2 3,000 at 240 h
    data["countries"]["lithuania"]["required_troops"] = 2000
    row = run_one(data)
    assert row["formations"] == 5
    assert row["ttr_lithuania_h"] == 24
    data["countries"]["lithuania"]["required_troops"] = 2500
    assert run_one(data)["ttr_lithuania_h"] == 240


def test_reception_delay_and_capacity():
    units = [
        {
            "name": "A",
            "troops": 100,
            "type": "light",
            "origin": "origin",
            "destination": "lithuania",
            "readiness_hours": 0,
            "count": 3,
        }
    ]
    data = mini(units=units)
    data["network"]["links"][0].update(channels=None, service_hours=0, transit_hours=0)
    data["countries"]["lithuania"].update(reception_hours=10, required_troops=300)
    assert run_one(data)["ttr_lithuania_h"] == 10  # unlimited reception: all at once
    data["countries"]["lithuania"]["reception_capacity_units"] = 1
    assert run_one(data)["ttr_lithuania_h"] == 30  # one at a time
