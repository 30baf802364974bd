"""The simulate command end to end: typer's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import ROOT, SCENARIOS, same_table
from tripwire.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_files(out: Path, *files: Path | str, n: int = 12, workers: int = 1, seed: int = 5):
    """``simulate run FILES -n N --seed S --workers W --out OUT -q``."""
    args = ["run", *map(str, files), "-n", str(n), "--seed", str(seed)]
    return invoke(*args, "--workers", str(workers), "--out", str(out), "-q")


def test_run_writes_a_complete_result_folder(tmp_path):
    out = tmp_path / "run"
    r = run_files(out, SCENARIOS / "brigade.yaml")
    assert r.exit_code == 0, r.output
    assert "median TTR" in r.output and f"results: {out}" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["seed"] == 5 and manifest["replications"] == 12
    assert set(manifest["files"]) == {
        "brigade/replications.parquet",
        "brigade/formations.parquet",
        "brigade/summary.json",
        "brigade/scenario.resolved.yaml",
        "brigade/sources.json",
    }
    table = pq.read_table(out / "brigade" / "replications.parquet")
    assert table.num_rows == 12
    assert table.column("replication").to_pylist() == list(range(12))
    summary = json.loads((out / "brigade" / "summary.json").read_text())
    assert summary["replications"] == 12 and "theatre" in summary["areas"]
    assert not (out / "parts").exists()
    # the closure table: one row per (replication, formation), checksummed like the rest
    from tripwire.model.outcome import FORMATION_COLUMNS
    from tripwire.results import sha256

    forms = pq.read_table(out / "brigade" / "formations.parquet")
    assert forms.column_names == [c for c, _ in FORMATION_COLUMNS]
    per_rep = forms.num_rows // 12
    assert per_rep > 10 and forms.num_rows == 12 * per_rep
    assert forms.column("replication").to_pylist() == sorted(
        forms.column("replication").to_pylist()
    )
    assert manifest["files"]["brigade/formations.parquet"] == sha256(
        out / "brigade" / "formations.parquet"
    )
    # the resolved scenario is itself a valid scenario that reproduces the run
    resolved = yaml.safe_load((out / "brigade" / "scenario.resolved.yaml").read_text())
    p = tmp_path / "again.yaml"
    p.write_text(yaml.safe_dump(resolved))
    r2 = run_files(tmp_path / "again", p)
    assert r2.exit_code == 0, r2.output
    assert same_table(pq.read_table(tmp_path / "again" / "brigade" / "replications.parquet"), table)


def test_workers_1_and_2_give_identical_tables(tmp_path):
    tables = []
    for w in (1, 2):
        out = tmp_path / f"w{w}"
        files = (SCENARIOS / "rotational.yaml", SCENARIOS / "suwalki_cut.yaml")
        r = run_files(out, *files, n=40, workers=w)
        assert r.exit_code == 0, r.output
        tables.append(
            [
                pq.read_table(out / s / f)
                for s in ("rotational", "suwalki_cut")
                for f in ("replications.parquet", "formations.parquet")
            ]
        )
    assert all(same_table(a, b) for a, b in zip(*tables))


def test_several_files_print_a_paired_comparison(tmp_path):
    files = (SCENARIOS / "rotational.yaml", SCENARIOS / "permanent.yaml")
    r = run_files(tmp_path / "c", *files, n=30)
    assert r.exit_code == 0, r.output
    assert "paired comparison" in r.output
    comp = json.loads((tmp_path / "c" / "comparison.json").read_text())
    assert comp[0]["a"] == "rotational" and comp[0]["b"] == "permanent"
    assert set(comp[0]["areas"]) == {"estonia", "latvia", "lithuania", "theatre"}


def test_check_and_sources():
    r = invoke("check", *[str(p) for p in sorted(SCENARIOS.glob("*.yaml"))])
    assert r.exit_code == 0, r.output
    assert r.output.count("ok:") == 5 and "0 unsourced values" in r.output
    r = invoke("sources", str(SCENARIOS / "brigade.yaml"))
    assert r.exit_code == 0
    assert "000_4be64397caf5d6bb.txt" in r.output and "assumption" in r.output


def test_existing_result_folder_is_not_overwritten(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep").write_text("1")
    r = runner.invoke(
        app, ["run", str(SCENARIOS / "brigade.yaml"), "-n", "2", "--out", str(tmp_path / "x")]
    )
    assert r.exit_code == 2 and "not empty" in r.output
    assert (tmp_path / "x" / "keep").read_text() == "1"


def _scenario_copy(tmp_path: Path) -> Path:
    """A copy of the shipped tree, so a test can break one file."""
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path / "scenarios"


BAD = [
    ("yaml syntax", "name: [unclosed\n", "invalid YAML"),
    ("unknown key", "colour: red\n", "colour: unknown field"),
    ("wrong type", "horizon_days: soon\n", "horizon_days: Input should be a valid number"),
    (
        "negative capacity",
        "network: {links: [{id: x, from: germany, to: lithuania, mode: rail, channels: -2, "
        "transit_hours: 1, service_hours: 1, items_per_load: 1, troops_per_load: 1}]}\n",
        "network.links[0].channels: Input should be greater than or equal to 1",
    ),
    (
        "low above high",
        "warning: {days: {uniform: {low: 5, high: 1}}}\n",
        "warning.days.uniform: low (5.0) must not exceed high (1.0)",
    ),
    (
        "no route",
        "units: [{name: Lost, troops: 10, type: light, origin: amari, destination: latvia, "
        "readiness_hours: 1}]\n",
        "no rail, road or sea route from 'amari' to latvia",
    ),
    (
        "missing figure",
        "pool: {total_troops: {figure: nato_reserve_army}}\n",
        "pool.total_troops: unknown figure 'nato_reserve_army'",
    ),
    ("duplicate key", "name: a\nname: b\n", "duplicate key 'name'"),
    (
        "untyped force with combat power",
        "in_place: [{name: X, country: latvia, kind: permanent, troops: 100, availability: 1}]\n",
        "needs: type of in_place 'X'",
    ),
    (
        "mix of types not summing to 1",
        "in_place: [{name: X, country: latvia, kind: permanent, troops: 100, availability: 1, "
        "type: {light: 0.5, armoured: 0.2}}]\n",
        "must be non-negative and sum to 1, not 0.7",
    ),
    (
        "a faster ratio band slower",
        "combat: {weights: {light: 1, motorised: 1, mechanised: 1, armoured: 1, fires: 1}, "
        "attrition: {attacker_loss_per_day: 0.03, defender_loss_per_day: 0.02, "
        "reference_ratio: 3}, advance: [{from_ratio: 3, km_per_day: 20}, "
        "{from_ratio: 6, km_per_day: 10}]}\n",
        "can be slower (10 km/day) than the band below it (20 km/day)",
    ),
    (
        "race without an axis",
        "countries: {latvia: {axis_km: null}}\n",
        "needs: countries.latvia.axis_km",
    ),
]


@pytest.mark.parametrize(("label", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gives_one_clear_message_and_exit_2(tmp_path, label, text, expected):
    scen = _scenario_copy(tmp_path)
    bad = scen / "bad.yaml"
    bad.write_text("extends: brigade.yaml\n" + text)
    for cmd in ("check", "run"):
        r = runner.invoke(app, [cmd, str(bad), "-n", "2"] if cmd == "run" else [cmd, str(bad)])
        assert r.exit_code == 2, (label, r.output)
        assert expected in r.output, r.output
        assert str(bad) in r.output
        assert "Traceback" not in r.output


def check_text(tmp_path, text: str):
    """``simulate check`` on a scenario extending brigade.yaml with ``text``."""
    bad = _scenario_copy(tmp_path) / "bad.yaml"
    bad.write_text("extends: brigade.yaml\n" + text)
    return bad, runner.invoke(app, ["check", str(bad)])


def test_error_names_the_line(tmp_path):
    bad, r = check_text(tmp_path, "name: x\nhorizon_days: -3\n")
    assert r.exit_code == 2
    assert f"{bad}:3: horizon_days: Input should be greater than 0" in r.output.replace("\n", "")


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    _, r = check_text(tmp_path, "horizon_days: -1\nseed: x\ncolour: red\n")
    assert r.exit_code == 2
    for field in ("horizon_days", "seed", "colour"):
        assert field in r.output


def test_missing_file_is_a_clear_error():
    r = runner.invoke(app, ["check", "no/such/file.yaml"])
    assert r.exit_code == 2 and "no such scenario file" in r.output


def test_console_script_runs_as_a_real_process(tmp_path):
    exe = shutil.which("simulate") or f"{sys.executable} -m tripwire"
    out = tmp_path / "p"
    proc = subprocess.run(
        [
            *exe.split(),
            str(SCENARIOS / "permanent.yaml"),
            "-n",
            "8",
            "--workers",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "manifest.json").is_file()
    bad = subprocess.run(
        [*exe.split(), "check", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_interrupted_batch_keeps_finished_chunks(tmp_path, monkeypatch):
    import tripwire.runner as runner_mod

    real = runner_mod.run_chunk
    calls = {"n": 0}

    def flaky(chunk):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(chunk)

    monkeypatch.setattr(runner_mod, "run_chunk", flaky)
    out = tmp_path / "cut"
    r = runner.invoke(
        app,
        [
            "run",
            str(SCENARIOS / "brigade.yaml"),
            "-n",
            "30",
            "--workers",
            "1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert r.exit_code == 130
    parts = sorted((out / "parts" / "brigade").glob("rep-*.parquet"))
    assert [p.name for p in parts] == ["rep-000000000.parquet", "rep-000000010.parquet"]
    forms = sorted((out / "parts" / "brigade").glob("form-*.parquet"))
    assert [p.name for p in forms] == ["form-000000000.parquet", "form-000000010.parquet"]
    assert sum(pq.read_table(p).num_rows for p in parts) == 20
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    monkeypatch.setattr(runner_mod, "run_chunk", real)
    r = runner.invoke(app, ["run", "--resume", str(out), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    table = pq.read_table(out / "brigade" / "replications.parquet")
    assert table.column("replication").to_pylist() == list(range(30))


def test_run_with_plot_draws_every_run_figure(tmp_path):
    out = tmp_path / "run"
    r = invoke(
        "run",
        str(SCENARIOS / "rotational.yaml"),
        str(SCENARIOS / "brigade.yaml"),
        "-n",
        "12",
        "--workers",
        "1",
        "--out",
        str(out),
        "-q",
        "--plot",
    )
    assert r.exit_code == 0, r.output
    for kind in ("reinforced", "ttr", "buildup", "bottlenecks", "map", "phases"):
        for ext in ("png", "svg"):
            assert f"plot: {out / 'plots' / kind}.{ext}" in r.output
            assert (out / "plots" / f"{kind}.{ext}").stat().st_size > 10_000
    # the figures come after the manifest: the result folder itself still verifies
    from tripwire.folders import open_result

    assert open_result(out).summaries["brigade"]["buildup"]["step_hours"] == 12


def test_ctrl_c_while_the_cli_is_still_starting_is_exit_130_without_traceback(tmp_path):
    # found by the pipeline fuzz: a SIGINT during the CLI's imports printed a traceback
    import contextlib
    import os
    import signal
    import time

    exe = shutil.which("simulate")
    assert exe is not None
    args = [exe, "sweep", str(SCENARIOS / "brigade.yaml"), "--vary", "warning.days=0,1"]
    p = subprocess.Popen(
        [*args, "-n", "4", "--out", str(tmp_path / "o"), "-q"],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # signal once the CLI's imports are under way (numpy or pydantic-core mapped: only
    # `from tripwire.cli import main` loads them), not after a fixed delay: on a loaded
    # machine 0.3 s could still be Python's own start, before any tripwire code runs
    maps, deadline = Path(f"/proc/{p.pid}/maps"), time.monotonic() + 60
    if not Path("/proc/self/maps").exists():  # not Linux: a fixed delay, as first written
        time.sleep(0.3)
    while maps.parent.exists() and p.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            text = maps.read_text()
            if "_multiarray_umath" in text or "_pydantic_core" in text:
                break
        time.sleep(0.002)
    os.killpg(p.pid, signal.SIGINT)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 130, err
    assert "Traceback" not in err


def test_version_option_and_command():
    from tripwire import __version__

    for args in (["--version"], ["version"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and r.output.strip() == __version__, r.output
