"""Pure statistics over replication records: survival curves, quantiles, paired differences.

Censoring convention: a censored time-to-reinforce is passed in as ``inf`` (reinforcement did
not happen within the horizon; all we know is that it is later). Every estimator here is
valid under that right-censoring: Kaplan-Meier for "probability reinforced by t", and
order-statistic (distribution-free) intervals for quantiles, whose bounds may themselves
be ``inf``, meaning "beyond the horizon".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95 % confidence interval (bounds may be inf or nan)."""

    value: float
    lo: float
    hi: float

    def as_dict(self) -> dict[str, float | None]:
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


def _finite_or_none(v: float) -> float | None:
    """JSON has no inf: beyond-horizon values become None (documented in the summary)."""
    return None if v is None or not math.isfinite(v) else float(v)


def kaplan_meier(
    times: np.ndarray, horizon: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Probability of being reinforced by t, with a 95 % Greenwood (log-log) band.

    Args:
        times: event times, ``inf`` for right-censored at ``horizon``.
        horizon: the censoring time.

    Returns:
        (event times, F(t), lower, upper) where F = 1 - S is the cumulative probability of
        reinforcement, evaluated just after each distinct event time.
    """
    t = np.asarray(times, dtype=float)
    n = t.size
    ev = np.sort(t[np.isfinite(t) & (t <= horizon)])
    if n == 0 or ev.size == 0:
        return np.array([]), np.array([]), np.array([]), np.array([])
    uniq, d = np.unique(ev, return_counts=True)
    # at risk just before each event time: everyone whose time is >= it (censored ones included)
    at_risk = n - np.searchsorted(np.sort(np.where(np.isfinite(t), t, np.inf)), uniq, side="left")
    s = np.cumprod(1 - d / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumsum(d / (at_risk * (at_risk - d)))
        ls = np.log(s)
        se = np.sqrt(g) / np.abs(ls)
        lo_s = np.where(s > 0, s ** np.exp(Z95 * se), 0.0)
        hi_s = np.where(s > 0, s ** np.exp(-Z95 * se), 0.0)
    lo_s = np.where(np.isfinite(lo_s), lo_s, np.where(s >= 1, 1.0, 0.0))
    hi_s = np.where(np.isfinite(hi_s), hi_s, np.where(s >= 1, 1.0, 0.0))
    return uniq, 1 - s, 1 - hi_s, 1 - lo_s


def cdf_at(times: np.ndarray, horizon: float, t: float) -> Estimate:
    """Kaplan-Meier probability of reinforcement by time ``t`` with its 95 % CI."""
    ev, f, lo, hi = kaplan_meier(times, horizon)
    k = np.searchsorted(ev, t, side="right")
    if k == 0:
        n = np.asarray(times).size
        return Estimate(0.0, 0.0, float(1 - 0.025 ** (1 / n)) if n else 1.0)
    return Estimate(float(f[k - 1]), float(lo[k - 1]), float(hi[k - 1]))


def quantile(values: np.ndarray, q: float, presorted: bool = False) -> Estimate:
    """The q-quantile with a distribution-free 95 % CI from order statistics.

    Valid with right-censoring at a common horizon when censored values are ``inf``: the
    order statistics below the censored ones are exact. A bound that falls on a censored
    value is ``inf`` ("beyond the horizon"). ``presorted``: ``values`` are float64 in
    ascending order already, so they are read as they are instead of sorted in a copy.
    """
    x = np.asarray(values, dtype=float) if presorted else np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan)
    k = max(math.ceil(n * q) - 1, 0)
    lo_i = int(stats.binom.ppf(0.025, n, q)) - 1
    hi_i = int(stats.binom.ppf(0.975, n, q))
    lo = x[lo_i] if lo_i >= 0 else -math.inf
    hi = x[hi_i] if hi_i < n else math.inf
    return Estimate(float(x[k]), float(lo), float(hi))


def proportion(k: int, n: int) -> Estimate:
    """Wilson score interval for a proportion."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan)
    p = k / n
    den = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / den
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    # clamp: at p = 0 or 1 rounding could put a bound a hair on the wrong side of p
    return Estimate(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def mean(x: np.ndarray, overwrite_input: bool = False) -> Estimate:
    """Mean with a t-based 95 % CI (nan-aware; ``x`` is copied only to drop NaN).

    ``overwrite_input``: ``x`` is a one-dimensional float64 array the caller gives up, so
    NaN are dropped and the standard deviation computed in it (it is left holding squared
    deviations) instead of in copies as large; the figures are the same bit for bit (the
    same values in the same order, and the operations of ``numpy.std``: mean, deviations,
    squares, pairwise sum)."""
    v = np.asarray(x, dtype=float)
    own = overwrite_input and v is x and v.ndim == 1
    nan = np.isnan(v)
    if nan.any():
        v = _kept_in_place(v, ~nan) if own else v[~nan]
    del nan
    if v.size == 0:
        return Estimate(math.nan, math.nan, math.nan)
    m = float(v.mean())
    if v.size < 2:
        return Estimate(m, math.nan, math.nan)
    if own:
        centre = np.add.reduce(v) / v.size  # what v.std computes first, as v.mean() above
        np.subtract(v, centre, out=v)
        np.multiply(v, v, out=v)
        sd = math.sqrt(np.add.reduce(v) / (v.size - 1))
    else:
        sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, v.size - 1) * sd / math.sqrt(v.size))
    return Estimate(m, m - half, m + half)


KEEP_BLOCK = 1 << 16  # values moved at a time by _kept_in_place


def _kept_in_place(v: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The values of ``v`` where ``keep``, in order, moved to the front of ``v`` a block at a
    time (a block is written at or before where it was read); returns that front part."""
    w = 0
    for i in range(0, v.size, KEEP_BLOCK):
        kept = v[i : i + KEEP_BLOCK][keep[i : i + KEEP_BLOCK]]
        v[w : w + kept.size] = kept
        w += kept.size
    return v[:w]


def paired_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-replication ``b - a`` under common random numbers, censoring-aware.

    A censored time is ``inf``: inf - x = +inf (b is later, by an unknown amount),
    x - inf = -inf, and a pair censored on both sides has no known difference (nan).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        d = b - a
    d[np.isinf(a) & np.isinf(b)] = np.nan
    return d


def median_difference(a: np.ndarray, b: np.ndarray) -> Estimate:
    """Median of paired differences ``b - a`` with the sign-test (order statistic) CI.

    Pairs censored on both sides are left out; one-sided censored pairs count as +-inf,
    which the median and its order-statistic bounds handle exactly.
    """
    d = paired_differences(a, b)
    return quantile(d[~np.isnan(d)], 0.5)


def difference_of_medians(
    a: np.ndarray, b: np.ndarray, seed: int = 0, resamples: int = 2000
) -> Estimate:
    """median(b) - median(a) with a paired bootstrap 95 % percentile CI.

    Replications are resampled jointly (the pair is the unit), which keeps the common
    random numbers' correlation. Bootstrap samples whose medians are both censored give
    nan and are dropped; a bound that needs a censored median is inf.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n = a.size
    point = _diff(np.median(b), np.median(a))
    rng = np.random.default_rng(seed)
    # resampled in blocks of rows (the same draws as one call), so memory stays bounded
    block = max(1, min(resamples, 2_000_000 // max(n, 1)))
    ma, mb = np.empty(resamples), np.empty(resamples)
    for start in range(0, resamples, block):
        stop = min(start + block, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        ma[start:stop] = np.median(a[idx], axis=1)
        mb[start:stop] = np.median(b[idx], axis=1)
    with np.errstate(invalid="ignore"):
        d = mb - ma
    d = d[~(np.isinf(ma) & np.isinf(mb))]
    if d.size == 0:
        return Estimate(point, math.nan, math.nan)
    lo, hi = np.quantile(np.sort(d), [0.025, 0.975], method="inverted_cdf")
    return Estimate(point, float(lo), float(hi))


def _diff(x: float, y: float) -> float:
    if math.isinf(x) and math.isinf(y):
        return math.nan
    return float(x - y)


def paired_proportion_difference(x: np.ndarray, y: np.ndarray) -> Estimate:
    """mean(y) - mean(x) for paired 0/1 outcomes, normal CI on per-pair differences."""
    d = np.asarray(y, dtype=float) - np.asarray(x, dtype=float)
    n = d.size
    m = float(d.mean()) if n else math.nan
    if n < 2:
        return Estimate(m, math.nan, math.nan)
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(n)
    return Estimate(m, m - half, m + half)
