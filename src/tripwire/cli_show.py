"""``simulate show`` and ``simulate export``: a finished run's or sweep's tables again, on
the terminal or as CSV. Both only read the folder (checked against its manifest)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from tripwire.cli_common import app, fail, out
from tripwire.folders import FolderError, RunFolder, open_result

ShowFolder = Annotated[Path, typer.Argument(help="A result folder of `simulate` or `sweep`.")]


@app.command("show")
def show_command(folder: ShowFolder) -> None:
    """Print a finished run's tables (the answer in plain words, summary per posture,
    paired comparison, the phases that decided) or a sweep's (points and sensitivity), as
    they were printed when it finished. Narrow terminals get a stacked layout."""
    from tripwire.cli_sweep import _print_points, _print_sensitivity
    from tripwire.report_text import print_answer

    try:
        f = open_result(folder)
        if isinstance(f, RunFolder):
            print_answer(out, f.summaries, f.comparisons, f.scenarios)
        else:
            cols = {k: v.tolist() for k, v in f.points.items()}
            points = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values())]
            _print_points(points, [SimpleNamespace(path=p) for p in f.factors])
            _print_sensitivity(f.sensitivity)
    except FolderError as exc:
        raise fail(str(exc)) from None
    out.print(f"results: {folder}", highlight=False)


@app.command("export")
def export_command(
    folder: ShowFolder,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: FOLDER/csv).")
    ] = None,
) -> None:
    """Write the summary and the comparison as flat CSV (run: summary.csv, comparison.csv,
    phases.csv; sweep: points.csv, comparison.csv)."""
    from tripwire.export import export_csv

    try:
        paths = export_csv(folder, out_dir)
    except FolderError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}") from None
    for p in paths:
        out.print(f"csv: {p}", highlight=False, soft_wrap=True)
