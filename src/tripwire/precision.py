"""Sequential stopping: add replications until a confidence interval is narrow enough.

``simulate ... --precision p_beat_fa_theatre=0.01`` runs the first stage (``-n`` or the file's
replications), computes the 95 % CI half-width of the metric for every scenario, and, while
the widest is above the target, runs more replications: the count the 1/sqrt(n) law
projects (plus 10 %), at most four times the replications so far and never beyond
``--max-replications``. Replication ``i`` has the same seed whatever the stage, so the final
table is exactly that of a fixed run of the final size.

Stopping on the data's own CI makes the reported interval slightly optimistic (coverage a
little below 95 %); the margin of 10 % and the doubling cap keep that small. See
docs/validation.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

import tripwire.columns as C
from tripwire.errors import UsageError
from tripwire.summary import point_metrics

METRICS = C.per_area(C.P_BEAT_FA) + C.per_area(C.P_HOLD) + C.per_area(C.TTR_MEDIAN)


class PrecisionError(UsageError, ValueError):
    """A --precision the run cannot use (message for the user)."""


@dataclass(frozen=True)
class Target:
    metric: str
    half_width: float

    def __str__(self) -> str:
        return f"{self.metric} +- {self.half_width:g}"


def parse_precision(text: str) -> Target:
    """``METRIC=H``: the 95 % CI half-width H (probability, or hours for ``_h`` metrics)."""
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    if not sep:
        raise PrecisionError(
            f"--precision {text!r}: expected METRIC=HALF_WIDTH, e.g. p_beat_fa_theatre=0.01"
        )
    if metric not in METRICS:
        raise PrecisionError(f"--precision: unknown metric {metric!r}; one of {', '.join(METRICS)}")
    try:
        h = float(value)
    except ValueError:
        raise PrecisionError(f"--precision: half-width {value!r} is not a number") from None
    if not (h > 0 and math.isfinite(h)):
        raise PrecisionError(f"--precision: half-width must be positive, got {value}")
    if metric.startswith("p_") and h >= 0.5:
        raise PrecisionError(f"--precision: a probability's half-width must be below 0.5, got {h}")
    return Target(metric, h)


def half_width(
    table: Mapping[str, np.ndarray], target: Target, horizon: float, checkpoints: Sequence[float]
) -> float:
    """Half the 95 % CI of the target metric (inf when a bound lies beyond the horizon)."""
    m = point_metrics(table, horizon, checkpoints)
    lo, hi = m[f"{target.metric}_lo"], m[f"{target.metric}_hi"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.inf
    return (hi - lo) / 2


def next_size(done: int, widest: float, target: Target, cap: int) -> int:
    """Replications for the next stage by the 1/sqrt(n) law (10 % margin), at most four
    times ``done`` and at most ``cap``."""
    if math.isinf(widest):
        projected = 2 * done
    else:
        projected = math.ceil(done * (widest / target.half_width) ** 2 * 1.1)
    return min(cap, max(done + 1, min(projected, 4 * done)))
