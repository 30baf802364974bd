"""Figures that explain the answer: one replication's Gantt chart (``simulate trace``) and
where the deciding formations' time goes (the ``phases`` figure of a run folder).

Figures are in days (the briefing unit); the event log and tables are in hours.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

import tripwire.columns as C
from tripwire import __version__
from tripwire.phases import PHASES, read_phases
from tripwire.plotstyle import GREY, footer, new_figure
from tripwire.scenario import COUNTRIES

if TYPE_CHECKING:
    from tripwire.folders import RunFolder


class Story(Protocol):
    """What the Gantt chart draws (a :class:`tripwire.trace.Trace`; a protocol, so this
    module does not import the one that calls it)."""

    scenario: Any
    seed: int
    index: int
    row: dict[str, Any]
    formations: list[dict[str, Any]]

    def phases(self) -> list[dict[str, float]]: ...


# one colour per phase (Okabe-Ito first, then greys and lighter tones), legend in words
PHASE_COLOURS: dict[str, str] = dict(
    zip(
        PHASES,
        (
            "#BBBBBB",  # decision
            "#56B4E9",  # readiness
            "#999933",  # clearance
            "#CC79A7",  # movement control
            "#D55E00",  # queueing
            "#E69F00",  # loading and offload
            "#0072B2",  # transit
            "#882255",  # drawing a set
            "#009E73",  # marry-up
            "#000000",  # reception
        ),
        strict=True,
    )
)
# the marks of the Gantt chart, in colours no phase uses (Tol's dark tones)
COUNTRY_COLOURS = {"estonia": "#332288", "latvia": "#117733", "lithuania": "#661100"}
MAX_GANTT_ROWS = 40


def gantt(tr: Story) -> Figure:
    """Formations over time, by phase (drawn in sequence from the warning; the movement
    phases are the critical path's totals, so their order inside the movement is the
    table's, not the clock's), with the attack, the corridor cut, each country's
    time-to-reinforce and fait accompli marked."""
    r = tr.row
    w = float(r[C.WARNING()])
    forms = sorted(
        zip(tr.formations, tr.phases(), strict=True),
        key=lambda fp: math.inf if fp[0]["censored"] else float(fp[0]["combat_ready_h"]),
    )
    shown = forms[:MAX_GANTT_ROWS]
    fig = new_figure(11, 1.8 + 0.28 * len(shown))
    ax = fig.add_subplot()
    for y, (f, ph) in enumerate(shown):
        start = -w
        for p in PHASES:
            h = ph[p]
            if not math.isfinite(h):
                continue
            if h > 0:
                ax.barh(y, h / 24, left=start / 24, height=0.7, color=PHASE_COLOURS[p], lw=0)
            start += h
        if f["censored"]:
            ax.text((-w) / 24, y, "  not combat-ready within the horizon", va="center", fontsize=7)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([f"{f['formation']} -> {f['country'].capitalize()}" for f, _ in shown])
    ax.invert_yaxis()
    marks = [(0.0, "attack", "#000000", "-")]
    if r[C.CORRIDOR_CLOSED()]:
        marks.append((float(r[C.CORRIDOR_CLOSURE()]), "corridor cut", "#D55E00", "--"))
    for c in COUNTRIES:
        t = float(r[C.TTR(area=c)])
        if math.isfinite(t):
            marks.append((t, f"{c.capitalize()} reinforced", COUNTRY_COLOURS[c], ":"))
        fa = float(r[C.FAIT_ACCOMPLI(area=c)])
        if math.isfinite(fa):
            marks.append((fa, f"{c.capitalize()}: fait accompli", COUNTRY_COLOURS[c], "-."))
    handles: list[Any] = [
        Patch(color=PHASE_COLOURS[p], label=p)
        for p in PHASES
        if any(math.isfinite(ph[p]) and ph[p] > 0 for _, ph in shown)
    ]
    for t, label, col, ls in marks:
        handles.append(ax.axvline(t / 24, color=col, ls=ls, lw=1.2, label=label))
    ax.set_xlabel("days from attack start (negative: before it)")
    more = "" if len(forms) <= len(shown) else f", the first {len(shown)} shown"
    ax.set_title(
        f"{tr.scenario.name}: replication {tr.index} of a batch with seed {tr.seed} "
        f"({len(forms)} formations{more})"
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="y", visible=False)
    fig.supxlabel(
        f"scenario: {tr.scenario.name}  |  replication {tr.index} (re-simulated)  |  seed "
        f"{tr.seed}  |  tripwire {__version__}  |  phases in sequence from the warning; the "
        "movement phases are the critical path's totals",
        fontsize=7,
        color=GREY,
        x=0.01,
        ha="left",
    )
    return fig


def folder_phases(f: RunFolder) -> dict[str, dict[str, dict[str, Any]]]:
    """Per scenario of a run folder, the deciding formations' phases per country
    (:meth:`CountryPhases.as_dict`): its summary's (computed when the run was summarised),
    or read from its tables (a folder written before phases were summarised)."""
    out = {}
    for s in f.scenarios:
        stored = f.summaries[s].get("phases")
        if stored is None:
            got = read_phases(
                f.file(f"{s}/replications.parquet"), f.file(f"{s}/formations.parquet")
            )
            stored = {c: cp.as_dict() for c, cp in got.items()}
        out[s] = stored
    return out


def _number(v: Any) -> float:
    return math.nan if v is None else float(v)


def _share(k: int, n: int) -> str:
    share = 100 * k / n
    return f"{share:.0f}%" if share >= 1 else f"{share:.1f}%"


def phases_figure(f: RunFolder, _: Any = None) -> Figure:
    """Mean hours of each phase of the formation that decided each country's
    time-to-reinforce, per posture (stacked bars, from the warning), with the share of
    replications in which no formation decided (forces in place sufficed, or censored)."""
    data = folder_phases(f)
    fig = new_figure(13, 2.2 + 0.9 * len(f.scenarios))
    axes = fig.subplots(1, len(COUNTRIES), sharey=True, squeeze=False)[0]
    names = [f.posture(s) for s in f.scenarios]
    for ax, c in zip(axes, COUNTRIES, strict=True):
        for y, s in enumerate(f.scenarios):
            cp = data[s][c]
            left = 0.0
            for p in PHASES:
                m = _number(cp["phases_h"][p]["mean"])
                if math.isfinite(m) and m > 0:
                    ax.barh(y, m / 24, left=left / 24, color=PHASE_COLOURS[p], height=0.6, lw=0)
                    left += m
            notes = [
                f"{label} {_share(k, cp['replications'])}"
                for label, k in (
                    ("in place", cp["in_place"]),
                    ("not reinforced", cp["not_reinforced"]),
                )
                if k
            ]
            if notes:
                ax.text(
                    left / 24,
                    y,
                    "  no formation decides: " + ", ".join(notes),
                    va="center",
                    fontsize=7,
                    color=GREY,
                )
        ax.set_title(c.capitalize())
        ax.set_xlabel("days from warning (mean)")
        ax.set_xlim(0, ax.get_xlim()[1] * 1.5)  # room for the notes beside the bars
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(np.arange(len(names)))
    axes[0].set_yticklabels(names)
    axes[0].invert_yaxis()
    fig.legend(
        handles=[Patch(color=PHASE_COLOURS[p], label=p) for p in PHASES],
        loc="outside right upper",
        ncols=1,
        frameon=False,
    )
    fig.suptitle(
        "Where the time goes: phases of the formation whose arrival met each country's "
        "requirement\n(mean over replications in which a formation decided; critical path "
        "of troops and equipment)"
    )
    footer(fig, f.scenarios, f.replications, f.seed, f.path.name)
    return fig
