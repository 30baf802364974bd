"""Batch summaries and paired comparisons, computed from replication tables only.

A table is a mapping from column name to a numpy array (one entry per replication, in
replication order). Nothing here simulates: analysis reads what the runner recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tripwire import metrics
from tripwire.scenario import COUNTRIES

Table = Mapping[str, np.ndarray]
AREAS: tuple[str, ...] = (*COUNTRIES, "theatre")
# the columns point metrics and paired comparisons need (a small part of a row)
OUTCOME_COLUMNS = ["replication", "seed"] + [
    f"{k}_{a}{s}"
    for a in AREAS
    for k, s in (
        ("ttr", "_h"),
        ("censored", ""),
        ("beat_fa", ""),
        ("hold", ""),
        ("fait_accompli", "_h"),
    )
]


def censored_times(table: Table, area: str) -> np.ndarray:
    """Time-to-reinforce of ``area`` with censored replications as ``inf``."""
    t = np.asarray(table[f"ttr_{area}_h"], dtype=float)
    return np.where(np.asarray(table[f"censored_{area}"], dtype=bool), np.inf, t)


CURVE_STEP_HOURS = 6.0  # spacing of the curve's grid, hours (widened for very long spans)
MAX_CURVE_POINTS = 5_000  # points of one curve, at most (a 6 h grid over about 3.4 years)


def fait_accompli_times(table: Table, area: str) -> np.ndarray:
    """Hours from attack start to the fait accompli in ``area`` (the theatre: the first
    capital), with inf where it did not happen within the horizon (censored)."""
    fa = np.asarray(table[f"fait_accompli_{area}_h"], dtype=float)
    return np.where(np.isnan(fa), np.inf, fa)


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
    finite = times[np.isfinite(times)]
    grid = curve_grid(float(finite.min()) if finite.size else 0.0, horizon, step)
    ev, f, lo, hi = metrics.kaplan_meier(times, horizon)
    k = np.searchsorted(ev, grid, side="right")

    def pick(a: np.ndarray) -> np.ndarray:  # the step function's value at each grid point
        return np.where(k > 0, a[np.maximum(k - 1, 0)], 0.0) if ev.size else np.zeros_like(grid)

    return [  # six decimals: far below the Monte Carlo error, and a small file
        [float(g), round(float(p), 6), round(float(lw), 6), round(float(h), 6)]
        for g, p, lw, h in zip(grid, pick(f), pick(lo), pick(hi))
    ]


def summarise(
    table: Table, meta: Mapping[str, Any], checkpoints: Sequence[float]
) -> dict[str, Any]:
    """Per-area distributions with 95 % CIs, censoring-aware.

    ``meta`` carries scenario name, posture, seed and horizon_hours. Quantile bounds that
    lie beyond the horizon are written as null ("> horizon").
    """
    horizon = float(meta["horizon_hours"])
    n = len(table["replication"])
    areas: dict[str, Any] = {}
    for area in AREAS:
        t = censored_times(table, area)
        beat = np.asarray(table[f"beat_fa_{area}"], dtype=bool)
        entry: dict[str, Any] = {
            "ttr_h": {
                f"p{int(q * 100)}": metrics.quantile(t, q).as_dict() for q in (0.1, 0.5, 0.9)
            },
            "censored_share": float(np.isinf(t).mean()),
            "p_reinforced_by": {
                f"{cp:g}h": metrics.cdf_at(t, horizon, cp).as_dict() for cp in checkpoints
            },
            "p_beat_fa": metrics.proportion(int(beat.sum()), n).as_dict(),
            "curve": _curve(t, horizon),
        }
        if f"hold_{area}" in table:  # results written before the race lack the column
            held = np.asarray(table[f"hold_{area}"], dtype=bool)
            entry["p_hold"] = metrics.proportion(int(held.sum()), n).as_dict()
        if f"fait_accompli_{area}_h" in table:
            fa = fait_accompli_times(table, area)
            entry["fait_accompli_h"] = metrics.quantile(fa, 0.5).as_dict()
            entry["fait_accompli_censored_share"] = float(np.isinf(fa).mean())
            entry["fa_curve"] = _curve(fa, horizon)
        if area != "theatre":
            entry["required_troops_mean"] = float(np.mean(table[f"required_{area}"]))
            entry["in_place_at_attack_mean"] = float(np.mean(table[f"in_place_{area}"]))
            entry["strength"] = {
                f"{cp:g}h": {
                    "mean": metrics.mean(table[f"strength_{area}_{cp:g}h"]).as_dict(),
                    "p10": float(np.quantile(table[f"strength_{area}_{cp:g}h"], 0.1)),
                    "p90": float(np.quantile(table[f"strength_{area}_{cp:g}h"], 0.9)),
                }
                for cp in checkpoints
            }
        areas[area] = entry
    closed = np.asarray(table["corridor_closed"], dtype=bool)
    buildup = _buildup(table, meta)
    routes = {}
    for col in table:
        if col.startswith("route_") and col.endswith("_loads"):
            rid = col[len("route_") : -len("_loads")]
            loads = np.asarray(table[col], dtype=float)
            routes[rid] = {
                "p_used": float((loads > 0).mean()),
                "loads_mean": float(loads.mean()),
                "troops_mean": float(np.mean(table[f"route_{rid}_troops"])),
                "wait_h_mean": metrics.mean(table[f"route_{rid}_wait_h_mean"]).as_dict(),
                "wait_h_max": _nanmax(table[f"route_{rid}_wait_h_max"]),
            }
    return {
        **dict(meta),
        "replications": n,
        "note": "times in hours from attack start; null bounds lie beyond the horizon",
        "areas": areas,
        "corridor": {"p_closed": metrics.proportion(int(closed.sum()), n).as_dict()},
        "detachments_rerouted_mean": float(np.mean(table["detachments_rerouted"])),
        "detachments_stranded_mean": float(np.mean(table["detachments_stranded"])),
        "routes": routes,
        **({"buildup": buildup} if buildup else {}),
    }


def _buildup(table: Table, meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """Quantile bands of each country's combat-ready strength on the build-up grid, and of
    its required strength (which varies by replication when the threat is drawn).

    The grid is read a block of points at a time (``table.block`` when the table is a
    Parquet file), at most ``BUILDUP_CELLS`` values per block, so memory does not grow with
    the grid times the replications (each point's quantiles are computed alone, so the
    block size does not change them)."""
    if "buildup_step_hours" not in meta or f"buildup_{COUNTRIES[0]}" not in table:
        return None
    step = float(meta["buildup_step_hours"])
    points = int(math.floor(float(meta["horizon_hours"]) / step + 1e-9)) + 1
    out: dict[str, Any] = {"step_hours": step, "countries": {}}
    per_block = max(1, min(BUILDUP_BLOCK, BUILDUP_CELLS // max(len(table["replication"]), 1)))
    for c in COUNTRIES:
        q = np.empty((3, points))
        for g0 in range(0, points, per_block):
            g1 = min(g0 + per_block, points)
            q[:, g0:g1] = np.quantile(
                _block(table, f"buildup_{c}", g0, g1), [0.1, 0.5, 0.9], axis=0
            )
        req = np.asarray(table[f"required_{c}"], dtype=float)
        out["countries"][c] = {
            "p10": [round(float(v), 1) for v in q[0]],
            "p50": [round(float(v), 1) for v in q[1]],
            "p90": [round(float(v), 1) for v in q[2]],
            "required": {
                "p10": float(np.quantile(req, 0.1)),
                "p50": float(np.quantile(req, 0.5)),
                "p90": float(np.quantile(req, 0.9)),
            },
        }
    out["hours"] = [float(k * step) for k in range(points)]
    return out


BUILDUP_BLOCK = 16  # grid points per pass, at most
BUILDUP_CELLS = 200_000  # values per pass, at most (1.6 MB as float64)


def _block(table: Table, column: str, g0: int, g1: int) -> np.ndarray:
    """Grid points ``g0 .. g1 - 1`` of a trajectory column, as float (replications x points)."""
    reader = getattr(table, "block", None)
    if reader is not None:
        return np.asarray(reader(column, g0, g1), dtype=float)
    return np.asarray(table[column], dtype=float)[:, g0:g1]


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
                np.asarray(a[f"beat_fa_{area}"]), np.asarray(b[f"beat_fa_{area}"])
            ).as_dict(),
        }
        if f"hold_{area}" in a and f"hold_{area}" in b:
            out["areas"][area]["p_hold_difference"] = metrics.paired_proportion_difference(
                np.asarray(a[f"hold_{area}"]), np.asarray(b[f"hold_{area}"])
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
        beat = np.asarray(table[f"beat_fa_{area}"], dtype=bool)
        ests = [("p_beat_fa", metrics.proportion(int(beat.sum()), beat.size))]
        if f"hold_{area}" in table:
            held = np.asarray(table[f"hold_{area}"], dtype=bool)
            ests.append(("p_hold", metrics.proportion(int(held.sum()), held.size)))
        ests.append(("ttr_median", metrics.quantile(t, 0.5)))
        for key, est in ests:
            suffix = "_h" if key == "ttr_median" else ""
            for part, v in (("", est.value), ("_lo", est.lo), ("_hi", est.hi)):
                out[f"{key}_{area}{suffix}{part}"] = v if math.isfinite(v) else nan
        out[f"ttr_rmean_{area}_h"] = float(np.mean(np.minimum(t, horizon)))
        out[f"censored_{area}"] = float(np.isinf(t).mean())
        ev, f, _, _ = metrics.kaplan_meier(t, horizon)  # once per area, read at each checkpoint
        for cp in checkpoints:
            k = int(np.searchsorted(ev, cp, side="right"))
            out[f"p_reinforced_{area}_by_{cp:g}h"] = float(f[k - 1]) if k else 0.0
    return out
