"""Where the time goes (tripwire.phases) and one replication's story (tripwire.trace):
phases add up to the deciding formation's time from warning to combat-ready in a
hand-computed case with troops and equipment travelling apart; a traced replication is
the batch's row; the CLI writes the event log and a Gantt chart whose content is checked."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tripwire.columns as C
from tests.conftest import SCENARIOS
from tests.unit.test_movement import run, split_theatre
from tripwire.cli import app
from tripwire.loader import load_scenario
from tripwire.phases import (
    BIN_HOURS,
    PHASES,
    CountryPhases,
    bottleneck_sentence,
    deciding_phases,
    phase_hours,
    read_phases,
)
from tripwire.runner import run_batch, to_table
from tripwire.trace import EVENT_COLUMNS, retrace, same_row


def hand_case():
    """Warning 24 h before the attack, decision 4 h later (-20 h), readiness 6 h (ready at
    -14 h; clearance 0, so it departs at -14 h). Troops fly: sorties leave -14, -12, -10
    and land -11, -9, -7. Equipment by rail (1 channel, 3 h loading, 10 h transit): train 1
    loads -14..-11 and arrives -1; train 2 waits 3 h, loads -11..-8 and arrives +2. The
    equipment is the critical path: queue 3, loading 3, transit 10; marry-up 5 h: married
    and combat-ready at +7 h, the time-to-reinforce."""
    data = split_theatre()
    data["warning"] = {"days": 1, "decision_delay_hours": 4}
    data["units"][0]["readiness_hours"] = 6
    return run(data)


EXPECTED = {
    "decision": 4.0,
    "readiness": 6.0,
    "clearance": 0.0,
    "movement control": 0.0,
    "queueing": 3.0,
    "loading and offload": 3.0,
    "transit": 10.0,
    "drawing a set": 0.0,
    "marry-up": 5.0,
    "reception": 0.0,
}


def test_phases_add_up_to_the_deciding_formations_time_in_a_hand_case():
    row, forms = hand_case()
    assert row["ttr_lithuania_h"] == pytest.approx(7)
    ph = phase_hours(forms[0], row["warning_h"], row["decision_h"])
    assert list(ph) == list(PHASES)
    assert ph == pytest.approx(EXPECTED)
    assert sum(ph.values()) == pytest.approx(24 + 7)  # warning to combat-ready
    # the critical path waited once, 3 h for the rail link's single channel
    assert forms[0]["longest_wait_h"] == pytest.approx(3)
    assert forms[0]["longest_wait_link"] == "main"
    reps = to_table([{"replication": 0, **row}])
    table = {k: np.array([f[k] for f in forms]) for k in forms[0]}
    table["replication"] = np.zeros(len(forms), dtype=int)
    got = deciding_phases(reps, table)
    lt = got["lithuania"]
    assert lt.decided == 1 and lt.dominant == "transit" and lt.links == {"main": 1}
    assert {p: lt.mean(p) for p in PHASES} == pytest.approx(EXPECTED)
    # Estonia and Latvia require nothing: met by what is in place, no formation decides
    assert got["estonia"].decided == 0 and got["estonia"].in_place == 1
    line = bottleneck_sentence("test", {c: cp.as_dict() for c, cp in got.items()})
    want = "Lithuania: transit (10 h, 32%), longest wait most often at main, in 100% of them"
    assert want in line
    assert "Estonia: no formation decides" in line


def test_a_censored_formation_has_no_phases():
    f = {"censored": True}
    assert all(math.isnan(v) for v in phase_hours(f, 24, -20).values())


@pytest.mark.parametrize("name", ["brigade", "suwalki_cut"])
def test_a_traced_replication_is_the_batchs_row(name):
    s = load_scenario(SCENARIOS / f"{name}.yaml").scenario
    rows = run_batch([s], 6, 20261123, workers=1, buildup=True, formations=True)[s.name]
    for k in (0, 5):
        tr = retrace(s, 20261123, k)
        batch = dict(rows[k])
        forms = batch.pop("formation_rows")
        assert same_row(tr.row, batch) == []
        assert tr.formations == forms
        # every phase decomposition adds up, for every formation of a real replication
        for f, ph in zip(tr.formations, tr.phases(), strict=True):
            if not f["censored"]:
                total = tr.row[C.WARNING()] + f["combat_ready_h"]
                assert sum(ph.values()) == pytest.approx(total, abs=1e-9)
                assert min(ph.values()) >= -1e-9


def test_same_row_names_a_difference():
    assert same_row({"a": 1.0, "b": float("nan")}, {"a": 1.0, "b": float("nan")}) == []
    assert same_row({"a": 1.0}, {"a": 2.0}) == ["a"]


def test_simulate_trace_writes_the_event_log_and_a_gantt_chart(tmp_path):
    out = tmp_path / "t"
    r = CliRunner().invoke(
        app, ["trace", str(SCENARIOS / "suwalki_cut.yaml"), "-r", "2", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "replication 2 of" in r.output and "Lithuania:" in r.output
    with (out / "events.csv").open() as fh:
        events = list(csv.DictReader(fh))
    assert tuple(events[0]) == EVENT_COLUMNS
    times = [float(e["time_h"]) for e in events]
    assert times == sorted(times)
    kinds = {e["event"] for e in events}
    assert {"warning", "decision", "attack", "combat_ready"} <= kinds
    svg = (out / "gantt.svg").read_text()
    for text in ("days from attack start", "queueing", "transit", "attack", "replication 2"):
        assert text in svg, text
    with (out / "formations.csv").open() as fh:
        forms = list(csv.DictReader(fh))
    assert forms and "phase_queueing_h" in forms[0]
    # a second run into the same folder is refused, and nothing is overwritten
    before = (out / "events.csv").read_bytes()
    r = CliRunner().invoke(
        app, ["trace", str(SCENARIOS / "suwalki_cut.yaml"), "-r", "2", "--out", str(out)]
    )
    assert r.exit_code == 2 and "not an empty folder" in r.output
    assert (out / "events.csv").read_bytes() == before


def test_trace_from_a_run_folder_checks_the_stored_row(tmp_path):
    run_dir = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["run", str(SCENARIOS / "brigade.yaml"), "-n", "4", "--out", str(run_dir), "-q"]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["trace", str(run_dir), "-r", "3", "--out", str(tmp_path / "t")])
    assert r.exit_code == 0, r.output
    assert "identical to the stored row" in r.output
    # a scenario the folder does not hold, a replication it does not hold: exit 2, named
    r = CliRunner().invoke(app, ["trace", str(run_dir), "-r", "4", "--out", str(tmp_path / "u")])
    assert r.exit_code == 2 and "replications 0 to 3" in r.output
    r = CliRunner().invoke(
        app, ["trace", str(run_dir), "-r", "0", "--scenario", "nope", "--out", str(tmp_path / "v")]
    )
    assert r.exit_code == 2 and "--scenario nope" in r.output


@settings(max_examples=200)
@given(
    st.lists(st.floats(0, 2000, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.1, 0.5, 0.9]),
)
def test_phase_quantiles_are_within_half_a_bin_of_the_order_statistic(values, q):
    cp = CountryPhases("latvia")
    cp.add({p: np.asarray(values) for p in PHASES})
    exact = float(np.quantile(values, q, method="inverted_cdf"))
    assert abs(cp.quantile("transit", q) - exact) <= BIN_HOURS / 2 + 1e-9
    assert cp.mean("transit") == pytest.approx(float(np.mean(values)))
    # added in two blocks: the same
    two = CountryPhases("latvia")
    half = len(values) // 2
    two.add({p: np.asarray(values[:half]) for p in PHASES})
    two.add({p: np.asarray(values[half:]) for p in PHASES})
    assert two.quantile("transit", q) == cp.quantile("transit", q) and two.decided == cp.decided


def test_phases_read_a_part_at_a_time_equal_the_whole_and_are_in_the_summary(tmp_path):
    run_dir = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["run", str(SCENARIOS / "suwalki_cut.yaml"), "-n", "30", "--out", str(run_dir), "-q"]
    )
    assert r.exit_code == 0, r.output
    reps, forms = (
        run_dir / "suwalki_cut" / "replications.parquet",
        run_dir / "suwalki_cut" / "formations.parquet",
    )
    whole = {c: cp.as_dict() for c, cp in read_phases(reps, forms, batch=1000).items()}
    parts = {c: cp.as_dict() for c, cp in read_phases(reps, forms, batch=7).items()}
    assert parts == whole
    assert all(v["replications"] == 30 for v in whole.values())
    assert all(
        v["decided_by_a_formation"] + v["in_place"] + v["not_reinforced"] == 30
        for v in whole.values()
    )
    summary = json.loads((run_dir / "suwalki_cut" / "summary.json").read_text())
    labels = {c: v.pop("link_labels") for c, v in summary["phases"].items()}
    assert summary["phases"] == whole
    for c, words in labels.items():  # every link named in words, none left as an id
        assert set(words) == set(whole[c]["longest_wait_link"]) - {"(no wait)"}
        assert all(" – " in w and "_" not in w for w in words.values())
