"""SALib problems and evaluations for a tripwire scenario.

    import SALib.sample.sobol as sample, SALib.analyze.sobol as analyze
    import tripwire.salib
    problem = tripwire.salib.problem("scenarios/brigade.yaml", ["warning.days",
                                     "pool.theatre_share"])
    X = sample.sample(problem, 64)
    Y = tripwire.salib.evaluate(problem, X, "scenarios/brigade.yaml",
                                "ttr_rmean_theatre_h", replications=40, seed=7)
    analyze.analyze(problem, Y)

Bounds come from the scenario's distributions (:func:`tripwire.experiment.uncertain`);
every row of ``X`` runs the same replications and seed (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.experiment import Experiment, as_scenario, uncertain
from tripwire.scenario import Scenario


def problem(scenario: Scenario | str | Path, paths: Sequence[str] | None = None) -> dict[str, Any]:
    """The SALib problem dict: ``num_vars``, ``names`` (dotted paths) and ``bounds``."""
    found = uncertain(as_scenario(scenario), paths)
    return {
        "num_vars": len(found),
        "names": [p for p, _, _ in found],
        "bounds": [[lo, hi] for _, lo, hi in found],
    }


def evaluate(
    prob: dict[str, Any],
    X: np.ndarray,  # noqa: N803 - SALib's name
    scenario: Scenario | str | Path,
    metric: str = "ttr_rmean_theatre_h",
    replications: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """``metric`` for each row of the sample ``X`` (one experiment per row)."""
    run = Experiment(as_scenario(scenario), replications, seed, (metric,))
    return np.array(
        [run(**dict(zip(prob["names"], map(float, row), strict=True)))[metric] for row in X]
    )
