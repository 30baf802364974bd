"""``simulate show`` reprints a finished folder's tables (stacked on a narrow terminal, so
nothing is cut at 80 columns); ``simulate export`` writes them as flat CSV, the same
tables as the API's DataFrames. Both read stored folders (tests/fixtures) and never
simulate."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.view.conftest import FIXTURES
from tripwire import api
from tripwire.cli import app
from tripwire.report_text import comparison_table, summary_table


@pytest.mark.parametrize("width", [80, 100, 200])
def test_summary_and_comparison_tables_fit_the_terminal_without_cutting(run3, width):
    c = Console(width=width, record=True)
    for s in run3.scenarios:
        summary_table(c, run3.summaries[s])
    comparison_table(c, run3.comparisons, {s: run3.posture(s) for s in run3.scenarios})
    text = c.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text  # nothing truncated
    # every figure of the theatre's median is on screen, whatever the layout
    for s in run3.scenarios:
        v = run3.summaries[s]["areas"]["theatre"]["ttr_h"]["p50"]["value"]
        assert f"{v:,.0f} [" in text


def test_show_reprints_a_run_with_the_plain_words(run3, monkeypatch):
    from tripwire import cli_common

    monkeypatch.setattr(cli_common.out, "width", 80)  # an 80-column terminal
    r = CliRunner().invoke(app, ["show", str(run3.path)])
    assert r.exit_code == 0, r.output
    assert "In plain words:" in r.output and "median of" in r.output
    from tripwire.headline import sentences

    lines = r.output.splitlines()
    n = len(sentences(run3.summaries, run3.comparisons))
    assert lines[0] == "In plain words:"  # the answer first, then the tables
    assert all(ln.startswith("  ") for ln in lines[1 : 1 + n])
    tables = "\n".join(lines[1 + n :])
    assert max(len(line) for line in tables.splitlines()) <= 80 and "…" not in tables


def test_show_reprints_a_sweep(sweep_grid):
    r = CliRunner().invoke(app, ["show", str(sweep_grid.path)], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "sweep points" in r.output and "sensitivity of" in r.output
    for f in sweep_grid.factors:
        assert f in r.output


def test_show_of_no_folder_is_exit_2(tmp_path):
    r = CliRunner().invoke(app, ["show", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "no such folder" in r.output


def test_export_writes_the_apis_tables_as_csv(tmp_path):
    folder = tmp_path / "run3"
    shutil.copytree(FIXTURES / "run3", folder)
    r = CliRunner().invoke(app, ["export", str(folder)])
    assert r.exit_code == 0, r.output
    res = api.open(folder)
    assert isinstance(res, api.Results)
    got = pd.read_csv(folder / "csv" / "summary.csv")
    pd.testing.assert_frame_equal(got, res.summary.reset_index(drop=True), check_dtype=False)
    got = pd.read_csv(folder / "csv" / "comparison.csv")
    pd.testing.assert_frame_equal(got, res.compare().reset_index(drop=True), check_dtype=False)
    phases = pd.read_csv(folder / "csv" / "phases.csv")
    assert set(phases["country"]) == {"estonia", "latvia", "lithuania"}
    # the folder stays a tripwire result folder --force may replace (csv/ is tripwire's)
    from tripwire.results import replaceable

    assert replaceable(folder) > 0


def test_export_of_a_sweep(sweep_grid, tmp_path):
    r = CliRunner().invoke(app, ["export", str(sweep_grid.path), "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    pts = pd.read_csv(tmp_path / "c" / "points.csv")
    assert len(pts) == len(sweep_grid.points["point"])
