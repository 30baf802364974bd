"""Reading result folders safely, the HTML report, and the plot/report commands."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tripwire.folders import FolderError, open_result
from tripwire.report import render, write_report

from ..cli.test_cli import invoke
from .conftest import FIXTURES


def test_a_modified_file_is_named_not_read(run_copy):
    summary = run_copy / "brigade" / "summary.json"
    summary.write_text(summary.read_text()[:-200])  # truncated
    f = open_result(run_copy)
    with pytest.raises(FolderError, match=r"brigade/summary.json does not match its checksum"):
        f.summaries  # noqa: B018


def test_a_missing_file_is_named(run_copy):
    (run_copy / "permanent" / "replications.parquet").unlink()
    f = open_result(run_copy)
    with pytest.raises(FolderError, match="permanent/replications.parquet is missing"):
        f.replications_table("permanent")


def test_unfinished_and_foreign_folders_are_refused(tmp_path, run_copy):
    with pytest.raises(FolderError, match="no such folder"):
        open_result(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FolderError, match="not a tripwire result folder"):
        open_result(tmp_path / "empty")
    (run_copy / "manifest.json").unlink()
    (run_copy / "parts").mkdir()
    with pytest.raises(FolderError, match="interrupted run"):
        open_result(run_copy)
    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURES / "sweep_grid", sweep)
    m = json.loads((sweep / "manifest.json").read_text())
    (sweep / "manifest.json").write_text(json.dumps({**m, "status": "incomplete"}))
    with pytest.raises(FolderError, match="--resume"):
        open_result(sweep)


def test_run_report_holds_tables_sources_assumptions_and_figures(run3):
    text = render(run3)
    # the headline numbers, as the summary has them
    med = run3.summaries["brigade"]["areas"]["theatre"]["ttr_h"]["p50"]
    assert f"{med['value']:,.0f} [{med['lo']:,.0f}, {med['hi']:,.0f}]" in text
    assert "Paired comparison (common random numbers)" in text
    # every run figure, embedded
    for kind in ("reinforced", "ttr", "buildup", "bottlenecks", "map", "phases"):
        assert f'<figure id="fig-{kind}"><img' in text
    assert text.count('src="data:image/png;base64,') == 6
    # parameters with their sources, and the assumptions catalogue
    assert "countries.lithuania.threat_troops" in text
    assert "Assumptions (no source pins these down; sweep them)" in text
    assert "warning_days" in text and "Figures from the source articles" in text
    # self-contained: nothing is fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "<script" not in text and "@import" not in text and "url(" not in text


def test_sweep_report(sweep_grid):
    text = render(sweep_grid)
    assert "Design" in text and "warning.days, suwalki.closure_probability" in text
    assert '<figure id="fig-heatmap">' in text and '<figure id="fig-sensitivity">' in text
    assert text.count('<figure id="fig-response">') == 2  # one per factor
    assert "Points (16 of 16 rows" in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)


def test_plot_and_report_commands(tmp_path):
    r = invoke(
        "plot",
        str(FIXTURES / "sweep_grid"),
        "--kind",
        "heatmap",
        "--x",
        "warning.days",
        "--y",
        "suwalki.closure_probability",
        "--metric",
        "p_beat_fa_lithuania",
        "--out",
        str(tmp_path / "p"),
    )
    assert r.exit_code == 0, r.output
    stem = "heatmap-p_beat_fa_lithuania-warning.days-suwalki.closure_probability"
    assert f"plot: {tmp_path / 'p' / stem}.png" in r.output
    assert (tmp_path / "p" / f"{stem}.svg").is_file()
    r = invoke("report", str(FIXTURES / "run3"), "--out", str(tmp_path / "r.html"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plot", "FIX/run3", "--kind", "pie"), "unknown --kind 'pie'"),
        (("plot", "FIX/run3", "--kind", "heatmap"), "does not fit a run folder"),
        (("plot", "FIX/sweep_grid", "--metric", "p_win"), "unknown metric 'p_win'"),
        (("plot", "FIX/nope"), "no such folder"),
        (("report", "FIX/run3/manifest.json"), "not a folder"),
    ],
)
def test_command_errors_exit_2_without_traceback(args, message, tmp_path):
    args = [a.replace("FIX", str(FIXTURES)) for a in args]
    r = invoke(*args, "--out", str(tmp_path / "out"))
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_report_of_a_damaged_folder_exits_2(run_copy, tmp_path):
    p = run_copy / "rotational" / "replications.parquet"
    p.write_bytes(p.read_bytes()[:1000])
    r = invoke("report", str(run_copy), "--out", str(tmp_path / "r.html"))
    assert r.exit_code == 2 and "rotational/replications.parquet does not match" in r.output
    assert not (tmp_path / "r.html").exists()


def test_write_report_default_location(run_copy):
    path = write_report(open_result(run_copy))
    assert path == run_copy / "report.html" and path.stat().st_size > 100_000
