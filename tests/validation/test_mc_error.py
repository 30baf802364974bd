"""Monte Carlo error: the standard error of the headline metrics falls as 1/sqrt(n), the
reported 95% intervals have the width that error implies, and ``--precision`` stops
sequentially with the same table as a fixed run of the final size.

Re-run: ``python -m pytest -m validation tests/validation/test_mc_error.py -s``
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.cli.test_cli import invoke
from tests.conftest import SCENARIOS, same_table
from tripwire import metrics
from tripwire.loader import load_scenario
from tripwire.runner import run_batch, to_table
from tripwire.summary import censored_times

pytestmark = pytest.mark.validation

TOTAL, SIZES = 4000, (10, 40, 160)


@pytest.mark.slow
def test_standard_error_falls_as_one_over_sqrt_n():
    # permanent bases: P(Estonia holds) is near one half, where a proportion's error is largest
    s = load_scenario(SCENARIOS / "permanent.yaml").scenario
    t = to_table(run_batch([s], TOTAL, 20261123, workers=2)[s.name])
    hold = np.asarray(t["hold_estonia"], dtype=float)
    ttr = censored_times(t, "theatre")
    sd = {"p_hold_estonia": [], "median_ttr_theatre_h": []}
    for n in SIZES:
        groups = TOTAL // n  # disjoint groups of n replications
        sd["p_hold_estonia"].append(np.std(hold.reshape(groups, n).mean(axis=1), ddof=1))
        meds = [np.median(g) for g in ttr.reshape(groups, n)]
        sd["median_ttr_theatre_h"].append(np.std(meds, ddof=1))
    for name, values in sd.items():
        slope = np.polyfit(np.log(SIZES), np.log(values), 1)[0]
        print(f"{name}: SD at n={SIZES}: {np.round(values, 4)}; log-log slope {slope:.3f}")
        assert slope == pytest.approx(-0.5, abs=0.15)
    # the Wilson interval at n=160 is as wide as the empirical error says (1.96 SD)
    p = hold[:160].mean()
    w = metrics.proportion(int(hold[:160].sum()), 160)
    print(
        f"n=160: Wilson half-width {(w.hi - w.lo) / 2:.4f}, 1.96 x empirical SD "
        f"{1.96 * sd['p_hold_estonia'][-1]:.4f} (p = {p:.3f})"
    )
    assert (w.hi - w.lo) / 2 == pytest.approx(1.96 * sd["p_hold_estonia"][-1], rel=0.25)


def test_precision_stops_with_the_table_of_a_fixed_run(tmp_path):
    out = tmp_path / "seq"
    r = invoke(
        "run",
        str(SCENARIOS / "permanent.yaml"),
        "-n",
        "20",
        "--workers",
        "1",
        "--precision",
        "p_hold_estonia=0.08",
        "--out",
        str(out),
        "-q",
    )
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    stages = m["precision"]["stages"]
    assert stages[0]["replications"] == 20 and len(stages) >= 2
    assert stages[-1]["half_width"]["permanent"] <= 0.08 < stages[-2]["half_width"]["permanent"]
    n = m["replications"]
    assert n == stages[-1]["replications"]
    assert math.isclose(n, pq.read_metadata(out / "permanent" / "replications.parquet").num_rows)
    fixed = tmp_path / "fixed"
    r = invoke(
        "run",
        str(SCENARIOS / "permanent.yaml"),
        "-n",
        str(n),
        "--workers",
        "1",
        "--out",
        str(fixed),
        "-q",
    )
    assert r.exit_code == 0, r.output
    assert same_table(
        pq.read_table(out / "permanent" / "replications.parquet"),
        pq.read_table(fixed / "permanent" / "replications.parquet"),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("p_beat_fa_theatre", "expected METRIC=HALF_WIDTH"),
        ("p_win=0.1", "unknown metric 'p_win'"),
        ("p_beat_fa_theatre=-1", "must be positive"),
        ("p_beat_fa_theatre=0.7", "below 0.5"),
    ],
)
def test_bad_precision_exits_2(value, message, tmp_path):
    r = invoke(
        "run", str(SCENARIOS / "brigade.yaml"), "--precision", value, "--out", str(tmp_path / "x")
    )
    assert r.exit_code == 2 and message in r.output
