"""Running a sweep: chunks over a backend, streamed to Parquet parts, resumable.

Folder ``results/sweeps/<name>-<time>/``::

    manifest.json          the sweep's full specification, its digest and status
    parts/*.parquet        one file per finished chunk (posture, point, replications)
    replications.parquet   tidy: posture, point, parameters, replication, seed, metrics
    points.parquet         per posture and point: metrics with 95 % CIs
    comparison.parquet     per point: each posture against the first, paired
    sensitivity.json       indices of each factor (sobol, morris; rank correlations otherwise)
    .claim                 while a command writes the folder (tripwire.results.claim)

Every chunk is written atomically as it finishes, so memory stays flat and an interrupted
sweep keeps its work: ``--resume`` recomputes only missing chunks and refuses a folder
made by a different specification. The final tables are identical whatever the backend,
worker count or chunk size, because replication ``i`` always has the seed
``SeedSequence(seed).spawn(n)[i]`` (shared by every point and posture: common random
numbers).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import tripwire.columns as C
from tripwire import manifest, metrics
from tripwire.backends import Backend, stream
from tripwire.designs import Design, Factor, SweepError, make_design, resolve_path, with_values
from tripwire.errors import ScenarioError
from tripwire.loader import LoadedScenario, validate_data
from tripwire.manifest import SweepManifest, SweepSpec, spec_digest
from tripwire.manifest import write as write_manifest
from tripwire.results import (
    MANIFEST,
    Claim,
    FolderBusy,
    checksums,
    claim,
    claim_new,
    inside,
    ledger,
    part_problem,
    read_table,
    write_checked,
    write_json,
    write_rows,
)
from tripwire.runner import Chunk, Row, run_chunk
from tripwire.summary import AREAS, OUTCOME_COLUMNS, censored_times, point_metrics


@dataclass(frozen=True)
class Posture:
    name: str
    data: dict[str, Any]  # the resolved scenario as plain data (pydantic dump, by alias)
    horizon_hours: float
    checkpoints: tuple[float, ...]


@dataclass(frozen=True)
class SweepPlan:
    name: str
    postures: tuple[Posture, ...]
    design: Design
    replications: int
    seed: int
    chunk: int

    def record(self) -> dict[str, Any]:
        """Everything that determines the numbers (the resume check compares this)."""
        return {
            "name": self.name,
            "postures": {p.name: p.data for p in self.postures},
            "design": self.design.kind,
            "factors": [f.path for f in self.design.factors],
            "points": list(self.design.points),
            "replications": self.replications,
            "seed": self.seed,
            "chunk": self.chunk,
        }


def digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a plan's record (:meth:`SweepPlan.record`), as its manifest stores it."""
    return spec_digest(record)


def build_plan(
    loaded: Sequence[LoadedScenario],
    factors: Sequence[Factor],
    design: str,
    samples: int,
    replications: int,
    seed: int,
    chunk: int,
    name: str,
) -> SweepPlan:
    """Check every path in every posture, build the design and validate every point."""
    postures = []
    for ls in loaded:
        data = ls.scenario.model_dump(mode="json", by_alias=True)
        for f in factors:
            resolve_path(data, f.path)  # SweepError with near matches
        postures.append(
            Posture(
                ls.scenario.name,
                data,
                ls.scenario.horizon_hours,
                tuple(ls.scenario.checkpoints_hours),
            )
        )
    if len({p.name for p in postures}) != len(postures):
        raise SweepError("the postures of a sweep need distinct scenario names")
    d = make_design(design, factors, samples, seed)
    return SweepPlan(name, tuple(postures), d, replications, seed, chunk)


@dataclass(frozen=True)
class SweepChunk:
    posture: int
    point: int
    chunk: Chunk

    @property
    def part_name(self) -> str:
        return f"s{self.posture:02d}-p{self.point:06d}-r{self.chunk.start:09d}.parquet"


def run_sweep_chunk(sc: SweepChunk) -> tuple[SweepChunk, list[Row]]:
    """Worker entry point (a module-level function, so every backend can pickle it)."""
    return sc, run_chunk(sc.chunk)[1]


def point_specs(plan: SweepPlan) -> list[list[str]]:
    """Each posture's scenario at each point, re-validated (a bad value names its point),
    as JSON: ``specs[posture][point]``."""
    specs = []
    for p in plan.postures:
        row = []
        for pi, values in enumerate(plan.design.points):
            try:
                s = validate_data(with_values(p.data, values), f"{p.name} point {pi}")
            except ScenarioError as exc:
                shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
                raise SweepError(
                    f"point {pi} ({shown}) gives an invalid scenario: "
                    + "; ".join(str(x) for x in exc.problems)
                ) from None
            row.append(s.model_dump_json(by_alias=True))
        specs.append(row)
    return specs


def make_chunks(plan: SweepPlan, specs: list[list[str]] | None = None) -> list[SweepChunk]:
    """All chunks (``specs`` from :func:`point_specs`, computed here if not given)."""
    specs = point_specs(plan) if specs is None else specs
    n, size = plan.replications, plan.chunk
    return [
        SweepChunk(si, pi, Chunk(p.name, spec, plan.seed, a, min(a + size, n)))
        for si, p in enumerate(plan.postures)
        for pi, spec in enumerate(specs[si])
        for a in range(0, n, size)
    ]


@dataclass
class SweepOutcome:
    folder: Path
    chunks: int
    computed: int
    reused: int
    reused_replications: int
    failures: list[dict[str, Any]] = field(default_factory=list)


def open_folder(
    folder: Path,
    plan: SweepPlan,
    resume: bool,
    force: bool = False,
    notify: Callable[[str], None] | None = None,
) -> tuple[str, Claim | None]:
    """Create a sweep folder, or check that ``folder`` was made by this very plan.

    Returns the folder's status ("running" for a new or interrupted sweep, "incomplete" for
    one with failed chunks, "complete") and this command's claim on the folder
    (:func:`tripwire.results.claim`, ``None`` for a complete one, which is only read): the
    caller holds it until the sweep's manifest is final. The claim is the first thing
    written, so of two sweeps given one folder exactly one proceeds. With ``force`` an
    existing tripwire result folder holding only what tripwire writes
    (:func:`tripwire.results.replaceable`) is replaced; ``notify`` hears, before, what is
    deleted. Anything else is a :class:`SweepError` naming the folder and the reason."""
    rec = plan.record()
    if resume:
        status = _resumable(folder, rec)
        if status == "complete":
            return status, None
        held = _claim(folder)
        try:  # again, now that no other command can change it
            return _resumable(folder, rec), held
        except BaseException:
            held.release()
            raise
    try:
        inside(folder, MANIFEST)
    except ValueError as exc:
        raise SweepError(f"{folder}: {exc}") from None
    hint = f"continue it with --resume {folder}, or replace it with --force"
    try:
        held = claim_new(
            folder,
            force,
            notify or (lambda _m: None),
            hint,
            then=lambda: write_manifest(folder, SweepManifest.start(rec)),
        )
    except FolderBusy as exc:
        raise SweepError(str(exc)) from None
    return "running", held


def _claim(folder: Path) -> Claim:
    try:
        return claim(folder)
    except FolderBusy as exc:
        raise SweepError(str(exc)) from None


def _resumable(folder: Path, rec: Mapping[str, Any]) -> str:
    """The status of the sweep folder ``folder`` if it was made by the plan whose record is
    ``rec``; :class:`SweepError` naming the folder and why not (its manifest goes through
    the one manifest model every reader uses, :func:`tripwire.manifest.read`)."""
    try:
        old = manifest.read(folder)
    except manifest.ManifestError as exc:
        if exc.damaged:
            raise SweepError(
                f"--resume {folder}: {exc.why}; it cannot be resumed (start the sweep again "
                "with another --out, or replace it with --force)"
            ) from None
        there = (folder / MANIFEST).is_file()
        why = "its manifest.json is not a tripwire one" if there else "no manifest.json there"
        raise SweepError(f"--resume {folder}: {why}, not a sweep folder") from None
    if not isinstance(old, SweepManifest):
        raise SweepError(
            f"--resume {folder}: a run folder, not a sweep; use `simulate run --resume {folder}`"
        )
    if old.digest != digest(rec):
        stored = old.spec.model_dump()
        diff = [
            k
            for k in rec
            if json.dumps(rec[k], sort_keys=True, default=str)
            != json.dumps(stored.get(k), sort_keys=True, default=str)
        ]
        raise SweepError(
            f"--resume {folder}: made by a different sweep; differs in "
            f"{', '.join(diff) or 'its specification'}"
        )
    return old.status


def execute(
    plan: SweepPlan,
    folder: Path,
    backend: Backend,
    progress: Callable[[int], None] | None = None,
    chunks: Sequence[SweepChunk] | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepOutcome:
    """Run every chunk without a finished, checksum-verified part; retry a failed chunk
    once, then report it. ``notify`` hears of each part found untrustworthy."""
    chunks = make_chunks(plan) if chunks is None else chunks
    parts = folder / "parts"
    sums = ledger(parts)
    todo, reused, reused_reps = [], 0, 0
    for sc in chunks:
        path = parts / sc.part_name
        problem = part_problem(parts, path, sums) if path.is_file() else "missing"
        if problem is None and not _rows_ok(path, sc.chunk.stop - sc.chunk.start):
            problem = "wrong number of rows"
        if problem is None:
            reused += 1
            reused_reps += sc.chunk.stop - sc.chunk.start
            if progress:
                progress(sc.chunk.stop - sc.chunk.start)
        else:
            if problem != "missing" and notify is not None:
                notify(f"{path}: {problem}; its chunk runs again")
            todo.append(sc)
    failures: list[dict[str, Any]] = []
    for sc, result in stream(backend, run_sweep_chunk, todo, retries=1):
        if isinstance(result, Exception):  # failed twice: report it, keep going
            failures.append(
                {
                    "posture": plan.postures[sc.posture].name,
                    "point": sc.point,
                    "replications": [sc.chunk.start, sc.chunk.stop],
                    "error": f"{type(result).__name__}: {result}",
                }
            )
            continue
        rows = result[1]
        write_checked(parts, parts / sc.part_name, _tidy(plan, sc, rows))
        if progress:
            progress(len(rows))
    return SweepOutcome(
        folder, len(chunks), len(todo) - len(failures), reused, reused_reps, failures
    )


def _rows_ok(path: Path, n: int) -> bool:
    try:
        return pq.read_metadata(path).num_rows == n
    except (OSError, pa.ArrowException):
        return False


def _tidy(plan: SweepPlan, sc: SweepChunk, rows: list[Row]) -> list[Row]:
    values = plan.design.points[sc.point]
    head = {
        "posture": plan.postures[sc.posture].name,
        "point": sc.point,
        **{f"x.{k}": v for k, v in values.items()},
    }
    return [{**head, **r} for r in rows]


def finalize(plan: SweepPlan, outcome: SweepOutcome) -> dict[str, Any]:
    """Assemble the tidy tables, per-point summaries, comparisons and sensitivity indices."""
    folder = outcome.folder
    parts = sorted((folder / "parts").glob("*.parquet"))  # posture, point, replications
    if not parts:
        raise SweepError(f"{folder}: no chunk finished, so there is nothing to summarise")
    schema = pq.read_schema(parts[0])
    for p in parts[1:]:  # one schema at a time (postures may differ in their links)
        other = pq.read_schema(p)
        if other != schema:
            schema = pa.unify_schemas([schema, other])
    by_point: dict[int, dict[int, list[Path]]] = {}
    for p in parts:
        by_point.setdefault(int(p.name[5:11]), {}).setdefault(int(p.name[1:3]), []).append(p)
    points, comparisons = [], []
    group: list[dict[str, np.ndarray]] = []

    def flush(si: int, pi: int) -> None:
        """Summarise one (posture, point) group; compare it with the first posture."""
        t = {k: np.concatenate([g[k] for g in group]) for k in group[0]}
        post, values = plan.postures[si], {f"x.{k}": v for k, v in plan.design.points[pi].items()}
        points.append(
            {
                "posture": post.name,
                "point": pi,
                **values,
                **point_metrics(t, post.horizon_hours, post.checkpoints),
            }
        )
        base_parts = by_point[pi].get(0) if si else None
        if base_parts:
            base = _concat(base_parts)
            if len(base["replication"]) == len(t["replication"]):
                comparisons.append(
                    {
                        "a": plan.postures[0].name,
                        "b": post.name,
                        "point": pi,
                        **values,
                        **_paired(base, t),
                    }
                )

    key: tuple[int, int] | None = None
    buffer: list[pa.Table] = []  # parts gathered into row groups of ROW_GROUP rows: few
    # row groups keep the file's footer (and the writer's memory) small however many parts

    def drain(writer: pq.ParquetWriter, force: bool = False) -> None:
        if buffer and (force or sum(b.num_rows for b in buffer) >= ROW_GROUP):
            writer.write_table(pa.concat_tables(buffer), row_group_size=ROW_GROUP)
            buffer.clear()

    with pq.ParquetWriter(folder / "replications.parquet.tmp", schema) as writer:
        for p in parts:  # one part at a time: memory stays flat
            here = (int(p.name[1:3]), int(p.name[5:11]))
            if key is not None and here != key:
                flush(*key)
                group.clear()
            key = here
            t = pq.read_table(p)
            for name in set(schema.names) - set(t.column_names):
                t = t.append_column(name, pa.nulls(t.num_rows, schema.field(name).type))
            t = t.select(schema.names).cast(schema)
            buffer.append(t)
            drain(writer)
            group.append({c: t.column(c).to_numpy(zero_copy_only=False) for c in OUTCOME_COLUMNS})
        drain(writer, force=True)
        if key is not None:
            flush(*key)
    (folder / "replications.parquet.tmp").replace(folder / "replications.parquet")
    write_rows(folder / "points.parquet", points)
    if comparisons:
        write_rows(folder / "comparison.parquet", comparisons)
    sens = sensitivity(plan, points)
    write_json(folder / "sensitivity.json", sens)
    return {"points": points, "comparisons": comparisons, "sensitivity": sens}


ROW_GROUP = 5_000  # rows per row group of replications.parquet (bounds finalize memory)


def _concat(paths: Sequence[Path]) -> dict[str, np.ndarray]:
    """One point's replications, only the columns summaries need (memory stays small)."""
    tables = [read_table(p, OUTCOME_COLUMNS) for p in paths]
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def _paired(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    for area in AREAS:
        med = metrics.median_difference(censored_times(a, area), censored_times(b, area))
        beat_col, hold_col = C.BEAT_FA(area=area), C.HOLD(area=area)
        beat = metrics.paired_proportion_difference(a[beat_col], b[beat_col])
        hold = metrics.paired_proportion_difference(a[hold_col], b[hold_col])
        for key, est in (
            (C.TTR_MEDIAN_DIFF(area=area), med),
            (C.P_BEAT_FA_DIFF(area=area), beat),
            (C.P_HOLD_DIFF(area=area), hold),
        ):
            for part, v in (("", est.value), ("_lo", est.lo), ("_hi", est.hi)):
                out[key + part] = v if math.isfinite(v) else float("nan")
    return out


SENSITIVITY_METRICS = (C.P_BEAT_FA(area="theatre"), C.TTR_RMEAN(area="theatre"))


def sensitivity(plan: SweepPlan, points: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sensitivity of each posture's headline metrics to each factor.

    Sobol: first-order and total indices (SALib, Saltelli design). Morris: mu* and sigma.
    Grid and Latin hypercube: Spearman rank correlation of the metric with each factor.
    Factors are listed most influential first.
    """
    from scipy.stats import spearmanr

    d = plan.design
    names = [f.path for f in d.factors]
    out: dict[str, Any] = {"design": d.kind, "factors": names, "postures": {}}
    for post in plan.postures:
        rows = sorted((r for r in points if r["posture"] == post.name), key=lambda r: r["point"])
        if len(rows) != len(d.points):
            continue  # incomplete (failed chunks): no indices rather than wrong ones
        res: dict[str, Any] = {}
        for m in SENSITIVITY_METRICS:
            y = np.array([r[m] for r in rows], dtype=float)
            if d.kind == "sobol":
                from SALib.analyze import sobol

                si = sobol.analyze(d.problem, y, calc_second_order=False, seed=plan.seed)
                per = {
                    n: {
                        "S1": float(si["S1"][i]),
                        "S1_conf": float(si["S1_conf"][i]),
                        "ST": float(si["ST"][i]),
                        "ST_conf": float(si["ST_conf"][i]),
                    }
                    for i, n in enumerate(names)
                }
                key = "ST"
            elif d.kind == "morris":
                from SALib.analyze import morris

                si = morris.analyze(d.problem, d.samples, y, num_levels=4, seed=plan.seed)
                per = {
                    n: {
                        "mu_star": float(si["mu_star"][i]),
                        "sigma": float(si["sigma"][i]),
                        "mu_star_conf": float(si["mu_star_conf"][i]),
                    }
                    for i, n in enumerate(names)
                }
                key = "mu_star"
            else:
                assert d.samples is not None
                per = {}
                for i, n in enumerate(names):
                    x = d.samples[:, i]
                    rho = (
                        float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else 0.0
                    )
                    per[n] = {"spearman": 0.0 if math.isnan(rho) else rho}
                key = "spearman"
            ranking = sorted(names, key=lambda n: -abs(per[n][key]))
            res[m] = {"indices": per, "ranking": ranking, "ranked_by": key}
        out["postures"][post.name] = res
    return out


def complete(plan: SweepPlan, outcome: SweepOutcome, info: Mapping[str, Any]) -> None:
    """Write the final manifest (status, checksums, run information)."""
    folder = outcome.folder
    status: Literal["complete", "incomplete"] = "complete" if not outcome.failures else "incomplete"
    if status == "complete":  # the parts are now in replications.parquet
        shutil.rmtree(folder / "parts", ignore_errors=True)
    write_manifest(
        folder,
        SweepManifest(
            status=status,
            digest=digest(plan.record()),
            spec=SweepSpec(**plan.record()),
            failures=list(outcome.failures),
            files=checksums(folder),
            **info,
        ),
    )
