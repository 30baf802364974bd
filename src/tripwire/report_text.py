"""Readable terminal tables of a batch summary and of paired comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from tripwire.summary import AREAS


def hours(v: float | None, low_side: bool = False) -> str:
    """Whole hours; None is beyond the horizon (or, for a lower bound, unbounded below)."""
    if v is None:
        return "-inf" if low_side else ">hzn"
    return f"{v:,.0f}"


def _ci(e: Mapping[str, float | None]) -> str:
    if e["value"] is None:  # the estimate beyond the horizon: its lower bound may be too
        return ">hzn"
    return f"{hours(e['value'])} [{hours(e['lo'], True)}, {hours(e['hi'])}]"


def _pct(e: Mapping[str, float | None]) -> str:
    if e["value"] is None:
        return "n/a"
    return f"{100 * e['value']:.0f}% [{100 * (e['lo'] or 0):.0f}, {100 * (e['hi'] or 0):.0f}]"


def _points(d: Mapping[str, float | None]) -> str:
    """A paired difference of proportions in percentage points, with its CI."""
    if d["lo"] is None or d["hi"] is None:
        return f"{100 * (d['value'] or 0):+.0f}"
    return f"{100 * (d['value'] or 0):+.0f} [{100 * d['lo']:+.0f}, {100 * d['hi']:+.0f}]"


def summary_table(console: Console, s: Mapping[str, Any]) -> None:
    """One posture: time-to-reinforce, the fait accompli and the chance of holding."""
    power = s.get("requirement") == "combat_power"
    race = s.get("adversary") == "race"
    t = Table(
        title=f"{s['scenario']} - {s['posture']}: {s['replications']} replications, "
        f"seed {s['seed']}, horizon {s['horizon_hours'] / 24:g} d",
        caption="TTR: time-to-reinforce, hours from attack start (negative: before it); "
        "required and in place: mean NATO "
        + ("combat power (troops x type weight)" if power else "troops")
        + "; P(by t): Kaplan-Meier; f.a.: fait accompli (capital reached"
        + (", the combat race" if race else ", the adversary clock")
        + "), median h; P(beat f.a.): reinforced before it; P(hold): capital not reached; "
        "[95% CI]; >hzn: beyond the horizon",
    )
    t.add_column("area")
    t.add_column("required", justify="right")
    t.add_column("in place", justify="right")
    t.add_column("median TTR, h [95% CI]", justify="right")
    cps = list(s["areas"]["theatre"]["p_reinforced_by"])
    for cp in cps[:2]:
        t.add_column(f"P(by {cp})", justify="right")
    t.add_column("P(beat f.a.)", justify="right")
    t.add_column("f.a., h", justify="right")
    t.add_column("P(hold)", justify="right")
    t.add_column("cens.", justify="right")
    for area in AREAS:
        a = s["areas"][area]
        t.add_row(
            area,
            f"{a['required_troops_mean']:,.0f}" if "required_troops_mean" in a else "all 3",
            f"{a['in_place_at_attack_mean']:,.0f}" if "in_place_at_attack_mean" in a else "",
            _ci(a["ttr_h"]["p50"]),
            *[_pct(a["p_reinforced_by"][cp]) for cp in cps[:2]],
            _pct(a["p_beat_fa"]),
            _ci(a["fait_accompli_h"]) if "fait_accompli_h" in a else "",
            _pct(a["p_hold"]) if "p_hold" in a else "",
            f"{100 * a['censored_share']:.1f}%",
        )
    console.print(t)
    console.print(f"corridor cut in {_pct(s['corridor']['p_closed'])} of replications")


def comparison_table(
    console: Console, comparisons: Sequence[Mapping[str, Any]], postures: Mapping[str, str]
) -> None:
    """Paired differences (b - a) under common random numbers."""
    t = Table(
        title="paired comparison, common random numbers: b - a (negative: b faster)",
        caption="d median: difference of median TTR, paired bootstrap CI; "
        "median d: median of per-replication differences, sign-test CI; "
        "hours; d P(f.a.): change in P(reinforced before the fait accompli), d P(hold): "
        "change in P(capital not reached), points",
    )
    cols = ("a", "b", "area", "d median, h", "median d, h", "b earlier", "d P(f.a.)", "d P(hold)")
    for col in cols:
        t.add_column(col, justify="right" if col not in ("a", "b", "area") else "left")
    for c in comparisons:
        for area in AREAS:
            a = c["areas"][area]
            pe = a["p_b_earlier"]
            d = a["p_beat_fa_difference"]
            dh = a.get("p_hold_difference")
            t.add_row(
                postures.get(c["a"], c["a"]) if area == AREAS[0] else "",
                postures.get(c["b"], c["b"]) if area == AREAS[0] else "",
                area,
                _ci(a["difference_of_medians_h"]),
                _ci(a["median_of_differences_h"]),
                "n/a" if pe is None else f"{100 * pe:.0f}%",
                _points(d),
                "" if dh is None else _points(dh),
            )
        t.add_section()
    console.print(t)
