"""``simulate plot`` and ``simulate report``: figures and an HTML report from a result folder.

Both read a finished folder (checked against its manifest) and never simulate. The plotting
modules (matplotlib) are imported when a figure is drawn, not when the CLI starts.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tripwire.cli_common import EXIT_USAGE, app, err, fail, out
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


# a fault of the machine, not of what was asked: exit 1 (the rest, such as a folder that
# cannot be created or written, is the place given: exit 2)
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _cannot_write(exc: OSError, target: Path, what: str) -> typer.Exit:
    """``plot`` or ``report`` could not write ``target``: name it and the system's reason."""
    where = Path(exc.filename) if exc.filename else target
    if where.name.startswith(".") and where.parent == target.parent:
        where = target  # a temporary name of an atomic write: show the file asked for
    err.print(
        f"[bold red]error[/]: cannot write {what} to {target}: {exc.strerror or exc}"
        + (f" ({where})" if where != target else ""),
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(1 if exc.errno in _DISK_FULL else EXIT_USAGE)


_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError)
"""What reading a result file of the wrong shape raises (the manifest's checksums only say
that a file is the one written, not that it was written by tripwire)."""


def _malformed(folder: Path, exc: BaseException) -> str:
    return (
        f"{folder}: a result file does not have the shape tripwire writes "
        f"({type(exc).__name__}: {exc}); the folder is damaged or was not written by this "
        "version of tripwire: re-run it"
    )


def make_plots(
    folder: Path,
    kinds: list[str] | None = None,
    options: Options | None = None,
    out_dir: Path | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Plot ``folder`` and print the paths (shared by ``plot``, ``run --plot`` and
    ``sweep --plot``); user mistakes exit with code 2, and so does a place that cannot be
    written (a full disk: 1)."""
    from tripwire.plots import PlotError, plot

    f = _open(folder)
    try:
        paths = plot(f, kinds, options, out_dir, formats)
    except (PlotError, FolderError) as exc:
        raise fail(str(exc)) from None
    except _MALFORMED as exc:  # a file that matches its checksum but not tripwire's shape
        raise fail(_malformed(folder, exc)) from None
    except OSError as exc:
        raise _cannot_write(exc, out_dir or folder / "plots", "the figures") from None
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
            f"{', '.join(KINDS)}. Runs: reinforced, ttr, buildup, bottlenecks, map, "
            "phases; sweeps: response, heatmap, sensitivity.",
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
            help="Sweep metric, a points.parquet column such as p_beat_fa_theatre (default), "
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
    except _MALFORMED as exc:  # a file that matches its checksum but not tripwire's shape
        raise fail(_malformed(folder, exc)) from None
    except OSError as exc:
        raise _cannot_write(exc, out_file or folder / "report.html", "the report") from None
    out.print(f"report: {path}", highlight=False, soft_wrap=True)


@app.command()
def validate(
    register: Annotated[Path, typer.Argument(help="The register of real moves.")] = Path(
        "scenarios/validation/REGISTER.yaml"
    ),
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 2,
    replications: Annotated[
        int | None,
        typer.Option("--replications", "-n", min=10, help="Default: the register's."),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only these record ids.")
    ] = None,
    docs: Annotated[
        Path | None,
        typer.Option(help="Also rewrite the register section of this file (docs/validation.md)."),
    ] = None,
) -> None:
    """Run every record of the validation register and judge it against the public record.

    Exit 0 when every record agrees or is a listed known disagreement; 1 when a record
    disagrees and is not listed, or a listed one now agrees; 2 on bad input."""
    from rich.table import Table

    from tripwire.errors import ScenarioError
    from tripwire.validate import exit_code, fmt_h, markdown, run_register, write_docs

    table = Table(title=f"validation against the public record ({register})")
    for col in ("record", "role", "measured, h", "model 10/50/90 %, h", "tolerance", "verdict"):
        table.add_column(col, overflow="fold")

    def row(o: object) -> None:
        from tripwire.validate import Outcome

        assert isinstance(o, Outcome)
        r = o.record
        colour = "green" if o.ok else "red"
        table.add_row(
            r.id,
            r.role,
            o.measured,
            f"{fmt_h(o.q10)} / {fmt_h(o.q50)} / {fmt_h(o.q90)}",
            o.tolerance,
            f"[{colour}]{o.status}[/]",
        )

    try:
        outcomes = run_register(register, workers, replications, only or (), row)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    out.print(table)
    for o in outcomes:
        out.print(f"  {o.record.id}: {o.record.source.strip()[:160]}", highlight=False)
    if docs is not None:
        try:
            write_docs(docs, markdown(outcomes, register))
        except (OSError, ValueError) as exc:
            raise fail(f"--docs {docs}: {exc}") from None
        out.print(f"wrote the register section of {docs}")
    raise typer.Exit(exit_code(outcomes))
