"""The headline result: with the shipped defaults and 2,000 paired replications, median
theatre time-to-reinforce is ordered permanent < brigade < rotational, and the 95 % CIs of
the paired differences exclude zero."""

from tests.conftest import SCENARIOS
from tripwire.loader import load_scenario
from tripwire.runner import run_batch, to_table
from tripwire.summary import compare


def test_permanent_beats_brigade_beats_rotational():
    names = ["rotational", "brigade", "permanent"]
    scen = [load_scenario(SCENARIOS / f"{n}.yaml").scenario for n in names]
    rows = run_batch(scen, 2000, scen[0].seed, workers=2)
    t = {n: to_table(rows[n]) for n in names}
    for a, b in [("rotational", "brigade"), ("brigade", "permanent"), ("rotational", "permanent")]:
        c = compare(a, t[a], b, t[b], seed=1)["areas"]["theatre"]
        for key in ("difference_of_medians_h", "median_of_differences_h"):
            est = c[key]
            assert est["value"] < 0 and est["hi"] is not None and est["hi"] < 0, (a, b, key, est)
