"""simulate sweep and threshold end to end: backends, resume, errors, sensitivity."""

from __future__ import annotations

import json
import time

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import tripwire.sweeprun as sweeprun
from tests.conftest import SCENARIOS, same_table
from tripwire.cli import app

runner = CliRunner()
BRIGADE = str(SCENARIOS / "brigade.yaml")
ROTATIONAL = str(SCENARIOS / "rotational.yaml")
GRID = ["--vary", "warning.days=0:20:3", "--vary", "suwalki.closure_probability=0,1"]


def sweep(*args: str):
    return runner.invoke(app, ["sweep", *args, "-q"])


def test_grid_sweep_writes_tidy_tables(tmp_path):
    out = tmp_path / "s"
    r = sweep(BRIGADE, ROTATIONAL, *GRID, "-n", "12", "--workers", "1", "--out", str(out))
    assert r.exit_code == 0, r.output
    reps = pq.read_table(out / "replications.parquet")
    assert reps.num_rows == 2 * 6 * 12
    for col in (
        "posture",
        "point",
        "x.warning.days",
        "x.suwalki.closure_probability",
        "replication",
        "seed",
        "ttr_theatre_h",
    ):
        assert col in reps.column_names
    points = pq.read_table(out / "points.parquet").to_pylist()
    assert len(points) == 12 and {p["posture"] for p in points} == {"brigade", "rotational"}
    assert all(
        0 <= p["p_beat_fa_theatre_lo"] <= p["p_beat_fa_theatre"] <= p["p_beat_fa_theatre_hi"] <= 1
        for p in points
    )
    comp = pq.read_table(out / "comparison.parquet").to_pylist()
    assert len(comp) == 6 and comp[0]["a"] == "brigade" and comp[0]["b"] == "rotational"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["points"] == 6
    assert not (out / "parts").exists()
    # common random numbers: every point and posture uses the same replication seeds
    rows = reps.select(["posture", "point", "replication", "warning_h"]).to_pylist()
    same_rep = {(r["point"], r["replication"]) for r in rows if r["posture"] == "brigade"}
    assert same_rep == {
        (r["point"], r["replication"]) for r in rows if r["posture"] == "rotational"
    }


def _table(out):
    return pq.read_table(out / "replications.parquet")


def test_identical_across_workers_chunks_and_dask(tmp_path):
    base = ["-n", "20", *GRID]
    runs = {
        "inline": ["--workers", "1"],
        "pool-chunk7": ["--workers", "2", "--chunk", "7"],
        "dask": ["--dask-local", "2", "--chunk", "5"],
    }
    tables = {}
    for label, extra in runs.items():
        out = tmp_path / label
        r = sweep(BRIGADE, *base, *extra, "--out", str(out))
        assert r.exit_code == 0, (label, r.output)
        tables[label] = _table(out)
    assert (
        "dask LocalCluster x2"
        in json.loads((tmp_path / "dask" / "manifest.json").read_text())["backend"]
    )
    assert same_table(tables["inline"], tables["pool-chunk7"])
    assert same_table(tables["inline"], tables["dask"])


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path, monkeypatch):
    full = tmp_path / "full"
    assert (
        sweep(
            BRIGADE, *GRID, "-n", "20", "--workers", "1", "--chunk", "10", "--out", str(full)
        ).exit_code
        == 0
    )
    real = sweeprun.run_sweep_chunk
    calls = {"n": 0}

    def dies(sc):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(sc)

    monkeypatch.setattr(sweeprun, "run_sweep_chunk", dies)
    cut = tmp_path / "cut"
    r = sweep(BRIGADE, *GRID, "-n", "20", "--workers", "1", "--chunk", "10", "--out", str(cut))
    assert r.exit_code == 130
    assert len(list((cut / "parts").glob("*.parquet"))) == 4
    monkeypatch.setattr(sweeprun, "run_sweep_chunk", real)
    r = sweep(BRIGADE, *GRID, "-n", "20", "--workers", "2", "--resume", str(cut))
    assert r.exit_code == 0, r.output
    assert "4 chunks reused" in r.output
    assert same_table(_table(full), _table(cut))
    r = sweep(BRIGADE, *GRID, "-n", "20", "--resume", str(cut))
    assert r.exit_code == 0 and "already complete" in r.output


def test_resume_refuses_a_different_sweep(tmp_path):
    out = tmp_path / "s"
    assert sweep(BRIGADE, *GRID, "-n", "10", "--workers", "1", "--out", str(out)).exit_code == 0
    before = (out / "replications.parquet").read_bytes()
    r = sweep(BRIGADE, *GRID, "-n", "11", "--resume", str(out))
    assert r.exit_code == 2 and "made by a different sweep; differs in replications" in r.output
    assert (out / "replications.parquet").read_bytes() == before


def test_failed_chunk_is_retried_once_then_reported(tmp_path, monkeypatch):
    real = sweeprun.run_sweep_chunk
    seen: dict[str, int] = {}

    def flaky(sc):
        seen[sc.part_name] = seen.get(sc.part_name, 0) + 1
        if sc.point == 1 and sc.chunk.start == 0:
            raise RuntimeError("worker lost")  # always fails
        if sc.point == 2 and seen[sc.part_name] == 1:
            raise RuntimeError("transient")  # fails once, then succeeds
        return real(sc)

    monkeypatch.setattr(sweeprun, "run_sweep_chunk", flaky)
    out = tmp_path / "s"
    r = sweep(BRIGADE, *GRID, "-n", "10", "--workers", "1", "--out", str(out))
    assert r.exit_code == 1
    assert "point 1" in r.output and "worker lost" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    assert [f["point"] for f in manifest["failures"]] == [1]
    monkeypatch.setattr(sweeprun, "run_sweep_chunk", real)
    assert sweep(BRIGADE, *GRID, "-n", "10", "--resume", str(out)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "warning.dayz=0:3"], "did you mean warning.days"),
        (["--vary", "warning.days=3:1"], "empty or inverted range"),
        (
            ["--vary", "warning.days=0:3", "--design", "sobol", "--samples", "0"],
            "--samples of at least 1",
        ),
        ([], "at least one --vary"),
        (["--vary", "suwalki.closure_probability=0,2"], "point 1 (suwalki.closure_probability=2)"),
    ],
)
def test_bad_sweeps_fail_cleanly(tmp_path, args, message):
    r = sweep(BRIGADE, *args, "-n", "2", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2, r.output
    assert message in r.output.replace("\n", " ")
    assert "Traceback" not in r.output


def test_unreachable_scheduler_is_a_clear_error_not_a_hang(tmp_path):
    t0 = time.monotonic()
    r = sweep(
        BRIGADE,
        *GRID,
        "-n",
        "2",
        "--scheduler",
        "tcp://127.0.0.1:1",
        "--connect-timeout",
        "2",
        "--out",
        str(tmp_path / "x"),
    )
    assert r.exit_code == 2 and "cannot connect to tcp://127.0.0.1:1" in r.output
    assert time.monotonic() - t0 < 30


def test_sweep_spec_file(tmp_path):
    spec = {
        "name": "warning",
        "scenarios": [BRIGADE],
        "replications": 8,
        "seed": 3,
        "vary": {"warning.days": "0:10:2"},
    }
    f = tmp_path / "spec.yaml"
    f.write_text(yaml.safe_dump(spec))
    r = sweep(str(f), "--workers", "1", "--out", str(tmp_path / "s"))
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "s" / "replications.parquet").num_rows == 16


def test_sobol_ranks_the_only_parameter_that_matters_first(tmp_path):
    # the brigade posture has no fly-in units, so UK airlift capacity cannot matter
    out = tmp_path / "sobol"
    r = sweep(
        BRIGADE,
        "--vary",
        "warning.days=0:20",
        "--vary",
        "network.links.air_uk_amari.channels=1:10",
        "--design",
        "sobol",
        "--samples",
        "8",
        "-n",
        "16",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    sens = json.loads((out / "sensitivity.json").read_text())["postures"]["brigade"]
    for metric in ("p_beat_fa_theatre", "ttr_rmean_theatre_h"):
        assert sens[metric]["ranking"][0] == "warning.days"
        idx = sens[metric]["indices"]
        assert idx["network.links.air_uk_amari.channels"]["ST"] == pytest.approx(0, abs=1e-9)
        assert idx["warning.days"]["ST"] > 0.5


def test_threshold_finds_the_warning_needed(tmp_path):
    r = runner.invoke(
        app,
        [
            "threshold",
            BRIGADE,
            "--vary",
            "warning.days=0:30",
            "--target",
            "p_beat_fa_lithuania>=0.9",
            "-n",
            "60",
            "--tolerance",
            "2",
            "--workers",
            "2",
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.output.strip().splitlines()[-1])
    est, cons = res["estimate"], res["conservative"]
    assert res["direction"] == "increasing"
    assert 0 < est["value"] <= 30 and est["metric"] >= 0.9
    assert cons["value"] >= est["value"]  # the CI bound needs at least as much warning
    assert est["bracket"][1] - est["bracket"][0] <= 2


def test_threshold_rejects_an_unknown_metric():
    r = runner.invoke(
        app,
        [
            "threshold",
            BRIGADE,
            "--vary",
            "warning.days=0:30",
            "--target",
            "p_beat_fa_lithuana>=0.9",
        ],
    )
    assert r.exit_code == 2 and "did you mean p_beat_fa_lithuania" in r.output


def test_sweep_with_plot_draws_the_sweep_figures(tmp_path):
    out = tmp_path / "s"
    r = sweep(BRIGADE, *GRID, "-n", "6", "--workers", "1", "--out", str(out), "--plot")
    assert r.exit_code == 0, r.output
    for kind in ("response", "heatmap", "sensitivity"):
        assert (out / "plots" / f"{kind}.png").stat().st_size > 10_000
        assert (out / "plots" / f"{kind}.svg").is_file()
    # sweeps do not record build-up trajectories (they would multiply the table's size)
    assert not any(
        c.startswith("buildup_") for c in pq.read_schema(out / "replications.parquet").names
    )
