"""Threshold finding: the smallest parameter value at which a metric meets a target.

Bisection over Monte Carlo estimates under common random numbers (every evaluation uses
the same replication seeds, so the estimate moves with the parameter, not with noise).
Two answers are given: the value where the point estimate meets the target, and a
conservative one where the 95 % confidence bound does (the lower bound for ``>=`` targets,
the upper bound for ``<=``). Assumes the metric is monotone in the parameter over the range.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tripwire.designs import Factor, SweepError, resolve_path, with_values
from tripwire.loader import LoadedScenario, validate_data
from tripwire.runner import run_batch, to_table
from tripwire.summary import point_metrics

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Target:
    metric: str
    op: str
    value: float

    def met(self, x: float) -> bool:
        return not math.isnan(x) and _OPS[self.op](x, self.value)

    def bound_key(self) -> str:
        """Which confidence bound must meet the target for the conservative answer."""
        return "_lo" if self.op in (">=", ">") else "_hi"


def parse_target(text: str, known: list[str]) -> Target:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", text)
    if not m:
        raise SweepError(f"--target {text!r}: expected METRIC>=VALUE (or <=, >, <)")
    name, op, value = m.group(1), m.group(2), float(m.group(3))
    if name not in known:
        import difflib

        near = difflib.get_close_matches(name, known, n=4)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise SweepError(f"--target: unknown metric {name!r}{hint}")
    return Target(name, op, value)


MIN_RELATIVE_TOLERANCE = 1e-9
"""The finest tolerance, relative to the largest magnitude in the range: finer brackets
are below what a Monte Carlo estimate can tell apart, and near one floating-point step
a bisection cannot shrink the bracket any more."""


def check_tolerance(tolerance: float, lo: float, hi: float) -> None:
    """SweepError unless ``tolerance`` is a finite positive number of at least
    ``MIN_RELATIVE_TOLERANCE`` times the range's largest magnitude (a range of one value
    has nothing to bisect: any tolerance will do)."""
    if lo == hi:
        return
    floor = MIN_RELATIVE_TOLERANCE * max(abs(lo), abs(hi))
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise SweepError(f"--tolerance must be a positive number, not {tolerance:g}")
    if tolerance < floor:
        raise SweepError(
            f"--tolerance {tolerance:g} is finer than {MIN_RELATIVE_TOLERANCE:g} of the range's "
            f"largest magnitude ({floor:g} for {lo:g}:{hi:g}; the default is the range / 64): "
            "a Monte Carlo estimate cannot tell such values apart, and a bisection cannot "
            "shrink its bracket below one floating-point step. Use a coarser --tolerance"
        )


@dataclass
class Evaluation:
    x: float
    metrics: dict[str, float]


def find_threshold(
    ls: LoadedScenario,
    factor: Factor,
    target: Target,
    replications: int,
    seed: int,
    workers: int,
    tolerance: float,
    on_eval: Callable[[Evaluation], None] | None = None,
) -> dict[str, Any]:
    """Bisection for the smallest (or, if the metric falls with x, largest) value in the
    factor's range that meets the target, by estimate and by confidence bound."""
    data = ls.scenario.model_dump(mode="json", by_alias=True)
    resolve_path(data, factor.path)
    lo, hi = factor.bounds()
    check_tolerance(tolerance, lo, hi)
    cache: dict[float, Evaluation] = {}

    def evaluate(x: float) -> Evaluation:
        if x not in cache:
            s = validate_data(with_values(data, {factor.path: x}), f"{ls.scenario.name} at {x:g}")
            rows = run_batch([s], replications, seed, workers)[s.name]
            cache[x] = Evaluation(
                x, point_metrics(to_table(rows), s.horizon_hours, s.checkpoints_hours)
            )
            if on_eval:
                on_eval(cache[x])
        return cache[x]

    ends = evaluate(lo), evaluate(hi)
    rising = ends[1].metrics[target.metric] >= ends[0].metrics[target.metric]
    out: dict[str, Any] = {
        "parameter": factor.path,
        "range": [lo, hi],
        "target": f"{target.metric}{target.op}{target.value:g}",
        "replications": replications,
        "seed": seed,
        "direction": "increasing" if rising else "decreasing",
    }
    for label, key in (
        ("estimate", target.metric),
        ("conservative", target.metric + target.bound_key()),
    ):
        out[label] = _bisect(evaluate, key, target, lo, hi, rising, tolerance)
    out["evaluations"] = [
        {
            "x": e.x,
            target.metric: e.metrics[target.metric],
            "lo": e.metrics.get(target.metric + "_lo"),
            "hi": e.metrics.get(target.metric + "_hi"),
        }
        for e in sorted(cache.values(), key=lambda e: e.x)
    ]
    return out


def _bisect(
    evaluate: Callable[[float], Evaluation],
    key: str,
    target: Target,
    lo: float,
    hi: float,
    rising: bool,
    tol: float,
) -> dict[str, Any]:
    """Bracket [a, b] with the target unmet at a and met at b (a > b when it falls).

    Stops when the bracket is no wider than ``tol``, or when it cannot shrink any more (its
    midpoint rounds to one of its ends: adjacent floating-point numbers), noted."""
    a, b = (lo, hi) if rising else (hi, lo)
    if target.met(evaluate(a).metrics.get(key, math.nan)):
        return {"value": a, "bracket": [a, a], "note": "met over the whole range"}
    if not target.met(evaluate(b).metrics.get(key, math.nan)):
        return {"value": None, "bracket": None, "note": "not met anywhere in the range"}
    resolution = False
    while abs(b - a) > tol:
        mid = 0.5 * (a + b)
        if not min(a, b) < mid < max(a, b):
            resolution = True  # adjacent floats: no value between them to evaluate
            break
        if target.met(evaluate(mid).metrics.get(key, math.nan)):
            b = mid
        else:
            a = mid
    m = evaluate(b).metrics
    out = {
        "value": b,
        "bracket": sorted([a, b]),
        "metric": m.get(target.metric),
        "metric_ci": [m.get(target.metric + "_lo"), m.get(target.metric + "_hi")],
    }
    if resolution:
        out["note"] = (
            f"stopped at floating-point resolution: the bracket cannot shrink below "
            f"{abs(b - a):g}, wider than the tolerance {tol:g}"
        )
    return out
