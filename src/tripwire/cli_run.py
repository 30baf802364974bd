"""``simulate run``, ``check``, ``sources`` and ``version``: parse, call one function,
print. The run itself is :func:`tripwire.campaign.run`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tripwire import __version__, campaign
from tripwire.cli_common import CORES, ConsoleReporter, app, failed, out
from tripwire.errors import TripwireError
from tripwire.loader import LoadedScenario
from tripwire.model import compile_plan
from tripwire.report_text import print_answer
from tripwire.scenario import MAX_SEED


def load_all(files: list[Path]) -> list[LoadedScenario]:
    """Load every file for a command; every problem of every file, then exit 2."""
    try:
        return campaign.load_all(files, reporter=ConsoleReporter())
    except TripwireError as exc:
        raise failed(exc) from None


# the options of `simulate run`, declared apart so the command itself stays short
Files = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Scenario YAML files; several are compared under common random numbers "
        "(with --resume: optional, read from the folder when left out)."
    ),
]
Replications = Annotated[
    int | None,
    typer.Option(
        "--replications",
        "-n",
        min=1,
        help="Replications per scenario (default: the value in the file).",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(min=0, max=MAX_SEED, help="Batch seed (default: the value in the file)."),
]
Workers = Annotated[
    int,
    typer.Option(min=1, help="Local worker processes; results are identical for any number."),
]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="Result folder (default: results/<names>-<UTC time>)."),
]
Resume = Annotated[
    Path | None,
    typer.Option(
        help="Continue an interrupted run in this folder: checksum-verified chunks are "
        "kept, the rest run again (same replications, seed and scenarios)."
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing result folder given with --out (only a tripwire one).",
    ),
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes",
        help="Run even when the estimate says the batch would take longer than "
        "TRIPWIRE_MAX_HOURS (default 24) or fill the disk.",
    ),
]
Plot = Annotated[
    bool,
    typer.Option("--plot", help="Also draw every figure into RESULT/plots (see `plot`)."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Precision = Annotated[
    str | None,
    typer.Option(
        help="Sequential stopping: METRIC=H adds replications until the 95% CI half-width "
        "of METRIC is at most H for every scenario (-n is the first stage), e.g. "
        "p_beat_fa_theatre=0.01 or ttr_median_theatre_h=6. Metrics: p_beat_fa_<area>, "
        "p_hold_<area>, ttr_median_<area>_h; area: estonia, latvia, lithuania or theatre.",
    ),
]
MaxReplications = Annotated[
    int, typer.Option(min=1, help="Upper bound on replications with --precision.")
]


@app.command()
def run(
    files: Files = None,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = CORES,
    out_dir: Out = None,
    resume: Resume = None,
    force: Force = False,
    yes: Yes = False,
    plot: Plot = False,
    quiet: Quiet = False,
    precision: Precision = None,
    max_replications: MaxReplications = 100_000,
) -> None:
    """Run a Monte Carlo batch of each scenario, print a summary and write a result folder."""
    try:
        r = campaign.run(
            files,
            replications=replications,
            seed=seed,
            workers=workers,
            out_dir=out_dir,
            resume=resume,
            force=force,
            yes=yes,
            precision=precision,
            max_replications=max_replications,
            command=shlex.join(["simulate", *sys.argv[1:]]),
            reporter=ConsoleReporter(quiet),
        )
    except TripwireError as exc:
        raise failed(exc) from None
    if r.already_complete:
        out.print(f"{r.folder} is already complete: nothing to resume")
        return
    _print_run(r)
    if plot:
        from tripwire.cli_view import make_plots

        make_plots(r.folder)


def _print_run(r: campaign.RunOutcome) -> None:
    print_answer(out, r.summaries, r.comparisons, r.names)
    total = r.replications * len(r.names)
    out.print(
        f"{total} replications"
        + (f" ({r.kept} kept from the interrupted run)" if r.kept else "")
        + f"; computed {r.computed} in {r.seconds:.1f} s "
        f"({r.computed / max(r.seconds, 1e-9):.0f}/s, {r.workers} workers)"
    )
    out.print(f"results: {r.folder}")


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
        except TripwireError as exc:
            raise failed(exc) from None
        out.print(f"ok: {f} - validation register, {len(reg.records)} records", highlight=False)
    for ls in load_all([f for f in files if f not in registers]):
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
    (ls,) = load_all([file])
    t = Table(title=f"{ls.scenario.name}: parameter sources", show_lines=False)
    for col in ("parameter", "value", "origin", "source"):
        t.add_column(col, overflow="fold")
    flat = campaign.flatten(ls.data)
    for key, origin in ls.provenance.items():
        if unsourced_only and origin.kind != "unsourced":
            continue
        label = origin.kind + (f" {origin.ref}" if origin.ref else "")
        t.add_row(key, campaign.fmt_value(flat.get(key)), label, origin.detail)
    out.print(t)


@app.command()
def version() -> None:
    """Print the tripwire version."""
    out.print(__version__)
