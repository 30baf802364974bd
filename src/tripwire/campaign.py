"""The experiment layer of a run: claim the folder, run stages of chunks on a backend,
resume, sequential precision, the time guard, the manifest, consolidation and summaries.

The CLI (``simulate run``) and the Python API (:func:`tripwire.run`) both call
:func:`run`; neither holds a copy of this logic. Nothing here prints: notes, warnings
and progress go to a :class:`Reporter`, and every failure is a
:class:`~tripwire.errors.TripwireError` whose class says how a command ends
(:data:`tripwire.errors.EXIT_CODES`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

import tripwire.columns as C
from tripwire import __version__, manifest
from tripwire.backends import BackendError
from tripwire.errors import Interrupted, Problem, RunFailed, ScenarioError, UsageError
from tripwire.guards import estimate
from tripwire.loader import LoadedScenario, load_scenario
from tripwire.manifest import RunManifest
from tripwire.model import compile_plan
from tripwire.network import route_label
from tripwire.phases import read_phases
from tripwire.precision import PrecisionError, half_width, next_size, parse_precision
from tripwire.results import (
    Claim,
    FolderBusy,
    ParquetColumns,
    claim,
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
from tripwire.scenario import Scenario
from tripwire.summary import OUTCOME_COLUMNS, compare, summarise

Tick = Callable[[int], None]


class Reporter(Protocol):
    """Where a campaign says what it does (a console, a notebook, nothing)."""

    def note(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def progress(self, total: int) -> AbstractContextManager[Tick]: ...


class Silent:
    """A reporter for library use: warnings and notes to stderr as plain lines, no bar."""

    def __init__(self, echo: bool = True) -> None:
        self.echo = echo

    def note(self, message: str) -> None:
        if self.echo:
            import sys

            print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        self.note(f"warning: {message}")

    def progress(self, total: int) -> AbstractContextManager[Tick]:
        return nullcontext(lambda _k: None)


@dataclass
class RunOutcome:
    """What a finished (or already complete) run left in its folder."""

    folder: Path
    names: list[str]
    replications: int = 0
    seed: int = 0
    workers: int = 1
    computed: int = 0  # replications simulated by this call (a resumed run keeps others)
    seconds: float = 0.0
    summaries: dict[str, Any] = field(default_factory=dict)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    already_complete: bool = False

    @property
    def kept(self) -> int:
        return self.replications * len(self.names) - self.computed


def digest(s: Scenario) -> str:
    """The scenario as it will be simulated, hashed (resume refuses a changed scenario)."""
    return hashlib.sha256(s.model_dump_json(by_alias=True).encode()).hexdigest()


def changed(digests: dict[str, str], saved: dict[str, str]) -> list[str]:
    """The scenario names whose digest differs from ``saved`` (or that only one side has)."""
    return sorted(set(digests) ^ set(saved)) or sorted(
        k for k in digests if digests[k] != saved.get(k)
    )


def load_all(
    files: Sequence[Path],
    overrides: dict[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> list[LoadedScenario]:
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
            (reporter or Silent()).warn(str(w))
    if problems:
        raise ScenarioError(problems)
    return loaded


def check_complete_run(folder: Path, state: RunManifest, loaded: list[LoadedScenario]) -> None:
    """``--resume`` of a complete run given scenario files: they must be the scenarios it
    ran (compared as resolved, with the checksum-verified ``scenario.resolved.yaml`` of each);
    a :class:`UsageError` naming the ones that differ otherwise."""
    import yaml

    from tripwire.folders import FolderError, RunFolder

    digests = {ls.scenario.name: digest(ls.scenario) for ls in loaded}
    ran: dict[str, str] = {}
    f = RunFolder(folder, state)
    for name in state.run_names():
        try:
            data = yaml.safe_load(f.file(f"{name}/scenario.resolved.yaml").read_text())
            ran[name] = digest(Scenario.model_validate(data))
        except (FolderError, OSError, ValueError, yaml.YAMLError) as exc:
            raise UsageError(
                f"--resume {folder}: cannot tell which scenarios the complete run used "
                f"({exc}); start a new run instead"
            ) from None
    differ = changed(digests, ran)
    if differ:
        raise UsageError(
            f"--resume {folder}: the run is complete, with scenarios that differ from those "
            f"given ({', '.join(differ)}); there is nothing to resume: start a new run instead"
        )


def resume_state(folder: Path) -> RunManifest:
    """The start manifest of an interrupted run (or a complete one), or a
    :class:`UsageError` saying why not.

    Read through the one manifest model every reader uses (:func:`tripwire.manifest.read`):
    a manifest that is not tripwire's, or is damaged, is named here, never half-read."""

    if not folder.exists():
        raise UsageError(f"--resume {folder}: no such folder")
    if not folder.is_dir():
        raise UsageError(f"--resume {folder}: not a folder (give the result folder of the run)")
    if not (folder / "manifest.json").is_file():
        raise UsageError(f"--resume {folder}: no manifest.json there, not a run folder")
    try:
        state = manifest.read(folder)
    except manifest.ManifestError as exc:
        raise UsageError(f"--resume {folder}: {exc.why}; it cannot be resumed") from None
    if isinstance(state, manifest.SweepManifest):
        raise UsageError(
            f"--resume {folder}: a sweep folder; use `simulate sweep --resume {folder}`"
        )
    return state


def claim_existing(folder: Path) -> Claim:
    """This command's claim on an existing result folder (:func:`tripwire.results.claim`),
    or a :class:`UsageError` naming the folder (another command is writing it, or it is
    unwritable)."""
    try:
        return claim(folder)
    except FolderBusy as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(
            f"cannot write the result folder {folder}: {exc.strerror or exc}"
        ) from None


def claim_folder(folder: Path, force: bool, reporter: Reporter) -> Claim:
    """Claim ``folder`` for a new run (:func:`tripwire.results.claim_new`); a
    :class:`UsageError` naming the folder and the reason otherwise."""
    from tripwire.results import claim_new

    hint = f"choose another --out, continue it with --resume {folder}, or replace it with --force"
    try:
        return claim_new(folder, force, reporter.note, hint)
    except FolderBusy as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(
            f"cannot write the result folder {folder}: {exc.strerror or exc}"
        ) from None


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a scheduler or `kill`) like Ctrl-C while a batch runs: stop cleanly,
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


class ChunkFailed(RunFailed):
    """A chunk raised while a run's batch ran (the message names the error)."""


def run_stage(
    run_dir: Path,
    scenarios: list[Scenario],
    stage: manifest.Stage,
    root: int,
    workers: int,
    reporter: Reporter,
) -> int:
    """Run replications ``first .. target - 1`` of every scenario in chunks of ``chunk``,
    keeping each chunk whose part is already there and checksum-verified. Returns the
    number of replications simulated."""
    parts = run_dir / "parts"
    sums = ledger(parts)
    kept: set[tuple[str, int]] = set()
    for s in scenarios:
        for start in range(stage.first, stage.target, stage.chunk):
            paths = [part_path(run_dir, s.name, start, kind) for kind in ("rep", "form")]
            if not any(p.exists() for p in paths):
                continue
            problems = [(p, part_problem(parts, p, sums)) for p in paths]
            if all(problem is None for _, problem in problems):
                kept.add((s.name, start))
                continue
            for path, problem in problems:  # a chunk is kept only with both its parts
                if problem is not None:
                    reporter.warn(f"{path}: {problem}; its chunk runs again")
            for path in paths:
                path.unlink(missing_ok=True)
    total = (stage.target - stage.first) * len(scenarios)
    with reporter.progress(total) as tick:
        for _, start in kept:
            tick(min(stage.chunk, stage.target - start))

        def on_chunk(chunk: Any, part: list[dict[str, Any]]) -> None:
            write_part(run_dir, chunk.scenario, chunk.start, part)
            tick(len(part))

        # rows go to parts on disk only: memory stays flat however many
        try:
            run_batch(
                scenarios,
                stage.target,
                root,
                workers,
                on_chunk,
                buildup=True,
                first=stage.first,
                keep=False,
                size=stage.chunk,
                skip=lambda c: (c.scenario, c.start) in kept,
                formations=True,
            )
        except (OSError, BackendError):
            raise
        except Exception as exc:  # noqa: BLE001 - a chunk raised (in a worker or inline)
            raise ChunkFailed(
                f"a chunk of replications failed: {type(exc).__name__}: {exc}"
            ) from exc
    return total - sum(min(stage.chunk, stage.target - start) for _, start in kept)


def verify_parts(run_dir: Path, scenarios: list[Scenario]) -> None:
    """Every part about to be joined still matches its recorded checksum (a
    :class:`RunFailed` listing the others if not)."""
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
        raise RunFailed(
            "\n".join(bad), hint=f"recompute them with `simulate run --resume {run_dir}`"
        )


def summarise_run(
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
        deciding = read_phases(d / "replications.parquet", d / "formations.parquet")
        summaries[s.name]["phases"] = {c: cp.as_dict() for c, cp in deciding.items()}
        words = {lk.id: route_label(lk, s.network.nodes) for lk in s.network.links}
        for block in summaries[s.name]["phases"].values():
            block["link_labels"] = {k: words[k] for k in block["longest_wait_link"] if k in words}
        write_json(d / "summary.json", summaries[s.name])
        write_yaml(d / "scenario.resolved.yaml", s.model_dump(mode="json", by_alias=True))
        write_json(d / "sources.json", sources(ls))
    comparisons = [
        compare(a, tables[a], b, tables[b], seed=root)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    if comparisons:
        write_json(run_dir / "comparison.json", comparisons)
    return summaries, comparisons


def outcomes(run_dir: Path, scenario: str) -> dict[str, Any]:
    """The outcome columns of a scenario's finished parts (for the precision check)."""
    tables = [read_table(p, OUTCOME_COLUMNS) for p in part_files(run_dir, scenario)]
    return {k: np.concatenate([t[k] for t in tables]) for k in OUTCOME_COLUMNS}


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Every value of nested data by its dotted path (lists as ``[i]``)."""
    res: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            res.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            res.update(flatten(v, f"{prefix}[{i}]"))
    res[prefix] = obj
    return res


def fmt_value(v: Any) -> str:
    """A parameter value as ``sources`` prints it."""
    if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), dict):
        ((kind, params),) = v.items()
        return f"{kind}({fmt_value(params)})"
    if isinstance(v, dict):
        return ", ".join(f"{k}={fmt_value(x)}" for k, x in v.items())
    return f"{v:g}" if isinstance(v, float) else str(v)


def sources(ls: LoadedScenario) -> dict[str, Any]:
    """Every parameter's value and origin, and the catalogue entries used (sources.json)."""
    flat = flatten(ls.data)
    return {
        "parameters": {
            k: {"value": fmt_value(flat.get(k)), "origin": o.kind, "ref": o.ref, "source": o.detail}
            for k, o in ls.provenance.items()
        },
        "catalogue": {
            k: {kk: vv for kk, vv in v.items() if kk != "file"} for k, v in ls.catalogue.items()
        },
    }


def run(
    files: Sequence[Path] | None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    out_dir: Path | None = None,
    resume: Path | None = None,
    force: bool = False,
    yes: bool = False,
    precision: str | None = None,
    max_replications: int = 100_000,
    overrides: dict[str, Any] | None = None,
    command: str = "tripwire.run(...)",
    reporter: Reporter | None = None,
) -> RunOutcome:
    """Run a Monte Carlo batch of each scenario (paired under common random numbers) into a
    result folder, or continue an interrupted one (``resume``); see ``simulate run``."""
    rep = reporter or Silent()
    if resume is not None:
        state = resume_state(resume)
        if state.complete:
            if files:  # asked to continue with these: they must be the ones it ran
                check_complete_run(resume, state, load_all(files, overrides, rep))
            return RunOutcome(resume, state.run_names(), already_complete=True)
        saved = state.started
        files = files or [Path(f) for f in saved.files]
        replications, seed = saved.replications, saved.seed
        precision, max_replications = saved.precision, saved.max_replications
        overrides = saved.overrides or None
    if not files:
        raise UsageError("give scenario files to run, or --resume FOLDER")
    try:
        goal = parse_precision(precision) if precision else None
    except PrecisionError as exc:
        raise UsageError(str(exc)) from None
    loaded = _load_batch(files, overrides, rep)
    names = [ls.scenario.name for ls in loaded]
    n, root = _batch_size(loaded, replications, seed, rep)
    digests = {ls.scenario.name: digest(ls.scenario) for ls in loaded}
    if resume is not None:
        claimed = _reclaim(resume, digests)
        if claimed is None:
            return RunOutcome(resume, names, already_complete=True)
        run_dir, held, state = resume, *claimed
    else:
        run_dir = out_dir or new_run_dir(
            Path("results"), "-".join(names) if len(names) < 4 else f"compare{len(names)}"
        )
        worst = n if goal is None else max_replications  # --precision may grow to the cap
        _guard(loaded, worst, workers, run_dir, yes)
        held = claim_folder(run_dir, force, rep)  # after the estimate: a refusal deletes nothing
        state = manifest.RunManifest(
            tripwire_version=__version__,
            command=command,
            resume=manifest.Request(
                files=[str(ls.path.resolve()) for ls in loaded],
                scenarios=digests,
                replications=n,
                seed=root,
                precision=precision,
                max_replications=max_replications,
                overrides=overrides or {},
            ),
        )
        try:
            manifest.write(run_dir, state)
        except OSError as exc:
            held.release()
            raise UsageError(
                f"cannot write the result folder {run_dir}: {exc.strerror or exc}"
            ) from None
    with held:  # the folder is this command's until it ends, however it ends
        return _run_claimed(
            run_dir,
            loaded,
            names,
            state,
            n,
            root,
            workers,
            goal,
            max_replications,
            resume is not None,
            rep,
        )


def _load_batch(
    files: Sequence[Path], overrides: dict[str, Any] | None, rep: Reporter
) -> list[LoadedScenario]:
    """The scenarios of a batch: loaded, with distinct names, each compiled (so a bad one
    fails here, not in a worker)."""
    loaded = load_all(files, overrides, rep)
    names = [ls.scenario.name for ls in loaded]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names must differ to be compared, got {names}")
    for ls in loaded:
        compile_plan(ls.scenario)
    return loaded


def _batch_size(
    loaded: list[LoadedScenario], replications: int | None, seed: int | None, rep: Reporter
) -> tuple[int, int]:
    """Replications and seed of the batch: those given, else the first file's (every
    scenario shares them: common random numbers), with a note when files disagree."""
    first = loaded[0].scenario
    n = replications or first.replications
    root = first.seed if seed is None else seed
    for ls in loaded[1:]:
        if (replications is None and ls.scenario.replications != n) or (
            seed is None and ls.scenario.seed != root
        ):
            rep.note(
                f"note: using {n} replications and seed {root} for every scenario "
                "(common random numbers)"
            )
            break
    return n, root


def _guard(
    loaded: list[LoadedScenario], worst: int, workers: int, run_dir: Path, yes: bool
) -> None:
    """Refuse a batch estimated to take longer than TRIPWIRE_MAX_HOURS or to fill the disk,
    unless ``yes``."""
    scenarios = [ls.scenario for ls in loaded]
    guess = estimate(scenarios, worst, workers, run_dir, buildup=True)
    if (guess.too_long or guess.too_big) and not yes:
        raise UsageError(
            guess.describe(f"{len(scenarios)} x {worst:,} replications", workers)
            + f"; the limit is {guess.max_hours:g} h (TRIPWIRE_MAX_HOURS) and 90% of the "
            "free space. Use fewer replications, or --yes to run it anyway"
        )


def _reclaim(folder: Path, digests: dict[str, str]) -> tuple[Claim, RunManifest] | None:
    """Claim an interrupted run's folder to resume it, with its start manifest read again
    under the claim (another command may have moved it on); ``None`` when it turned out
    complete meanwhile."""
    state = resume_state(folder)
    differ = changed(digests, state.started.scenarios if not state.complete else digests)
    if differ:
        raise UsageError(
            f"--resume {folder}: the scenarios differ from those the run started with "
            f"({', '.join(differ)}); start a new run instead"
        )
    held = claim_existing(folder)
    try:
        state = resume_state(folder)
    except BaseException:
        held.release()
        raise
    if state.complete:
        held.release()
        return None
    return held, state


def _run_claimed(
    run_dir: Path,
    loaded: list[LoadedScenario],
    names: list[str],
    state: RunManifest,
    n: int,
    root: int,
    workers: int,
    goal: Any,
    max_replications: int,
    resumed: bool,
    rep: Reporter,
) -> RunOutcome:
    """The batch while the folder is claimed; every fault ends with how to continue."""
    hint = f"simulate run --resume {run_dir}"
    try:
        with sigterm_as_interrupt():
            return _batch(
                run_dir,
                loaded,
                names,
                state,
                n,
                root,
                workers,
                goal,
                max_replications,
                resumed,
                rep,
            )
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted: finished chunks are kept; continue with `{hint}`"
        ) from None
    except OSError as exc:
        raise RunFailed(
            f"cannot write {exc.filename or run_dir}: {exc.strerror or exc}. Finished "
            f"chunks are kept; make room and continue with `{hint}`"
        ) from None
    except BackendError as exc:
        raise RunFailed(f"{exc}; continue with `{hint}`") from None
    except ChunkFailed as exc:
        raise ChunkFailed(
            f"{exc}. Finished chunks are kept; fix the cause, then continue with `{hint}`"
        ) from None


def _batch(
    run_dir: Path,
    loaded: list[LoadedScenario],
    names: list[str],
    state: RunManifest,
    n: int,
    root: int,
    workers: int,
    goal: Any,
    max_replications: int,
    resumed: bool,
    rep: Reporter,
) -> RunOutcome:
    """The stages (planned ones first, on a resume), the precision check between stages,
    then the join, the summaries and the final manifest."""
    scenarios = [ls.scenario for ls in loaded]
    started = dt.datetime.now(dt.UTC)
    planned = list(state.stages)
    stages: list[dict[str, Any]] = []
    done, target = 0, min(n, max_replications) if goal else n
    computed = 0
    while True:
        if planned:
            stage = planned.pop(0)
        else:
            stage = manifest.Stage(
                first=done, target=target, chunk=chunk_size(target - done, workers)
            )
            state.stages = [*state.stages, stage]
            manifest.write(run_dir, state)
        computed += run_stage(run_dir, scenarios, stage, root, workers, rep)
        done = stage.target
        if goal is None:
            if planned:
                continue
            break
        widths = {
            sc.name: half_width(
                outcomes(run_dir, sc.name), goal, sc.horizon_hours, sc.checkpoints_hours
            )
            for sc in scenarios
        }
        widest = max(widths.values())
        stages.append({"replications": done, "half_width": widths})
        shown = ", ".join(f"{k} {v:.4g}" for k, v in widths.items())
        rep.note(f"precision: {done} replications, half-width of {goal.metric}: {shown}")
        if widest <= goal.half_width:
            break
        if done >= max_replications:
            rep.warn(
                f"{goal} not reached within --max-replications {max_replications} (widest "
                f"half-width {widest:.4g})"
            )
            break
        target = planned[0].target if planned else next_size(done, widest, goal, max_replications)
    secs = (dt.datetime.now(dt.UTC) - started).total_seconds()
    # the join: an interruption here keeps every part, so --resume redoes it
    verify_parts(run_dir, scenarios)
    summaries, comparisons = summarise_run(run_dir, loaded, names, root)
    log = (
        manifest.PrecisionLog(
            metric=goal.metric,
            half_width=goal.half_width,
            max_replications=max_replications,
            stages=stages,
        )
        if goal
        else None
    )
    finish(
        run_dir,
        manifest.RunManifest(
            tripwire_version=__version__,
            command=state.command,
            created_utc=started.isoformat(timespec="seconds"),
            wall_seconds=round(secs, 2),
            seed=root,
            replications=done,
            workers=workers,
            seeding="numpy SeedSequence(seed).spawn(replications)[i] for "
            "replication i, shared by every scenario (common random numbers)",
            precision=log,
            scenarios={ls.scenario.name: str(ls.path) for ls in loaded},
            overrides=state.started.overrides or None,
            resumed=resumed,
            resume=state.resume,  # until finish marks it complete
        ),
    )
    return RunOutcome(run_dir, names, done, root, workers, computed, secs, summaries, comparisons)


# --------------------------------------------------------------------------- sweeps

SPEC_KEYS = {"name", "scenarios", "vary", "design", "samples", "replications", "seed", "chunk"}


def _positive(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _spec_fields() -> dict[str, tuple[Any, str]]:
    from tripwire.designs import DESIGNS
    from tripwire.scenario import MAX_SEED

    return {  # key: (test of its value, what it must be)
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
    import json

    from tripwire.designs import SweepError, factor_from
    from tripwire.names import check_name

    out: list[Problem] = []

    def problem(key: tuple[Any, ...], message: str) -> None:
        field_ = ".".join(str(k) for k in key)
        out.append(Problem(str(file), field_, message, lines.get(key)))

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
    fields = _spec_fields()
    for key, (ok, what) in fields.items():
        if key in data and not ok(data[key]):
            problem((key,), f"must be {what}, not {json.dumps(data[key], default=str)[:60]}")
    if fields["vary"][0](data["vary"]):
        for path, value in data["vary"].items():
            try:
                factor_from(path, value)
            except SweepError as exc:
                message = str(exc).removeprefix(f"vary {path}: ")
                problem(("vary", path), message)
    return sorted(out, key=lambda p: p.line or 0)


def read_spec(targets: Sequence[Path]) -> tuple[list[Path], dict[str, Any]]:
    """Scenario files as given, or one sweep-spec file (a mapping with ``vary``), whose
    fields are checked here: a :class:`ScenarioError` with one problem per wrong field,
    each naming the file, the line and the field."""
    from tripwire.yamlio import read_yaml

    if len(targets) == 1:
        data, lines = read_yaml(targets[0])
        if isinstance(data, dict) and "vary" in data and "countries" not in data:
            problems = _spec_problems(targets[0], data, lines)
            if problems:
                raise ScenarioError(problems)
            files = [targets[0].parent / f for f in data["scenarios"]]
            return files, data
    return list(targets), {}


def _stored_chunk(folder: Path | None) -> int | None:
    """On a resume, the chunk size the sweep started with (part files are per chunk);
    ``None`` if the folder's manifest is not a sound sweep manifest (the resume check then
    says why)."""
    if folder is None:
        return None
    try:
        found = manifest.read(folder)
    except manifest.ManifestError:
        return None
    return found.spec.chunk if isinstance(found, manifest.SweepManifest) else None


class SweepFailed(RunFailed):
    """Every chunk of a sweep failed twice: nothing to summarise (``failures`` lists them)."""

    def __init__(self, message: str, failures: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.failures = failures


@dataclass
class SweepRunOutcome:
    """What a sweep left in its folder (``result``: points and sensitivity)."""

    folder: Path
    plan: Any = None
    replications: int = 0
    total: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    outcome: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    already_complete: bool = False

    @property
    def failures(self) -> list[dict[str, Any]]:
        return list(self.outcome.failures) if self.outcome is not None else []


def sweep(
    targets: Sequence[Path],
    *,
    vary: Sequence[str] | dict[str, Any] | None = None,
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    chunk: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    connect_timeout: float = 10.0,
    resume: Path | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    yes: bool = False,
    command: str = "tripwire.sweep(...)",
    reporter: Reporter | None = None,
) -> SweepRunOutcome:
    """Run a parameter sweep over one or more postures into a resumable folder (see
    ``simulate sweep``). ``vary``: ``PATH=SPEC`` texts, or a mapping of paths to specs as
    in a sweep file."""
    from tripwire.designs import SweepError, factor_from, parse_factor
    from tripwire.runner import chunk_size
    from tripwire.sweeprun import build_plan, make_chunks, open_folder, point_specs

    rep = reporter or Silent()
    files, spec = read_spec(targets)
    loaded = load_all(files, reporter=rep)
    held: Claim | None = None
    try:
        factors = [factor_from(p, v) for p, v in (spec.get("vary") or {}).items()]
        if isinstance(vary, dict):
            factors += [factor_from(p, v) for p, v in vary.items()]
        else:
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
            size = (
                f"{len(plan.design.points)} points x {len(plan.postures)} postures x "
                f"{n:,} replications"
            )
            if (guess.too_long or guess.too_big) and not yes:
                raise SweepError(
                    guess.describe(size, cores)
                    + f"; the limit is {guess.max_hours:g} h (TRIPWIRE_MAX_HOURS) and 90% of "
                    "the free space. Use fewer points or replications, or --yes to run it anyway"
                )
            rep.note(f"{size} = {total:,} replications, about {guess.duration} on {cores} workers")
        status, held = open_folder(folder, plan, resume is not None, force, notify=rep.note)
        chunks = make_chunks(plan, specs)  # after the guard: a refused sweep builds none
    except BaseException as exc:
        if held is not None:
            held.release()
        if isinstance(exc, OSError):
            raise UsageError(
                f"cannot write the sweep folder {folder}: {exc.strerror or exc}"
            ) from None
        raise
    if held is None:  # only a complete sweep is not claimed: it is only read
        return SweepRunOutcome(folder, already_complete=True)
    with held:  # the folder is this command's until its manifest is final
        backend_args = (workers, scheduler, dask_local, connect_timeout)
        result, outcome, info = _run_sweep(plan, folder, chunks, total, rep, backend_args, command)
    return SweepRunOutcome(folder, plan, n, total, result, outcome, info)


def _run_sweep(
    plan: Any,
    folder: Path,
    chunks: list[Any],
    total: int,
    rep: Reporter,
    backend_args: tuple[int, str | None, int | None, float],
    command: str,
) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """Run the chunks, join them and write the final manifest: the part of a sweep done
    while the folder is claimed. Faults end here with the resume command."""
    from tripwire.backends import make_backend
    from tripwire.sweeprun import complete, execute, finalize

    started = dt.datetime.now(dt.UTC)
    hint = f"simulate sweep ... --resume {folder}"
    interrupted = f"interrupted: finished chunks are kept; continue with --resume {folder}"
    try:
        backend = make_backend(*backend_args)
    except BackendError as exc:
        raise UsageError(str(exc)) from None
    try:
        with rep.progress(total) as tick, sigterm_as_interrupt():
            try:
                outcome = execute(plan, folder, backend, tick, chunks, notify=rep.warn)
            except KeyboardInterrupt:
                raise Interrupted(interrupted) from None
            except OSError as exc:
                raise _write_failed(exc, folder, hint) from None
            except BackendError as exc:
                raise RunFailed(f"{exc}; continue with --resume {folder}") from None
    finally:
        backend.close()
    info = {
        "tripwire_version": __version__,
        "command": command,
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
            raise _write_failed(exc, folder, hint) from None
        kinds: dict[str, int] = {}
        for f in outcome.failures:
            kinds[f["error"]] = kinds.get(f["error"], 0) + 1
        common = sorted(kinds.items(), key=lambda kv: -kv[1])
        shown = "; ".join(f"{e} ({k} chunks)" for e, k in common[:3])
        raise SweepFailed(
            f"every chunk of the sweep failed ({len(outcome.failures)} chunks, each tried "
            f"twice): {shown}. Nothing was summarised; fix the cause, then retry with `{hint}`",
            list(outcome.failures),
        )
    try:
        with sigterm_as_interrupt():  # the join: interrupted, every part is still there
            result = finalize(plan, outcome)
            complete(plan, outcome, {**info, **timed()})
    except KeyboardInterrupt:
        raise Interrupted(interrupted) from None
    except OSError as exc:
        raise _write_failed(exc, folder, hint) from None
    info.update(timed())
    return result, outcome, info


def _write_failed(exc: OSError, folder: Path, hint: str) -> RunFailed:
    """A write error while a batch runs (full disk, lost permission): the file, the
    system's reason, and how to continue."""
    return RunFailed(
        f"cannot write {exc.filename or folder}: {exc.strerror or exc}. Finished chunks are "
        f"kept; make room and continue with `{hint}`"
    )


# --------------------------------------------------------------------------- threshold


def threshold_metrics(s: Scenario) -> list[str]:
    """The metrics a threshold search can target for scenario ``s``."""
    known = [col(area=a) for a in C.AREAS for col in (C.P_BEAT_FA, C.P_HOLD, C.CENSORED_SHARE)]
    known += [col(area=a) for a in C.AREAS for col in (C.TTR_MEDIAN, C.TTR_RMEAN)]
    known += [C.P_REINFORCED_BY(area=a, t=cp) for a in C.AREAS for cp in s.checkpoints_hours]
    return known


def check_target(goal: Any, text: str) -> None:
    """A target a metric can reach: finite, and between 0 and 1 for a probability
    (``p_beat_fa_*``, ``p_hold_*``, ``p_reinforced_*``, ``censored_*``); a
    :class:`~tripwire.designs.SweepError` otherwise.

    An hours target may be negative: time-to-reinforce is counted from the attack, and is
    negative when the forces were ready before it (docs/model.md)."""
    import math

    from tripwire.designs import SweepError

    if not math.isfinite(goal.value):
        raise SweepError(f"--target {text!r}: the value must be a finite number")
    if goal.metric.startswith(("p_", "censored_")) and not 0 <= goal.value <= 1:
        raise SweepError(
            f"--target {text!r}: {goal.metric} is a probability, so its target must be "
            f"between 0 and 1 (e.g. {goal.metric}{goal.op}0.9), not {goal.value:g}"
        )


@dataclass
class ThresholdOutcome:
    """A threshold search's answer (``result``: estimate, conservative, evaluations...)."""

    path: str
    metric: str
    result: dict[str, Any]


def threshold(
    file: Path,
    vary: str,
    target: str,
    *,
    replications: int | None = None,
    seed: int | None = None,
    tolerance: float | None = None,
    workers: int = 1,
    yes: bool = False,
    reporter: Reporter | None = None,
) -> ThresholdOutcome:
    """Smallest parameter value at which a metric meets a target, by bisection over Monte
    Carlo estimates (common random numbers), with a conservative answer from its CI (see
    ``simulate threshold``)."""
    import math

    from tripwire.bisection import Evaluation, check_tolerance, find_threshold, parse_target
    from tripwire.designs import SweepError, parse_factor

    rep = reporter or Silent()
    (ls,) = load_all([file], reporter=rep)
    s = ls.scenario
    factor = parse_factor(vary)
    goal = parse_target(target, threshold_metrics(s))
    check_target(goal, target)
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
        rep.note(f"  {factor.path} = {e.x:g}: {goal.metric} = {e.metrics[goal.metric]:.3f}")

    try:
        res = find_threshold(
            ls, factor, goal, n, s.seed if seed is None else seed, workers, tol, on_eval
        )
    except (SweepError, ScenarioError):
        raise
    except KeyboardInterrupt:
        raise Interrupted(
            "interrupted: a threshold search keeps nothing; run it again to search"
        ) from None
    except BackendError as exc:
        raise RunFailed(f"{exc}; run the same command again to retry") from None
    except Exception as exc:  # noqa: BLE001 - a chunk raised, in a worker or inline
        raise RunFailed(
            f"the search failed after {len(evaluated)} evaluations: a chunk of replications "
            f"raised {type(exc).__name__}: {exc}. A threshold search keeps no partial results: "
            "fix the cause, then run the same command again"
        ) from None
    return ThresholdOutcome(factor.path, goal.metric, res)
