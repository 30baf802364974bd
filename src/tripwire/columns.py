"""Every output column, declared once: its name pattern, type, unit and meaning.

The writer (:mod:`tripwire.model.outcome`), the summaries, sweeps, plots, report and API
name columns through these declarations, never through string literals of their own, and
``docs/glossary.md`` lists each of them (a test checks both). A pattern's fields are
``{area}`` (estonia, latvia, lithuania or theatre), ``{country}`` (the first three),
``{t}`` (a checkpoint, hours, formatted ``:g``), ``{link}`` (a network link's id) and
``{name}`` (an air or sea denial's name).

Three tables:

* :data:`REPLICATION` -- ``<scenario>/replications.parquet``, one row per replication;
* :data:`FORMATION` -- ``<scenario>/formations.parquet``, one row per (replication,
  formation): the closure table;
* :data:`POINT` -- a sweep's ``points.parquet`` and ``comparison.parquet`` and the
  API's tidy summary: one number per batch.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tripwire.scenario import COUNTRIES

AREAS: tuple[str, ...] = (*COUNTRIES, "theatre")


@dataclass(frozen=True)
class Column:
    """One column, or a family of columns named by ``pattern`` (``str.format`` fields)."""

    pattern: str
    dtype: str  # bool, int64, float64, string, list<float32>
    unit: str
    meaning: str

    def __call__(self, **keys: Any) -> str:
        """The column's name for these keys; ``t`` (a checkpoint) is formatted ``:g``."""
        if "t" in keys:
            keys["t"] = f"{float(keys['t']):g}"
        return self.pattern.format(**keys)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.pattern) if f)

    @property
    def shown(self) -> str:
        """The pattern as the glossary writes it (``ttr_<area>_h``)."""
        return self.pattern.replace("{", "<").replace("}", ">")


def _c(pattern: str, dtype: str, unit: str, meaning: str) -> Column:
    return Column(pattern, dtype, unit, meaning)


# --------------------------------------------------------------------------- replications

REPLICATION_INDEX = _c("replication", "int64", "", "replication index (0-based)")
SEED = _c("seed", "int64", "", "the replication's seed (from the batch's SeedSequence)")
WARNING = _c("warning_h", "float64", "h", "warning before the attack (sampled)")
DECISION = _c("decision_h", "float64", "h from attack", "NATO's decision")
MOVEMENT_START = _c("movement_start_h", "float64", "h from attack", "movement allowed")
CORRIDOR_CLOSED = _c("corridor_closed", "bool", "", "the Suwalki corridor was cut")
CORRIDOR_CLOSURE = _c("corridor_closure_h", "float64", "h from attack", "when it was cut")
DENIED = _c("denied_{name}", "bool", "", "an air or sea denial was active")
DENIAL_START = _c("denial_{name}_start_h", "float64", "h from attack", "denial starts")
DENIAL_END = _c("denial_{name}_end_h", "float64", "h from attack", "denial ends")
DENIAL_SHARE = _c("denial_{name}_capacity_share", "float64", "fraction", "capacity left")
REQUIRED = _c("required_{country}", "float64", "requirement unit", "the requirement")
IN_PLACE = _c("in_place_{country}", "float64", "requirement unit", "strength at attack start")
TTR = _c("ttr_{area}_h", "float64", "h from attack", "time-to-reinforce (NaN: censored)")
CENSORED = _c("censored_{area}", "bool", "", "TTR not within the horizon")
FAIT_ACCOMPLI = _c(
    "fait_accompli_{area}_h", "float64", "h from attack", "capital reached (NaN: not)"
)
BEAT_FA = _c("beat_fa_{area}", "bool", "", "reinforced before the fait accompli")
HOLD = _c("hold_{area}", "bool", "", "capital not reached within the horizon")
STRENGTH = _c("strength_{country}_{t}h", "float64", "requirement unit", "strength at t")
BUILDUP = _c("buildup_{country}", "list<float32>", "requirement unit", "strength on the grid")
STABILISED = _c("stabilised_{country}_h", "float64", "h from attack", "attacker halted")
ADVANCE = _c("advance_km_{country}", "float64", "km", "distance the attacker advanced")
MIN_RATIO = _c("min_force_ratio_{country}", "float64", "ratio", "smallest force ratio")
ATTACKER_LOSS = _c("attacker_loss_{country}", "float64", "combat power", "attacker lost")
DEFENDER_LOSS = _c("defender_loss_{country}", "float64", "combat power", "defender lost")
FORMATIONS = _c("formations", "int64", "", "formations planned")
RECEIVED = _c("formations_received", "int64", "", "formations combat-ready")
REROUTED = _c("detachments_rerouted", "int64", "", "detachments sent another way")
STRANDED = _c("detachments_stranded", "int64", "", "detachments that could not move on")
SETS_DRAWN = _c("sets_drawn", "int64", "", "pre-positioned sets drawn")
ROUTE_LOADS = _c("route_{link}_loads", "int64", "loads", "loads over the link")
ROUTE_TROOPS = _c("route_{link}_troops", "float64", "troops", "troops over the link")
ROUTE_WAIT_MEAN = _c("route_{link}_wait_h_mean", "float64", "h", "mean wait for the link")
ROUTE_WAIT_MAX = _c("route_{link}_wait_h_max", "float64", "h", "longest wait for the link")

REPLICATION: tuple[Column, ...] = (
    REPLICATION_INDEX,
    SEED,
    WARNING,
    DECISION,
    MOVEMENT_START,
    CORRIDOR_CLOSED,
    CORRIDOR_CLOSURE,
    DENIED,
    DENIAL_START,
    DENIAL_END,
    DENIAL_SHARE,
    REQUIRED,
    IN_PLACE,
    TTR,
    CENSORED,
    FAIT_ACCOMPLI,
    BEAT_FA,
    HOLD,
    STRENGTH,
    BUILDUP,
    STABILISED,
    ADVANCE,
    MIN_RATIO,
    ATTACKER_LOSS,
    DEFENDER_LOSS,
    FORMATIONS,
    RECEIVED,
    REROUTED,
    STRANDED,
    SETS_DRAWN,
    ROUTE_LOADS,
    ROUTE_TROOPS,
    ROUTE_WAIT_MEAN,
    ROUTE_WAIT_MAX,
)
RACE = (STABILISED, ADVANCE, MIN_RATIO, ATTACKER_LOSS, DEFENDER_LOSS)  # adversary: race only


def replication_columns(
    links: Sequence[str],
    checkpoints: Sequence[float],
    denials: Sequence[str] = (),
    race: bool = True,
    buildup: bool = True,
) -> list[str]:
    """Every column of a scenario's ``replications.parquet``, in the writer's order."""
    keys = {
        "area": AREAS,
        "country": COUNTRIES,
        "link": tuple(links),
        "name": tuple(denials),
        "t": tuple(checkpoints),
    }
    out: list[str] = []
    for col in REPLICATION:
        if (col in RACE and not race) or (col is BUILDUP and not buildup):
            continue
        out.extend(_expand(col, keys))
    return out


def _expand(col: Column, keys: dict[str, tuple[Any, ...]]) -> Iterator[str]:
    fields = col.fields
    if not fields:
        yield col.pattern
        return
    first, rest = fields[0], fields[1:]
    for v in keys[first]:
        if not rest:
            yield col(**{first: v})
        else:
            for w in keys[rest[0]]:
                yield col(**{first: v, rest[0]: w})


# --------------------------------------------------------------------------- formations

FORMATION: tuple[Column, ...] = (
    _c("replication", "int64", "", "replication index"),
    _c("formation", "string", "", "a unit's name (' #k' for copies) or '<tier> formation <k>'"),
    _c("country", "string", "", "where it was sent"),
    _c("troops", "float64", "troops", "people"),
    _c("items", "float64", "items", "equipment items it moves"),
    _c("split", "bool", "", "troops and equipment travelled apart"),
    _c("censored", "bool", "", "not combat-ready within the horizon"),
    _c("ready_h", "float64", "h from attack", "readiness done (decision + notice to move)"),
    _c("cleared_h", "float64", "h from attack", "allowed to move (clearance, or the attack)"),
    _c("departed_h", "float64", "h from attack", "left its origin: max(ready_h, cleared_h)"),
    _c("control_h", "float64", "h", "waiting for movement control on the critical path"),
    _c("queue_h", "float64", "h", "waiting for channels on the critical path"),
    _c("service_h", "float64", "h", "holding channels (loading, transfer, offload)"),
    _c("transit_h", "float64", "h", "travelling on the critical path"),
    _c("draw_h", "float64", "h", "drawing a pre-positioned set"),
    _c("arrived_h", "float64", "h from attack", "last load at its destination (NaN: not all)"),
    _c("marry_h", "float64", "h", "marrying troops to equipment that travelled apart"),
    _c("married_h", "float64", "h from attack", "marry-up done"),
    _c("reception_h", "float64", "h", "waiting for and in reception"),
    _c("combat_ready_h", "float64", "h from attack", "counts toward its country's strength"),
    _c("longest_wait_h", "float64", "h", "longest wait for one link's channel on the path"),
    _c("longest_wait_link", "string", "", "that link's id ('' when it never waited)"),
)
FORMATION_NAMES: tuple[str, ...] = tuple(c.pattern for c in FORMATION)

# --------------------------------------------------------------------------- per batch

P_BEAT_FA = _c("p_beat_fa_{area}", "float64", "probability", "P(reinforced before the f.a.)")
P_HOLD = _c("p_hold_{area}", "float64", "probability", "P(capital not reached)")
TTR_MEDIAN = _c("ttr_median_{area}_h", "float64", "h", "median time-to-reinforce")
TTR_RMEAN = _c("ttr_rmean_{area}_h", "float64", "h", "restricted mean time-to-reinforce")
P_REINFORCED_BY = _c(
    "p_reinforced_{area}_by_{t}h", "float64", "probability", "Kaplan-Meier P(reinforced by t)"
)
CENSORED_SHARE = _c("censored_{area}", "float64", "fraction", "share censored")
TTR_MEDIAN_DIFF = _c("ttr_median_diff_{area}_h", "float64", "h", "paired median difference")
P_BEAT_FA_DIFF = _c("p_beat_fa_diff_{area}", "float64", "probability", "paired difference")
P_HOLD_DIFF = _c("p_hold_diff_{area}", "float64", "probability", "paired difference")

TIDY_TTR = _c("ttr_{q}_h", "float64", "h", "TTR quantile q: p10, p50 or p90 (API summary)")
TIDY_P_REINFORCED_BY = _c(
    "p_reinforced_by_{checkpoint}",
    "float64",
    "probability",
    "P(reinforced by the checkpoint, e.g. 24h) (API summary)",
)

POINT: tuple[Column, ...] = (
    P_BEAT_FA,
    P_HOLD,
    TTR_MEDIAN,
    TTR_RMEAN,
    P_REINFORCED_BY,
    CENSORED_SHARE,
    TTR_MEDIAN_DIFF,
    P_BEAT_FA_DIFF,
    P_HOLD_DIFF,
)
TIDY: tuple[Column, ...] = (TIDY_TTR, TIDY_P_REINFORCED_BY)
"""Metric names of the API's tidy summary (``Results.summary``) beside the names above."""


def per_area(col: Column) -> tuple[str, ...]:
    """``col`` for each area (estonia, latvia, lithuania, theatre)."""
    return tuple(col(area=a) for a in AREAS)


OUTCOME_COLUMNS: list[str] = [
    REPLICATION_INDEX.pattern,
    SEED.pattern,
    *(col(area=a) for a in AREAS for col in (TTR, CENSORED, BEAT_FA, HOLD, FAIT_ACCOMPLI)),
]
"""What a sweep point's and the precision check's summaries read of each replication."""
