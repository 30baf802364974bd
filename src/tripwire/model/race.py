"""The combat race on one axis: the attacker's advance against the defence's build-up.

Event-free arithmetic on a replication's draws and arrival times (no SimPy): a second
engine can call it as it is. Every rule is written out in docs/model.md ("The combat race").

State: attacker combat power ``x``, defender combat power at the front ``y``, the
attacker's distance advanced ``p`` (km). Between two arrivals the two sides fight by
Lanchester's square law,

    dx/dt = -a y,    dy/dt = -b x,

whose solution is closed-form (``w = sqrt(a b)``, ``s = sqrt(a / b)``):

    x(t) = x0 cosh(w t) - s y0 sinh(w t)
    y(t) = y0 cosh(w t) - (x0 / s) sinh(w t)

and the force ratio ``r = x / y`` moves monotonically (``dr/dt = (b x^2 - a y^2) / y^2``,
whose sign is that of the square-law invariant). The attacker advances at the rate of the
ratio band ``r`` falls in (piecewise constant), so every event (a band boundary crossed,
a side destroyed, the capital reached) has an exact time. Arrivals join the front at their
combat-ready time with their full power. Nothing here is integrated numerically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

INF = math.inf
NAN = float("nan")
EPS = 1e-12


@dataclass(frozen=True)
class RaceResult:
    """One axis, one replication. Times in hours from attack start."""

    fait_accompli_h: float  # the capital reached; inf when not within the horizon
    stabilised_h: float  # start of the final halt; nan while advancing or once fallen
    advance_km: float  # distance advanced when the race ended (fall or horizon)
    min_force_ratio: float  # smallest attacker:defender ratio seen (inf: never opposed)
    attacker_loss: float  # attacker combat power destroyed
    defender_loss: float  # defender combat power destroyed (of all that joined)


def coefficients(
    attacker_loss_per_day: float, defender_loss_per_day: float, reference_ratio: float
) -> tuple[float, float]:
    """Square-law coefficients (per hour) from daily fractional loss rates.

    At the reference ratio ``x / y = R`` the attacker loses ``a y / x = L_a / 24`` of its
    power an hour and the defender ``b x / y = L_d / 24``: so ``a = L_a R / 24`` and
    ``b = L_d / (24 R)``.
    """
    a = attacker_loss_per_day * reference_ratio / 24.0
    b = defender_loss_per_day / (24.0 * reference_ratio)
    return a, b


TOL = 1e-9


def band_of(ratio: float, from_ratio: Sequence[float], falling: bool = False) -> int:
    """Index of the advance band ``ratio`` falls in: the last whose lower bound is <= ratio.

    On a boundary (within a relative 1e-9) a falling ratio takes the band below, a rising
    or steady one the band above: the band that holds just after this instant.
    """
    k = 0
    for i, lo in enumerate(from_ratio):
        if ratio >= lo * (1.0 - TOL):
            k = i
    if falling and k > 0 and ratio <= from_ratio[k] * (1.0 + TOL):
        k -= 1
    return k


def _step(x: float, y: float, a: float, b: float, tau: float) -> tuple[float, float]:
    """Both sides after ``tau`` hours of square-law fighting (clamped at zero)."""
    if y <= 0.0:
        return x, 0.0
    if x <= 0.0:
        return 0.0, y
    w, s = math.sqrt(a * b), math.sqrt(a / b)
    c, sh = math.cosh(w * tau), math.sinh(w * tau)
    return max(0.0, x * c - s * y * sh), max(0.0, y * c - (x / s) * sh)


def _time_to_tanh(value: float, w: float) -> float:
    """Hours until ``tanh(w t)`` reaches ``value``; inf when it never does."""
    if value >= 1.0 or value < 0.0:
        return INF
    return math.atanh(value) / w


def _time_to_ratio(x: float, y: float, a: float, b: float, k: float) -> float:
    """Hours until ``x / y`` equals ``k`` under the square law (inf: never)."""
    w, s = math.sqrt(a * b), math.sqrt(a / b)
    den = s * y - k * x / s
    if abs(den) < EPS:
        return INF
    return _time_to_tanh((x - k * y) / den, w)


def race(
    attacker: float,
    defence: Sequence[tuple[float, float]],
    a: float,
    b: float,
    from_ratio: Sequence[float],
    km_per_hour: Sequence[float],
    distance_km: float,
    horizon_h: float,
) -> RaceResult:
    """Run one axis from attack start (t = 0) to the fall of the capital, the halt, or the
    horizon.

    ``defence``: (hours from attack start, combat power) of everything that joins the
    front; entries at or before 0 are at the front from the start. ``from_ratio`` (rising)
    and ``km_per_hour`` (positive) give the advance bands: the attacker moves at
    ``km_per_hour[k]`` while ``from_ratio[k] <= x / y < from_ratio[k + 1]`` (no defender at
    the front: the ratio is infinite, the last band). Below ``from_ratio[0]`` the attacker
    is held: it halts for good (one echelon, no reinforcement) and the fighting stops.
    """
    joins = sorted((max(0.0, t), p) for t, p in defence if p > 0.0)
    x = float(attacker)
    y = sum(p for t, p in joins if t <= 0.0)
    pending = [(t, p) for t, p in joins if t > 0.0]
    joined = y
    t, pos = 0.0, 0.0
    min_ratio = INF
    nb = len(from_ratio)
    w, s = math.sqrt(a * b), math.sqrt(a / b)
    why = "start"
    for _ in range(100_000):  # events are finite; this only guards against a rounding loop
        r = INF if y <= 0.0 else x / y
        min_ratio = min(min_ratio, r)
        inv = a * y * y - b * x * x if y > 0.0 else 0.0  # > 0: the ratio falls
        if (
            x <= 0.0
            or r < from_ratio[0] * (1.0 - TOL)
            or (inv > 0.0 and r <= from_ratio[0] * (1.0 + TOL))
        ):
            why = "held"
            break
        k = band_of(r, from_ratio, falling=inv > 0.0)
        v = km_per_hour[k]
        t_end = min(pending[0][0] if pending else INF, horizon_h)
        dt, why = t_end - t, "segment"
        if (distance_km - pos) / v <= dt:
            dt, why = (distance_km - pos) / v, "capital"
        cand: list[tuple[float, str]] = []
        if inv > 0.0:  # falling: this band's floor (the lowest floor is the halt)
            cand.append((_time_to_ratio(x, y, a, b, from_ratio[k]), "band"))
        elif inv < 0.0:  # rising: the next band's floor, then the defender destroyed
            if k + 1 < nb:
                cand.append((_time_to_ratio(x, y, a, b, from_ratio[k + 1]), "band"))
            cand.append((_time_to_tanh(s * y / x, w), "y0"))
        for c_dt, c_why in cand:
            if c_dt < dt:
                dt, why = c_dt, c_why
        dt = max(dt, 0.0)
        x, y = _step(x, y, a, b, dt)
        pos += v * dt
        t += dt
        if why == "capital":
            pos = distance_km
            break
        if why == "y0":
            y = 0.0
        elif why == "segment":
            if t >= horizon_h:
                break
            while pending and pending[0][0] <= t:
                y += pending[0][1]
                joined += pending[0][1]
                pending.pop(0)
    else:  # pragma: no cover - a defect, not an input error
        raise RuntimeError("combat race did not finish (rounding loop)")
    r_end = INF if y <= 0.0 else x / y
    return RaceResult(
        fait_accompli_h=t if why == "capital" else INF,
        stabilised_h=t if why == "held" else NAN,
        advance_km=pos,
        min_force_ratio=min(min_ratio, r_end),
        attacker_loss=attacker - x,
        defender_loss=joined - y,
    )
