"""Batch summaries and paired comparisons, computed from replication tables only.

A table is a mapping from column name to a numpy array (one entry per replication, in
replication order). Nothing here simulates: analysis reads what the runner recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import tripwire.columns as C
from tripwire import metrics
from tripwire.scenario import COUNTRIES

Table = Mapping[str, np.ndarray]
AREAS = C.AREAS
OUTCOME_COLUMNS = C.OUTCOME_COLUMNS  # what point metrics and paired comparisons read


def owned(table: Table, column: str) -> np.ndarray:
    """``column`` as a new float64 array that nothing else holds, so it may be changed (or
    sorted) in place: a table that can read a column afresh (``read``, as
    :class:`~tripwire.results.ParquetColumns`) reads it so, converting as it reads; any
    other table's column is copied. At 10^6 replications this holds one 8 MB array where
    reading, converting and masking held two or three."""
    read = getattr(table, "read", None)
    if read is not None:
        return np.asarray(read(column, float), dtype=float)
    return np.array(table[column], dtype=float)


def censored_times(table: Table, area: str) -> np.ndarray:
    """Time-to-reinforce of ``area`` with censored replications as ``inf`` (a new array)."""
    t = owned(table, C.TTR(area=area))
    t[np.asarray(table[C.CENSORED(area=area)], dtype=bool)] = np.inf
    return t


CURVE_STEP_HOURS = 6.0  # spacing of the curve's grid, hours (widened for very long spans)
MAX_CURVE_POINTS = 5_000  # points of one curve, at most (a 6 h grid over about 3.4 years)


def fait_accompli_times(table: Table, area: str) -> np.ndarray:
    """Hours from attack start to the fait accompli in ``area`` (the theatre: the first
    capital), with inf where it did not happen within the horizon (censored)."""
    fa = owned(table, C.FAIT_ACCOMPLI(area=area))
    fa[np.isnan(fa)] = np.inf
    return fa


def curve_grid(start: float, horizon: float, step: float = CURVE_STEP_HOURS) -> np.ndarray:
    """The curve's grid: from ``start`` (or 0 if later; rounded down to the step) to the
    first grid point at or past the horizon, every ``step`` hours; the step is widened to a
    multiple of itself so there are at most ``MAX_CURVE_POINTS`` points whatever the span
    (an arrival long before the attack, after a long warning, would otherwise grow it
    without bound)."""
    start = max(min(start, 0.0), -1e300)  # finite spans only
    span = horizon - start
    if span / step + 2 > MAX_CURVE_POINTS:
        step *= math.ceil(span / step / (MAX_CURVE_POINTS - 3))
    first = math.floor(start / step) * step
    return np.arange(first, horizon + step, step)[:MAX_CURVE_POINTS]


def _curve(times: np.ndarray, horizon: float, step: float = CURVE_STEP_HOURS) -> list[list[float]]:
    """The Kaplan-Meier 'probability reinforced by t' curve on a regular grid of hours
    (:func:`curve_grid`)."""
    return _survival(np.sort(np.asarray(times, dtype=float)), horizon, (), step)[0]


KM_BLOCK = 1 << 16  # event times per step of the Kaplan-Meier walk


def _km_at(
    ts: np.ndarray, horizon: float, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`metrics.kaplan_meier` of the sorted times ``ts`` (censored as ``inf``) read at
    the times ``at``: (F, lower, upper, reached), ``reached`` false where ``at`` lies before
    the first event (F and its bounds are then 0).

    The event times are walked ``KM_BLOCK`` at a time (a run of equal times never split),
    carrying the survival product and Greenwood's sum from block to block, so memory does
    not grow with the number of distinct times (10^6 distinct times made about 100 MB of
    temporaries in one pass). Every operation is the one :func:`metrics.kaplan_meier` does,
    in the same order, so the numbers are the same bit for bit (tested)."""
    n = ts.size
    first = int(np.searchsorted(ts, -np.inf, side="right"))  # -inf counts as censored there
    if math.isnan(horizon):
        last = first
    elif horizon < math.inf:
        last = int(np.searchsorted(ts, horizon, side="right"))
    else:
        last = int(np.searchsorted(ts, np.inf, side="left"))
    ev = ts[first : max(first, last)]  # the events: finite, within the horizon; a view
    s_at, g_at = np.ones(at.size), np.zeros(at.size)
    reached = np.zeros(at.size, dtype=bool)
    s_run, g_run, start = 1.0, 0.0, 0
    while start < ev.size:
        stop = min(start + KM_BLOCK, ev.size)
        if stop < ev.size:  # end the block where its last run of equal times ends
            stop = int(np.searchsorted(ev, ev[stop], side="left"))
            if stop <= start:
                stop = int(np.searchsorted(ev, ev[start], side="right"))
        block = ev[start:stop]
        begins = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        d = np.diff(np.r_[begins, block.size])
        at_risk = n - (start + begins)  # every time >= this one, censored ones included
        s = np.cumprod(np.r_[s_run, 1 - d / at_risk])[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.cumsum(np.r_[g_run, d / (at_risk * (at_risk - d))])[1:]
        k = np.searchsorted(block[begins], at, side="right")
        hit = k > 0
        s_at[hit], g_at[hit] = s[k[hit] - 1], g[k[hit] - 1]
        reached |= hit
        s_run, g_run, start = float(s[-1]), float(g[-1]), stop
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(g_at) / np.abs(np.log(s_at))
        lo_s = np.where(s_at > 0, s_at ** np.exp(metrics.Z95 * se), 0.0)
        hi_s = np.where(s_at > 0, s_at ** np.exp(-metrics.Z95 * se), 0.0)
    lo_s = np.where(np.isfinite(lo_s), lo_s, np.where(s_at >= 1, 1.0, 0.0))
    hi_s = np.where(np.isfinite(hi_s), hi_s, np.where(s_at >= 1, 1.0, 0.0))
    zero = np.zeros(at.size)
    return (
        np.where(reached, 1 - s_at, zero),
        np.where(reached, 1 - hi_s, zero),
        np.where(reached, 1 - lo_s, zero),
        reached,
    )


def _survival(
    ts: np.ndarray, horizon: float, checkpoints: Sequence[float], step: float = CURVE_STEP_HOURS
) -> tuple[list[list[float]], list[metrics.Estimate]]:
    """The curve of :func:`_curve` and :func:`metrics.cdf_at` at each checkpoint, from one
    Kaplan-Meier walk over the sorted times ``ts``."""
    i = int(np.searchsorted(ts, -np.inf, side="right"))
    start = float(ts[i]) if i < ts.size and math.isfinite(ts[i]) else 0.0  # earliest finite
    grid = curve_grid(start, horizon, step)
    f, lo, hi, reached = _km_at(ts, horizon, np.r_[grid, np.asarray(checkpoints, dtype=float)])
    curve = [  # six decimals: far below the Monte Carlo error, and a small file
        [float(g), round(float(p), 6), round(float(lw), 6), round(float(h), 6)]
        for g, p, lw, h in zip(grid, f, lo, hi)
    ]
    unreached = metrics.Estimate(0.0, 0.0, float(1 - 0.025 ** (1 / ts.size)) if ts.size else 1.0)
    at_cp = [
        metrics.Estimate(float(f[k]), float(lo[k]), float(hi[k])) if reached[k] else unreached
        for k in range(grid.size, f.size)
    ]
    return curve, at_cp


def summarise(
    table: Table, meta: Mapping[str, Any], checkpoints: Sequence[float]
) -> dict[str, Any]:
    """Per-area distributions with 95 % CIs, censoring-aware.

    ``meta`` carries scenario name, posture, seed and horizon_hours. Quantile bounds that
    lie beyond the horizon are written as null ("> horizon").

    Each column is read once (the build-up lists in one pass over the row groups of a
    :class:`~tripwire.results.ParquetColumns` table), and nothing holds the whole table: the
    largest items are a sorted column of times (:func:`_km_at` walks it a block at a time)
    and one country's build-up bands (:func:`_buildup`).
    """
    horizon = float(meta["horizon_hours"])
    n = _rows(table)
    areas: dict[str, Any] = {}
    required: dict[str, dict[str, float]] = {}
    for area in AREAS:
        areas[area] = _area(table, area, horizon, n, checkpoints)
        if area != "theatre":
            areas[area].update(_country(table, area, checkpoints, required))
    closed = np.asarray(table["corridor_closed"], dtype=bool)
    buildup = _buildup(table, meta, n, required)
    return {
        **dict(meta),
        "replications": n,
        "note": "times in hours from attack start; null bounds lie beyond the horizon",
        "areas": areas,
        "corridor": {"p_closed": metrics.proportion(int(closed.sum()), n).as_dict()},
        "detachments_rerouted_mean": float(np.mean(table["detachments_rerouted"])),
        "detachments_stranded_mean": float(np.mean(table["detachments_stranded"])),
        "routes": _routes(table),
        **({"buildup": buildup} if buildup else {}),
    }


def _rows(table: Table) -> int:
    """The number of replications (from a Parquet table's footer, without reading)."""
    rows = getattr(table, "num_rows", None)
    return int(rows) if rows is not None else len(table["replication"])


def _area(
    table: Table, area: str, horizon: float, n: int, checkpoints: Sequence[float]
) -> dict[str, Any]:
    """An area's times-to-reinforce, beat-the-fait-accompli, hold and fait accompli."""
    t = censored_times(table, area)
    t.sort()  # censored_times made it: sorted in place; nothing below depends on order
    curve, at_cp = _survival(t, horizon, checkpoints)
    beat = np.asarray(table[C.BEAT_FA(area=area)], dtype=bool)
    entry: dict[str, Any] = {
        "ttr_h": {
            f"p{int(q * 100)}": metrics.quantile(t, q, presorted=True).as_dict()
            for q in (0.1, 0.5, 0.9)
        },
        "censored_share": float(np.isinf(t).mean()),
        "p_reinforced_by": {f"{cp:g}h": e.as_dict() for cp, e in zip(checkpoints, at_cp)},
        "p_beat_fa": metrics.proportion(int(beat.sum()), n).as_dict(),
        "curve": curve,
    }
    del t
    if C.HOLD(area=area) in table:  # results written before the race lack the column
        held = np.asarray(table[C.HOLD(area=area)], dtype=bool)
        entry["p_hold"] = metrics.proportion(int(held.sum()), n).as_dict()
    if C.FAIT_ACCOMPLI(area=area) in table:
        fa = fait_accompli_times(table, area)
        fa.sort()
        entry["fait_accompli_h"] = metrics.quantile(fa, 0.5, presorted=True).as_dict()
        entry["fait_accompli_censored_share"] = float(np.isinf(fa).mean())
        entry["fa_curve"] = _survival(fa, horizon, ())[0]
    return entry


def _country(
    table: Table, c: str, checkpoints: Sequence[float], required: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """A country's mean requirement, strength in place and strength at each checkpoint; the
    quantiles of its requirement go to ``required`` (for the build-up bands)."""
    req = owned(table, C.REQUIRED(country=c))
    out: dict[str, Any] = {
        "required_troops_mean": float(np.mean(req)),
        "in_place_at_attack_mean": float(np.mean(table[C.IN_PLACE(country=c)])),
        "strength": {},
    }
    qs = (0.1, 0.5, 0.9)  # all at once, in place: as np.quantile of each, without copies
    values = np.quantile(req, qs, overwrite_input=True)
    required[c] = {f"p{int(q * 100)}": float(v) for q, v in zip(qs, values)}
    del req
    for cp in checkpoints:
        x = owned(table, C.STRENGTH(country=c, t=cp))
        mean = metrics.mean(x).as_dict()
        p10, p90 = np.quantile(x, (0.1, 0.9), overwrite_input=True)
        out["strength"][f"{cp:g}h"] = {"mean": mean, "p10": float(p10), "p90": float(p90)}
        del x
    return out


def _routes(table: Table) -> dict[str, Any]:
    routes = {}
    for col in table:
        if col.startswith("route_") and col.endswith("_loads"):
            rid = col[len("route_") : -len("_loads")]
            loads = owned(table, col)
            used, mean = float((loads > 0).mean()), float(loads.mean())
            del loads  # one column at a time
            routes[rid] = {
                "p_used": used,
                "loads_mean": mean,
                "troops_mean": float(np.mean(table[C.ROUTE_TROOPS(link=rid)])),
                "wait_h_mean": metrics.mean(
                    owned(table, C.ROUTE_WAIT_MEAN(link=rid)), overwrite_input=True
                ).as_dict(),
                "wait_h_max": _nanmax(table[C.ROUTE_WAIT_MAX(link=rid)]),
            }
    return routes


BUILDUP_QUANTILES = (0.1, 0.5, 0.9)
BUILDUP_EXACT_CELLS = 2_000_000  # build-up values held for exact bands, at most (8 MB)
BUILDUP_BLOCK = 16  # grid points per exact quantile computation, at most
BUILDUP_CELLS = 200_000  # values per exact quantile computation, at most (1.6 MB as float64)
BUILDUP_ROWS = 2_000  # rows per step through a table in memory (as results.ROW_GROUP)


def _buildup(
    table: Table, meta: Mapping[str, Any], n: int, required: Mapping[str, dict[str, float]]
) -> dict[str, Any] | None:
    """Quantile bands of each country's combat-ready strength on the build-up grid, and of
    its required strength (which varies by replication when the threat is drawn; its
    quantiles come in ``required``).

    A country's column is read once, in one pass over its row groups
    (:func:`_row_groups`). When its values (replications x grid points) number at most
    ``BUILDUP_EXACT_CELLS`` the bands are exact (``np.quantile``, linear). Beyond that they
    come from one histogram per grid point (:class:`BandHistograms`): each band is within
    one bin width of the exact quantile, a bound written with the bands as ``max_error``
    (before the bands are rounded to 0.1)."""
    if "buildup_step_hours" not in meta or C.BUILDUP(country=COUNTRIES[0]) not in table:
        return None
    step = float(meta["buildup_step_hours"])
    points = int(math.floor(float(meta["horizon_hours"]) / step + 1e-9)) + 1
    out: dict[str, Any] = {"step_hours": step, "countries": {}}
    for c in COUNTRIES:
        if n * points <= BUILDUP_EXACT_CELLS:
            q, error = _exact_bands(table, C.BUILDUP(country=c), n, points), None
        else:
            hist = BandHistograms(points)
            for group in _in_rows(_row_groups(table, C.BUILDUP(country=c)), BUILDUP_ROWS):
                hist.add(group[:, :points])
            q, error = hist.quantiles(BUILDUP_QUANTILES), float(hist.width.max())
        out["countries"][c] = {
            "p10": [round(float(v), 1) for v in q[0]],
            "p50": [round(float(v), 1) for v in q[1]],
            "p90": [round(float(v), 1) for v in q[2]],
            "required": required[c],
        }
        if error is not None:
            out["countries"][c]["max_error"] = error
    out["hours"] = [float(k * step) for k in range(points)]
    return out


def _row_groups(table: Table, column: str) -> Iterator[np.ndarray]:
    """A list column a group of rows at a time (rows x elements): the row groups of a
    Parquet table (``table.row_groups``), slices of ``BUILDUP_ROWS`` rows of one in memory."""
    reader = getattr(table, "row_groups", None)
    if reader is not None:
        yield from reader(column)
        return
    values = np.asarray(table[column])
    for r0 in range(0, len(values), BUILDUP_ROWS):
        yield values[r0 : r0 + BUILDUP_ROWS]


def _in_rows(groups: Iterator[np.ndarray], rows: int) -> Iterator[np.ndarray]:
    """The rows of ``groups`` (each rows x elements, alike) again, ``rows`` at a time (the
    last fewer), in one buffer that is reused: use each before asking for the next. A
    reader's slices are small (pyarrow's transient memory grows with them) while each
    :meth:`BandHistograms.add` costs a fixed ~1 MB of bins however few rows it counts; the
    histograms do not depend on how the rows are grouped (their bins nest), so this changes
    the time only."""
    buffer: np.ndarray | None = None
    held = 0
    for group in groups:
        if buffer is None:
            buffer = np.empty((rows, *group.shape[1:]), dtype=group.dtype)
        at = 0
        while at < len(group):
            take = min(rows - held, len(group) - at)
            buffer[held : held + take] = group[at : at + take]
            held, at = held + take, at + take
            if held == rows:
                yield buffer
                held = 0
    if buffer is not None and held:
        yield buffer[:held]


def _exact_bands(table: Table, column: str, n: int, points: int) -> np.ndarray:
    """``np.quantile`` (linear) of each grid point of a list column, 3 x points: the column
    gathered in one pass (replications x points, in its own type), then its quantiles
    computed a block of points at a time in float64 (each point's alone, so the block size
    does not change them)."""
    values: np.ndarray | None = None
    r0 = 0
    for group in _row_groups(table, column):
        if values is None:
            values = np.empty((n, points), dtype=group.dtype)
        values[r0 : r0 + len(group)] = group[:, :points]
        r0 += len(group)
    q = np.full((3, points), np.nan)
    if values is None:
        return q
    per_block = max(1, min(BUILDUP_BLOCK, BUILDUP_CELLS // max(n, 1)))
    for g0 in range(0, points, per_block):
        g1 = min(g0 + per_block, points)
        block = np.asarray(values[:, g0:g1], dtype=float)
        q[:, g0:g1] = np.quantile(block, list(BUILDUP_QUANTILES), axis=0)
    return q


BUILDUP_BINS = 4_096  # histogram bins per grid point when the bands are approximated
HISTOGRAM_SLICE = 32  # grid points counted at a time (bounds the temporaries: about 1 MB)
FINEST_BIN = -10  # log2 of the narrowest bin width (2^-10, about 0.001)


class BandHistograms:
    """Quantiles of each column of a (rows x points) stream, approximated within a stated
    bound, in memory that does not grow with the rows: points x ``bins`` counts (3 MB for
    181 points and 4,096 bins).

    Point ``g`` has one fixed-width histogram whose bin ``k`` holds the values in
    ``[k w_g, (k + 1) w_g)``, ``w_g`` a power of two, of which ``bins`` consecutive bins
    are kept. ``w_g`` is the narrowest power of two, at least ``2^FINEST_BIN``, for which
    every value seen at ``g`` falls in ``bins`` consecutive bins: when a group of rows
    widens the range past that, the width doubles (as often as needed) and neighbouring
    bins merge, which loses nothing because power-of-two bins nest. Hence
    ``w_g <= max(2^FINEST_BIN, 2 (max_g - min_g) / (bins - 1))``: past the narrowest, a
    width half as wide did not fit, so ``(max_g - min_g) / (w_g / 2) > bins - 1``.

    An order statistic is placed inside its bin as if the bin's values were spread evenly
    (then kept within the exact minimum and maximum); the exact one lies in the same bin,
    so each is off by less than ``w_g``, and so is ``np.quantile``'s linear interpolation
    between two of them: ``|band - np.quantile| < w_g`` (:attr:`width`). A point holding a
    value that is not finite gets NaN bands. ``tests/unit/test_summary_scale.py`` checks the
    bound against ``np.quantile`` on random data.
    """

    def __init__(self, points: int, bins: int = BUILDUP_BINS) -> None:
        self.bins = bins
        self.counts = np.zeros((points, bins), dtype=np.int32)  # up to 2^31 - 1 rows
        self.exponent = np.full(points, FINEST_BIN, dtype=np.int64)  # w_g = 2^exponent
        self.first = np.zeros(points, dtype=np.int64)  # the index k of the first kept bin
        self.low = np.full(points, np.inf)  # exact minimum and maximum of each point
        self.high = np.full(points, -np.inf)
        self.broken = np.zeros(points, dtype=bool)  # held a value that is not finite
        self.rows = 0

    @property
    def width(self) -> np.ndarray:
        """The bin width of each point: the bound on its bands' error."""
        return np.ldexp(1.0, self.exponent)

    def add(self, values: np.ndarray) -> None:
        """Count a group of rows (rows x points), ``HISTOGRAM_SLICE`` points at a time."""
        v = np.asarray(values)
        if not v.size:
            return
        finite = np.isfinite(v)
        if not finite.all():
            self.broken |= ~finite.all(axis=0)
            v = np.where(finite, v, 0)
        del finite
        low, high = v.min(axis=0).astype(float), v.max(axis=0).astype(float)  # exact
        self._fit(np.minimum(self.low, low), np.maximum(self.high, high))
        for g0 in range(0, v.shape[1], HISTOGRAM_SLICE):
            g1 = min(g0 + HISTOGRAM_SLICE, v.shape[1])
            x = np.ldexp(np.asarray(v[:, g0:g1], dtype=float), -self.exponent[g0:g1])
            idx = np.floor(x, out=x).astype(np.int64)  # exact: the width is 2^exponent
            idx -= self.first[g0:g1]
            idx += np.arange(g1 - g0) * self.bins
            counts = np.bincount(idx.ravel(), minlength=(g1 - g0) * self.bins)
            self.counts[g0:g1] += counts.reshape(g1 - g0, self.bins).astype(np.int32)
        self.rows += v.shape[0]

    def _fit(self, low: np.ndarray, high: np.ndarray) -> None:
        """Widen the bins of the points whose range ``low .. high`` no longer fits."""
        e = self.exponent.copy()

        def spread(e: np.ndarray) -> np.ndarray:  # bins from the lowest value to the highest
            return np.floor(np.ldexp(high, -e)) - np.floor(np.ldexp(low, -e))

        span = high - low
        guess = np.floor(np.log2(np.where(span > 0, span, 1.0) / self.bins)).astype(np.int64)
        e = np.where((span > 0) & (spread(e) >= self.bins), np.maximum(e, guess), e)
        while np.any(wide := spread(e) >= self.bins):  # the guess is at most 2 short
            e[wide] += 1
        first = np.floor(np.ldexp(low, -e)).astype(np.int64)
        for g in np.flatnonzero((e != self.exponent) | (first != self.first)):
            old = np.flatnonzero(self.counts[g])
            if old.size:  # bin k -> k >> shift (floor division by 2^shift): they nest
                shift = int(e[g] - self.exponent[g])
                to = ((self.first[g] + old) >> shift) - first[g]
                row = np.zeros(self.bins, dtype=np.int32)
                np.add.at(row, to, self.counts[g, old])
                self.counts[g] = row
        self.exponent, self.first, self.low, self.high = e, first, low, high

    def quantiles(self, qs: Sequence[float]) -> np.ndarray:
        """Each point's quantiles ``qs`` (len(qs) x points), interpolated linearly between
        order statistics as ``np.quantile`` does."""
        out = np.full((len(qs), self.counts.shape[0]), np.nan)
        if not self.rows:
            return out
        cum = np.cumsum(self.counts, axis=1, dtype=np.int32)  # as the counts: < 2^31 rows
        for i, q in enumerate(qs):
            h = (self.rows - 1) * q
            below = math.floor(h)
            a = self._order(cum, below)
            b = self._order(cum, min(below + 1, self.rows - 1))
            out[i] = a + (b - a) * (h - below)
        out[:, self.broken] = np.nan
        return out

    def _order(self, cum: np.ndarray, rank: int) -> np.ndarray:
        """The order statistic of 0-based ``rank`` of each point, placed within its bin (the
        first and the last are the exact minimum and maximum)."""
        if rank in (0, self.rows - 1):
            return (self.low if rank == 0 else self.high).copy()
        j = np.array([np.searchsorted(r, rank, side="right") for r in cum], dtype=np.intp)
        pts = np.arange(cum.shape[0])
        before = np.where(j > 0, cum[pts, np.maximum(j - 1, 0)], 0)
        inside = (rank - before + 0.5) / self.counts[pts, j]
        x = np.ldexp(self.first + j + inside, self.exponent)
        return np.clip(x, self.low, self.high)


def _nanmax(x: np.ndarray) -> float | None:
    v = np.asarray(x, dtype=float)
    return None if np.all(np.isnan(v)) else float(np.nanmax(v))


def compare(a_name: str, a: Table, b_name: str, b: Table, seed: int = 0) -> dict[str, Any]:
    """Paired comparison of posture ``b`` against ``a`` (b - a) under common random numbers.

    Both tables must hold the same replications (same seed, same indices): the runner
    guarantees it and this function checks it.
    """
    if not np.array_equal(a["replication"], b["replication"]) or not np.array_equal(
        a["seed"], b["seed"]
    ):
        raise ValueError("paired comparison needs the same replications and seed in both tables")
    out: dict[str, Any] = {"a": a_name, "b": b_name, "difference": "b - a", "areas": {}}
    for area in AREAS:
        ta, tb = censored_times(a, area), censored_times(b, area)
        d = metrics.paired_differences(ta, tb)
        known = d[~np.isnan(d)]
        out["areas"][area] = {
            "difference_of_medians_h": metrics.difference_of_medians(ta, tb, seed=seed).as_dict(),
            "median_of_differences_h": metrics.median_difference(ta, tb).as_dict(),
            "p_b_earlier": float((known < 0).mean()) if known.size else None,
            "p_b_later": float((known > 0).mean()) if known.size else None,
            "pairs_both_censored": int(np.isnan(d).sum()),
            "p_beat_fa_difference": metrics.paired_proportion_difference(
                np.asarray(a[C.BEAT_FA(area=area)]), np.asarray(b[C.BEAT_FA(area=area)])
            ).as_dict(),
        }
        if C.HOLD(area=area) in a and C.HOLD(area=area) in b:
            out["areas"][area]["p_hold_difference"] = metrics.paired_proportion_difference(
                np.asarray(a[C.HOLD(area=area)]), np.asarray(b[C.HOLD(area=area)])
            ).as_dict()
    return out


def point_metrics(table: Table, horizon: float, checkpoints: Sequence[float]) -> dict[str, float]:
    """Flat per-point metrics of a sweep (NaN where a bound lies beyond the horizon).

    ``p_beat_fa_<area>``: share of replications reinforced before the fait accompli (Wilson
    CI in ``_lo``/``_hi``); ``p_hold_<area>``: share in which the capital (theatre: every
    capital) was not reached within the horizon (Wilson CI; absent from results written
    before the race); ``ttr_median_<area>_h`` with its order-statistic CI;
    ``ttr_rmean_<area>_h``: restricted mean (censored counted at the horizon, so a lower
    bound on the true mean); ``p_reinforced_<area>_by_<t>h``: Kaplan-Meier.
    """
    out: dict[str, float] = {"replications": float(len(table["replication"]))}
    nan = float("nan")
    for area in AREAS:
        t = censored_times(table, area)
        rmean = float(np.mean(np.minimum(t, horizon)))  # before sorting: a sum's rounding
        t.sort()  # a new array; what follows does not depend on the order
        beat = np.asarray(table[C.BEAT_FA(area=area)], dtype=bool)
        ests = [("p_beat_fa", metrics.proportion(int(beat.sum()), beat.size))]
        if C.HOLD(area=area) in table:
            held = np.asarray(table[C.HOLD(area=area)], dtype=bool)
            ests.append(("p_hold", metrics.proportion(int(held.sum()), held.size)))
        ests.append(("ttr_median", metrics.quantile(t, 0.5)))
        for key, est in ests:
            suffix = "_h" if key == "ttr_median" else ""
            for part, v in (("", est.value), ("_lo", est.lo), ("_hi", est.hi)):
                out[f"{key}_{area}{suffix}{part}"] = v if math.isfinite(v) else nan
        out[C.TTR_RMEAN(area=area)] = rmean
        out[C.CENSORED_SHARE(area=area)] = float(np.isinf(t).mean())
        f = _km_at(t, horizon, np.asarray(checkpoints, dtype=float))[0]  # 0 before any event
        for cp, p in zip(checkpoints, f):
            out[C.P_REINFORCED_BY(area=area, t=cp)] = float(p)
    return out
