"""``simulate sweep`` and ``simulate threshold``: thin commands over sweep and threshold."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import tripwire.columns as C
from tripwire import campaign
from tripwire.cli_common import CORES, ConsoleReporter, app, err, fail, failed, out
from tripwire.designs import DESIGNS
from tripwire.errors import TripwireError
from tripwire.report_text import print_table
from tripwire.scenario import MAX_SEED
from tripwire.summary import AREAS

# the options of `simulate sweep`, declared apart so the command stays short
SweepTargets = Annotated[
    list[Path],
    typer.Argument(
        help="Scenario files (postures compared point by point), or one sweep-spec YAML."
    ),
]
SweepVary = Annotated[
    list[str] | None,
    typer.Option("--vary", help="PATH=LOW:HIGH[:N] or PATH=V1,V2,... (repeatable)."),
]
SweepDesign = Annotated[
    str | None, typer.Option(help=f"One of {', '.join(DESIGNS)} (default grid).")
]
SweepSamples = Annotated[
    int | None, typer.Option(help="Base samples of lhs, sobol, morris designs.")
]
SweepReplications = Annotated[
    int | None,
    typer.Option("--replications", "-n", min=1, help="Replications per point and posture."),
]
SweepSeed = Annotated[
    int | None,
    typer.Option(min=0, max=MAX_SEED, help="Sweep seed (default: the first file's)."),
]
SweepWorkers = Annotated[int, typer.Option(min=1, help="Local worker processes.")]
SweepChunk = Annotated[
    int | None, typer.Option(min=1, help="Replications per task (default: automatic).")
]
SweepScheduler = Annotated[
    str | None,
    typer.Option(
        help="Address of a running Dask scheduler: tcp://HOST:PORT, tls://HOST:PORT or HOST:PORT."
    ),
]
SweepDaskLocal = Annotated[
    int | None,
    typer.Option(
        "--dask-local", min=1, help="Start a Dask LocalCluster with N workers on loopback."
    ),
]
SweepConnectTimeout = Annotated[
    float, typer.Option(min=0.1, help="Seconds to wait for a Dask scheduler.")
]
SweepResume = Annotated[Path | None, typer.Option(help="Continue an interrupted sweep folder.")]
SweepOutDir = Annotated[
    Path | None,
    typer.Option("--out", help="Sweep folder (default: results/sweeps/<name>-<UTC time>)."),
]
SweepQuiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
SweepPlot = Annotated[
    bool,
    typer.Option("--plot", help="Also draw every figure into FOLDER/plots (see `plot`)."),
]
SweepForce = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing sweep folder given with --out (only a tripwire one).",
    ),
]
SweepYes = Annotated[
    bool,
    typer.Option(
        "--yes",
        help="Run even when the estimate says the sweep would take longer than "
        "TRIPWIRE_MAX_HOURS (default 24) or fill the disk.",
    ),
]


@app.command()
def sweep(
    targets: SweepTargets,
    vary: SweepVary = None,
    design: SweepDesign = None,
    samples: SweepSamples = None,
    replications: SweepReplications = None,
    seed: SweepSeed = None,
    workers: SweepWorkers = CORES,
    chunk: SweepChunk = None,
    scheduler: SweepScheduler = None,
    dask_local: SweepDaskLocal = None,
    connect_timeout: SweepConnectTimeout = 10.0,
    resume: SweepResume = None,
    out_dir: SweepOutDir = None,
    quiet: SweepQuiet = False,
    plot: SweepPlot = False,
    force: SweepForce = False,
    yes: SweepYes = False,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube, Sobol or Morris) over one or more
    postures, locally or on Dask; stream results to a resumable folder."""
    _check_scheduler(scheduler)
    try:
        r = campaign.sweep(
            targets,
            vary=vary,
            design=design,
            samples=samples,
            replications=replications,
            seed=seed,
            workers=workers,
            chunk=chunk,
            scheduler=scheduler,
            dask_local=dask_local,
            connect_timeout=connect_timeout,
            resume=resume,
            out_dir=out_dir,
            force=force,
            yes=yes,
            command=shlex.join(["simulate", *sys.argv[1:]]),
            reporter=ConsoleReporter(quiet),
        )
    except campaign.SweepFailed as exc:
        _print_failures(exc.failures)
        raise failed(exc) from None
    except TripwireError as exc:
        raise failed(exc) from None
    if r.already_complete:
        out.print(f"{r.folder} is already complete: nothing to resume")
        return
    _print_sweep(r)
    if r.failures:
        _print_failures(r.failures)
        err.print(f"{len(r.failures)} chunks failed twice; rerun with --resume {r.folder}")
        raise typer.Exit(1)
    if plot:
        from tripwire.cli_view import make_plots

        make_plots(r.folder)


def _print_sweep(r: campaign.SweepRunOutcome) -> None:
    _print_points(r.result["points"], r.plan.design.factors)
    _print_sensitivity(r.result["sensitivity"])
    done = r.total - r.outcome.reused_replications
    secs = r.info["wall_seconds"]
    out.print(
        f"{len(r.plan.design.points)} points x {len(r.plan.postures)} postures x "
        f"{r.replications} replications = {r.total}; computed {done} in {secs:.1f} s "
        f"({done / max(secs, 1e-9):.0f}/s) on {r.info['backend']}; "
        f"{r.outcome.reused} chunks reused"
    )
    out.print(f"results: {r.folder}")


def _print_failures(failures: list[dict[str, Any]], limit: int = 20) -> None:
    for f in failures[:limit]:
        err.print(
            f"[bold red]failed[/]: posture {f['posture']} point {f['point']} "
            f"replications {f['replications']}: {f['error']}",
            highlight=False,
        )
    if len(failures) > limit:
        err.print(f"... and {len(failures) - limit} more failed chunks (listed in manifest.json)")


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


def _print_points(points: list[dict[str, Any]], factors: Any, limit: int = 40) -> None:
    head = ["posture", *(f.path for f in factors)]
    head += [f"P(beat f.a.) {area}" for area in AREAS] + ["median TTR theatre, h"]
    median = C.TTR_MEDIAN(area="theatre")
    rows = []
    for r in points[:limit]:
        beat = [C.P_BEAT_FA(area=a) for a in AREAS]
        rows.append(
            [
                r["posture"],
                *[f"{r['x.' + f.path]:g}" for f in factors],
                *[
                    f"{100 * r[k]:.0f}% [{100 * r[k + '_lo']:.0f}, {100 * r[k + '_hi']:.0f}]"
                    for k in beat
                ],
                "beyond horizon" if r[median] != r[median] else f"{r[median]:.0f}",
            ]
        )
    print_table(
        out,
        "sweep points: P(beat f.a.) = P(reinforced before the fait accompli), 95% CI",
        "one row per posture and point; hours",
        head,
        rows,
        keys=1 + len(factors),
    )
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


# the options of `simulate threshold`, declared apart so the command stays short
ThresholdFile = Annotated[Path, typer.Argument(help="Scenario YAML file.")]
ThresholdVary = Annotated[str, typer.Option("--vary", help="PATH=LOW:HIGH, the range to search.")]
ThresholdTarget = Annotated[str, typer.Option(help='Goal, e.g. "p_beat_fa_lithuania>=0.9".')]
ThresholdReplications = Annotated[
    int | None, typer.Option("--replications", "-n", min=1, help="Replications per evaluation.")
]
ThresholdSeed = Annotated[
    int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (default: the file's).")
]
ThresholdTolerance = Annotated[
    float | None,
    typer.Option(help="Stop when the bracket is this narrow (default: range / 64)."),
]
ThresholdWorkers = Annotated[int, typer.Option(min=1, help="Local worker processes.")]
ThresholdYes = Annotated[
    bool,
    typer.Option("--yes", help="Run even if the estimated time exceeds TRIPWIRE_MAX_HOURS."),
]


@app.command()
def threshold(
    file: ThresholdFile,
    vary: ThresholdVary,
    target: ThresholdTarget,
    replications: ThresholdReplications = None,
    seed: ThresholdSeed = None,
    tolerance: ThresholdTolerance = None,
    workers: ThresholdWorkers = CORES,
    yes: ThresholdYes = False,
) -> None:
    """Smallest parameter value at which a metric meets a target, by bisection over Monte
    Carlo estimates (common random numbers), with a conservative answer from its CI."""
    try:
        t = campaign.threshold(
            file,
            vary,
            target,
            replications=replications,
            seed=seed,
            tolerance=tolerance,
            workers=workers,
            yes=yes,
            reporter=ConsoleReporter(),
        )
    except TripwireError as exc:
        raise failed(exc) from None
    res = t.result
    for label in ("estimate", "conservative"):
        r = res[label]
        if r["value"] is None:
            out.print(f"{label}: {res['target']} is {r['note']} {t.path} in {res['range']}")
        else:
            ci = r.get("metric_ci")
            extra = (
                f" ({t.metric} = {r['metric']:.3f}, 95% CI {ci[0]:.3f}-{ci[1]:.3f})"
                if r.get("metric") is not None
                else f" ({r.get('note')})"
            )
            out.print(
                f"{label}: {t.path} = {r['value']:g}, bracket {r['bracket']}{extra}",
                highlight=False,
            )
    # machine-readable last line (plain echo: no wrapping)
    typer.echo(json.dumps({k: v for k, v in res.items() if k != "evaluations"}, default=str))
