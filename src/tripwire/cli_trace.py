"""``simulate trace``: one replication's story, as an event log and a Gantt chart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tripwire.cli_common import app, failed, out
from tripwire.errors import TripwireError


@app.command("trace")
def trace_command(
    target: Annotated[
        Path, typer.Argument(help="A scenario file, or a run folder written by `simulate`.")
    ],
    replication: Annotated[
        int, typer.Option("--replication", "-r", help="The replication to tell (0-based).")
    ],
    seed: Annotated[
        int | None,
        typer.Option(help="Batch seed, for a scenario file (default: the scenario's seed)."),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="Which scenario of a run folder (default: its first)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder to write (default: results/trace-<scenario>-r<K>-<time>)."
        ),
    ] = None,
) -> None:
    """Re-simulate replication K (identical to replication K of a batch with the same seed;
    from a run folder, checked against its stored row) and write its event log
    (events.csv, hours from attack start), each formation's phases (formations.csv) and a
    Gantt chart (gantt.png, gantt.svg: formations by phase, in days, with the attack, the
    corridor cut, each country's time-to-reinforce and fait accompli)."""
    from tripwire.trace import run_trace, story

    try:
        tr, paths, origin = run_trace(target, replication, seed, scenario, out_dir)
    except TripwireError as exc:
        raise failed(exc) from None
    out.print(origin, highlight=False, soft_wrap=True)
    for line in story(tr):
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    out.print(f"written: {paths[0].parent}/ ({', '.join(p.name for p in paths)})", highlight=False)
