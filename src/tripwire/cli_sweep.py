"""``simulate sweep`` and ``simulate threshold``: thin commands over sweep and threshold."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tripwire import __version__
from tripwire.backends import BackendError, make_backend
from tripwire.campaign import sigterm_as_interrupt as _sigterm_as_interrupt
from tripwire.cli_common import EXIT_USAGE, app, err, fail, out, progress_bar, write_failed
from tripwire.cli_run import load_all as _load_all
from tripwire.errors import Problem, ScenarioError
from tripwire.guards import estimate
from tripwire.names import check_name
from tripwire.results import Claim, ManifestError, new_run_dir, read_manifest
from tripwire.runner import chunk_size
from tripwire.scenario import MAX_SEED
from tripwire.summary import AREAS
from tripwire.sweep import DESIGNS, Factor, SweepError, factor_from, parse_factor
from tripwire.sweeprun import (
    SweepChunk,
    SweepOutcome,
    SweepPlan,
    build_plan,
    complete,
    execute,
    finalize,
    make_chunks,
    open_folder,
    point_specs,
)
from tripwire.threshold import Evaluation, Target, check_tolerance, find_threshold, parse_target
from tripwire.yamlio import read_yaml

SPEC_KEYS = {"name", "scenarios", "vary", "design", "samples", "replications", "seed", "chunk"}


def _stored_chunk(folder: Path | None) -> int | None:
    """On --resume, the chunk size the sweep started with (part files are per chunk);
    ``None`` if the folder's manifest is not a sound sweep manifest (the resume check then
    says why)."""
    if folder is None:
        return None
    try:
        manifest, kind = read_manifest(folder)
    except ManifestError:
        return None
    return int(manifest["spec"]["chunk"]) if kind == "sweep" else None


def _read_spec(targets: list[Path]) -> tuple[list[Path], dict[str, Any]]:
    """Scenario files as given, or one sweep-spec file (a mapping with ``vary``), whose
    fields are checked here: a :class:`ScenarioError` with one problem per wrong field,
    each naming the file, the line and the field."""
    if len(targets) == 1:
        data, lines = read_yaml(targets[0])
        if isinstance(data, dict) and "vary" in data and "countries" not in data:
            problems = _spec_problems(targets[0], data, lines)
            if problems:
                raise ScenarioError(problems)
            files = [targets[0].parent / f for f in data["scenarios"]]
            return files, data
    return targets, {}


def _positive(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


SPEC_FIELDS: dict[str, tuple[Any, str]] = {  # key: (test of its value, what it must be)
    "samples": (_positive, "a whole number of at least 1"),
    "replications": (_positive, "a whole number of at least 1"),
    "chunk": (_positive, "a whole number of at least 1"),
    "seed": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_SEED,
        f"a whole number from 0 to {MAX_SEED} (2^63 - 1)",
    ),
    "design": (lambda v: v in DESIGNS, f"one of {', '.join(DESIGNS)}"),
    "scenarios": (
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(f, str) and f for f in v),
        "a list of scenario files, e.g. [brigade.yaml]",
    ),
    "vary": (
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and k for k in v),
        "a mapping of parameter paths to ranges or values, e.g. {warning.days: 0:30:7}",
    ),
}


def _spec_problems(file: Path, data: dict[Any, Any], lines: dict[Any, int]) -> list[Problem]:
    """Every problem of a sweep file's fields, each with its line."""
    out: list[Problem] = []

    def problem(key: tuple[Any, ...], message: str) -> None:
        field = ".".join(str(k) for k in key)
        out.append(Problem(str(file), field, message, lines.get(key)))

    for key in data:
        if key not in SPEC_KEYS:
            problem((key,), f"unknown sweep key (known: {', '.join(sorted(SPEC_KEYS))})")
    if "name" in data:  # it becomes results/sweeps/<name>-<time>/: one plain name
        value = data["name"]
        if not isinstance(value, str):
            problem(("name",), f"must be text, not {json.dumps(value, default=str)}")
        else:
            try:
                check_name(value)
            except ValueError as exc:
                problem(("name",), str(exc))
    if "scenarios" not in data:
        problem(("scenarios",), "missing: a sweep file needs scenarios: [files]")
    for key, (ok, what) in SPEC_FIELDS.items():
        if key in data and not ok(data[key]):
            problem((key,), f"must be {what}, not {json.dumps(data[key], default=str)[:60]}")
    if SPEC_FIELDS["vary"][0](data["vary"]):
        for path, value in data["vary"].items():
            try:
                factor_from(path, value)
            except SweepError as exc:
                message = str(exc).removeprefix(f"vary {path}: ")
                problem(("vary", path), message)
    return sorted(out, key=lambda p: p.line or 0)


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
        int | None,
        typer.Option(min=0, max=MAX_SEED, help="Sweep seed (default: the first file's)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = os.cpu_count()
    or 1,
    chunk: Annotated[
        int | None, typer.Option(min=1, help="Replications per task (default: automatic).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler: tcp://HOST:PORT, tls://HOST:PORT or "
            "HOST:PORT."
        ),
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
    _check_scheduler(scheduler)
    try:
        files, spec = _read_spec(targets)
    except ScenarioError as exc:
        raise _problems(exc) from None
    except SweepError as exc:
        raise fail(str(exc)) from None
    loaded = _load_all(files)
    held: Claim | None = None
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
        status, held = open_folder(folder, plan, resume is not None, force, notify=_say)
        chunks = make_chunks(plan, specs)  # after the guard: a refused sweep builds none
    except (SweepError, ScenarioError) as exc:
        if held is not None:
            held.release()
        raise fail(str(exc)) from None
    except OSError as exc:
        if held is not None:
            held.release()
        raise fail(f"cannot write the sweep folder {folder}: {exc.strerror or exc}") from None
    if held is None:  # only a complete sweep is not claimed: it is only read
        out.print(f"{folder} is already complete: nothing to resume")
        return
    with held:  # the folder is this command's until its manifest is final
        backend_args = (workers, scheduler, dask_local, connect_timeout)
        result, outcome, info = _run_sweep(plan, folder, chunks, total, quiet, backend_args)
    _print_points(result["points"], plan.design.factors)
    _print_sensitivity(result["sensitivity"])
    done = total - outcome.reused_replications
    out.print(
        f"{len(plan.design.points)} points x {len(plan.postures)} postures x {n} replications"
        f" = {total}; computed {done} in {info['wall_seconds']:.1f} s "
        f"({done / max(info['wall_seconds'], 1e-9):.0f}/s) on {info['backend']}; "
        f"{outcome.reused} chunks reused"
    )
    out.print(f"results: {folder}")
    if outcome.failures:
        _print_failures(outcome.failures)
        err.print(f"{len(outcome.failures)} chunks failed twice; rerun with --resume {folder}")
        raise typer.Exit(1)
    if plot:
        from tripwire.cli_view import make_plots

        make_plots(folder)


def _run_sweep(
    plan: SweepPlan,
    folder: Path,
    chunks: list[SweepChunk],
    total: int,
    quiet: bool,
    backend_args: tuple[int, str | None, int | None, float],
) -> tuple[dict[str, Any], SweepOutcome, dict[str, Any]]:
    """Run the chunks, join them and write the final manifest: the part of ``sweep`` done
    while the folder is claimed. Faults exit here with the ``--resume`` command."""
    started = dt.datetime.now(dt.UTC)
    resume_hint = f"simulate sweep ... --resume {folder}"
    try:
        backend = make_backend(*backend_args)
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
                raise write_failed(exc, folder, resume_hint) from None
            except BackendError as exc:
                err.print(f"[bold red]error[/]: {exc}; continue with --resume {folder}")
                raise typer.Exit(1) from None
    finally:
        backend.close()
    info = {
        "tripwire_version": __version__,
        "command": shlex.join(["simulate", *sys.argv[1:]]),
        "backend": backend.label,
        "workers": backend.workers,
        "points": len(plan.design.points),
        "postures": [p.name for p in plan.postures],
        "replications_total": total,
        "computed_chunks": outcome.computed,
        "reused_chunks": outcome.reused,
    }

    def timed() -> dict[str, Any]:
        secs = (dt.datetime.now(dt.UTC) - started).total_seconds()
        return {
            "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(secs, 2),
        }

    if outcome.failures and not outcome.computed and not outcome.reused:
        # nothing to join: record the failures (status incomplete) and say how to retry
        try:
            complete(plan, outcome, {**info, **timed()})
        except OSError as exc:
            raise write_failed(exc, folder, resume_hint) from None
        _print_failures(outcome.failures)
        kinds: dict[str, int] = {}
        for f in outcome.failures:
            kinds[f["error"]] = kinds.get(f["error"], 0) + 1
        common = sorted(kinds.items(), key=lambda kv: -kv[1])
        shown = "; ".join(f"{e} ({k} chunks)" for e, k in common[:3])
        err.print(
            f"[bold red]error[/]: every chunk of the sweep failed ({len(outcome.failures)} "
            f"chunks, each tried twice): {shown}. Nothing was summarised; fix the cause, then "
            f"retry with `{resume_hint}`",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    try:
        with _sigterm_as_interrupt():  # the join: interrupted, every part is still there
            result = finalize(plan, outcome)
            complete(plan, outcome, {**info, **timed()})
    except KeyboardInterrupt:
        err.print(f"interrupted: finished chunks are kept; continue with --resume {folder}")
        raise typer.Exit(130) from None
    except OSError as exc:
        raise write_failed(exc, folder, resume_hint) from None
    info.update(timed())
    return result, outcome, info


def _print_failures(failures: list[dict[str, Any]], limit: int = 20) -> None:
    for f in failures[:limit]:
        err.print(
            f"[bold red]failed[/]: posture {f['posture']} point {f['point']} "
            f"replications {f['replications']}: {f['error']}",
            highlight=False,
        )
    if len(failures) > limit:
        err.print(f"... and {len(failures) - limit} more failed chunks (listed in manifest.json)")


def _problems(exc: ScenarioError) -> typer.Exit:
    """One ``error:`` line per problem (file, line, field); the caller raises the exit."""
    for p in exc.problems:
        err.print(f"[bold red]error[/]: {p}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


_SCHEDULER = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*):(?P<port>[0-9]{1,5})"
)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # what distributed can connect to


def _check_scheduler(address: str | None) -> None:
    """``--scheduler``: ``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``HOST:PORT`` (Dask's
    default protocol is tcp; ws, wss and ucx are accepted too), port 1 to 65535; exit 2
    with the expected form otherwise, before anything is written or connected."""
    if address is None:
        return
    m = _SCHEDULER.fullmatch(address.strip())
    why = ""
    if m is None:
        why = "not an address"
    elif m["scheme"] is not None and m["scheme"].lower() not in SCHEDULER_SCHEMES:
        why = f"{m['scheme']}:// is not a protocol a Dask scheduler listens on"
    elif not 1 <= int(m["port"]) <= 65535:
        why = f"port {m['port']} is not between 1 and 65535"
    if why:
        raise fail(
            f"--scheduler {address!r}: {why}; expected tcp://HOST:PORT, tls://HOST:PORT or "
            "HOST:PORT (e.g. tcp://10.0.0.5:8786, what `dask scheduler` prints)"
        )


def _say(message: str) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    err.print(f"[bold yellow]warning[/]: {message}", highlight=False, soft_wrap=True)


def _print_points(points: list[dict[str, Any]], factors: Any, limit: int = 40) -> None:
    t = Table(title="sweep points: P(beat f.a.) = P(reinforced before the fait accompli), 95% CI")
    t.add_column("posture")
    for f in factors:
        t.add_column(f.path, justify="right")
    for area in AREAS:
        t.add_column(f"P(beat f.a.) {area}", justify="right")
    t.add_column("median TTR theatre, h", justify="right")
    for r in points[:limit]:
        t.add_row(
            r["posture"],
            *[f"{r['x.' + f.path]:g}" for f in factors],
            *[
                f"{100 * r[f'p_beat_fa_{a}']:.0f}% [{100 * r[f'p_beat_fa_{a}_lo']:.0f}, "
                f"{100 * r[f'p_beat_fa_{a}_hi']:.0f}]"
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
    target: Annotated[str, typer.Option(help='Goal, e.g. "p_beat_fa_lithuania>=0.9".')],
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=1, help="Replications per evaluation.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (default: the file's).")
    ] = None,
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
    known = [f"{k}_{a}" for a in AREAS for k in ("p_beat_fa", "p_hold", "censored")]
    known += [f"{k}_{a}_h" for a in AREAS for k in ("ttr_median", "ttr_rmean")]
    known += [f"p_reinforced_{a}_by_{cp:g}h" for a in AREAS for cp in s.checkpoints_hours]
    try:
        factor = parse_factor(vary)
        goal = parse_target(target, known)
        _check_target(goal, target)
        lo, hi = factor.bounds()
        if tolerance is not None and not tolerance > 0:
            raise SweepError(f"--tolerance must be a positive number, not {tolerance:g}")
        n, tol = replications or min(s.replications, 500), tolerance or (hi - lo) / 64
        check_tolerance(tol, lo, hi)  # before counting evaluations (5e-324 overflowed there)
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
        evaluated: list[float] = []

        def on_eval(e: Evaluation) -> None:
            evaluated.append(e.x)
            err.print(
                f"  {factor.path} = {e.x:g}: {goal.metric} = {e.metrics[goal.metric]:.3f}",
                highlight=False,
            )

        try:
            res = find_threshold(
                ls, factor, goal, n, s.seed if seed is None else seed, workers, tol, on_eval
            )
        except (SweepError, ScenarioError):
            raise
        except KeyboardInterrupt:
            err.print("interrupted: a threshold search keeps nothing; run it again to search")
            raise typer.Exit(130) from None
        except BackendError as exc:
            err.print(f"[bold red]error[/]: {exc}; run the same command again to retry")
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - a chunk raised, in a worker or inline
            err.print(
                f"[bold red]error[/]: the search failed after {len(evaluated)} evaluations: a "
                f"chunk of replications raised {type(exc).__name__}: {exc}. A threshold search "
                "keeps no partial results: fix the cause, then run the same command again",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
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


def _check_target(goal: Target, text: str) -> None:
    """A target a metric can reach: finite, and between 0 and 1 for a probability
    (``p_beat_fa_*``, ``p_reinforced_*``, ``censored_*``); :class:`SweepError` otherwise.

    An hours target may be negative: time-to-reinforce is counted from the attack, and is
    negative when the forces were ready before it (docs/model.md)."""
    if not math.isfinite(goal.value):
        raise SweepError(f"--target {text!r}: the value must be a finite number")
    if goal.metric.startswith(("p_", "censored_")) and not 0 <= goal.value <= 1:
        raise SweepError(
            f"--target {text!r}: {goal.metric} is a probability, so its target must be "
            f"between 0 and 1 (e.g. {goal.metric}{goal.op}0.9), not {goal.value:g}"
        )
