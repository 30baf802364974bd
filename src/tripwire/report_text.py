"""Readable terminal tables of a batch summary and of paired comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from tripwire.headline import sentences
from tripwire.phases import bottleneck_sentence
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


def print_answer(
    console: Console,
    summaries: Mapping[str, Mapping[str, Any]],
    comparisons: Sequence[Mapping[str, Any]],
    names: Sequence[str],
) -> None:
    """The answer as ``simulate`` prints it when a run ends and ``simulate show`` prints it
    again: the plain-words sentences, a summary table per scenario (in ``names`` order),
    then the paired comparisons, if any."""
    console.print("In plain words:", style="bold")
    for line in sentences(summaries, comparisons):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    for name in names:
        summary_table(console, summaries[name])
    if comparisons:
        postures = {k: str(v.get("posture", k)) for k, v in summaries.items()}
        comparison_table(console, comparisons, postures)


def summary_table(console: Console, s: Mapping[str, Any]) -> None:
    """One posture: time-to-reinforce, the fait accompli and the chance of holding (one
    wide table, or one small table per area on a terminal too narrow for it)."""
    power = s.get("requirement") == "combat_power"
    race = s.get("adversary") == "race"
    title = (
        f"{s['scenario']} - {s['posture']}: {s['replications']} replications, "
        f"seed {s['seed']}, horizon {s['horizon_hours'] / 24:g} d"
    )
    caption = (
        "TTR: time-to-reinforce, hours from attack start (negative: before it); "
        "required and in place: mean NATO "
        + ("combat power (troops x type weight)" if power else "troops")
        + "; P(by t): Kaplan-Meier; f.a.: fait accompli (capital reached"
        + (", the combat race" if race else ", the adversary clock")
        + "), median h; P(beat f.a.): reinforced before it; P(hold): capital not reached; "
        "[95% CI]; >hzn: beyond the horizon"
    )
    cps = list(s["areas"]["theatre"]["p_reinforced_by"])
    head = ["area", "required", "in place", "median TTR, h [95% CI]"]
    head += [f"P(by {cp})" for cp in cps[:2]]
    head += ["P(beat f.a.)", "f.a., h", "P(hold)", "cens."]
    rows = []
    for area in AREAS:
        a = s["areas"][area]
        rows.append(
            [
                area,
                f"{a['required_troops_mean']:,.0f}" if "required_troops_mean" in a else "all 3",
                f"{a['in_place_at_attack_mean']:,.0f}" if "in_place_at_attack_mean" in a else "",
                _ci(a["ttr_h"]["p50"]),
                *[_pct(a["p_reinforced_by"][cp]) for cp in cps[:2]],
                _pct(a["p_beat_fa"]),
                _ci(a["fait_accompli_h"]) if "fait_accompli_h" in a else "",
                _pct(a["p_hold"]) if "p_hold" in a else "",
                f"{100 * a['censored_share']:.1f}%",
            ]
        )
    print_table(console, title, caption, head, rows, keys=1)
    console.print(f"corridor cut in {_pct(s['corridor']['p_closed'])} of replications")
    if "phases" in s:  # results written before phases were summarised lack them
        console.print(bottleneck_sentence(s["posture"], s["phases"]), soft_wrap=True)


def print_table(
    console: Console,
    title: str,
    caption: str,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    keys: int = 1,
) -> None:
    """``rows`` under ``head`` as one table when it fits the console's width; otherwise
    stacked: one two-column table (item, value) per row, titled by its first ``keys``
    cells, so nothing is cut on a narrow terminal."""
    wide = Table(title=title, caption=caption)
    for i, h in enumerate(head):
        wide.add_column(h, justify="left" if i < keys else "right", no_wrap=True)
    for r in rows:
        wide.add_row(*r)
    free = console.options.update_width(10_000)  # the width it needs, unconstrained
    if Measurement.get(console, free, wide).maximum <= console.width:
        console.print(wide)
        return
    console.print(title, style="bold", soft_wrap=False)
    for r in rows:
        t = Table(title=" - ".join(c for c in r[:keys] if c), show_header=False)
        t.add_column("item", overflow="fold")
        t.add_column("value", justify="right", overflow="fold")
        for h, v in zip(head[keys:], r[keys:], strict=True):
            t.add_row(h, v)
        console.print(t)
    console.print(caption, style="dim")


def comparison_table(
    console: Console, comparisons: Sequence[Mapping[str, Any]], postures: Mapping[str, str]
) -> None:
    """Paired differences (b - a) under common random numbers."""
    title = "paired comparison, common random numbers: b - a (negative: b faster)"
    caption = (
        "d median: difference of median TTR, paired bootstrap CI; "
        "median d: median of per-replication differences, sign-test CI; "
        "hours; d P(f.a.): change in P(reinforced before the fait accompli), d P(hold): "
        "change in P(capital not reached), points"
    )
    head = ("a", "b", "area", "d median, h", "median d, h", "b earlier", "d P(f.a.)", "d P(hold)")
    rows = []
    for c in comparisons:
        for area in AREAS:
            a = c["areas"][area]
            pe = a["p_b_earlier"]
            dh = a.get("p_hold_difference")
            rows.append(
                [
                    postures.get(c["a"], c["a"]),
                    postures.get(c["b"], c["b"]),
                    area,
                    _ci(a["difference_of_medians_h"]),
                    _ci(a["median_of_differences_h"]),
                    "n/a" if pe is None else f"{100 * pe:.0f}%",
                    _points(a["p_beat_fa_difference"]),
                    "" if dh is None else _points(dh),
                ]
            )
    print_table(console, title, caption, head, rows, keys=3)
