"""Validation against the register of real military moves (``scenarios/validation/REGISTER.yaml``).

Each record names a scenario that encodes one real move, the formation whose closure-table
output is compared (``arrived_h - departed_h``, ``transit_h``, ...), the measured value, the
tolerance and the rule, all written before the record was first run. This module runs each
record, computes the model's 10/50/90 % of that output over the register's replications and
applies the fixed verdict rule:

* ``median``: agrees when ``|model median - measured| <= tolerance``;
* ``band``: agrees when ``model q10 <= measured <= model q90``.

A record listed with a ``known_disagreement`` (and its reason) is expected to disagree; if it
starts to agree the list is stale, which is a failure too, so the list stays true.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tripwire.errors import Problem, ScenarioError
from tripwire.loader import dotted, load_scenario
from tripwire.model.outcome import FORMATION_COLUMNS, FORMATIONS_KEY
from tripwire.runner import run_batch
from tripwire.yamlio import read_yaml

DEFAULT_REGISTER = Path("scenarios/validation/REGISTER.yaml")
_COLUMNS = {c for c, _ in FORMATION_COLUMNS}
_REPLICATION_OUTPUT = re.compile(r"^[a-z][a-z0-9_]*_h$")
_OUTPUT = re.compile(r"^\s*([a-z_]+_h)\s*(?:-\s*([a-z_]+_h)\s*)?$")


class Record(BaseModel):
    """One real move, as the register states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    role: Literal["calibration", "check"]
    date: Annotated[str, BeforeValidator(str)]  # YAML reads 2021-07-13 as a date
    what: str
    source: str
    measured: str
    start_event: str
    stop_event: str
    route: str
    scenario: str = Field(description="Scenario file, relative to the register.")
    formation: str | None = Field(
        default=None,
        description="Name of the formation whose closure-table row is compared; null: the "
        "output is a column of the replications table (one value per replication).",
    )
    output: str = Field(
        description="A closure-table column, or the difference of two; without a formation, "
        "a replications-table column ending in _h (NaN: did not happen in the horizon)."
    )
    value_hours: float | None = Field(default=None, allow_inf_nan=False)
    rule: Literal["median", "band", "never"]
    tolerance_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Rule never: the least share of replications in which the output does "
        "not happen within the horizon.",
    )
    informs: list[str] = []
    previously: str | None = None
    known_disagreement: str | None = Field(
        default=None, description="Why the model disagrees (a named parameter), if it does."
    )

    def columns(self) -> tuple[str, str | None]:
        if self.formation is None:
            if not _REPLICATION_OUTPUT.match(self.output):
                raise ValueError(
                    f"output {self.output!r}: without a formation, expected one column of "
                    "replications.parquet ending in _h, such as fait_accompli_estonia_h"
                )
            return self.output, None
        m = _OUTPUT.match(self.output)
        if not m or m.group(1) not in _COLUMNS or (m.group(2) and m.group(2) not in _COLUMNS):
            raise ValueError(
                f"output {self.output!r}: expected COLUMN or COLUMN - COLUMN, columns of "
                f"formations.parquet ending in _h ({', '.join(sorted(_COLUMNS))})"
            )
        return m.group(1), m.group(2)


class Register(BaseModel):
    """The register file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict_rule: str
    replications: int = Field(ge=10)
    seed: int = Field(ge=0, lt=2**63)
    records: list[Record] = Field(min_length=1)


@dataclass(frozen=True)
class Outcome:
    """One record's run and verdict."""

    record: Record
    q10: float
    q50: float
    q90: float
    agrees: bool
    never_share: float = 0.0  # share of replications in which the output did not happen

    @property
    def status(self) -> str:
        known = self.record.known_disagreement is not None
        if self.agrees:
            return (
                "agrees (listed as a known disagreement: update the register)"
                if known
                else "agrees"
            )
        return "known disagreement" if known else "disagrees"

    @property
    def measured(self) -> str:
        """The measured value as printed: hours, or "never" (rule never)."""
        v = self.record.value_hours
        return "never" if v is None else f"{v:g}"

    @property
    def tolerance(self) -> str:
        """The verdict rule of this record as printed."""
        r = self.record
        if r.rule == "median":
            return f"median ± {r.tolerance_hours or 0:g} h"
        if r.rule == "band":
            return "inside 10-90 %"
        return f"never in >= {100 * (r.share or 0):g} % (model: {100 * self.never_share:.0f} %)"

    @property
    def ok(self) -> bool:
        """True when the verdict is what the register expects."""
        return self.agrees != (self.record.known_disagreement is not None)


def is_register(path: Path) -> bool:
    """True when ``path`` holds a register (top-level ``records`` and ``verdict_rule``)."""
    try:
        data, _ = read_yaml(path)
    except ScenarioError:
        return False
    return isinstance(data, dict) and "records" in data and "verdict_rule" in data


def load_register(path: Path) -> Register:
    """Read and check a register; every problem names the file, field and line."""
    data, lines = read_yaml(path)

    def line(loc: tuple[str | int, ...]) -> int | None:
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                return lines[loc[:n]]
        return None

    try:
        reg = Register.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [
                Problem(str(path), dotted(tuple(e["loc"])), str(e["msg"]), line(tuple(e["loc"])))
                for e in exc.errors(include_url=False)
            ]
        ) from None
    problems = []
    seen: set[str] = set()
    for i, r in enumerate(reg.records):
        if r.id in seen:
            problems.append(
                Problem(str(path), f"records[{i}].id", "duplicate id", line(("records", i)))
            )
        seen.add(r.id)
        try:
            r.columns()
        except ValueError as exc:
            problems.append(
                Problem(str(path), f"records[{i}].output", str(exc), line(("records", i, "output")))
            )
        needs = {
            "median": [("value_hours", r.value_hours), ("tolerance_hours", r.tolerance_hours)],
            "band": [("value_hours", r.value_hours)],
            "never": [("share", r.share)],
        }[r.rule]
        for field, value in needs:
            if value is None:
                problems.append(
                    Problem(
                        str(path),
                        f"records[{i}].{field}",
                        f"rule {r.rule} needs {field}",
                        line(("records", i)),
                    )
                )
        if not (path.parent / r.scenario).is_file():
            problems.append(
                Problem(
                    str(path),
                    f"records[{i}].scenario",
                    f"no such file {r.scenario!r}",
                    line(("records", i, "scenario")),
                )
            )
    if problems:
        raise ScenarioError(problems)
    return reg


def values(rows: Sequence[dict], record: Record) -> np.ndarray:
    """The record's output in each replication (inf when it did not happen in the horizon)."""
    a, b = record.columns()
    out = []
    if record.formation is None:
        for row in rows:
            if a not in row:
                raise ScenarioError(
                    [Problem(record.scenario, "output", f"the run has no column {a!r}")]
                )
            v = float(row[a])
            out.append(math.inf if math.isnan(v) else v)
        return np.asarray(out, dtype=float)
    for row in rows:
        forms = [f for f in row[FORMATIONS_KEY] if f["formation"] == record.formation]
        if len(forms) != 1:
            raise ScenarioError(
                [
                    Problem(
                        record.scenario,
                        "formation",
                        f"no single formation named {record.formation!r}",
                    )
                ]
            )
        f = forms[0]
        v = f[a] - (f[b] if b else 0.0)
        out.append(math.inf if math.isnan(v) else v)
    return np.asarray(out, dtype=float)


def judge(record: Record, x: np.ndarray) -> Outcome:
    """The fixed verdict rule on the model's values of one record."""
    # x holds no NaN (values() maps "did not happen" to inf); inf - inf in the
    # interpolation gives NaN, which is inf here
    q10, q50, q90 = (float(v) for v in np.nan_to_num(np.quantile(x, [0.1, 0.5, 0.9]), nan=np.inf))
    if record.rule == "median":
        assert record.tolerance_hours is not None and record.value_hours is not None
        agrees = abs(q50 - record.value_hours) <= record.tolerance_hours
    elif record.rule == "band":
        assert record.value_hours is not None
        agrees = q10 <= record.value_hours <= q90
    else:
        assert record.share is not None
        agrees = float(np.mean(np.isinf(x))) >= record.share
    return Outcome(record, q10, q50, q90, agrees, float(np.mean(np.isinf(x))))


def run_register(
    path: Path,
    workers: int = 1,
    replications: int | None = None,
    only: Sequence[str] = (),
    on_record: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run every record (or those named in ``only``) and judge it."""
    reg = load_register(path)
    n = replications or reg.replications
    out = []
    for r in reg.records:
        if only and r.id not in only:
            continue
        s = load_scenario(path.parent / r.scenario).scenario
        rows = run_batch([s], n, reg.seed, workers, formations=True)[s.name]
        o = judge(r, values(rows, r))
        out.append(o)
        if on_record is not None:
            on_record(o)
    return out


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """0 when every verdict is what the register expects, else 1."""
    return 0 if all(o.ok for o in outcomes) else 1


def fmt_h(v: float) -> str:
    return "never" if math.isinf(v) else f"{v:.0f}"


def markdown(outcomes: Sequence[Outcome], register: Path) -> str:
    """The register's table for docs/validation.md: one row per record, then the details."""
    lines = [
        f"`simulate validate` on `{register.as_posix()}`: measured values and the model's "
        "10 / 50 / 90 % of the same quantity, hours.",
        "",
        "| record | role | date | measured | model 10 / 50 / 90 % | rule, tolerance | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        r = o.record
        lines.append(
            f"| `{r.id}` | {r.role} | {r.date} | {o.measured} | "
            f"{fmt_h(o.q10)} / {fmt_h(o.q50)} / {fmt_h(o.q90)} | {o.tolerance} | "
            f"{'**' + o.status + '**' if not o.agrees else o.status} |"
        )
    lines.append("")
    for o in outcomes:
        r = o.record
        lines += [
            f"**`{r.id}`** ({r.role}). {r.what}. *Measured*: {r.measured}; from {r.start_event} "
            f"to {r.stop_event}; route {r.route}. *Source*: {r.source.strip()} *Model output*: "
            f"`{r.output}`"
            + (f" of `{r.formation}`" if r.formation else " (replications table)")
            + f" in `scenarios/validation/{r.scenario}`."
            + (f" *Sets*: {'; '.join(r.informs)}." if r.informs and r.role == "calibration" else "")
            + (f" *Known disagreement*: {r.known_disagreement}" if r.known_disagreement else ""),
            "",
        ]
    return "\n".join(lines)


BEGIN, END = "<!-- register:begin -->", "<!-- register:end -->"


MAX_DOC_BYTES = 2_000_000


def write_docs(doc: Path, text: str) -> None:
    """Replace the text between the register markers of ``doc`` (a regular file of at most
    ``MAX_DOC_BYTES``, rewritten atomically)."""
    from tripwire.results import write_text

    if not doc.is_file():  # a device or a pipe would be read forever, or replaced
        raise ValueError(f"{doc}: not a regular file")
    if doc.stat().st_size > MAX_DOC_BYTES:
        raise ValueError(f"{doc}: larger than {MAX_DOC_BYTES:,} bytes")
    old = doc.read_text(encoding="utf-8")
    i, j = old.find(BEGIN), old.find(END)
    if i < 0 or j < i:
        raise ValueError(f"{doc}: no {BEGIN} ... {END} markers")
    write_text(doc, old[: i + len(BEGIN)] + "\n" + text + "\n" + old[j:])
