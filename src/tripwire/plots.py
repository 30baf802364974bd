"""Figures from finished result folders (never from a simulation).

Run folders give ``reinforced`` (probability reinforced by time t, Kaplan-Meier with 95 %
bands), ``ttr`` (violins of time-to-reinforce), ``buildup`` (combat-ready strength over
time against the required strength), ``bottlenecks`` (queue waits, throughput, corridor
closure), ``map`` (the network on true coordinates, links by mode, throughput and wait:
:mod:`tripwire.plot_map`) and ``phases`` (where the deciding formations' time goes:
:mod:`tripwire.plot_story`). Sweep folders give ``response`` (a metric against one
factor, one line per posture), ``heatmap`` (a metric over two factors) and
``sensitivity`` (Sobol, Morris or rank-correlation bars). Each builder returns a
``matplotlib.figure.Figure``; :func:`plot` saves them as PNG and SVG.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.figure import Figure
from matplotlib.patches import Patch

import tripwire.columns as C
from tripwire.errors import UsageError
from tripwire.folders import FolderError, RunFolder, SweepFolder, finite
from tripwire.network import route_label
from tripwire.plot_map import theatre_map
from tripwire.plot_story import phases_figure
from tripwire.plotkinds import FORMATS, KINDS, RUN_KINDS, SWEEP_KINDS
from tripwire.plotstyle import (
    GREY,
    SEQUENTIAL,
    colour,
    footer,
    linestyle,
    new_figure,
    save,
    style,
)
from tripwire.scenario import COUNTRIES
from tripwire.summary import AREAS

TITLE = {"theatre": "Theatre (all three states)", **{c: c.capitalize() for c in COUNTRIES}}


class PlotError(UsageError):
    """A plot that cannot be made from this folder with these options (user-facing)."""


@dataclass(frozen=True)
class Options:
    x: str | None = None  # sweep factor on the x axis
    y: str | None = None  # second factor (heatmap)
    metric: str | None = None  # sweep metric (points.parquet column)


def _footer(fig: Figure, f: RunFolder | SweepFolder) -> None:
    footer(fig, f.scenarios, f.replications, f.seed, f.path.name)


# --------------------------------------------------------------------------- runs


def _days(hours: Any) -> Any:
    """Hours (a number or an array) in days."""
    return np.asarray(hours, dtype=float) / 24.0


def _window_days(f: RunFolder) -> float:
    """x-axis extent: a little past the latest 90th percentile of time-to-reinforce, within
    the horizon (the curves are flat beyond it)."""
    horizon = max(float(s["horizon_hours"]) for s in f.summaries.values())
    p90 = [
        finite(s["areas"][a]["ttr_h"]["p90"]["value"]) for s in f.summaries.values() for a in AREAS
    ]
    known = [v for v in p90 if math.isfinite(v)]
    if len(known) < len(p90) or not known:
        return horizon / 24
    return min(horizon, max(known) * 1.25 + 24) / 24


def reinforced(f: RunFolder, _: Options) -> Figure:
    """P(reinforced by t) per posture with its 95 % band, one panel per area; beside it the
    fait accompli: with the combat race, P(capital reached by t) per posture (Kaplan-Meier,
    dotted); with the adversary clock, its 10-90 % range shaded."""
    fig = new_figure(11, 7.5)
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    race = any(s.get("adversary") == "race" for s in f.summaries.values())
    fa = {} if race else _fait_accompli(f)
    xmax = _window_days(f)
    for ax, area in zip(axes, AREAS[::-1]):  # theatre first
        for i, name in enumerate(f.scenarios):
            s = f.summaries[name]["areas"][area]
            cur = np.array(s["curve"], dtype=float)
            label = f"{f.posture(name)} (P beat f.a. {100 * s['p_beat_fa']['value']:.0f}%" + (
                f", {100 * s['censored_share']:.0f}% censored)" if s["censored_share"] else ")"
            )
            ax.fill_between(
                _days(cur[:, 0]),
                cur[:, 2],
                cur[:, 3],
                step="post",
                color=colour(i),
                alpha=0.18,
                lw=0,
            )
            ax.step(
                _days(cur[:, 0]),
                cur[:, 1],
                where="post",
                color=colour(i),
                ls=linestyle(i),
                lw=1.6,
                label=label,
            )
            if race and "fa_curve" in s:
                fc = np.array(s["fa_curve"], dtype=float)
                held = s["p_hold"]["value"] if "p_hold" in s else None
                ax.step(
                    _days(fc[:, 0]),
                    fc[:, 1],
                    where="post",
                    color=colour(i),
                    ls=":",
                    lw=1.4,
                    label=f"{f.posture(name)}: capital reached"
                    + (f" (P hold {100 * held:.0f}%)" if held is not None else ""),
                )
        if area in fa:
            lo, hi = fa[area]
            ax.axvspan(_days(lo), _days(hi), color=GREY, alpha=0.2, lw=0)
            ax.text(
                _days(hi),
                0.98,
                " fait accompli (10-90% of runs)",
                ha="left",
                va="top",
                fontsize=7,
                color="#444444",
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1},
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(TITLE[area])
        ax.set_xlim(right=xmax)
        ax.set_ylim(0, 1.0)
        ax.legend(loc="lower right", title="posture", title_fontsize=8)
    for ax in axes[2:]:
        ax.set_xlabel("days after attack start (negative: before it)")
    for ax in axes[::2]:
        ax.set_ylabel(
            "P reinforced (solid), P capital reached (dotted)"
            if race
            else "probability reinforced by then"
        )
    fig.suptitle(
        "Probability that NATO has the required combat power in place, by time after the attack\n"
        + (
            "(Kaplan-Meier, 95% bands; dotted: probability the adversary has reached the "
            "capital, the combat race)"
            if race
            else "(Kaplan-Meier, 95% bands; shaded: when the adversary could present a fait "
            "accompli)"
        )
    )
    _footer(fig, f)
    return fig


def _fait_accompli(f: RunFolder) -> dict[str, tuple[float, float]]:
    """10-90 % range of the fait-accompli time of each area over all postures' runs (the
    theatre's: the first capital reached)."""
    out = {}
    for c in AREAS:
        vals = np.concatenate(
            [
                f.replications_table(s, [C.FAIT_ACCOMPLI(area=c)])[C.FAIT_ACCOMPLI(area=c)]
                for s in f.scenarios
            ]
        ).astype(float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            out[c] = (float(np.quantile(vals, 0.1)), float(np.quantile(vals, 0.9)))
    return out


def ttr(f: RunFolder, _: Options) -> Figure:
    """Violins of time-to-reinforce (the reinforced replications), censored share noted."""
    fig = new_figure(11, 4.2)
    axes = fig.subplots(1, 4, sharey=True)
    cols = [c for a in AREAS for c in (C.TTR(area=a), C.CENSORED(area=a))]
    tables = {s: f.replications_table(s, cols) for s in f.scenarios}
    for ax, area in zip(axes, AREAS[::-1]):
        data, pos = [], []
        for i, s in enumerate(f.scenarios):
            t = np.asarray(tables[s][C.TTR(area=area)], dtype=float)
            t = t[np.isfinite(t)]
            if t.size > 1:
                data.append(_days(t))
                pos.append(i)
        if data:
            parts = ax.violinplot(data, positions=pos, showmedians=True, widths=0.8)
            for body, i in zip(parts["bodies"], pos):  # type: ignore[attr-defined]
                body.set_facecolor(colour(i))
                body.set_edgecolor(colour(i))
                body.set_alpha(0.55)
            parts["cmedians"].set_gid("medians")  # type: ignore[index]
            for key in ("cmedians", "cmins", "cmaxes", "cbars"):
                parts[key].set_color("black")  # type: ignore[index]
                parts[key].set_linewidth(0.8)  # type: ignore[index]
        for i, s in enumerate(f.scenarios):
            share = float(np.mean(tables[s][C.CENSORED(area=area)]))
            if share:
                ax.annotate(
                    f"{100 * share:.0f}%\ncensored",
                    (i, 1.0),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    va="top",
                    fontsize=7,
                    color=GREY,
                )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(
            range(len(f.scenarios)), [f.posture(s) for s in f.scenarios], rotation=20, ha="right"
        )
        ax.set_title(TITLE[area])
    axes[0].set_ylabel("time-to-reinforce, days after attack start")
    fig.suptitle(
        "Distribution of time-to-reinforce per posture (reinforced replications; line: median)"
    )
    fig.legend(  # outside the panels: inside, it covered the theatre's violins
        handles=[Patch(color=colour(i), alpha=0.55) for i in range(len(f.scenarios))],
        labels=[f.posture(s) for s in f.scenarios],
        loc="outside right upper",
        title="posture",
    )
    _footer(fig, f)
    return fig


def buildup(f: RunFolder, _: Options) -> Figure:
    """Small multiples (posture x country): median and 10-90 % band of combat-ready
    strength, the required strength, and the other postures' medians in grey."""
    missing = [s for s in f.scenarios if "buildup" not in f.summaries[s]]
    if missing:
        raise PlotError(
            f"{f.path}: no build-up data for {', '.join(missing)} (runs made before tripwire "
            "recorded it); re-run the scenarios"
        )
    n = len(f.scenarios)
    # the requirement's unit: combat power (troops x type weight) or troops
    power = any(f.summaries[s].get("requirement") == "combat_power" for s in f.scenarios)
    unit = "combat power, thousands" if power else "troops, thousands"
    fig = new_figure(11, 1.2 + 2.4 * n)
    axes = np.atleast_2d(fig.subplots(n, 3, sharex=True, sharey="col"))
    xmax = _window_days(f)
    for j, c in enumerate(COUNTRIES):
        for i, s in enumerate(f.scenarios):
            ax = axes[i, j]
            b = f.summaries[s]["buildup"]
            h = _days(np.array(b["hours"]))
            for k, other in enumerate(f.scenarios):  # context: the other postures' medians
                if k != i:
                    med = np.array(f.summaries[other]["buildup"]["countries"][c]["p50"]) / 1e3
                    ax.step(h, med, where="post", color="#BBBBBB", lw=1.0, ls=linestyle(k))
            band = b["countries"][c]
            ax.fill_between(
                h,
                np.array(band["p10"]) / 1e3,
                np.array(band["p90"]) / 1e3,
                color=colour(i),
                alpha=0.25,
                lw=0,
                step="post",
                label="10-90% of replications",
            )
            ax.step(
                h,
                np.array(band["p50"]) / 1e3,
                where="post",
                color=colour(i),
                ls=linestyle(i),
                lw=1.8,
                label=f"{f.posture(s)}: median",
            )
            req = band["required"]
            if req["p90"] > req["p10"]:
                ax.axhspan(req["p10"] / 1e3, req["p90"] / 1e3, color="black", alpha=0.08, lw=0)
            ax.axhline(
                req["p50"] / 1e3,
                color="black",
                lw=1.1,
                ls=(0, (6, 2)),
                label="required (median; grey: 10-90%)",
            )
            ax.set_xlim(0, xmax)
            ax.set_ylim(bottom=0)
            if i == 0:
                ax.set_title(TITLE[c])
            if i == n - 1:
                ax.set_xlabel("days after attack start")
            if j == 0:
                ax.set_ylabel(f"{f.posture(s)}\n{unit}")
            if j == 2:
                ax.legend(loc="lower right", fontsize=7)
    what = "combat power (mechanised-soldier equivalents)" if power else "troops"
    fig.suptitle(
        f"Build-up of combat-ready NATO {what} per country and posture: median and 10-90% "
        "band of replications\n(dashed black: strength required; grey lines: the other "
        "postures' medians)"
    )
    _footer(fig, f)
    return fig


def bottlenecks(f: RunFolder, _: Options) -> Figure:
    """Queue wait and troops moved per route (routes any posture used), and the share of
    replications in which the Suwalki corridor closed."""
    links = _links(f)

    def worst(rid: str, key: str) -> float:
        vals = [f.summaries[s]["routes"].get(rid, {}) for s in f.scenarios]
        got = [
            finite(v.get(key, {}).get("value")) if key == "wait_h_mean" else v.get(key, 0.0)
            for v in vals
        ]
        return max((g for g in got if math.isfinite(g)), default=0.0)

    used = [rid for rid in links if worst(rid, "p_used") >= MIN_ROUTE_USE]
    if not used:
        raise PlotError(f"{f.path}: no route carried any load")
    used.sort(key=lambda r: (-round(worst(r, "wait_h_mean"), 1), -worst(r, "troops_mean")))
    shown_of = len(used)
    used = used[:MAX_ROUTES]
    fig = new_figure(12, 1.4 + 0.2 * len(used) * max(2, len(f.scenarios)))
    gs = fig.add_gridspec(1, 3, width_ratios=[3, 3, 1.4])
    ax_w, ax_t, ax_c = (fig.add_subplot(gs[0, k]) for k in range(3))
    ax_t.sharey(ax_w)
    n = len(f.scenarios)
    height = 0.8 / n
    y = np.arange(len(used))
    for i, s in enumerate(f.scenarios):
        r = f.summaries[s]["routes"]
        off = y + (i - (n - 1) / 2) * height
        wait = np.array([finite(r.get(u, {}).get("wait_h_mean", {}).get("value")) for u in used])
        lo = np.array([finite(r.get(u, {}).get("wait_h_mean", {}).get("lo")) for u in used])
        hi = np.array([finite(r.get(u, {}).get("wait_h_mean", {}).get("hi")) for u in used])
        err = np.nan_to_num(np.vstack([wait - lo, hi - wait]), nan=0.0).clip(min=0)
        ax_w.barh(
            off,
            np.nan_to_num(wait),
            height,
            color=colour(i),
            xerr=err,
            error_kw={"lw": 0.7},
            label=f.posture(s),
        )
        troops = np.array([r.get(u, {}).get("troops_mean", 0.0) for u in used]) / 1e3
        ax_t.barh(off, troops, height, color=colour(i), label=f.posture(s))
    labels = [links[u]["words"] for u in used]  # in words: places and mode, not ids
    ax_w.set_yticks(y, labels, fontsize=7)
    ax_w.invert_yaxis()
    ax_t.tick_params(labelleft=False)
    ax_w.set_xscale("symlog", linthresh=1.0)
    ax_w.set_xlim(left=0)
    ax_w.set_xlabel("mean wait per load, h (95% CI; log scale above 1 h)")
    ax_t.set_xlabel("troops moved per replication, thousands")
    ax_w.set_title("Waiting for a slot on each route")
    ax_t.set_title("Throughput of each route")
    ax_w.legend(loc="lower right", title="posture")
    p = [f.summaries[s]["corridor"]["p_closed"] for s in f.scenarios]
    vals = np.array([q["value"] for q in p])
    err = np.vstack([vals - [q["lo"] for q in p], [q["hi"] for q in p] - vals]).clip(min=0)
    ax_c.bar(
        range(n),
        100 * vals,
        color=[colour(i) for i in range(n)],
        yerr=100 * err,
        error_kw={"lw": 0.8},
    )
    ax_c.set_xticks(range(n), [f.posture(s) for s in f.scenarios], rotation=30, ha="right")
    ax_c.set_ylim(0, 100)
    ax_c.set_ylabel("replications with the corridor cut, % (95% CI)")
    ax_c.set_title("Corridor cut")
    fig.suptitle(
        "Bottlenecks: where formations queue and what each route carries\n"
        f"({len(used)} of the {shown_of} routes used in at least {100 * MIN_ROUTE_USE:.0f}% of "
        "replications, longest wait first, then most troops)"
    )
    _footer(fig, f)
    return fig


MIN_ROUTE_USE = 0.05  # routes used in fewer replications than this are left out
MAX_ROUTES = 16  # rows of the bottleneck chart


def _links(f: RunFolder) -> dict[str, dict[str, str]]:
    """Link id -> mode, from, to and the link in words (from every scenario's resolved
    file)."""
    out: dict[str, dict[str, str]] = {}
    for s in f.scenarios:
        data = yaml.safe_load(f.file(f"{s}/scenario.resolved.yaml").read_text())
        nodes = data["network"]["nodes"]
        for lk in data["network"]["links"]:
            out.setdefault(
                lk["id"],
                {
                    "mode": lk["mode"],
                    "from": lk["from"],
                    "to": lk["to"],
                    "words": route_label(lk, nodes),
                },
            )
    return out


# --------------------------------------------------------------------------- sweeps


def _metric(f: SweepFolder, o: Options) -> str:
    m = o.metric or C.P_BEAT_FA(area="theatre")
    if m not in f.points or m in ("replications", "point") or m.startswith("x."):
        known = sorted(
            k
            for k in f.points
            if not k.startswith("x.")
            and not k.endswith(("_lo", "_hi"))
            and k not in ("posture", "point", "replications")
        )
        raise PlotError(f"unknown metric {m!r}; this sweep has: {', '.join(known)}")
    return m


def _factor(f: SweepFolder, name: str | None, role: str, default: int) -> str:
    if name is None:
        if len(f.factors) <= default:
            raise PlotError(f"this sweep varies {len(f.factors)} factor(s); no {role} factor")
        return f.factors[default]
    if name not in f.factors:
        raise PlotError(
            f"{role} factor {name!r} was not varied; this sweep varies: " + ", ".join(f.factors)
        )
    return name


def metric_label(m: str) -> str:
    """Axis label, with its unit, of a points.parquet metric."""
    area = next((a for a in AREAS if f"_{a}" in m), "")
    where = "the theatre" if area == "theatre" else area.capitalize()
    if m.startswith("p_beat_fa_"):
        return f"P({where} reinforced before the fait accompli)"
    if m.startswith("p_hold_"):
        capital = "every capital" if area == "theatre" else f"the capital of {where}"
        return f"P({capital} not reached in the horizon)"
    if m.startswith("ttr_median_"):
        return f"median time-to-reinforce of {where}, hours"
    if m.startswith("ttr_rmean_"):
        return f"restricted mean time-to-reinforce of {where}, hours"
    if m.startswith("censored_"):
        return f"share of runs where {where} is not reinforced in the horizon"
    if m.startswith("p_reinforced_"):
        return f"P({where} reinforced by {m.rsplit('_by_', 1)[1]})"
    return m


def _grouped(f: SweepFolder, m: str, keys: Sequence[str]) -> dict[tuple[str, ...], Any]:
    """Rows of points.parquet grouped by posture and the values of ``keys``."""
    p = f.points
    out: dict[tuple[str, ...], Any] = {}
    for j in range(len(p["point"])):
        k = (str(p["posture"][j]), *(float(p[f"x.{x}"][j]) for x in keys))
        out.setdefault(k, []).append(j)  # type: ignore[arg-type]
    return out


def response(f: SweepFolder, o: Options) -> Figure:
    """A metric against one factor, one line per posture with its 95 % CI; one panel per
    value of a second factor when the design is a grid of two."""
    m, x = _metric(f, o), _factor(f, o.x, "x", 0)
    p = f.points
    others = [k for k in f.factors if k != x]
    grid = f.spec["design"] == "grid"
    panel_key = others[0] if grid and len(others) == 1 else None
    panels = sorted({float(v) for v in p[f"x.{panel_key}"]}) if panel_key else [None]
    if len(panels) > 6:
        raise PlotError(f"{panel_key} takes {len(panels)} values; plot a heatmap instead")
    fig = new_figure(max(7.5, 4.2 * len(panels) + 1), 4.6)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    has_ci = f"{m}_lo" in p
    for ax, pv in zip(axes, panels):
        for i, s in enumerate(f.scenarios):
            sel = p["posture"] == s
            if pv is not None:
                sel &= np.isclose(p[f"x.{panel_key}"].astype(float), pv)
            xs, ys = p[f"x.{x}"][sel].astype(float), p[m][sel].astype(float)
            order = np.argsort(xs)
            xs, ys = xs[order], ys[order]
            label = f.posture(s)
            if grid and not others or pv is not None:
                ax.plot(
                    xs, ys, color=colour(i), ls=linestyle(i), marker="o", ms=3, lw=1.6, label=label
                )
                if has_ci:
                    lo = p[f"{m}_lo"][sel].astype(float)[order]
                    hi = p[f"{m}_hi"][sel].astype(float)[order]
                    ax.fill_between(xs, lo, hi, color=colour(i), alpha=0.18, lw=0)
            else:  # other factors vary too: every point, and the binned mean
                ax.scatter(xs, ys, s=6, color=colour(i), alpha=0.35, lw=0)
                edges = np.quantile(xs, np.linspace(0, 1, 9))
                idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, 7)
                centre = [xs[idx == k].mean() for k in range(8) if np.any(idx == k)]
                mean = [np.nanmean(ys[idx == k]) for k in range(8) if np.any(idx == k)]
                ax.plot(
                    centre,
                    mean,
                    color=colour(i),
                    ls=linestyle(i),
                    lw=1.8,
                    label=f"{label} (binned mean)",
                )
        ax.set_xlabel(x)
        if pv is not None:
            ax.set_title(f"{panel_key} = {pv:g}")
        if m.startswith(("p_", "censored_")):
            ax.set_ylim(-0.02, 1.02)
        ax.legend(title="posture")
    axes[0].set_ylabel(metric_label(m))
    lines = grid and (not others or panel_key is not None)
    how = " (95% CI bands)" if has_ci and lines else "" if lines else " (points, binned mean)"
    fig.suptitle(f"{metric_label(m)}\nagainst {x}{how}")
    _footer(fig, f)
    return fig


def heatmap(f: SweepFolder, o: Options) -> Figure:
    """A metric over a grid of two factors, one panel per posture (other factors, if any,
    averaged over)."""
    m = _metric(f, o)
    x, y = _factor(f, o.x, "x", 0), _factor(f, o.y, "y", 1)
    if x == y:
        raise PlotError("--x and --y must be different factors")
    if f.spec["design"] != "grid":
        raise PlotError(
            f"a heatmap needs a grid design; this sweep is {f.spec['design']} (use --kind response)"
        )
    p = f.points
    xs = np.array(sorted({float(v) for v in p[f"x.{x}"]}))
    ys = np.array(sorted({float(v) for v in p[f"x.{y}"]}))
    n = len(f.scenarios)
    fig = new_figure(3.6 * n + 1.2, 3.8)
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True))
    prob = m.startswith(("p_", "censored_"))
    vals = p[m].astype(float)
    vmin, vmax = (0.0, 1.0) if prob else (float(np.nanmin(vals)), float(np.nanmax(vals)))
    mesh = None
    for ax, s in zip(axes, f.scenarios):
        z = np.full((len(ys), len(xs)), np.nan)
        sel = np.nonzero(p["posture"] == s)[0]
        acc: dict[tuple[int, int], list[float]] = {}
        for j in sel:
            ix = int(np.searchsorted(xs, float(p[f"x.{x}"][j])))
            iy = int(np.searchsorted(ys, float(p[f"x.{y}"][j])))
            acc.setdefault((iy, ix), []).append(float(vals[j]))
        for (iy, ix), v in acc.items():
            z[iy, ix] = np.nanmean(v) if np.any(np.isfinite(v)) else np.nan
        # cells at index positions, labelled with the values (grids need not be uniform)
        mesh = ax.pcolormesh(
            np.arange(len(xs) + 1) - 0.5,
            np.arange(len(ys) + 1) - 0.5,
            z,
            cmap=SEQUENTIAL,
            vmin=vmin,
            vmax=vmax,
        )
        if z.size <= 120:
            for iy in range(len(ys)):
                for ix in range(len(xs)):
                    if np.isfinite(z[iy, ix]):
                        frac = (z[iy, ix] - vmin) / (vmax - vmin or 1)
                        ax.text(
                            ix,
                            iy,
                            f"{z[iy, ix]:.2f}" if prob else f"{z[iy, ix]:.0f}",
                            ha="center",
                            va="center",
                            fontsize=6.5,
                            color="black" if frac > 0.55 else "white",
                        )
        ax.set_xticks(*_ticks(xs))
        ax.set_yticks(*_ticks(ys))
        ax.set_title(f.posture(s))
        ax.set_xlabel(x)
        ax.grid(False)
    axes[0].set_ylabel(y)
    assert mesh is not None
    fig.colorbar(mesh, ax=list(axes), label=metric_label(m), shrink=0.9)
    extra = [k for k in f.factors if k not in (x, y)]
    note = f"\n(averaged over {', '.join(extra)})" if extra else ""
    # wrapped: on one line a long metric and two factor paths ran past both edges
    fig.suptitle(textwrap.fill(f"{metric_label(m)} over {x} and {y}", 90) + note)
    _footer(fig, f)
    return fig


def _ticks(v: np.ndarray, most: int = 12) -> tuple[list[int], list[str]]:
    """Tick positions (cell indices) and labels (the factor values), thinned to ``most``."""
    step = max(1, math.ceil(len(v) / most))
    idx = list(range(0, len(v), step))
    return idx, [f"{v[i]:g}" for i in idx]


def sensitivity(f: SweepFolder, o: Options) -> Figure:
    """Bars of each factor's sensitivity index per posture, most influential at the top."""
    sens = f.sensitivity
    posts = [s for s in f.scenarios if s in sens["postures"]]
    if not posts:
        raise PlotError(f"{f.path}: no sensitivity indices (a posture had failed chunks)")
    metric = o.metric or C.P_BEAT_FA(area="theatre")
    if metric not in sens["postures"][posts[0]]:
        raise PlotError(
            f"no sensitivity indices for {metric!r}; available: "
            + ", ".join(sens["postures"][posts[0]])
        )
    fig = new_figure(max(8.0, 4.6 * len(posts) + 1), 1.4 + 0.42 * len(sens["factors"]))
    axes = np.atleast_1d(fig.subplots(1, len(posts), sharey=False))
    for ax, s in zip(axes, posts):
        handles: list[Patch] = []  # the tornado names both its colours
        r = sens["postures"][s][metric]
        names = r["ranking"][::-1]  # most influential at the top
        ypos = np.arange(len(names))
        idx = r["indices"]
        key = r["ranked_by"]
        if key == "ST":
            for k, (name, off) in enumerate((("ST", 0.2), ("S1", -0.2))):
                v = np.array([idx[n][name] for n in names])
                e = np.array([idx[n][f"{name}_conf"] for n in names])
                ax.barh(
                    ypos + off,
                    v,
                    0.4,
                    xerr=e,
                    color=colour(k),
                    error_kw={"lw": 0.7},
                    label={"ST": "total index ST", "S1": "first-order S1"}[name],
                )
            ax.set_xlabel("Sobol index (95% CI)")
        elif key == "mu_star":
            v = np.array([idx[n]["mu_star"] for n in names])
            e = np.array([idx[n]["mu_star_conf"] for n in names])
            ax.barh(ypos, v, 0.6, xerr=e, color=colour(0), label="Morris mu*")
            ax.set_xlabel("Morris mu* (mean absolute elementary effect, 95% CI)")
        else:
            v = np.array([idx[n]["spearman"] for n in names])
            ax.barh(ypos, v, 0.6, color=[colour(0) if t >= 0 else colour(1) for t in v])
            signs = (("metric rises with the factor (rho > 0)", 0), ("falls (rho < 0)", 1))
            handles = [Patch(color=colour(k), label=label) for label, k in signs]
            ax.axvline(0, color="black", lw=0.8)
            ax.set_xlim(-1, 1)
            ax.set_xlabel("Spearman rank correlation with the metric (tornado)")
        ax.set_yticks(ypos, names)
        ax.set_title(f.posture(s))
        ax.legend(handles=handles, loc="lower right") if handles else ax.legend(loc="lower right")
    fig.suptitle(
        f"Sensitivity of {metric_label(metric)}\n({sens['design']} design, "
        f"{len(f.points['point'])} points, most influential factor at the top)"
    )
    _footer(fig, f)
    return fig


BUILDERS: dict[str, Callable[[Any, Options], Figure]] = {
    "reinforced": reinforced,
    "ttr": ttr,
    "buildup": buildup,
    "bottlenecks": bottlenecks,
    "map": theatre_map,
    "phases": phases_figure,
    "response": response,
    "heatmap": heatmap,
    "sensitivity": sensitivity,
}


def default_kinds(f: RunFolder | SweepFolder) -> list[str]:
    """Every plot that fits the folder."""
    if isinstance(f, RunFolder):
        return list(RUN_KINDS)
    kinds = ["response", "sensitivity"]
    if f.spec["design"] == "grid" and len(f.factors) >= 2:
        kinds.insert(1, "heatmap")
    return kinds


def figure(f: RunFolder | SweepFolder, kind: str, o: Options | None = None) -> Figure:
    """Build one figure (raises :class:`PlotError` when it does not fit the folder)."""
    fits = RUN_KINDS if isinstance(f, RunFolder) else SWEEP_KINDS
    if kind not in fits:
        raise PlotError(
            f"--kind {kind} does not fit a {f.kind} folder; choose from {', '.join(fits)}"
        )
    with style():
        return BUILDERS[kind](f, o or Options())


def plot(
    f: RunFolder | SweepFolder,
    kinds: Sequence[str] | None = None,
    o: Options | None = None,
    out: Path | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Save the figures of ``kinds`` (default: all that fit) into ``out`` (default
    ``<folder>/plots``) as PNG and SVG; return the paths written."""
    o = o or Options()
    dest = out or f.path / "plots"
    paths: list[Path] = []
    for kind in kinds or default_kinds(f):
        fig = figure(f, kind, o)
        stem = kind
        if kind in ("response", "heatmap") and (o.x or o.y or o.metric):
            stem = "-".join([kind, *(v for v in (o.metric, o.x, o.y) if v)])
        with style():
            paths += save(fig, dest, stem.replace("/", "_"), formats)
    return paths


__all__ = ["KINDS", "Options", "PlotError", "FolderError", "default_kinds", "figure", "plot"]
