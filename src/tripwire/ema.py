"""An EMA Workbench model of a tripwire scenario.

    from ema_workbench import SequentialEvaluator
    import tripwire.ema
    model = tripwire.ema.model("scenarios/brigade.yaml", ["warning.days",
                               "pool.theatre_share"], replications=100, seed=7)
    with SequentialEvaluator(model) as ev:
        experiments, outcomes = ev.perform_experiments(scenarios=20)

Uncertainties are the scenario's distributions over their support (or the dotted paths
chosen); outcomes are per-area metrics (:data:`tripwire.experiment.DEFAULT_OUTCOMES`).
Each experiment sets the sampled values, runs ``replications`` with the fixed ``seed``
(common random numbers across experiments) and reduces them as a sweep point does. Needs
``pip install ema_workbench`` (in the ``test`` extra).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tripwire.experiment import DEFAULT_OUTCOMES, Experiment, as_scenario, uncertain
from tripwire.scenario import Scenario


def model(
    scenario: Scenario | str | Path,
    uncertainties: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
    outcomes: Sequence[str] | None = None,
    replications: int = 100,
    seed: int = 0,
    name: str = "tripwire",
) -> Any:
    """An ``ema_workbench.Model``: real-valued uncertainties over each distribution's
    support (or the paths given, or a mapping of paths to ``(low, high)``), scalar
    outcomes, and a picklable function (:class:`Experiment`)."""
    import ema_workbench as ema

    s = as_scenario(scenario)
    outs = tuple(outcomes or DEFAULT_OUTCOMES)
    m = ema.Model(name, function=Experiment(s, replications, seed, outs))
    m.uncertainties = [ema.RealParameter(p, lo, hi) for p, lo, hi in uncertain(s, uncertainties)]
    m.outcomes = [ema.ScalarOutcome(o) for o in outs]
    return m
