"""One self-contained HTML report of a result folder.

Figures are embedded as base64 PNG, styles are inline, there is no script and no link to
anything outside the file: the report opens offline and sends no request. Everything in it
comes from the folder (checked against the manifest), never from a new simulation.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tripwire.columns as C
from tripwire import __version__
from tripwire.folders import RunFolder, SweepFolder
from tripwire.headline import sentences
from tripwire.manifest import RunManifest
from tripwire.plots import Options, PlotError, default_kinds, figure
from tripwire.plotstyle import png_bytes, style
from tripwire.results import write_text
from tripwire.summary import AREAS

CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid
#ccc; } table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; vertical-align: top; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; } .note { color: #555; font-size: 0.9em; }
details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: bold; }
code { background: #f6f6f6; padding: 0 3px; }
"""


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are left-aligned (labels)."""
    cls = [' class="l"' if i < left else "" for i in range(len(head))]
    out = ["<table><thead><tr>"]
    out += [f"<th{c}>{esc(h)}</th>" for c, h in zip(cls, head)]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td{c}>{esc(v)}</td>" for c, v in zip(cls, r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def hours_ci(e: Mapping[str, float | None]) -> str:
    def h(v: float | None, low: bool = False) -> str:
        return ("-inf" if low else "> horizon") if v is None else f"{v:,.0f}"

    if e["value"] is None:  # the estimate beyond the horizon: so is its lower bound, or unknown
        return "> horizon"
    return f"{h(e['value'])} [{h(e['lo'], True)}, {h(e['hi'])}]"


def pct_ci(e: Mapping[str, float | None]) -> str:
    if e["value"] is None:
        return "n/a"
    return f"{100 * e['value']:.1f}% [{100 * (e['lo'] or 0):.1f}, {100 * (e['hi'] or 0):.1f}]"


def points_ci(e: Mapping[str, float | None]) -> str:
    """A difference of probabilities, in percentage points."""
    if e["value"] is None:
        return "n/a"
    if e["lo"] is None or e["hi"] is None:
        return f"{100 * e['value']:+.1f}"
    return f"{100 * e['value']:+.1f} [{100 * e['lo']:+.1f}, {100 * e['hi']:+.1f}]"


def _figure_html(f: RunFolder | SweepFolder, kind: str, o: Options) -> str:
    try:
        fig = figure(f, kind, o)
    except PlotError as exc:
        return f'<p class="note">Figure "{esc(kind)}" not available: {esc(exc)}</p>'
    with style():
        data = base64.b64encode(png_bytes(fig)).decode("ascii")
    title = fig.get_suptitle().replace("\n", " ")
    return (
        f'<figure id="fig-{esc(kind)}"><img alt="{esc(title)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{esc(title)}</figcaption></figure>'
    )


def _page(title: str, body: Sequence[str]) -> str:
    made = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + f'<hr><p class="note">Written by tripwire {esc(__version__)} at {esc(made)} from the '
        "result folder only; figures are embedded; this file needs no network.</p>"
        "</body></html>\n"
    )


def _meta(f: RunFolder | SweepFolder) -> str:
    m = f.manifest
    finished = m.created_utc if isinstance(m, RunManifest) else m.finished_utc
    rows = [
        ("folder", str(f.path)),
        ("command", m.command),
        ("tripwire version", m.tripwire_version),
        ("finished (UTC)", finished or ""),
        ("seed", f.seed),
        (
            "replications per scenario" + (" and point" if f.kind == "sweep" else ""),
            f"{f.replications:,}",
        ),
        ("wall time", f"{m.wall_seconds or 0:.1f} s on {m.workers or '?'} workers"),
    ]
    return table(("item", "value"), rows, left=2)


# --------------------------------------------------------------------------- runs


def _phases_html(f: RunFolder) -> list[str]:
    """Where the time goes: the phases of the formation that decided each state's
    time-to-reinforce (mean hours from warning), and how often none decided."""
    from tripwire.phases import PHASES
    from tripwire.plot_story import folder_phases

    data = folder_phases(f)
    head = ["posture", "state", "decided by a formation", "longest phase"]
    head += [f"{p}, h" for p in PHASES]
    rows = []
    for n in f.scenarios:
        for c, cp in data[n].items():
            share = cp["decided_by_a_formation"] / max(cp["replications"], 1)
            means = [cp["phases_h"][p]["mean"] for p in PHASES]
            rows.append(
                [f.posture(n), c, f"{100 * share:.0f}%", cp["dominant"] or "none decides"]
                + ["" if m is None else f"{m:.0f}" for m in means]
            )
    return [
        "<h2>Where the time goes</h2>",
        '<p class="note">For each replication, the formation whose arrival brought a state '
        "up to its requirement decides its time-to-reinforce; its time from warning to "
        "combat-ready splits into these phases (mean hours over the replications in which a "
        "formation decided; the movement phases are those of the critical path of troops "
        "and equipment). Where no formation decides, the forces in place met the "
        "requirement, or it was not met within the horizon.</p>",
        table(head, rows, left=4),
    ]


def run_report(f: RunFolder) -> str:
    s = f.summaries
    body = [
        f"<h1>tripwire: {esc(', '.join(f.posture(n) for n in f.scenarios))}</h1>",
        '<p class="note">Time-to-reinforce (TTR): hours from attack start until a state has '
        "the combat-ready NATO strength it requires (negative: reached before the attack). "
        "Fait accompli (f.a.): the adversary at the capital; P(beat f.a.): reinforced before "
        "it; P(hold): no capital reached within the horizon. "
        "Confidence intervals are 95%; censored replications (not reinforced within the "
        "horizon) are counted as such, never given a number.</p>",
        "<h2>In plain words</h2>",
        "<ul>"
        + "".join(f"<li>{esc(line)}</li>" for line in sentences(f.summaries, f.comparisons))
        + "</ul>",
        "<h2>Headline: the theatre (all three states held)</h2>",
    ]
    cps = list(s[f.scenarios[0]]["areas"]["theatre"]["p_reinforced_by"])
    head = ["scenario", "posture", "median TTR, h [95% CI]"]
    head += [f"P(by {cp})" for cp in cps] + ["P(beat f.a.)", "P(hold)", "censored"]
    rows = []
    for n in f.scenarios:
        a = s[n]["areas"]["theatre"]
        rows.append(
            [n, f.posture(n), hours_ci(a["ttr_h"]["p50"])]
            + [pct_ci(a["p_reinforced_by"][cp]) for cp in cps]
            + [
                pct_ci(a["p_beat_fa"]),
                pct_ci(a["p_hold"]) if "p_hold" in a else "n/a",
                f"{100 * a['censored_share']:.1f}%",
            ]
        )
    body.append(table(head, rows, left=2))
    body.append("<h2>Per state</h2>")
    head = [
        "scenario",
        "state",
        "required (mean)",
        "in place at attack (mean)",
        "median TTR, h [95% CI]",
        "90th pct TTR, h [95% CI]",
        "fait accompli, h (median [95% CI])",
        "P(beat f.a.)",
        "P(hold)",
    ]
    rows = []
    for n in f.scenarios:
        for c in AREAS[:-1]:
            a = s[n]["areas"][c]
            rows.append(
                [
                    n,
                    c,
                    f"{a['required_troops_mean']:,.0f}",
                    f"{a['in_place_at_attack_mean']:,.0f}",
                    hours_ci(a["ttr_h"]["p50"]),
                    hours_ci(a["ttr_h"]["p90"]),
                    hours_ci(a["fait_accompli_h"]) if "fait_accompli_h" in a else "n/a",
                    pct_ci(a["p_beat_fa"]),
                    pct_ci(a["p_hold"]) if "p_hold" in a else "n/a",
                ]
            )
    body.append(table(head, rows, left=2))
    if f.comparisons:
        body.append("<h2>Paired comparison (common random numbers)</h2>")
        body.append(
            '<p class="note">b - a: negative means b is faster. Difference of medians with a '
            "paired bootstrap CI; median of the per-replication differences with a sign-test "
            "CI; changes in the probability of beating the fait accompli (reinforced before "
            "it) and of holding (no capital reached) in percentage points (paired).</p>"
        )
        head = [
            "a",
            "b",
            "area",
            "difference of medians, h",
            "median of differences, h",
            "P(b earlier)",
            "change in P(beat f.a.), points",
            "change in P(hold), points",
        ]
        rows = []
        for comp in f.comparisons:
            for area in AREAS[::-1]:
                x = comp["areas"][area]
                pe = x["p_b_earlier"]
                rows.append(
                    [
                        comp["a"],
                        comp["b"],
                        area,
                        hours_ci(x["difference_of_medians_h"]),
                        hours_ci(x["median_of_differences_h"]),
                        "n/a" if pe is None else f"{100 * pe:.0f}%",
                        points_ci(x["p_beat_fa_difference"]),
                        points_ci(x["p_hold_difference"]) if "p_hold_difference" in x else "n/a",
                    ]
                )
        body.append(table(head, rows, left=3))
    body.append("<h2>Figures</h2>")
    body += [_figure_html(f, k, Options()) for k in default_kinds(f)]
    body += _phases_html(f)
    body.append("<h2>What was run</h2>")
    body.append(_meta(f))
    body.append("<h2>Corridor and routes</h2>")
    rows = [
        [
            n,
            pct_ci(s[n]["corridor"]["p_closed"]),
            f"{s[n]['detachments_rerouted_mean']:.2f}",
            f"{s[n]['detachments_stranded_mean']:.2f}",
        ]
        for n in f.scenarios
    ]
    body.append(
        table(
            [
                "scenario",
                "P(corridor cut)",
                "detachments re-routed (mean)",
                "detachments stranded (mean)",
            ],
            rows,
        )
    )
    body += _sources_html(f)
    return _page(f"tripwire report: {f.path.name}", body)


def _sources_html(f: RunFolder) -> list[str]:
    out = [
        "<h2>Parameters and their sources</h2>",
        '<p class="note">Every value of every scenario as simulated, with where it came from: '
        "an article figure (seeds/figures.yaml), a public figure or a labelled assumption "
        "(scenarios/common/assumptions.yaml), a note in the scenario file, or a run setting."
        "</p>",
    ]
    catalogue: dict[str, dict[str, Any]] = {}
    for n in f.scenarios:
        src = f.sources(n)
        params = src["parameters"]
        rows = [
            [
                k,
                v.get("value", ""),
                v["origin"] + (f" {v['ref']}" if v.get("ref") else ""),
                v.get("source") or "",
            ]
            for k, v in params.items()
        ]
        counts: dict[str, int] = {}
        for v in params.values():
            counts[v["origin"]] = counts.get(v["origin"], 0) + 1
        shown = ", ".join(f"{c} {o}" for o, c in sorted(counts.items()))
        out.append(f"<details><summary>{esc(n)}: {len(rows)} values ({esc(shown)})</summary>")
        out.append(table(["parameter", "value", "origin", "source"], rows, left=4))
        out.append("</details>")
        for k, v in src.get("catalogue", {}).items():
            catalogue.setdefault(k, v)

    def in_catalogue(v: Mapping[str, Any]) -> bool:
        return v.get("catalogue") == "assumption"

    groups = (
        (
            "Assumptions (no source pins these down; sweep them)",
            lambda v: in_catalogue(v) and v.get("kind") == "assumption",
        ),
        ("Public figures", lambda v: in_catalogue(v) and v.get("kind") != "assumption"),
        ("Figures from the source articles", lambda v: v.get("catalogue") == "figure"),
    )
    out.append("<h2>Assumptions and figures used</h2>")
    for title, keep in groups:
        rows = [
            [
                k,
                _value(v.get("value")),
                v.get("unit", ""),
                v.get("meaning", ""),
                v.get("source", ""),
            ]
            for k, v in sorted(catalogue.items())
            if keep(v)
        ]
        if rows:
            out.append(f"<h3>{esc(title)} ({len(rows)})</h3>")
            out.append(table(["id", "value", "unit", "meaning", "source"], rows, left=5))
    return out


def _value(v: Any) -> str:
    if isinstance(v, dict) and len(v) == 1:
        ((kind, params),) = v.items()
        if isinstance(params, dict):
            return (
                f"{kind}("
                + ", ".join(
                    f"{k}={x:g}" if isinstance(x, float | int) else f"{k}={x}"
                    for k, x in params.items()
                )
                + ")"
            )
    return f"{v:,}" if isinstance(v, int) else str(v)


# --------------------------------------------------------------------------- sweeps


def sweep_report(f: SweepFolder) -> str:
    spec = f.spec
    body = [
        f"<h1>tripwire sweep: {esc(spec['name'])}</h1>",
        _meta(f),
        "<h2>Design</h2>",
        table(
            ["item", "value"],
            [
                ("design", spec["design"]),
                ("factors", ", ".join(spec["factors"])),
                ("points", len(spec["points"])),
                ("postures", ", ".join(f"{n} ({f.posture(n)})" for n in f.scenarios)),
            ],
            left=2,
        ),
        "<h2>Figures</h2>",
    ]
    kinds = default_kinds(f)
    figs = []
    for k in kinds:
        if k == "response":
            figs += [_figure_html(f, k, Options(x=x)) for x in f.factors[:4]]
        else:
            figs.append(_figure_html(f, k, Options()))
    body += figs
    sens = f.sensitivity
    body.append("<h2>Sensitivity</h2>")
    for post, res in sens["postures"].items():
        for metric, r in res.items():
            key = r["ranked_by"]
            rows = [[n, f"{r['indices'][n][key]:+.3f}"] for n in r["ranking"]]
            body.append(f"<h3>{esc(post)}: {esc(metric)} ({esc(key)})</h3>")
            body.append(table(["factor", key], rows))
    p = f.points
    cols = ["posture", *(f"x.{x}" for x in f.factors)]
    cols += [C.P_BEAT_FA(area=a) for a in AREAS[::-1]] + [C.TTR_MEDIAN(area="theatre")]
    n = len(p["point"])
    limit = 300
    body.append(f"<h2>Points ({min(n, limit)} of {n} rows; all in points.parquet)</h2>")
    rows = [
        [p[c][j] if c == "posture" else _num(p[c][j]) for c in cols] for j in range(min(n, limit))
    ]
    body.append(table(cols, rows))
    return _page(f"tripwire sweep report: {f.path.name}", body)


def _num(v: Any) -> str:
    x = float(v)
    return "> horizon" if x != x else f"{x:.3g}"


def render(f: RunFolder | SweepFolder) -> str:
    return run_report(f) if isinstance(f, RunFolder) else sweep_report(f)


def write_report(f: RunFolder | SweepFolder, out: Path | None = None) -> Path:
    """Write the report (default ``<folder>/report.html``) atomically; return its path."""
    path = out or f.path / "report.html"
    write_text(path, render(f))
    return path
