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
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tripwire import __version__
from tripwire.backends import BackendError
from tripwire.errors import Interrupted, Problem, RunFailed, ScenarioError, UsageError
from tripwire.guards import estimate
from tripwire.loader import LoadedScenario, load_scenario
from tripwire.model import compile_plan
from tripwire.precision import PrecisionError, half_width, next_size, parse_precision
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


def check_complete_run(folder: Path, state: dict[str, Any], loaded: list[LoadedScenario]) -> None:
    """``--resume`` of a complete run given scenario files: they must be the scenarios it
    ran (compared as resolved, with the checksum-verified ``scenario.resolved.yaml`` of each);
    a :class:`UsageError` naming the ones that differ otherwise."""
    import yaml

    from tripwire.folders import FolderError, RunFolder

    digests = {ls.scenario.name: digest(ls.scenario) for ls in loaded}
    ran: dict[str, str] = {}
    f = RunFolder(folder, state)
    for name in state["scenarios"]:
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


def resume_state(folder: Path) -> dict[str, Any]:
    """The start manifest of an interrupted run (or a complete one), or a
    :class:`UsageError` saying why not.

    Read through the shape check every reader uses (:func:`tripwire.results.read_manifest`):
    a manifest that is not tripwire's, or is damaged, is named here, never half-read."""
    from tripwire.results import ManifestError, read_manifest

    if not folder.exists():
        raise UsageError(f"--resume {folder}: no such folder")
    if not folder.is_dir():
        raise UsageError(f"--resume {folder}: not a folder (give the result folder of the run)")
    if not (folder / "manifest.json").is_file():
        raise UsageError(f"--resume {folder}: no manifest.json there, not a run folder")
    try:
        state, kind = read_manifest(folder)
    except ManifestError as exc:
        raise UsageError(f"--resume {folder}: {exc.why}; it cannot be resumed") from None
    if kind == "sweep":
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


def claim_folder(folder: Path, force: bool, reporter: Reporter, label: str = "--out") -> Claim:
    """Claim ``folder`` for a new run or sweep and return the claim (held until it ends).

    The claim is taken first, atomically (:func:`tripwire.results.claim`), so of two
    commands given one folder exactly one proceeds; then the folder must be empty, or (with
    ``force``) a tripwire result folder holding only what tripwire writes
    (:func:`replaceable`), which is then emptied after saying so. A :class:`UsageError`
    otherwise, naming the folder and the reason (nothing written is left behind)."""
    from tripwire.results import NotReplaceable, replaceable

    if folder.is_symlink() and not folder.exists():
        raise UsageError(f"{folder} is a broken symbolic link; choose another {label}")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write the result folder {folder}: {exc.strerror or exc}"
        ) from None
    held = claim_existing(folder)
    try:
        if any(p.name != CLAIM for p in folder.iterdir()):
            if not force:
                raise UsageError(
                    f"{folder} exists and is not empty; choose another {label}, continue it "
                    f"with --resume {folder}, or replace it with --force"
                )
            try:
                files = replaceable(folder)
            except NotReplaceable as exc:
                raise UsageError(f"--force: {exc}; not removed") from None
            reporter.note(f"--force: deleting the tripwire result folder {folder} ({files} files)")
            try:
                clear(folder)
            except OSError as exc:
                raise UsageError(
                    f"--force: cannot remove {folder}: {exc.strerror or exc}"
                ) from None
    except BaseException:
        held.release()
        if made:
            with suppress(OSError):
                folder.rmdir()
        raise
    return held


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
    stage: dict[str, int],
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
                    reporter.warn(f"{path}: {problem}; its chunk runs again")
            for path in paths:
                path.unlink(missing_ok=True)
    total = (stage["target"] - stage["first"]) * len(scenarios)
    with reporter.progress(total) as tick:
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
    state: dict[str, Any] = {}
    if resume is not None:
        state = resume_state(resume)
        if state.get("complete"):
            if files:  # asked to continue with these: they must be the ones it ran
                check_complete_run(resume, state, load_all(files, overrides, rep))
            return RunOutcome(resume, list(state.get("scenarios", [])), already_complete=True)
        saved = state["resume"]
        files = files or [Path(f) for f in saved["files"]]
        replications, seed = saved["replications"], saved["seed"]
        precision, max_replications = saved["precision"], saved["max_replications"]
    if not files:
        raise UsageError("give scenario files to run, or --resume FOLDER")
    try:
        goal = parse_precision(precision) if precision else None
    except PrecisionError as exc:
        raise UsageError(str(exc)) from None
    loaded = load_all(files, overrides, rep)
    names = [ls.scenario.name for ls in loaded]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names must differ to be compared, got {names}")
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
    for ls in loaded:
        compile_plan(ls.scenario)  # fail here, not in a worker
    scenarios = [ls.scenario for ls in loaded]
    digests = {s.name: digest(s) for s in scenarios}
    if resume is not None:
        run_dir = resume
        differ = changed(digests, state["resume"]["scenarios"])
        if differ:
            raise UsageError(
                f"--resume {resume}: the scenarios differ from those the run started with "
                f"({', '.join(differ)}); start a new run instead"
            )
        held = claim_existing(run_dir)
        try:  # read again: another command may have moved the folder on meanwhile
            state = resume_state(resume)
        except BaseException:
            held.release()
            raise
        if state.get("complete"):
            held.release()
            return RunOutcome(resume, names, already_complete=True)
    else:
        run_dir = out_dir or new_run_dir(
            Path("results"), "-".join(names) if len(names) < 4 else f"compare{len(names)}"
        )
        worst = n if goal is None else max_replications  # --precision may grow to the cap
        guess = estimate(scenarios, worst, workers, run_dir, buildup=True)
        if (guess.too_long or guess.too_big) and not yes:
            raise UsageError(
                guess.describe(f"{len(scenarios)} x {worst:,} replications", workers)
                + f"; the limit is {guess.max_hours:g} h (TRIPWIRE_MAX_HOURS) and 90% of the "
                "free space. Use fewer replications, or --yes to run it anyway"
            )
        held = claim_folder(run_dir, force, rep)  # after the estimate: a refusal deletes nothing
        state = {
            "complete": False,
            "status": "running",
            "tripwire_version": __version__,
            "command": command,
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
            raise UsageError(
                f"cannot write the result folder {run_dir}: {exc.strerror or exc}"
            ) from None
    hint = f"simulate run --resume {run_dir}"
    with held:  # the folder is this command's until it ends, however it ends
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
                    resume is not None,
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
    state: dict[str, Any],
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
    planned: list[dict[str, int]] = list(state["stages"])
    stages: list[dict[str, Any]] = []
    done, target = 0, min(n, max_replications) if goal else n
    computed = 0
    while True:
        if planned:
            stage = planned.pop(0)
        else:
            stage = {"first": done, "target": target, "chunk": chunk_size(target - done, workers)}
            state["stages"].append(stage)
            write_json(run_dir / "manifest.json", state)
        computed += run_stage(run_dir, scenarios, stage, root, workers, rep)
        done = stage["target"]
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
        target = (
            planned[0]["target"] if planned else next_size(done, widest, goal, max_replications)
        )
    secs = (dt.datetime.now(dt.UTC) - started).total_seconds()
    # the join: an interruption here keeps every part, so --resume redoes it
    verify_parts(run_dir, scenarios)
    summaries, comparisons = summarise_run(run_dir, loaded, names, root)
    precision_block = (
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
    )
    finish(
        run_dir,
        {
            "tripwire_version": __version__,
            "command": state.get("command", ""),
            "created_utc": started.isoformat(timespec="seconds"),
            "wall_seconds": round(secs, 2),
            "seed": root,
            "replications": done,
            "workers": workers,
            "seeding": "numpy SeedSequence(seed).spawn(replications)[i] for "
            "replication i, shared by every scenario (common random numbers)",
            **precision_block,
            "scenarios": {ls.scenario.name: str(ls.path) for ls in loaded},
            **({"resumed": True} if resumed else {}),
        },
    )
    return RunOutcome(run_dir, names, done, root, workers, computed, secs, summaries, comparisons)
