"""Movement as it really happens: per-load draws, regrouping, troops and equipment apart,
movement control after the attack, denial, offload rates and the closure table.

Each case is small enough to compute by hand; the comments give the computation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tests.conftest import link, mini
from tripwire.model import compile_plan
from tripwire.model import theatre as theatre_mod
from tripwire.model.outcome import FORMATION_COLUMNS
from tripwire.model.plan import stream
from tripwire.model.theatre import simulate_with_formations
from tripwire.runner import replication_seed
from tripwire.scenario import Scenario

pytestmark = pytest.mark.validation  # verification cases of docs/validation.md (fast)


def run(data: dict[str, Any], rep: int = 0, seed: int = 1) -> tuple[dict, list[dict]]:
    plan = compile_plan(Scenario.model_validate(data))
    return simulate_with_formations(plan, replication_seed(seed, rep))


def unit(name: str, troops: float, **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "troops": troops,
        "type": "armoured",
        "origin": "origin",
        "destination": "lithuania",
        "readiness_hours": 0,
        **kw,
    }


# --- per-load draws -------------------------------------------------------------------


def test_each_load_draws_its_own_times_and_the_formation_waits_for_the_last():
    # 5 loads on one channel; service U(1, 3) and transit U(0, 20) drawn per load from the
    # stream "move:unit:A#0:all:main": u[0] movement control, then (service, transit,
    # offload) of load k at 1 + 3k, 2 + 3k, 3 + 3k. By hand: load k starts when load k-1's
    # service ends, arrives at start + service + transit; the formation arrives with the
    # last of them (the max, not the last dispatched).
    data = mini(units=[unit("A", 500)])
    data["countries"]["lithuania"]["required_troops"] = 500
    data["network"]["links"][0].update(
        channels=1,
        service_hours={"uniform": {"low": 1, "high": 3}},
        transit_hours={"uniform": {"low": 0, "high": 20}},
    )
    row, forms = run(data, rep=3)
    u = stream(replication_seed(1, 3), "move:unit:A#0:all:main").random(1 + 3 * 5)
    service = 1 + 2 * u[1::3]
    transit = 20 * u[2::3]
    starts = np.concatenate([[0.0], np.cumsum(service)[:-1]])
    arrive = starts + service + transit
    assert row["ttr_lithuania_h"] == pytest.approx(arrive.max(), abs=1e-9)
    # the loads really spread out, and the last to arrive is not simply the last dispatched
    assert arrive.max() - arrive.min() > 5
    # one draw per formation (the old rule) would give n x service_0 + transit_0
    assert abs(arrive.max() - (5 * service[0] + transit[0])) > 1
    # the critical path: the load that arrived last, its wait, service and transit
    last = int(np.argmax(arrive))
    f = forms[0]
    assert f["queue_h"] == pytest.approx(starts[last])
    assert f["service_h"] == pytest.approx(service[last])
    assert f["transit_h"] == pytest.approx(transit[last])
    assert f["arrived_h"] == pytest.approx(arrive.max())


def test_formation_regroups_at_every_node():
    # origin -(1 channel, service 1, transit: load 0 takes 10 h, load 1 takes 0 h)-> mid
    # -(unlimited, service 0, transit 2)-> lt. Load 1 reaches mid at 2 h but waits for
    # load 0 (11 h): both leave mid at 11 and arrive at 13.
    data = mini(units=[unit("A", 200)])
    data["countries"]["lithuania"]["required_troops"] = 200
    data["network"]["nodes"]["mid"] = {"kind": "staging"}
    data["network"]["links"] = [
        link(
            "first",
            "origin",
            "mid",
            channels=1,
            service_hours=1,
            transit_hours={"choice": {"values": [0, 10], "weights": [1, 1]}},
        ),
        link("second", "mid", "lt", transit_hours=2),
        *data["network"]["links"][1:],
    ]
    # find a replication whose draws give load 0 the long transit and load 1 the short one
    for rep in range(200):
        u = stream(replication_seed(1, rep), "move:unit:A#0:all:first").random(7)
        if u[2] >= 0.5 and u[5] < 0.5:
            break
    row, forms = run(data, rep=rep)
    assert row["ttr_lithuania_h"] == pytest.approx(13)
    assert forms[0]["transit_h"] == pytest.approx(10 + 2)
    assert forms[0]["service_h"] == pytest.approx(1)


def test_berth_time_scales_with_what_the_ship_carries():
    # 250 items, 100 per ship: ships carry 100, 100, 50. One berth, 2 h fixed + items / 10
    # per hour: 12, 12 and 7 h; starts 0, 12, 24; the last ends at 31; transit 5 -> 36.
    data = mini(units=[unit("A", 250)])
    data["countries"]["lithuania"]["required_troops"] = 250
    data["network"]["links"][0].update(
        mode="sea",
        channels=1,
        service_hours=2,
        transit_hours=5,
        troops_per_load=1000,
        offload_items_per_hour=10,
    )
    row, _ = run(data)
    assert row["ttr_lithuania_h"] == pytest.approx(36)


# --- troops and equipment apart -------------------------------------------------------


def split_theatre(**marry: Any) -> dict[str, Any]:
    """Troops fly (1 aircraft, 2 h turnaround, 1 h flight, 100 per sortie) to an airfield,
    then drive to lt in no time; equipment goes by the 'main' rail link (1 channel, 3 h
    loading, 10 h transit, 100 items per train)."""
    data = mini(units=[unit("A", 300, troops_modes=["air", "road"])])
    data["equipment_items_per_troop"]["armoured"] = 2 / 3  # 200 items
    data["countries"]["lithuania"]["required_troops"] = 300
    data["network"]["nodes"]["airfield"] = {"kind": "airfield"}
    data["network"]["links"][0].update(channels=1, service_hours=3, transit_hours=10)
    data["network"]["links"] += [
        link("air", "origin", "airfield", mode="air", channels=1, service_hours=2, transit_hours=1),
        link("drive", "airfield", "lt", mode="road"),
    ]
    data["marry_up"] = {"integration_hours": 5, **marry}
    return data


def test_troops_by_air_and_equipment_by_rail_marry_up_at_the_destination():
    # Troops: sorties start 0, 2, 4 and land 3, 5, 7 -> all troops at 7 h.
    # Equipment: trains start 0, 3 and arrive 13, 16 -> all equipment at 16 h.
    # Shares 1: married at 16 + 5 h integration = 21 h (reception 0).
    row, forms = run(split_theatre())
    f = forms[0]
    assert f["split"] is True
    assert f["arrived_h"] == pytest.approx(16)
    assert f["married_h"] == pytest.approx(21)
    assert f["combat_ready_h"] == pytest.approx(21)
    assert row["ttr_lithuania_h"] == pytest.approx(21)
    # the critical path is the second train: waited 3 h, loaded 3 h, travelled 10 h
    assert (f["queue_h"], f["service_h"], f["transit_h"], f["marry_h"]) == pytest.approx(
        (3, 3, 10, 5)
    )


def test_marry_up_shares():
    # Half the troops (150: the second sortie, at 5 h) and half the equipment (100: the
    # first train, at 13 h) suffice: married at 13 + 5 = 18 h, before the last train.
    row, forms = run(split_theatre(troops_share=0.5, equipment_share=0.5))
    assert forms[0]["married_h"] == pytest.approx(18)
    assert forms[0]["arrived_h"] == pytest.approx(16)
    assert row["ttr_lithuania_h"] == pytest.approx(18)


def test_formation_moving_whole_skips_integration():
    data = split_theatre()
    data["units"][0]["troops_modes"] = None
    # whole: 3 loads by rail (3 troop loads of 100, 2 item loads of 100): starts 0, 3, 6,
    # last arrives 6 + 3 + 10 = 19; no integration
    row, forms = run(data)
    assert forms[0]["split"] is False
    assert forms[0]["marry_h"] == 0
    assert row["ttr_lithuania_h"] == pytest.approx(19)


# --- movement control after the attack -------------------------------------------------


def control_theatre(warning_days: float, ready: float) -> dict[str, Any]:
    data = mini(
        units=[unit("A", 100, readiness_hours=ready)],
        warning={"days": warning_days, "decision_delay_hours": 0},
    )
    data["countries"]["lithuania"]["required_troops"] = 100
    data["network"]["links"][0].update(channels=None, service_hours=0, transit_hours=10)
    data["network"]["links"][0]["control"] = "border"
    data["movement_control"] = {"border": {"hours": 6}}
    return data


def test_movement_control_costs_time_after_the_attack_only():
    # warning 2 days (attack at 48 h after warning). Ready at 0: crosses before the attack,
    # no control: arrives 10 h after warning = -38 h. Ready at 60 h (12 h after the
    # attack): waits 6 h at the border, arrives at 12 + 6 + 10 = 28 h.
    row, forms = run(control_theatre(2, 0))
    assert row["ttr_lithuania_h"] == pytest.approx(-38)
    assert forms[0]["control_h"] == 0
    row, forms = run(control_theatre(2, 60))
    assert row["ttr_lithuania_h"] == pytest.approx(28)
    assert forms[0]["control_h"] == pytest.approx(6)


# --- denial ---------------------------------------------------------------------------


def denial_theatre(share: float, duration: float, probability: float = 1.0) -> dict[str, Any]:
    # 4 loads, 2 channels, service 2 h, transit 1 h
    data = mini(units=[unit("A", 400)])
    data["countries"]["lithuania"]["required_troops"] = 400
    data["network"]["links"][0].update(channels=2, service_hours=2, transit_hours=1)
    data["denial"] = [
        {
            "name": "air",
            "links": ["main"],
            "probability": probability,
            "capacity_share": share,
            "duration_hours": duration,
        }
    ]
    return data


def test_denial_throttles_and_closes_a_link():
    # no denial: starts 0, 0, 2, 2 -> last arrives 4 + 1 = 5
    row, _ = run(denial_theatre(0.5, 100, probability=0))
    assert row["ttr_lithuania_h"] == pytest.approx(5)
    assert row["denied_air"] is False
    assert math.isnan(row["denial_air_start_h"])
    # half the channels for 100 h: one channel, starts 0, 2, 4, 6 -> 8 + 1 = 9
    row, _ = run(denial_theatre(0.5, 100))
    assert row["ttr_lithuania_h"] == pytest.approx(9)
    assert row["denied_air"] is True
    assert (row["denial_air_start_h"], row["denial_air_end_h"]) == (0, 100)
    assert row["denial_air_capacity_share"] == 0.5
    # closed for 10 h: starts 10, 10, 12, 12 -> 14 + 1 = 15
    row, forms = run(denial_theatre(0, 10))
    assert row["ttr_lithuania_h"] == pytest.approx(15)
    assert forms[0]["queue_h"] == pytest.approx(12)  # the last load waited 12 h


def test_denial_is_drawn_per_replication_with_its_probability():
    data = denial_theatre(0.5, 100, probability=0.3)
    plan = compile_plan(Scenario.model_validate(data))
    denied = [theatre_mod.simulate(plan, replication_seed(5, r))["denied_air"] for r in range(400)]
    assert 0.22 < np.mean(denied) < 0.38  # 400 Bernoulli(0.3): 4.4 standard deviations


# --- common random numbers: draws do not depend on event order --------------------------


def test_a_formations_draws_do_not_depend_on_other_traffic(monkeypatch):
    # A crosses 'main' after B; B's size changes the queue (and A's timing), never A's draws.
    drawn: dict[str, list[float]] = {}
    real = theatre_mod.stream

    def spy(child: np.random.SeedSequence, name: str) -> np.random.Generator:
        values = real(child, name).random(64).tolist()
        drawn.setdefault(name, []).append(values[0])
        return real(child, name)

    monkeypatch.setattr(theatre_mod, "stream", spy)
    base = mini(units=[unit("B", 300), unit("A", 300, readiness_hours=1)])
    base["network"]["links"][0].update(
        channels=1,
        service_hours={"uniform": {"low": 1, "high": 3}},
        transit_hours={"uniform": {"low": 0, "high": 20}},
    )
    bigger = mini(units=[unit("B", 900), unit("A", 300, readiness_hours=1)])
    bigger["network"]["links"] = base["network"]["links"]
    r1, f1 = run(base)
    r2, f2 = run(bigger)
    key = "move:unit:A#0:all:main"
    assert len(drawn[key]) == 2 and drawn[key][0] == drawn[key][1]
    assert f1[1]["queue_h"] != f2[1]["queue_h"]  # the traffic did change A's wait


# --- the closure table ----------------------------------------------------------------


def test_closure_table_columns_phase_order_and_identity():
    data = split_theatre()
    data["units"].append(unit("late", 100, readiness_hours=24 * 70))  # ready after the horizon
    data["horizon_days"] = 60
    _, forms = run(data)
    assert [list(f) for f in forms] == [[c for c, _ in FORMATION_COLUMNS if c != "replication"]] * 2
    f, late = forms
    assert f["ready_h"] <= f["departed_h"] <= f["married_h"] <= f["combat_ready_h"]
    assert f["cleared_h"] <= f["departed_h"]
    phases = sum(f[k] for k in ("control_h", "queue_h", "service_h", "transit_h", "draw_h"))
    assert f["married_h"] == pytest.approx(f["departed_h"] + phases + f["marry_h"])
    assert f["combat_ready_h"] == pytest.approx(f["married_h"] + f["reception_h"])
    assert not f["censored"]
    assert late["censored"]
    for k in ("departed_h", "arrived_h", "married_h", "combat_ready_h", "queue_h"):
        assert math.isnan(late[k]), k
    assert late["ready_h"] == 24 * 70


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            "network.links:\n    - {id: de_pl_rail, control: germany}",
            "network.links[0].control: unknown movement-control point 'germany'",
        ),
        (
            "denial:\n    - {name: lithuania_air, links: [siauliai_lt]}",
            "denial[0].links[0]: link 'siauliai_lt' has unlimited capacity",
        ),
        (
            "denial:\n    - {name: lithuania_air, links: [air_de_siauliaj]}",
            "unknown link 'air_de_siauliaj' (did you mean air_de_siauliai",
        ),
    ],
)
def test_bad_control_and_denial_references_name_file_line_and_field(tmp_path, edit, expected):
    from typer.testing import CliRunner

    from tests.conftest import SCENARIOS
    from tripwire.cli import app

    f = tmp_path / "bad.yaml"
    f.write_text(f"extends: {SCENARIOS / 'brigade.yaml'}\nname: bad\nedit:\n  {edit}\n")
    r = CliRunner().invoke(app, ["check", str(f)])
    assert r.exit_code == 2
    assert f"{f}:" in r.output and expected in r.output.replace("\n", "")
    assert "Traceback" not in r.output


def test_wartime_factor_scales_moves_after_the_attack_only():
    # the control_theatre link: unlimited, no service, 10 h transit. Factor 2: a crossing
    # before the attack still takes 10 h (arrives -38 h); one after it takes 20 h (12 + 20).
    data = control_theatre(2, 0)
    data["movement_control"] = {"border": {"hours": 0}}
    data["wartime_factor"] = 2
    row, forms = run(data)
    assert row["ttr_lithuania_h"] == pytest.approx(-38)
    data = control_theatre(2, 60)
    data["movement_control"] = {"border": {"hours": 0}}
    data["wartime_factor"] = 2
    row, forms = run(data)
    assert row["ttr_lithuania_h"] == pytest.approx(32)
    assert forms[0]["transit_h"] == pytest.approx(20)
