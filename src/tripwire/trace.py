"""One replication's story: re-simulate replication K of a batch and tell what happened to
every formation, as an event log and a Gantt chart (``simulate trace``).

Replication K's numbers depend only on the scenario, the batch seed and K (its seed is
``SeedSequence(seed).spawn(n)[K]``), so re-simulating it through the same chunk runner a
batch uses gives exactly row K of that batch. From a result folder, the scenario is the
folder's ``scenario.resolved.yaml`` and the seed the manifest's, and the re-simulated row
is compared with the stored one: a difference is an error, never a silent other story.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import tripwire.columns as C
from tripwire.errors import UsageError
from tripwire.model.outcome import FORMATIONS_KEY
from tripwire.phases import PHASES, phase_hours
from tripwire.runner import make_chunks, run_chunk
from tripwire.scenario import COUNTRIES, Scenario

EVENT_COLUMNS = ("time_h", "event", "formation", "country", "detail")
"""Columns of the event log CSV: hours from attack start, what happened, to which formation
(empty for theatre events) in which country, and a detail in words."""

_FORMATION_EVENTS = (
    ("ready_h", "ready to move (decision + notice to move)"),
    ("departed_h", "left its origin"),
    ("arrived_h", "last load at its destination"),
    ("married_h", "troops married up with their equipment"),
    ("combat_ready_h", "combat-ready: counts toward the country's strength"),
)


@dataclass
class Trace:
    """Replication ``index`` of ``scenario`` under batch seed ``seed``."""

    scenario: Scenario
    seed: int
    index: int
    row: dict[str, Any]  # the replications.parquet row (without the closure table)
    formations: list[dict[str, Any]]  # the closure table's rows of this replication

    def phases(self) -> list[dict[str, float]]:
        """Each formation's phases (:func:`tripwire.phases.phase_hours`), table order."""
        w, d = float(self.row[C.WARNING()]), float(self.row[C.DECISION()])
        return [phase_hours(f, w, d) for f in self.formations]

    def events(self) -> list[dict[str, Any]]:
        """The event log, sorted by time (ties: theatre events first, then table order)."""
        r = self.row
        out: list[tuple[float, int, int, dict[str, Any]]] = []

        def add(t: float, rank: int, k: int, event: str, who: str, c: str, detail: str) -> None:
            if math.isfinite(t):
                out.append(
                    (
                        t,
                        rank,
                        k,
                        {"time_h": t, "event": event, "formation": who, "country": c}
                        | {"detail": detail},
                    )
                )

        add(-float(r[C.WARNING()]), 0, 0, "warning", "", "", "strategic warning")
        add(float(r[C.DECISION()]), 0, 1, "decision", "", "", "NATO decides to reinforce")
        add(0.0, 0, 2, "attack", "", "", "the attack begins")
        add(float(r[C.MOVEMENT_START()]), 0, 3, "movement", "", "", "movement allowed")
        if r[C.CORRIDOR_CLOSED()]:
            add(float(r[C.CORRIDOR_CLOSURE()]), 0, 4, "corridor cut", "", "", "Suwalki")
        for j, c in enumerate(COUNTRIES):
            add(float(r[C.TTR(area=c)]), 0, 5 + j, "reinforced", "", c, "requirement met")
            add(
                float(r[C.FAIT_ACCOMPLI(area=c)]),
                0,
                8 + j,
                "fait accompli",
                "",
                c,
                "the adversary at the capital",
            )
        for k, f in enumerate(self.formations):
            for col, detail in _FORMATION_EVENTS:
                add(
                    float(f[col]),
                    1,
                    k,
                    col.removesuffix("_h"),
                    f["formation"],
                    f["country"],
                    detail,
                )
        out.sort(key=lambda e: (e[0], e[1], e[2]))
        return [e[3] for e in out]


def retrace(scenario: Scenario, seed: int, index: int) -> Trace:
    """Re-simulate replication ``index`` of a batch of ``scenario`` with seed ``seed``,
    through the chunk runner a batch uses (build-up grid and closure table included)."""
    if index < 0:
        raise UsageError(f"--replication {index}: a replication index is 0 or more")
    (chunk,) = make_chunks([scenario], index + 1, seed, 1, True, index, True)
    _, rows = run_chunk(chunk)
    row = dict(rows[0])
    forms = row.pop(FORMATIONS_KEY)
    return Trace(scenario, seed, index, row, forms)


def same_row(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The columns in which two replication rows differ (NaN equals NaN)."""
    diff = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.shape != ya.shape:
            diff.append(k)
        elif xa.dtype.kind in "fc" or ya.dtype.kind in "fc":
            if not np.array_equal(xa.astype(float), ya.astype(float), equal_nan=True):
                diff.append(k)
        elif not np.array_equal(xa, ya):
            diff.append(k)
    return diff


def write_events(trace: Trace, path: Path) -> None:
    """The event log as CSV (atomic write)."""
    import csv
    import io

    from tripwire.atomic import write_text

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=EVENT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for e in trace.events():
        w.writerow({**e, "time_h": f"{e['time_h']:.3f}"})
    write_text(path, buf.getvalue())


__all__ = ["EVENT_COLUMNS", "PHASES", "Trace", "retrace", "same_row", "write_events"]


def from_folder(folder: Path, index: int, scenario: str | None = None) -> tuple[Trace, str]:
    """Re-simulate replication ``index`` of a finished run folder's scenario (default: its
    first) and check it against the stored row; returns the trace and the scenario's name.
    A :class:`UsageError` names what is wrong (not a run folder, no such scenario or
    replication, a re-simulation that differs from the stored row)."""
    import pyarrow.parquet as pq
    import yaml

    from tripwire.folders import FolderError, RunFolder, open_result

    try:
        f = open_result(folder)
    except FolderError as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(f, RunFolder):
        raise UsageError(f"{folder}: a sweep folder; trace a run folder or a scenario file")
    name = scenario or f.scenarios[0]
    if name not in f.scenarios:
        raise UsageError(f"--scenario {name}: not in {folder} ({', '.join(f.scenarios)})")
    if not 0 <= index < f.replications:
        raise UsageError(
            f"--replication {index}: {folder} holds replications 0 to {f.replications - 1}"
        )
    try:
        data = yaml.safe_load(f.file(f"{name}/scenario.resolved.yaml").read_text())
        sc = Scenario.model_validate(data)
        table = pq.read_table(
            f.file(f"{name}/replications.parquet"), filters=[("replication", "==", index)]
        )
    except (FolderError, OSError, ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{folder}: cannot read {name}'s scenario or row: {exc}") from None
    stored = {k: v[0] for k, v in table.to_pydict().items()}
    tr = retrace(sc, f.seed, index)
    differ = same_row(tr.row, stored)
    if differ:
        raise UsageError(
            f"{folder}: replication {index} re-simulated differs from the stored row in "
            f"{', '.join(differ[:5])} (another tripwire version?); not traced"
        )
    return tr, name


def write_trace(tr: Trace, out: Path) -> list[Path]:
    """``events.csv`` (the event log), ``formations.csv`` (each formation's closure-table
    row and phases, hours) and ``gantt.png``/``.svg`` into ``out``; returns the paths."""
    import csv
    import io

    from tripwire.atomic import write_text
    from tripwire.plot_story import gantt
    from tripwire.plotstyle import save, style

    write_events(tr, out / "events.csv")
    buf = io.StringIO()
    cols = [*C.FORMATION_NAMES, *(f"phase_{p.replace(' ', '_')}_h" for p in PHASES)]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for f, ph in zip(tr.formations, tr.phases(), strict=True):
        w.writerow([f[c] for c in C.FORMATION_NAMES] + [ph[p] for p in PHASES])
    write_text(out / "formations.csv", buf.getvalue())
    with style():
        fig = gantt(tr)
        paths = save(fig, out, "gantt")
    return [out / "events.csv", out / "formations.csv", *paths]


def run_trace(
    target: Path,
    index: int,
    seed: int | None = None,
    scenario: str | None = None,
    out: Path | None = None,
) -> tuple[Trace, list[Path], str]:
    """``simulate trace``: replication ``index`` of a scenario file (batch seed ``seed``,
    default the scenario's) or of a finished run folder (its seed; ``scenario`` picks one
    of its scenarios), written to ``out`` (default ``results/trace-<name>-r<index>-<time>``;
    an existing ``out`` must be empty). Returns the trace, the files written and where the
    replication came from (for the story printed)."""
    from tripwire.loader import load_scenario
    from tripwire.results import new_run_dir

    if target.is_dir():
        if seed is not None:
            raise UsageError("--seed: a run folder's replications use the folder's seed")
        tr, name = from_folder(target, index, scenario)
        origin = (
            f"replication {index} of {target} ({name}), re-simulated: identical to the stored row"
        )
    else:
        sc = load_scenario(target).scenario
        tr = retrace(sc, sc.seed if seed is None else seed, index)
        origin = f"replication {index} of {target} with seed {tr.seed}"
    dest = out or new_run_dir(Path("results"), f"trace-{tr.scenario.name}-r{index}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"--out {dest}: exists and is not an empty folder; choose another")
    try:
        return tr, write_trace(tr, dest), origin
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or dest}: {exc.strerror or exc}") from None


def story(tr: Trace) -> list[str]:
    """The replication in a few plain lines (hours from attack start)."""
    r = tr.row
    lines = [
        f"warning {float(r[C.WARNING()]):.0f} h before the attack; NATO decides at "
        f"{float(r[C.DECISION()]):+.0f} h; "
        + (
            f"the Suwalki corridor is cut at {float(r[C.CORRIDOR_CLOSURE()]):+.0f} h"
            if r[C.CORRIDOR_CLOSED()]
            else "the corridor stays open"
        )
    ]
    forms = tr.formations
    for c in COUNTRIES:
        ttr, fa = float(r[C.TTR(area=c)]), float(r[C.FAIT_ACCOMPLI(area=c)])
        got = (
            f"reinforced at {ttr:+.0f} h" if math.isfinite(ttr) else "not reinforced in the horizon"
        )
        fell = f"capital reached at {fa:+.0f} h" if math.isfinite(fa) else "capital holds"
        who = ""
        for f, ph in zip(forms, tr.phases(), strict=True):
            if f["country"] == c and not f["censored"] and float(f["combat_ready_h"]) == ttr:
                top = max(ph, key=lambda p: ph[p])
                who = f"; decided by {f['formation']} (longest phase: {top}, {ph[top]:.0f} h)"
                break
        lines.append(f"{c.capitalize()}: {got}, {fell}{who}")
    return lines
