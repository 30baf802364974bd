"""One experiment = one scenario with some parameters set, run for a fixed number of
replications and seed, reduced to per-area metrics. The EMA Workbench and SALib adapters
(:mod:`tripwire.ema`, :mod:`tripwire.salib`) are built on it; a sweep point is the same
computation (:func:`tripwire.summary.point_metrics` on the same replications)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tripwire.columns as C
from tripwire.designs import leaf_paths, resolve_path, with_values
from tripwire.distributions import Distribution
from tripwire.runner import run_batch, to_table
from tripwire.scenario import Scenario
from tripwire.summary import AREAS, point_metrics

DEFAULT_OUTCOMES: tuple[str, ...] = tuple(
    col(area=a) for a in AREAS for col in (C.P_BEAT_FA, C.P_HOLD)
) + C.per_area(C.TTR_RMEAN)
"""Per-area metrics an experiment returns by default: P(beat f.a.), P(hold), and the
restricted mean time-to-reinforce (censored at the horizon, so always a number)."""


DISTRIBUTION_KINDS = frozenset(
    {"fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "choice"}
)


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A scenario object, or the one a YAML file describes."""
    if isinstance(scenario, Scenario):
        return scenario
    from tripwire.api import load

    return load(scenario)


def uncertain(
    scenario: Scenario, paths: Sequence[str] | Mapping[str, tuple[float, float]] | None = None
) -> list[tuple[str, float, float]]:
    """``(dotted path, low, high)`` of each uncertain input.

    By default every parameter the scenario gives as a distribution with a spread (fixed
    values left out). ``paths``: the dotted paths to use instead (each must then be a
    distribution), or a mapping of paths to ``(low, high)`` (any numeric parameter).
    Bounds are a bounded distribution's support (uniform, triangular, choice); for the
    others (lognormal, exponential, truncated normal) their 0.5 % and 99.5 % quantiles."""
    data = scenario.model_dump(by_alias=True)
    if isinstance(paths, Mapping):
        for path in paths:
            resolve_path(data, path)  # an unknown path is named here
        return [(p, float(lo), float(hi)) for p, (lo, hi) in paths.items()]
    out = []
    for path in paths if paths is not None else list(leaf_paths(data)):
        obj: Any = data
        for k in resolve_path(data, path):
            obj = obj[k]
        if not isinstance(obj, Mapping) or obj.get("kind") not in DISTRIBUTION_KINDS:
            if paths is not None:
                raise ValueError(
                    f"{path}: a fixed number, not a distribution; give its range, e.g. "
                    f"{{{path!r}: (low, high)}}"
                )
            continue
        d: Distribution = _distribution(obj)
        if obj["kind"] in ("uniform", "triangular", "choice", "fixed"):
            lo, hi = d.extremes()
        else:
            lo, hi = (float(v) for v in d.ppf(np.array([0.005, 0.995])))
        if hi > lo:
            out.append((path, float(lo), float(hi)))
    return out


def _distribution(obj: Mapping[str, Any]) -> Distribution:
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution).validate_python(dict(obj))


@dataclass
class Experiment:
    """A callable experiment: ``Experiment(s, 100, seed=7)(**{"warning.days": 5})`` runs
    100 replications of ``s`` with that value and returns the outcomes. Picklable, so an
    EMA Workbench multiprocessing evaluator can ship it to its workers. Seeding is explicit:
    every experiment uses the same ``seed`` (common random numbers across experiments)
    unless the caller passes a ``seed`` value of its own."""

    scenario: Scenario
    replications: int = 100
    seed: int = 0
    outcomes: Sequence[str] = DEFAULT_OUTCOMES
    _data: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._data = self.scenario.model_dump(by_alias=True)

    def __call__(self, **values: Any) -> dict[str, float]:
        seed = int(values.pop("seed", self.seed))
        s = Scenario.model_validate(with_values(self._data, values)) if values else self.scenario
        rows = run_batch([s], self.replications, seed, workers=1)[s.name]
        m = point_metrics(to_table(rows), s.horizon_hours, s.checkpoints_hours)
        return {k: float(m[k]) for k in self.outcomes}
