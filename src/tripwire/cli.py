"""The ``simulate`` command line: parse, call one function, map errors to exit codes.

``simulate FILE...`` is short for ``simulate run FILE...``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tripwire import __version__
from tripwire.backends import BackendError
from tripwire.errors import Problem
from tripwire.guards import estimate
from tripwire.loader import LoadedScenario, ScenarioError, load_scenario
from tripwire.model import compile_plan
from tripwire.precision import PrecisionError, half_width, next_size, parse_precision
from tripwire.report_text import comparison_table, summary_table
from tripwire.results import (
    CLAIM,
    Claim,
    FolderBusy,
    ParquetColumns,
    claim,
    clear,
    consolidate,
    finish,
    ledger,
    new_run_dir,
    part_files,
    part_path,
    part_problem,
    read_table,
    write_json,
    write_part,
    write_yaml,
)
from tripwire.runner import chunk_size, run_batch
from tripwire.scenario import MAX_SEED, Scenario
from tripwire.summary import OUTCOME_COLUMNS, compare, summarise

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="tripwire: how fast can NATO reinforce Estonia, Latvia and Lithuania?\n\n"
    "`simulate FILE...` runs the scenarios (short for `simulate run FILE...`).",
)


def _console(stderr: bool = False) -> Console:
    """Rich console; when output is piped (no terminal, no COLUMNS), tables get 140
    columns instead of rich's 80, so they stay readable in logs and files."""
    c = Console(stderr=stderr)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 140
    return c


out = _console()
err = _console(stderr=True)
EXIT_USAGE = 2


def fail(message: str) -> typer.Exit:
    """Print a user-facing error; the caller raises the returned exit (code 2)."""
    err.print(f"[bold red]error[/]: {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def write_failed(exc: OSError, folder: Path, resume: str) -> typer.Exit:
    """A write error while a batch runs (full disk, lost permission): name the file and the
    system's reason, say how to continue; the caller raises the returned exit (code 1)."""
    err.print(
        f"[bold red]error[/]: cannot write {exc.filename or folder}: {exc.strerror or exc}. "
        f"Finished chunks are kept; make room and continue with `{resume}`",
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(1)


@contextmanager
def progress_bar(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A replications progress bar with rate and ETA on stderr; yields ``tick(k)``."""
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=quiet) as progress:
        task = progress.add_task("replications", total=total, rate="")

        def tick(k: int) -> None:
            progress.advance(task, k)
            rate = progress.tasks[0].completed / max(time.monotonic() - started, 1e-9)
            progress.update(task, rate=f"{rate:.0f} rep/s")

        yield tick


def _load_all(files: list[Path], overrides: dict[str, Any] | None = None) -> list[LoadedScenario]:
    """Load every file, reporting the problems of all of them before giving up."""
    loaded, problems = [], []
    for f in files:
        try:
            loaded.append(load_scenario(f, overrides))
        except ScenarioError as exc:
            problems.extend(exc.problems)
        except RecursionError:  # a safety net: the reader bounds nesting before this
            problems.append(Problem(str(f), "", "nested too deeply to read"))
    for ls in loaded:
        for w in ls.warnings:
            err.print(f"[bold yellow]warning[/]: {w}", highlight=False, soft_wrap=True)
    if problems:
        for p in problems:
            err.print(f"[bold red]error[/]: {p}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    return loaded


@app.command()
def run(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario YAML files; several are compared under common random numbers "
            "(with --resume: optional, read from the folder when left out)."
        ),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications",
            "-n",
            min=1,
            help="Replications per scenario (default: the value in the file).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, max=MAX_SEED, help="Batch seed (default: the value in the file)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Local worker processes; results are identical for any number."),
    ] = os.cpu_count() or 1,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Result folder (default: results/<names>-<UTC time>)."),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue an interrupted run in this folder: checksum-verified chunks are "
            "kept, the rest run again (same replications, seed and scenarios)."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing result folder given with --out (only a tripwire one).",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Run even when the estimate says the batch would take longer than "
            "TRIPWIRE_MAX_HOURS (default 24) or fill the disk.",
        ),
    ] = False,
    plot: Annotated[
        bool,
        typer.Option("--plot", help="Also draw every figure into RESULT/plots (see `plot`)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    precision: Annotated[
        str | None,
        typer.Option(
            help="Sequential stopping: METRIC=H adds replications until the 95% CI half-width "
            "of METRIC is at most H for every scenario (-n is the first stage), e.g. "
            "p_beat_fa_theatre=0.01 or ttr_median_theatre_h=6. Metrics: p_beat_fa_<area>, "
            "p_hold_<area>, ttr_median_<area>_h; area: estonia, latvia, lithuania or theatre.",
        ),
    ] = None,
    max_replications: Annotated[
        int, typer.Option(min=1, help="Upper bound on replications with --precision.")
    ] = 100_000,
) -> None:
    """Run a Monte Carlo batch of each scenario, print a summary and write a result folder."""
    state: dict[str, Any] = {}
    if resume is not None:
        state = _resume_state(resume)
        if state.get("complete"):
            if files:  # asked to continue with these: they must be the ones it ran
                _check_complete_run(resume, state, files)
            out.print(f"{resume} is already complete: nothing to resume")
            return
        saved = state["resume"]
        files = files or [Path(f) for f in saved["files"]]
        replications, seed = saved["replications"], saved["seed"]
        precision, max_replications = saved["precision"], saved["max_replications"]
    if not files:
        raise fail("give scenario files to run, or --resume FOLDER")
    try:
        goal = parse_precision(precision) if precision else None
    except PrecisionError as exc:
        raise fail(str(exc)) from None
    loaded = _load_all(files)
    names = [ls.scenario.name for ls in loaded]
    if len(set(names)) != len(names):
        raise fail(f"scenario names must differ to be compared, got {names}")
    first = loaded[0].scenario
    n = replications or first.replications
    root = first.seed if seed is None else seed
    for ls in loaded[1:]:
        if (replications is None and ls.scenario.replications != n) or (
            seed is None and ls.scenario.seed != root
        ):
            err.print(
                f"note: using {n} replications and seed {root} for every scenario "
                "(common random numbers)"
            )
            break
    for ls in loaded:
        compile_plan(ls.scenario)  # fail here, not in a worker
    scenarios = [ls.scenario for ls in loaded]
    digests = {s.name: _digest(s) for s in scenarios}
    if resume is not None:
        run_dir = resume
        changed = _changed(digests, state["resume"]["scenarios"])
        if changed:
            raise fail(
                f"--resume {resume}: the scenarios differ from those the run started with "
                f"({', '.join(changed)}); start a new run instead"
            )
        held = _claim(run_dir)
        try:  # read again: another command may have moved the folder on meanwhile
            state = _resume_state(resume)
        except BaseException:
            held.release()
            raise
        if state.get("complete"):
            held.release()
            out.print(f"{resume} is already complete: nothing to resume")
            return
    else:
        run_dir = out_dir or new_run_dir(
            Path("results"), "-".join(names) if len(names) < 4 else f"compare{len(names)}"
        )
        worst = n if goal is None else max_replications  # --precision may grow to the cap
        guess = estimate(scenarios, worst, workers, run_dir, buildup=True)
        if (guess.too_long or guess.too_big) and not yes:
            raise fail(
                guess.describe(f"{len(scenarios)} x {worst:,} replications", workers)
                + f"; the limit is {guess.max_hours:g} h (TRIPWIRE_MAX_HOURS) and 90% of the "
                "free space. Use fewer replications, or --yes to run it anyway"
            )
        held = _claim_folder(run_dir, force)  # after the estimate: a refused run deletes nothing
        state = {
            "complete": False,
            "status": "running",
            "tripwire_version": __version__,
            "command": shlex.join(["simulate", *sys.argv[1:]]),
            "resume": {
                "files": [str(ls.path.resolve()) for ls in loaded],
                "scenarios": digests,
                "replications": n,
                "seed": root,
                "precision": precision,
                "max_replications": max_replications,
            },
            "stages": [],
        }
        try:
            write_json(run_dir / "manifest.json", state)
        except OSError as exc:
            held.release()
            raise fail(f"cannot write the result folder {run_dir}: {exc.strerror or exc}") from None
    resume_hint = f"simulate run --resume {run_dir}"
    with held:  # the folder is this command's until it ends, however it ends
        started = dt.datetime.now(dt.UTC)
        planned: list[dict[str, int]] = list(state["stages"])
        stages: list[dict[str, Any]] = []
        done, target = 0, min(n, max_replications) if goal else n
        computed = 0  # replications simulated by this command (a resumed run keeps the others)
        try:
            with _sigterm_as_interrupt():
                while True:
                    if planned:
                        stage = planned.pop(0)
                    else:
                        stage = {
                            "first": done,
                            "target": target,
                            "chunk": chunk_size(target - done, workers),
                        }
                        state["stages"].append(stage)
                        write_json(run_dir / "manifest.json", state)
                    computed += _run_stage(run_dir, scenarios, stage, root, workers, quiet)
                    done = stage["target"]
                    if goal is None:
                        if planned:
                            continue
                        break
                    widths = {
                        sc.name: half_width(
                            _outcomes(run_dir, sc.name),
                            goal,
                            sc.horizon_hours,
                            sc.checkpoints_hours,
                        )
                        for sc in scenarios
                    }
                    widest = max(widths.values())
                    stages.append({"replications": done, "half_width": widths})
                    shown = ", ".join(f"{k} {v:.4g}" for k, v in widths.items())
                    err.print(
                        f"precision: {done} replications, half-width of {goal.metric}: {shown}"
                    )
                    if widest <= goal.half_width:
                        break
                    if done >= max_replications:
                        err.print(
                            f"[bold yellow]warning[/]: {goal} not reached within "
                            f"--max-replications {max_replications} (widest half-width "
                            f"{widest:.4g})"
                        )
                        break
                    target = (
                        planned[0]["target"]
                        if planned
                        else next_size(done, widest, goal, max_replications)
                    )
                n = done
                secs = (dt.datetime.now(dt.UTC) - started).total_seconds()
                # the join: an interruption here keeps every part, so --resume redoes it
                _verify_parts(run_dir, scenarios)
                summaries, comparisons = _summarise_run(run_dir, loaded, names, root)
                finish(
                    run_dir,
                    {
                        "tripwire_version": __version__,
                        "command": state.get("command", shlex.join(["simulate", *sys.argv[1:]])),
                        "created_utc": started.isoformat(timespec="seconds"),
                        "wall_seconds": round(secs, 2),
                        "seed": root,
                        "replications": n,
                        "workers": workers,
                        "seeding": "numpy SeedSequence(seed).spawn(replications)[i] for "
                        "replication i, shared by every scenario (common random numbers)",
                        **(
                            {
                                "precision": {
                                    "metric": goal.metric,
                                    "half_width": goal.half_width,
                                    "max_replications": max_replications,
                                    "stages": stages,
                                }
                            }
                            if goal
                            else {}
                        ),
                        "scenarios": {ls.scenario.name: str(ls.path) for ls in loaded},
                        **({"resumed": True} if resume is not None else {}),
                    },
                )
        except KeyboardInterrupt:
            err.print(f"interrupted: finished chunks are kept; continue with `{resume_hint}`")
            raise typer.Exit(130) from None
        except OSError as exc:
            raise write_failed(exc, run_dir, resume_hint) from None
        except BackendError as exc:
            err.print(f"[bold red]error[/]: {exc}; continue with `{resume_hint}`")
            raise typer.Exit(1) from None
        except ChunkFailed as exc:
            err.print(
                f"[bold red]error[/]: {exc}. Finished chunks are kept; fix the cause, then "
                f"continue with `{resume_hint}`",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
    for name in names:
        summary_table(out, summaries[name])
    if comparisons:
        comparison_table(out, comparisons, {k: v["posture"] for k, v in summaries.items()})
    kept = n * len(loaded) - computed
    out.print(
        f"{n * len(loaded)} replications"
        + (f" ({kept} kept from the interrupted run)" if kept else "")
        + f"; computed {computed} in {secs:.1f} s "
        f"({computed / max(secs, 1e-9):.0f}/s, {workers} workers)"
    )
    out.print(f"results: {run_dir}")
    if plot:
        from tripwire.cli_view import make_plots

        make_plots(run_dir)


def _digest(s: Scenario) -> str:
    return hashlib.sha256(s.model_dump_json(by_alias=True).encode()).hexdigest()


def _changed(digests: dict[str, str], saved: dict[str, str]) -> list[str]:
    """The scenario names whose digest differs from ``saved`` (or that only one side has)."""
    return sorted(set(digests) ^ set(saved)) or sorted(
        k for k in digests if digests[k] != saved.get(k)
    )


def _check_complete_run(folder: Path, state: dict[str, Any], files: list[Path]) -> None:
    """``--resume`` of a complete run given scenario files: they must be the scenarios it
    ran (compared as resolved, with the checksum-verified ``scenario.resolved.yaml`` of each);
    exit 2 naming the ones that differ."""
    import yaml

    from tripwire.folders import FolderError, RunFolder

    loaded = _load_all(files)
    digests = {ls.scenario.name: _digest(ls.scenario) for ls in loaded}
    ran: dict[str, str] = {}
    f = RunFolder(folder, state)
    for name in state["scenarios"]:
        try:
            data = yaml.safe_load(f.file(f"{name}/scenario.resolved.yaml").read_text())
            ran[name] = _digest(Scenario.model_validate(data))
        except (FolderError, OSError, ValueError, yaml.YAMLError) as exc:
            raise fail(
                f"--resume {folder}: cannot tell which scenarios the complete run used "
                f"({exc}); start a new run instead"
            ) from None
    changed = _changed(digests, ran)
    if changed:
        raise fail(
            f"--resume {folder}: the run is complete, with scenarios that differ from those "
            f"given ({', '.join(changed)}); there is nothing to resume: start a new run instead"
        )


def _resume_state(folder: Path) -> dict[str, Any]:
    """The start manifest of an interrupted run (or a complete one), or exit 2 saying why.

    Read through the shape check every reader uses (:func:`tripwire.results.read_manifest`):
    a manifest that is not tripwire's, or is damaged, is named here, never half-read."""
    from tripwire.results import ManifestError, read_manifest

    if not folder.exists():
        raise fail(f"--resume {folder}: no such folder")
    if not folder.is_dir():
        raise fail(f"--resume {folder}: not a folder (give the result folder of the run)")
    if not (folder / "manifest.json").is_file():
        raise fail(f"--resume {folder}: no manifest.json there, not a run folder")
    try:
        state, kind = read_manifest(folder)
    except ManifestError as exc:
        raise fail(f"--resume {folder}: {exc.why}; it cannot be resumed") from None
    if kind == "sweep":
        raise fail(f"--resume {folder}: a sweep folder; use `simulate sweep --resume {folder}`")
    return state


def _claim(folder: Path) -> Claim:
    """This command's claim on an existing result folder (:func:`tripwire.results.claim`),
    or exit 2 naming the folder (another command is writing it, or it is unwritable)."""
    try:
        return claim(folder)
    except FolderBusy as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the result folder {folder}: {exc.strerror or exc}") from None


def _claim_folder(folder: Path, force: bool) -> Claim:
    """Claim ``folder`` for a new run and return the claim (held until the run ends).

    The claim is taken first, atomically (:func:`tripwire.results.claim`), so of two runs
    given one ``--out`` exactly one proceeds; then the folder must be empty, or (with
    ``--force``) a tripwire result folder holding only what tripwire writes
    (:func:`replaceable`), which is then emptied after saying so. Exit 2 otherwise, naming
    the folder and the reason (nothing written is left behind)."""
    from tripwire.results import NotReplaceable, replaceable

    if folder.is_symlink() and not folder.exists():
        raise fail(f"{folder} is a broken symbolic link; choose another --out")
    if folder.exists() and not folder.is_dir():
        raise fail(f"{folder} exists and is not a folder")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot write the result folder {folder}: {exc.strerror or exc}") from None
    held = _claim(folder)
    try:
        if any(p.name != CLAIM for p in folder.iterdir()):
            if not force:
                raise fail(
                    f"{folder} exists and is not empty; choose another --out, continue it with "
                    f"--resume {folder}, or replace it with --force"
                )
            try:
                files = replaceable(folder)
            except NotReplaceable as exc:
                raise fail(f"--force: {exc}; not removed") from None
            _say_removal(folder, files)
            try:
                clear(folder)
            except OSError as exc:
                raise fail(f"--force: cannot remove {folder}: {exc.strerror or exc}") from None
    except BaseException:
        held.release()
        if made:
            with suppress(OSError):
                folder.rmdir()
        raise
    return held


def _say_removal(folder: Path, files: int) -> None:
    """The one line ``--force`` prints (to stderr) before it deletes a result folder."""
    err.print(
        f"--force: deleting the tripwire result folder {folder} ({files} files)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a scheduler or `kill`) like Ctrl-C while the batch runs: stop cleanly,
    keep finished chunks. The previous handler is restored afterwards."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ChunkFailed(RuntimeError):
    """A chunk raised while a run's batch ran (the message names the error)."""


def _run_stage(
    run_dir: Path,
    scenarios: list[Scenario],
    stage: dict[str, int],
    root: int,
    workers: int,
    quiet: bool,
) -> int:
    """Run replications ``first .. target - 1`` of every scenario in chunks of ``chunk``,
    keeping each chunk whose part is already there and checksum-verified. Returns the
    number of replications simulated."""
    parts = run_dir / "parts"
    sums = ledger(parts)
    kept: set[tuple[str, int]] = set()
    for s in scenarios:
        for start in range(stage["first"], stage["target"], stage["chunk"]):
            paths = [part_path(run_dir, s.name, start, kind) for kind in ("rep", "form")]
            if not any(p.exists() for p in paths):
                continue
            problems = [(p, part_problem(parts, p, sums)) for p in paths]
            if all(problem is None for _, problem in problems):
                kept.add((s.name, start))
                continue
            for path, problem in problems:  # a chunk is kept only with both its parts
                if problem is not None:
                    err.print(f"[bold yellow]warning[/]: {path}: {problem}; its chunk runs again")
            for path in paths:
                path.unlink(missing_ok=True)
    total = (stage["target"] - stage["first"]) * len(scenarios)
    with progress_bar(total, quiet) as tick:
        for _, start in kept:
            tick(min(stage["chunk"], stage["target"] - start))

        def on_chunk(chunk: Any, part: list[dict[str, Any]]) -> None:
            write_part(run_dir, chunk.scenario, chunk.start, part)
            tick(len(part))

        # rows go to parts on disk only: memory stays flat however many
        try:
            run_batch(
                scenarios,
                stage["target"],
                root,
                workers,
                on_chunk,
                buildup=True,
                first=stage["first"],
                keep=False,
                size=stage["chunk"],
                skip=lambda c: (c.scenario, c.start) in kept,
                formations=True,
            )
        except (OSError, BackendError):
            raise
        except Exception as exc:  # noqa: BLE001 - a chunk raised (in a worker or inline)
            raise ChunkFailed(
                f"a chunk of replications failed: {type(exc).__name__}: {exc}"
            ) from exc
    return total - sum(min(stage["chunk"], stage["target"] - start) for _, start in kept)


def _verify_parts(run_dir: Path, scenarios: list[Scenario]) -> None:
    """Every part about to be joined still matches its recorded checksum (exit 1 if not)."""
    parts = run_dir / "parts"
    sums = ledger(parts)
    bad = [
        f"{p}: {problem}"
        for s in scenarios
        for kind in ("rep", "form")
        for p in part_files(run_dir, s.name, kind)
        if (problem := part_problem(parts, p, sums)) is not None
    ]
    if bad:
        for line in bad:
            err.print(f"[bold red]error[/]: {line}", highlight=False, soft_wrap=True)
        err.print(f"recompute them with `simulate run --resume {run_dir}`")
        raise typer.Exit(1)


def _summarise_run(
    run_dir: Path, loaded: list[LoadedScenario], names: list[str], root: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Join each scenario's parts, write its summary, resolved scenario and sources, and the
    paired comparisons."""
    tables, summaries = {}, {}
    for ls in loaded:
        s = ls.scenario
        d = run_dir / s.name
        consolidate(part_files(run_dir, s.name), d / "replications.parquet")
        consolidate(part_files(run_dir, s.name, "form"), d / "formations.parquet")
        tables[s.name] = ParquetColumns(d / "replications.parquet")
        meta = {
            "scenario": s.name,
            "posture": s.posture,
            "seed": root,
            "horizon_hours": s.horizon_hours,
            "buildup_step_hours": s.buildup_step_hours,
            "requirement": s.requirement,
            "adversary": s.adversary,
            "file": str(ls.path),
        }
        summaries[s.name] = summarise(tables[s.name], meta, s.checkpoints_hours)
        write_json(d / "summary.json", summaries[s.name])
        write_yaml(d / "scenario.resolved.yaml", s.model_dump(mode="json", by_alias=True))
        write_json(d / "sources.json", _sources(ls))
    comparisons = [
        compare(a, tables[a], b, tables[b], seed=root)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    if comparisons:
        write_json(run_dir / "comparison.json", comparisons)
    return summaries, comparisons


def _outcomes(run_dir: Path, scenario: str) -> dict[str, Any]:
    """The outcome columns of a scenario's finished parts (for the precision check)."""
    tables = [read_table(p, OUTCOME_COLUMNS) for p in part_files(run_dir, scenario)]
    return {k: np.concatenate([t[k] for t in tables]) for k in OUTCOME_COLUMNS}


def _sources(ls: LoadedScenario) -> dict[str, Any]:
    flat = _flatten(ls.data)
    return {
        "parameters": {
            k: {"value": _fmt(flat.get(k)), "origin": o.kind, "ref": o.ref, "source": o.detail}
            for k, o in ls.provenance.items()
        },
        "catalogue": {
            k: {kk: vv for kk, vv in v.items() if kk != "file"} for k, v in ls.catalogue.items()
        },
    }


@app.command()
def check(
    files: Annotated[
        list[Path], typer.Argument(help="Scenario YAML files (or a validation register).")
    ],
) -> None:
    """Validate scenarios without running them (exit 2 and every problem if invalid). A
    validation register (REGISTER.yaml) is checked as a register."""
    from tripwire.validate import is_register, load_register

    registers = [f for f in files if f.is_file() and is_register(f)]
    for f in registers:
        try:
            reg = load_register(f)
        except ScenarioError as exc:
            raise fail(str(exc)) from None
        out.print(f"ok: {f} - validation register, {len(reg.records)} records", highlight=False)
    files = [f for f in files if f not in registers]
    for ls in _load_all(files):
        s = ls.scenario
        plan = compile_plan(s)
        unsourced = sum(o.kind == "unsourced" for o in ls.provenance.values())
        out.print(
            f"ok: {ls.path} - {s.name} ({s.posture}): {len(s.in_place)} forces in place, "
            f"{len(plan.formations)} formations to move, {len(s.network.links)} links, "
            f"{unsourced} unsourced values",
            highlight=False,
        )


@app.command()
def sources(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    unsourced_only: Annotated[
        bool, typer.Option("--unsourced", help="Only values with no source.")
    ] = False,
) -> None:
    """List every parameter value with where it came from.

    Origins: an article figure (seeds/figures.yaml), a public figure or labelled assumption
    (assumptions catalogue), a block's source note, or a run setting.
    """
    (ls,) = _load_all([file])
    t = Table(title=f"{ls.scenario.name}: parameter sources", show_lines=False)
    for col in ("parameter", "value", "origin", "source"):
        t.add_column(col, overflow="fold")
    flat = _flatten(ls.data)
    for key, origin in ls.provenance.items():
        if unsourced_only and origin.kind != "unsourced":
            continue
        label = origin.kind + (f" {origin.ref}" if origin.ref else "")
        t.add_row(key, _fmt(flat.get(key)), label, origin.detail)
    out.print(t)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    res: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            res.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            res.update(_flatten(v, f"{prefix}[{i}]"))
    res[prefix] = obj
    return res


def _fmt(v: Any) -> str:
    if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), dict):
        ((kind, params),) = v.items()
        return f"{kind}({_fmt(params)})"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return f"{v:g}" if isinstance(v, float) else str(v)


@app.command()
def version() -> None:
    """Print the tripwire version."""
    out.print(__version__)


def main() -> None:
    """Console entry point: ``simulate FILE...`` is ``simulate run FILE...``."""
    args = sys.argv[1:]
    commands = {
        "run",
        "check",
        "sources",
        "version",
        "sweep",
        "threshold",
        "plot",
        "report",
        "validate",
    }
    if args and args[0] not in commands and not args[0].startswith("-"):
        args = ["run", *args]
    app(args=args, prog_name="simulate")


# registers the sweep, threshold, plot and report commands
from tripwire import cli_sweep, cli_view  # noqa: E402,F401
