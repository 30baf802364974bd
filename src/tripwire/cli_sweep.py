"""``simulate sweep`` and ``simulate threshold``: thin commands over sweep and threshold."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tripwire import __version__
from tripwire.backends import BackendError, make_backend
from tripwire.cli import (
    _load_all,
    _sigterm_as_interrupt,
    app,
    err,
    fail,
    out,
    progress_bar,
    write_failed,
)
from tripwire.errors import ScenarioError
from tripwire.guards import estimate
from tripwire.names import check_name
from tripwire.results import new_run_dir, tripwire_manifest
from tripwire.runner import chunk_size
from tripwire.summary import AREAS
from tripwire.sweep import DESIGNS, Factor, SweepError, factor_from, parse_factor
from tripwire.sweeprun import (
    build_plan,
    complete,
    execute,
    finalize,
    make_chunks,
    open_folder,
    point_specs,
)
from tripwire.threshold import find_threshold, parse_target
from tripwire.yamlio import read_yaml

SPEC_KEYS = {"name", "scenarios", "vary", "design", "samples", "replications", "seed", "chunk"}


def _stored_chunk(folder: Path | None) -> int | None:
    """On --resume, the chunk size the sweep started with (part files are per chunk)."""
    if folder is None:
        return None
    manifest = tripwire_manifest(folder)  # None for anything but a tripwire manifest
    try:
        return int(manifest["spec"]["chunk"]) if manifest is not None else None
    except (KeyError, ValueError, TypeError):
        return None


def _read_spec(targets: list[Path]) -> tuple[list[Path], dict[str, Any]]:
    """Scenario files as given, or one sweep-spec file (a mapping with ``vary``)."""
    if len(targets) == 1:
        data, lines = read_yaml(targets[0])
        if isinstance(data, dict) and "vary" in data and "countries" not in data:
            unknown = set(data) - SPEC_KEYS
            if unknown:
                raise SweepError(
                    f"{targets[0]}: unknown sweep keys {sorted(unknown)} "
                    f"(known: {sorted(SPEC_KEYS)})"
                )
            if "name" in data:
                _check_sweep_name(targets[0], data["name"], lines)
            files = [targets[0].parent / str(f) for f in data.get("scenarios") or []]
            if not files:
                raise SweepError(f"{targets[0]}: a sweep file needs scenarios: [files]")
            return files, data
    return targets, {}


def _check_sweep_name(file: Path, value: object, lines: dict[Any, int]) -> None:
    """A sweep file's ``name`` becomes ``results/sweeps/<name>-<time>/``: it must be one
    plain name (:func:`tripwire.names.check_name`); SweepError naming file, line and field."""
    line = lines.get(("name",))
    where = f"{file}:{line}" if line else str(file)
    if not isinstance(value, str):
        raise SweepError(f"{where}: name: must be text, not {json.dumps(value, default=str)}")
    try:
        check_name(value)
    except ValueError as exc:
        raise SweepError(f"{where}: name: {exc}") from None


@app.command()
def sweep(
    targets: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files (postures compared point by point), or one sweep-spec YAML."
        ),
    ],
    vary: Annotated[
        list[str] | None,
        typer.Option("--vary", help="PATH=LOW:HIGH[:N] or PATH=V1,V2,... (repeatable)."),
    ] = None,
    design: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(DESIGNS)} (default grid).")
    ] = None,
    samples: Annotated[
        int | None, typer.Option(help="Base samples of lhs, sobol, morris designs.")
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option("--replications", "-n", min=1, help="Replications per point and posture."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Sweep seed (default: the first file's).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = os.cpu_count()
    or 1,
    chunk: Annotated[
        int | None, typer.Option(min=1, help="Replications per task (default: automatic).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler.")
    ] = None,
    dask_local: Annotated[
        int | None,
        typer.Option(
            "--dask-local", min=1, help="Start a Dask LocalCluster with N workers on loopback."
        ),
    ] = None,
    connect_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for a Dask scheduler.")
    ] = 10.0,
    resume: Annotated[
        Path | None, typer.Option(help="Continue an interrupted sweep folder.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Sweep folder (default: results/sweeps/<name>-<UTC time>)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    plot: Annotated[
        bool,
        typer.Option("--plot", help="Also draw every figure into FOLDER/plots (see `plot`)."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing sweep folder given with --out (only a tripwire one).",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Run even when the estimate says the sweep would take longer than "
            "TRIPWIRE_MAX_HOURS (default 24) or fill the disk.",
        ),
    ] = False,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube, Sobol or Morris) over one or more
    postures, locally or on Dask; stream results to a resumable folder."""
    try:
        files, spec = _read_spec(targets)
    except (SweepError, ScenarioError) as exc:
        raise fail(str(exc)) from None
    loaded = _load_all(files)
    try:
        factors: list[Factor] = [factor_from(p, v) for p, v in (spec.get("vary") or {}).items()]
        factors += [parse_factor(v) for v in vary or []]
        n = replications or int(spec.get("replications") or loaded[0].scenario.replications)
        root = seed if seed is not None else int(spec.get("seed", loaded[0].scenario.seed))
        size = chunk or spec.get("chunk") or _stored_chunk(resume)
        size = size or chunk_size(n, workers if dask_local is None else dask_local)
        name = spec.get("name") or "-".join(ls.scenario.name for ls in loaded)
        plan = build_plan(
            loaded,
            factors,
            design or spec.get("design", "grid"),
            samples if samples is not None else int(spec.get("samples", 64)),
            n,
            root,
            int(size),
            str(name),
        )
        try:
            folder = resume or out_dir or new_run_dir(Path("results") / "sweeps", plan.name)
        except ValueError as exc:
            raise SweepError(f"cannot name the sweep folder: {exc}") from None
        specs = point_specs(plan)  # validates every point before anything is written
        total = len(plan.postures) * len(plan.design.points) * n
        if resume is None:
            cores = workers if dask_local is None else dask_local
            guess = estimate(
                [ls.scenario for ls in loaded], total // len(loaded), cores, folder, buildup=False
            )
            if (guess.too_long or guess.too_big) and not yes:
                raise SweepError(
                    guess.describe(
                        f"{len(plan.design.points)} points x {len(plan.postures)} postures x "
                        f"{n:,} replications",
                        cores,
                    )
                    + f"; the limit is {guess.max_hours:g} h (TRIPWIRE_MAX_HOURS) and 90% of "
                    "the free space. Use fewer points or replications, or --yes to run it anyway"
                )
        status = open_folder(folder, plan, resume is not None, force, notify=_say)
        chunks = make_chunks(plan, specs)  # after the guard: a refused sweep builds none
    except (SweepError, ScenarioError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the sweep folder {folder}: {exc.strerror or exc}") from None
    if status == "complete":
        out.print(f"{folder} is already complete: nothing to resume")
        return
    started = dt.datetime.now(dt.UTC)
    try:
        backend = make_backend(workers, scheduler, dask_local, connect_timeout)
    except BackendError as exc:
        raise fail(str(exc)) from None
    try:
        with progress_bar(total, quiet) as tick, _sigterm_as_interrupt():
            try:
                outcome = execute(plan, folder, backend, tick, chunks, notify=_warn)
            except KeyboardInterrupt:
                err.print(f"interrupted: finished chunks are kept; continue with --resume {folder}")
                raise typer.Exit(130) from None
            except OSError as exc:
                raise write_failed(exc, folder, f"simulate sweep ... --resume {folder}") from None
            except BackendError as exc:
                err.print(f"[bold red]error[/]: {exc}; continue with --resume {folder}")
                raise typer.Exit(1) from None
    finally:
        backend.close()
    try:
        result = finalize(plan, outcome)
    except OSError as exc:
        raise write_failed(exc, folder, f"simulate sweep ... --resume {folder}") from None
    secs = (dt.datetime.now(dt.UTC) - started).total_seconds()
    info = {
        "tripwire_version": __version__,
        "command": shlex.join(["simulate", *sys.argv[1:]]),
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(secs, 2),
        "backend": backend.label,
        "workers": backend.workers,
        "points": len(plan.design.points),
        "postures": [p.name for p in plan.postures],
        "replications_total": total,
        "computed_chunks": outcome.computed,
        "reused_chunks": outcome.reused,
    }
    complete(plan, outcome, info)
    _print_points(result["points"], plan.design.factors)
    _print_sensitivity(result["sensitivity"])
    done = total - outcome.reused_replications
    out.print(
        f"{len(plan.design.points)} points x {len(plan.postures)} postures x {n} replications"
        f" = {total}; computed {done} in {secs:.1f} s ({done / max(secs, 1e-9):.0f}/s) "
        f"on {backend.label}; {outcome.reused} chunks reused"
    )
    out.print(f"results: {folder}")
    if outcome.failures:
        for f in outcome.failures:
            err.print(
                f"[bold red]failed[/]: posture {f['posture']} point {f['point']} "
                f"replications {f['replications']}: {f['error']}",
                highlight=False,
            )
        err.print(f"{len(outcome.failures)} chunks failed twice; rerun with --resume {folder}")
        raise typer.Exit(1)
    if plot:
        from tripwire.cli_view import make_plots

        make_plots(folder)


def _say(message: str) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    err.print(f"[bold yellow]warning[/]: {message}", highlight=False, soft_wrap=True)


def _print_points(points: list[dict[str, Any]], factors: Any, limit: int = 40) -> None:
    t = Table(title="sweep points: P(hold) = P(reinforced before the fait accompli), 95% CI")
    t.add_column("posture")
    for f in factors:
        t.add_column(f.path, justify="right")
    for area in AREAS:
        t.add_column(f"P(hold) {area}", justify="right")
    t.add_column("median TTR theatre, h", justify="right")
    for r in points[:limit]:
        t.add_row(
            r["posture"],
            *[f"{r['x.' + f.path]:g}" for f in factors],
            *[
                f"{100 * r[f'p_hold_{a}']:.0f}% [{100 * r[f'p_hold_{a}_lo']:.0f}, "
                f"{100 * r[f'p_hold_{a}_hi']:.0f}]"
                for a in AREAS
            ],
            "beyond horizon"
            if r["ttr_median_theatre_h"] != r["ttr_median_theatre_h"]
            else f"{r['ttr_median_theatre_h']:.0f}",
        )
    out.print(t)
    if len(points) > limit:
        out.print(f"... {len(points) - limit} more rows in points.parquet")


def _print_sensitivity(sens: dict[str, Any]) -> None:
    for posture, res in sens["postures"].items():
        for metric, r in res.items():
            ranked = ", ".join(
                f"{n} ({r['indices'][n][r['ranked_by']]:+.2f})" for n in r["ranking"]
            )
            out.print(
                f"sensitivity of {metric} ({posture}, {r['ranked_by']}): {ranked}", highlight=False
            )


@app.command()
def threshold(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    vary: Annotated[str, typer.Option("--vary", help="PATH=LOW:HIGH, the range to search.")],
    target: Annotated[str, typer.Option(help='Goal, e.g. "p_hold_lithuania>=0.9".')],
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=1, help="Replications per evaluation.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the file's).")] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(help="Stop when the bracket is this narrow (default: range / 64)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = os.cpu_count()
    or 1,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Run even if the estimated time exceeds TRIPWIRE_MAX_HOURS."),
    ] = False,
) -> None:
    """Smallest parameter value at which a metric meets a target, by bisection over Monte
    Carlo estimates (common random numbers), with a conservative answer from its CI."""
    (ls,) = _load_all([file])
    s = ls.scenario
    known = [f"{k}_{a}" for a in AREAS for k in ("p_hold", "censored")]
    known += [f"{k}_{a}_h" for a in AREAS for k in ("ttr_median", "ttr_rmean")]
    known += [f"p_reinforced_{a}_by_{cp:g}h" for a in AREAS for cp in s.checkpoints_hours]
    try:
        factor = parse_factor(vary)
        goal = parse_target(target, known)
        lo, hi = factor.bounds()
        if tolerance is not None and not tolerance > 0:
            raise SweepError(f"--tolerance must be a positive number, not {tolerance:g}")
        n, tol = replications or min(s.replications, 500), tolerance or (hi - lo) / 64
        # both ends, then two bisections (the estimate's and the conservative one's)
        evaluations = 2 + 2 * max(0, math.ceil(math.log2(max(hi - lo, tol) / tol)))
        guess = estimate([s], n * evaluations, workers, Path.cwd(), buildup=False)
        if guess.too_long and not yes:
            raise SweepError(
                f"up to {evaluations} evaluations x {n:,} replications would take about "
                f"{guess.duration} on {workers} worker(s); the limit is {guess.max_hours:g} h "
                "(TRIPWIRE_MAX_HOURS). Use fewer replications, a coarser --tolerance, or --yes "
                "to run it anyway"
            )
        res = find_threshold(
            ls,
            factor,
            goal,
            n,
            s.seed if seed is None else seed,
            workers,
            tol,
            on_eval=lambda e: err.print(
                f"  {factor.path} = {e.x:g}: {goal.metric} = {e.metrics[goal.metric]:.3f}",
                highlight=False,
            ),
        )
    except (SweepError, ScenarioError) as exc:
        raise fail(str(exc)) from None
    for label in ("estimate", "conservative"):
        r = res[label]
        if r["value"] is None:
            out.print(f"{label}: {res['target']} is {r['note']} {factor.path} in {res['range']}")
        else:
            ci = r.get("metric_ci")
            extra = (
                f" ({goal.metric} = {r['metric']:.3f}, 95% CI {ci[0]:.3f}-{ci[1]:.3f})"
                if r.get("metric") is not None
                else f" ({r.get('note')})"
            )
            out.print(
                f"{label}: {factor.path} = {r['value']:g}, bracket {r['bracket']}{extra}",
                highlight=False,
            )
    # machine-readable last line (plain echo: no wrapping)
    typer.echo(json.dumps({k: v for k, v in res.items() if k != "evaluations"}, default=str))
