"""A sweep says how big it is, and about how long it will take, before it starts."""

from __future__ import annotations

import re

from tests.robustness.test_folders_and_cli import invoke, sweep_args


def test_a_sweep_prints_its_size_and_estimate_first(tmp_path):
    r = invoke(*sweep_args(tmp_path, tmp_path / "s"))
    assert r.exit_code == 0, r.output
    m = re.search(
        r"(\d+) points x (\d+) postures x (\d+) replications = ([\d,]+) replications, about "
        r"(.+) on (\d+) workers",
        r.output,
    )
    assert m, r.output
    points, postures, n, total = (int(m[i].replace(",", "")) for i in (1, 2, 3, 4))
    assert points * postures * n == total
    assert r.output.index(m[0]) < r.output.index("results:")  # before the run's end
