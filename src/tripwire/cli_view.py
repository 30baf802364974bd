"""``simulate plot`` and ``simulate report``: figures and an HTML report from a result folder.

Both read a finished folder (checked against its manifest) and never simulate. The plotting
modules (matplotlib) are imported when a figure is drawn, not when the CLI starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tripwire.cli import app, fail, out
from tripwire.folders import FolderError, RunFolder, SweepFolder, open_result
from tripwire.plotkinds import FORMATS, KINDS

if TYPE_CHECKING:
    from tripwire.plots import Options

FolderArg = Annotated[
    Path, typer.Argument(help="A result folder written by `simulate` or `simulate sweep`.")
]


def _open(folder: Path) -> RunFolder | SweepFolder:
    try:
        return open_result(folder)
    except FolderError as exc:
        raise fail(str(exc)) from None


def make_plots(
    folder: Path,
    kinds: list[str] | None = None,
    options: Options | None = None,
    out_dir: Path | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Plot ``folder`` and print the paths (shared by ``plot``, ``run --plot`` and
    ``sweep --plot``); user mistakes exit with code 2."""
    from tripwire.plots import PlotError, plot

    f = _open(folder)
    try:
        paths = plot(f, kinds, options, out_dir, formats)
    except (PlotError, FolderError) as exc:
        raise fail(str(exc)) from None
    for p in paths:
        out.print(f"plot: {p}", highlight=False, soft_wrap=True)
    return paths


@app.command("plot")
def plot_command(
    folder: FolderArg,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            "-k",
            help=f"Plot kind (repeatable; default: all that fit the folder). One of: "
            f"{', '.join(KINDS)}. Runs: reinforced, ttr, buildup, bottlenecks; sweeps: "
            "response, heatmap, sensitivity.",
        ),
    ] = None,
    x: Annotated[
        str | None, typer.Option("--x", help="Sweep factor on the x axis (default: the first).")
    ] = None,
    y: Annotated[
        str | None, typer.Option("--y", help="Second sweep factor, for --kind heatmap.")
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            help="Sweep metric, a points.parquet column such as p_hold_theatre (default), "
            "ttr_median_lithuania_h or p_reinforced_theatre_by_168h.",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: FOLDER/plots).")
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="png and/or svg (repeatable; default: both)."),
    ] = None,
) -> None:
    """Draw the figures of a result folder as PNG and SVG and print their paths."""
    for k in kind or []:
        if k not in KINDS:
            raise fail(f"unknown --kind {k!r}; choose from {', '.join(KINDS)}")
    for fmt in formats or []:
        if fmt not in FORMATS:
            raise fail(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    from tripwire.plots import Options

    make_plots(folder, kind or None, Options(x=x, y=y, metric=metric), out_dir, formats or FORMATS)


@app.command("report")
def report_command(
    folder: FolderArg,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file to write (default: FOLDER/report.html)."),
    ] = None,
) -> None:
    """Write one self-contained HTML report (figures embedded, no network needed): summary
    tables, paired comparison, parameters with their sources, and the assumptions."""
    from tripwire.plots import PlotError
    from tripwire.report import write_report

    f = _open(folder)
    try:
        path = write_report(f, out_file)
    except (PlotError, FolderError) as exc:
        raise fail(str(exc)) from None
    out.print(f"report: {path}", highlight=False, soft_wrap=True)
