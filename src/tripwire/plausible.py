"""Plausible ranges of scenario values: a value outside its range is a warning, not an error.

A scenario may legitimately explore extremes, so these never stop a run. They catch the
usual slips of hand-written files: a value in the wrong unit (hours written as days, a
share written as a percentage), a missing zero, a figure copied into the wrong field.
Each range is deliberately wide: roughly ten times what the source articles and the public
record give for the quantity (see seeds/ and docs/model.md).

A field is matched by its path with list positions written ``*``; for a distribution every
value-like parameter (value, low, mode, high, mean, median, the values of a choice) is
checked, never a spread (sd, sigma) or a weight.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tripwire.yamlio import PathKey, walk

# field path -> (low, high, what it is)
RANGES: dict[str, tuple[float, float, str]] = {
    "horizon_days": (1, 730, "days simulated after the attack"),
    "warning.days": (0, 365, "days of strategic warning"),
    "warning.decision_delay_hours": (0, 24 * 90, "hours from warning to decision"),
    "warning.peacetime_clearance_hours": (0, 24 * 90, "hours of peacetime clearance"),
    "countries.*.host_nation_troops": (0, 500_000, "host-nation troops, people"),
    "countries.*.threat_troops": (0, 1_000_000, "adversary troops, people"),
    "countries.*.required_troops": (0, 1_000_000, "required troops, people"),
    "countries.*.force_ratio": (0.1, 10, "defender-to-attacker ratio"),
    "countries.*.fait_accompli_unopposed_hours": (1, 24 * 180, "hours to a fait accompli"),
    "countries.*.reception_hours": (0, 24 * 30, "hours of reception and onward movement"),
    "countries.*.reception_capacity_units": (1, 1_000, "formations received at once"),
    "in_place.*.troops": (0, 100_000, "troops in place, people"),
    "network.links.*.transit_hours": (0, 24 * 30, "hours of travel on one link"),
    "network.links.*.service_hours": (0, 24 * 14, "hours one load holds a channel"),
    "network.links.*.channels": (1, 1_000, "parallel channels of one link"),
    "network.links.*.troops_per_load": (1, 10_000, "people per load"),
    "network.links.*.items_per_load": (0.1, 5_000, "equipment items per load"),
    "suwalki.closure_hours": (-24 * 60, 24 * 60, "hours from attack start to the cut"),
    "prepositioned.*.troops_per_set": (10, 50_000, "people one set equips"),
    "prepositioned.*.draw_hours": (0, 24 * 30, "hours to draw a set"),
    "units.*.troops": (1, 100_000, "people in one unit"),
    "units.*.readiness_hours": (0, 24 * 365, "hours of notice to move"),
    "pool.total_troops": (0, 1_000_000, "people in the high-readiness pool"),
    "pool.formation_troops": (100, 50_000, "people in one pool formation"),
    "pool.tiers.*.readiness_days": (0, 365, "days of notice to move"),
    "equipment_items_per_troop.light": (0, 5, "items per soldier"),
    "equipment_items_per_troop.mechanised": (0, 5, "items per soldier"),
    "equipment_items_per_troop.armoured": (0, 5, "items per soldier"),
}
_VALUE_KEYS = {"value", "low", "mode", "high", "mean", "median", "values"}
_DIST_KINDS = {"fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "choice"}


def _pattern(path: PathKey) -> str:
    return ".".join("*" if isinstance(k, int) else str(k) for k in path)


def _values(obj: Any, path: PathKey) -> Iterator[tuple[PathKey, float]]:
    """The value-like numbers of a field: a number, or a distribution's parameters."""
    if isinstance(obj, bool):
        return
    if isinstance(obj, int | float):
        yield path, float(obj)
    elif isinstance(obj, dict) and len(obj) == 1 and next(iter(obj)) in _DIST_KINDS:
        kind, params = next(iter(obj.items()))
        if isinstance(params, dict):
            for k, v in params.items():
                if k not in _VALUE_KEYS:
                    continue
                items = v if isinstance(v, list) else [v]
                for i, x in enumerate(items):
                    if isinstance(x, int | float) and not isinstance(x, bool):
                        yield (*path, kind, k, *((i,) if isinstance(v, list) else ())), float(x)
        elif isinstance(params, int | float) and not isinstance(params, bool):
            yield (*path, kind), float(params)


def implausible(data: dict[str, Any]) -> list[tuple[PathKey, str]]:
    """Every value of the (resolved, validated) scenario data outside its plausible range."""
    out: list[tuple[PathKey, str]] = []
    for path, obj in walk(data):
        rng = RANGES.get(_pattern(path))
        if rng is None:
            continue
        low, high, what = rng
        for where, x in _values(obj, path):
            if not low <= x <= high:
                out.append(
                    (
                        where,
                        f"{x:g} is outside the plausible range [{low:g}, {high:g}] of "
                        f"{what}: check the value and its unit",
                    )
                )
    return out
