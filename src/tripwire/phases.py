"""Where the time goes: each formation's time from warning to combat-ready, split into
phases, and which formation's arrival decided a country's time-to-reinforce.

Event-free (numpy only): it reads the closure table (``formations.parquet``, columns in
:data:`tripwire.columns.FORMATION`) and the replication's clock (``warning_h``,
``decision_h``).

For one formation, with times in hours from attack start and ``w`` the warning:

======================  ====================================================
phase                   hours
======================  ====================================================
decision                ``decision_h + w`` (warning to NATO's decision)
readiness               ``ready_h - decision_h`` (notice to move)
clearance               ``departed_h - ready_h`` (waiting to be allowed to move)
movement control        ``control_h``
queueing                ``queue_h`` (waiting for a channel: train path, berth, ...)
loading and offload     ``service_h`` (holding a channel)
transit                 ``transit_h``
drawing a set           ``draw_h``
marry-up                ``marry_h``
reception               ``reception_h``
======================  ====================================================

They add up to ``w + combat_ready_h``, the formation's time from warning to
combat-ready. The movement phases are those of the critical path: the load whose
arrival completed the formation (troops and equipment travelling apart: the later of
the two), back to its departure. A censored formation (not combat-ready within the
horizon) has no phases.

The formation that **decides** a country's time-to-reinforce in a replication is the one
whose combat-ready time equals it (the arrival that brought delivered strength up to the
requirement; the two numbers are the same float, from the same event). Ties (several
formations ready at the same instant) go to the first in the closure table. When no
formation's time equals it, the forces in place (or the in-place steps) reached the
requirement: nothing decides (``in place``). A censored time-to-reinforce: ``not
reinforced``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tripwire.columns as C
from tripwire.scenario import COUNTRIES

PHASES: tuple[str, ...] = (
    "decision",
    "readiness",
    "clearance",
    "movement control",
    "queueing",
    "loading and offload",
    "transit",
    "drawing a set",
    "marry-up",
    "reception",
)
_DURATION_COLUMNS = (
    "control_h",
    "queue_h",
    "service_h",
    "transit_h",
    "draw_h",
    "marry_h",
    "reception_h",
)


def phase_hours(f: Mapping[str, Any], warning_h: float, decision_h: float) -> dict[str, float]:
    """The phases of one closure-table row (a mapping of its columns), in :data:`PHASES`
    order; NaN for every phase when the formation is censored."""
    if bool(f["censored"]):
        return dict.fromkeys(PHASES, math.nan)
    values = [
        decision_h + warning_h,
        float(f["ready_h"]) - decision_h,
        float(f["departed_h"]) - float(f["ready_h"]),
        *(float(f[c]) for c in _DURATION_COLUMNS),
    ]
    return dict(zip(PHASES, values, strict=True))


def decider(
    forms: Mapping[str, np.ndarray], rows: np.ndarray, country: str, ttr_h: float
) -> int | str:
    """The closure-table row (an index into ``forms``) of the formation whose arrival
    decided ``country``'s time-to-reinforce ``ttr_h`` among ``rows`` (one replication's
    rows); ``"in place"`` or ``"not reinforced"`` when none did (module docstring)."""
    if not math.isfinite(ttr_h):
        return "not reinforced"
    for i in rows:
        if (
            forms["country"][i] == country
            and not forms["censored"][i]
            and float(forms["combat_ready_h"][i]) == ttr_h
        ):
            return int(i)
    return "in place"


BIN_HOURS = 0.25
"""Width of the histograms that hold each phase's distribution over a batch: a quantile
is the midpoint of the bin holding the inverted-CDF order statistic (the
``ceil(q * N)``-th smallest value), so it is within ``BIN_HOURS / 2`` of it, whatever the
batch size; means are exact (sums)."""


@dataclass
class CountryPhases:
    """The deciding formations' phases over a batch, for one posture and one country:
    exact sums (means) and a :data:`BIN_HOURS` histogram per phase (quantiles), so the
    memory does not grow with the replications."""

    country: str
    replications: int = 0
    in_place: int = 0
    not_reinforced: int = 0
    decided: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    counts: dict[str, np.ndarray] = field(
        default_factory=lambda: {p: np.zeros(0, dtype=np.int64) for p in PHASES}
    )
    links: dict[str, int] = field(default_factory=dict)  # longest-wait link: how often

    def add(self, phases: Mapping[str, np.ndarray], links: Sequence[str] = ()) -> None:
        """Add the phases (arrays of hours, one entry per deciding formation) and the link
        on which each waited longest for a channel ('' when it never waited)."""
        for link in links:
            key = str(link) or "(no wait)"
            self.links[key] = self.links.get(key, 0) + 1
        k = len(phases[PHASES[0]])
        self.decided += k
        for p in PHASES:
            h = np.maximum(np.asarray(phases[p], dtype=float), 0.0)  # -0.0 and rounding
            self.sums[p] += float(h.sum())
            idx = np.floor(h / BIN_HOURS).astype(np.int64)
            c = np.bincount(idx, minlength=len(self.counts[p]))
            if len(c) > len(self.counts[p]):
                c[: len(self.counts[p])] += self.counts[p]
                self.counts[p] = c
            else:
                self.counts[p] += c

    def mean(self, phase: str) -> float:
        return self.sums[phase] / self.decided if self.decided else math.nan

    def quantile(self, phase: str, q: float) -> float:
        """The ``q`` quantile (inverted CDF) within ``BIN_HOURS / 2``; NaN if none decided."""
        if not self.decided:
            return math.nan
        cum = np.cumsum(self.counts[phase])
        rank = max(1, math.ceil(q * self.decided - 1e-12))
        b = int(np.searchsorted(cum, rank, side="left"))
        return (b + 0.5) * BIN_HOURS

    @property
    def dominant(self) -> str | None:
        """The phase with the largest mean among deciding formations (None: none decided)."""
        if not self.decided:
            return None
        return max(PHASES, key=self.mean)

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "replications": self.replications,
            "decided_by_a_formation": self.decided,
            "in_place": self.in_place,
            "not_reinforced": self.not_reinforced,
            "dominant": self.dominant,
            "longest_wait_link": dict(sorted(self.links.items(), key=lambda kv: (-kv[1], kv[0]))),
            "phases_h": {
                p: {
                    k: _json(v)
                    for k, v in (
                        ("mean", self.mean(p)),
                        ("p10", self.quantile(p, 0.1)),
                        ("p50", self.quantile(p, 0.5)),
                        ("p90", self.quantile(p, 0.9)),
                    )
                }
                for p in PHASES
            },
        }


def _json(v: float) -> float | None:
    return None if math.isnan(v) else round(v, 3)


FORMATION_INPUTS = (
    "replication",
    "country",
    "censored",
    "ready_h",
    "departed_h",
    *_DURATION_COLUMNS,
    "combat_ready_h",
    "longest_wait_link",
)
"""The closure-table columns :func:`deciding_phases` reads."""


def deciding_phases(
    reps: Mapping[str, np.ndarray],
    blocks: Iterable[Mapping[str, np.ndarray]] | Mapping[str, np.ndarray],
    out: dict[str, CountryPhases] | None = None,
) -> dict[str, CountryPhases]:
    """Per country, the phases of the formation that decided each replication's
    time-to-reinforce. ``reps``: replications.parquet's :data:`REPLICATION_INPUTS`;
    ``blocks``: the closure table's rows of those replications (its
    :data:`FORMATION_INPUTS`), whole or as blocks of rows in table order. With ``out``,
    adds to it (a batch read a part at a time, :func:`read_phases`)."""
    if isinstance(blocks, Mapping):
        blocks = [blocks]
    out = out if out is not None else {c: CountryPhases(c) for c in COUNTRIES}
    index = np.asarray(reps["replication"])
    n = len(index)
    w = np.asarray(reps[C.WARNING()], dtype=float)
    d = np.asarray(reps[C.DECISION()], dtype=float)
    ttr = {c: np.asarray(reps[C.TTR(area=c)], dtype=float) for c in COUNTRIES}
    decided = {c: np.zeros(n, dtype=bool) for c in COUNTRIES}
    for block in blocks:
        pos = np.searchsorted(index, np.asarray(block["replication"]))
        country = np.asarray(block["country"]).astype(str)
        ok = ~np.asarray(block["censored"], dtype=bool)
        ready = np.asarray(block["combat_ready_h"], dtype=float)
        for c in COUNTRIES:
            m = ok & (country == c) & (ready == ttr[c][pos])
            rows = np.nonzero(m)[0]
            first_pos, first = np.unique(pos[rows], return_index=True)  # ties: table order
            keep = ~decided[c][first_pos]
            rows, at = rows[first][keep], first_pos[keep]
            decided[c][at] = True
            links = (
                np.asarray(block["longest_wait_link"])[rows] if "longest_wait_link" in block else ()
            )
            out[c].add(_phase_arrays(block, rows, w[at], d[at]), list(links))
    for c in COUNTRIES:
        finite = np.isfinite(ttr[c])
        out[c].replications += n
        out[c].not_reinforced += int((~finite).sum())
        out[c].in_place += int((finite & ~decided[c]).sum())
    return out


REPLICATION_INPUTS = (
    "replication",
    C.WARNING(),
    C.DECISION(),
    *(C.TTR(area=c) for c in COUNTRIES),
)
"""The replications.parquet columns :func:`deciding_phases` reads."""


def read_phases(
    replications: Path, formations: Path, batch: int = 50_000
) -> dict[str, CountryPhases]:
    """:func:`deciding_phases` of a scenario's two Parquet files, read ``batch``
    replications at a time with their closure-table rows (both tables are in replication
    order), so memory does not grow with the batch."""
    import pyarrow.parquet as pq

    def batches(path: Path, columns: Sequence[str], size: int) -> Iterator[dict[str, np.ndarray]]:
        pf = pq.ParquetFile(path)
        have = [c for c in columns if c in pf.schema_arrow.names]  # older tables lack some
        for b in pf.iter_batches(batch_size=size, columns=have):
            yield {k: v.to_numpy(zero_copy_only=False) for k, v in zip(b.column_names, b.columns)}

    forms = batches(formations, FORMATION_INPUTS, 4 * batch)
    carry: dict[str, np.ndarray] | None = None
    out = {c: CountryPhases(c) for c in COUNTRIES}
    for reps in batches(replications, REPLICATION_INPUTS, batch):
        last = reps["replication"][-1]
        parts = []
        while True:
            carry = carry if carry is not None else next(forms, None)
            if carry is None:
                break
            k = int(np.searchsorted(carry["replication"], last, side="right"))
            parts.append({name: v[:k] for name, v in carry.items()})
            if k < len(carry["replication"]):
                carry = {name: v[k:] for name, v in carry.items()}
                break
            carry = None
        deciding_phases(reps, parts, out)
    return out


def _phase_arrays(
    block: Mapping[str, np.ndarray], rows: np.ndarray, w: np.ndarray, d: np.ndarray
) -> dict[str, np.ndarray]:
    def col(name: str) -> np.ndarray:
        return np.asarray(block[name], dtype=float)[rows]

    values = [d + w, col("ready_h") - d, col("departed_h") - col("ready_h")]
    values += [col(c) for c in _DURATION_COLUMNS]
    return dict(zip(PHASES, values, strict=True))


def bottleneck_sentence(
    posture: str,
    phases: Mapping[str, Mapping[str, Any]],
    labels: Mapping[str, str] | None = None,
) -> str:
    """One line naming the dominant delay of ``posture`` per country, from the summary's
    ``phases`` block (:meth:`CountryPhases.as_dict` per country; the CLI prints it), with
    the link on which the deciding formations most often waited longest (``labels``: link
    ids to words)."""
    parts = []
    for c, cp in phases.items():
        top = cp["dominant"]
        if top is None:
            why = "in place" if cp["in_place"] >= cp["not_reinforced"] else "not reinforced"
            parts.append(f"{c.capitalize()}: no formation decides ({why})")
            continue
        means = {p: cp["phases_h"][p]["mean"] or 0.0 for p in PHASES}
        share = means[top] / sum(means.values())
        text = f"{c.capitalize()}: {top} ({means[top]:.0f} h, {100 * share:.0f}%)"
        links = {k: v for k, v in (cp.get("longest_wait_link") or {}).items() if k != "(no wait)"}
        if links:
            link = max(links, key=lambda k: links[k])
            name = (labels or cp.get("link_labels") or {}).get(link, link)
            often = 100 * links[link] / cp["decided_by_a_formation"]
            text += f", longest wait most often at {name}, in {often:.0f}% of them"
        parts.append(text)
    return f"{posture}: longest phase of the deciding formation -- " + "; ".join(parts)
