"""Faults while a batch runs: Ctrl-C, a killed worker, a full disk, an unwritable or
existing folder, corrupted parts, a batch too large to start. Each is produced for real
(signals to a real process group, SIGKILL to a real worker, a real file-size limit from the
kernel) and each must leave a folder that resumes to exactly the uninterrupted result."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import SCENARIOS, mini
from tripwire.cli import app
from tripwire.model import compile_plan, simulate
from tripwire.runner import replication_seed

runner = CliRunner()
BRIGADE = SCENARIOS / "brigade.yaml"


def cli(*args: str, **kw) -> subprocess.Popen:
    """``simulate ARGS`` as a real process in its own process group (like a terminal job)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tripwire", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def wait_for(predicate, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def parts(folder: Path) -> list[Path]:
    """Finished chunks: a run's replication parts (each has a closure-table part beside it,
    form-*.parquet) or a sweep's parts."""
    return sorted(
        p for p in (folder / "parts").rglob("*.parquet") if not p.name.startswith("form-")
    )


def check_rows(table_path: Path, scenario: Path, n: int, spot: int = 6) -> None:
    """Replications 0..n-1 each exactly once, and a spot check of whole rows against the
    model run here from the same seeds."""
    t = pq.read_table(table_path)
    assert t.column("replication").to_pylist() == list(range(n))
    from tripwire.loader import load_scenario

    s = load_scenario(scenario).scenario
    plan = compile_plan(s)
    for i in np.linspace(0, n - 1, spot).astype(int):
        want = simulate(plan, replication_seed(s.seed, int(i)), buildup=True)
        row = t.slice(int(i), 1).to_pylist()[0]
        for k, v in want.items():
            got = row[k]
            if isinstance(v, np.ndarray):
                assert np.array_equal(np.asarray(got, dtype=v.dtype), v), k
            elif isinstance(v, float) and np.isnan(v):
                assert got is None or np.isnan(got), k
            else:
                assert got == v, k


def test_ctrl_c_stops_a_run_cleanly_and_resume_gives_the_whole_batch(tmp_path):
    out = tmp_path / "run"
    p = cli("run", str(BRIGADE), "-n", "400", "--workers", "2", "--out", str(out), "-q")
    wait_for(lambda: len(parts(out)) >= 2)
    sent = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole group
    _, stderr = p.communicate(timeout=60)
    stopped = time.monotonic() - sent
    assert p.returncode == 130
    assert "Traceback" not in stderr
    assert f"simulate run --resume {out}" in stderr
    assert stopped < 20, f"took {stopped:.1f} s to stop"
    kept = parts(out)
    assert kept and not (out / "brigade").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False
    r = runner.invoke(app, ["run", "--resume", str(out), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert "kept from the interrupted run" in r.output
    check_rows(out / "brigade" / "replications.parquet", BRIGADE, 400)


def test_ctrl_c_stops_a_sweep_cleanly_and_resume_finishes_it(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(BRIGADE), "--vary", "suwalki.closure_probability=0,1", "-n", "200"]
    p = cli(*args, "--workers", "2", "--chunk", "25", "--out", str(out), "-q")
    wait_for(lambda: len(parts(out)) >= 2)
    os.killpg(p.pid, signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    assert p.returncode == 130
    assert "Traceback" not in stderr
    assert f"--resume {out}" in stderr
    r = runner.invoke(app, [*args, "--workers", "1", "--chunk", "25", "--resume", str(out), "-q"])
    assert r.exit_code == 0, r.output
    table = pq.read_table(out / "replications.parquet")
    for point in (0, 1):
        reps = sorted(
            rep
            for rep, pt in zip(
                table.column("replication").to_pylist(), table.column("point").to_pylist()
            )
            if pt == point
        )
        assert reps == list(range(200))


def _workers(pid: int) -> list[int]:
    """Worker processes of a ``simulate`` process: children of its forkserver."""
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            procs[int(d.name)] = (ppid, cmd)
    servers = [q for q, (pp, cmd) in procs.items() if pp == pid and "forkserver" in cmd]
    return [q for q, (pp, _) in procs.items() if pp in servers]


def test_a_killed_worker_loses_and_duplicates_no_replication(tmp_path):
    out = tmp_path / "run"
    p = cli("run", str(BRIGADE), "-n", "400", "--workers", "2", "--out", str(out), "-q")
    wait_for(lambda: len(parts(out)) >= 1 and len(_workers(p.pid)) == 2)
    victim = _workers(p.pid)[0]
    os.kill(victim, signal.SIGKILL)  # mid-chunk: both workers are busy
    _, stderr = p.communicate(timeout=180)
    assert p.returncode == 0, stderr
    assert "a worker process died" in stderr
    assert "Traceback" not in stderr
    check_rows(out / "brigade" / "replications.parquet", BRIGADE, 400)


def _mini_file(tmp_path: Path) -> Path:
    f = tmp_path / "mini.yaml"
    f.write_text(yaml.safe_dump(mini()))
    return f


def test_a_full_disk_is_a_clear_error_and_keeps_every_finished_chunk(tmp_path):
    scenario = _mini_file(tmp_path)
    out = tmp_path / "run"

    def small_disk() -> None:  # the kernel refuses writes past 20 kB (EFBIG), like a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    p = subprocess.run(
        [sys.executable, "-m", "tripwire", "run", str(scenario), "-n", "3000", "--workers", "1"]
        + ["--out", str(out), "-q"],
        capture_output=True,
        text=True,
        preexec_fn=small_disk,
    )
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "File too large" in p.stderr and f"simulate run --resume {out}" in p.stderr
    assert len(parts(out)) == 30  # every chunk was written before the join failed
    r = runner.invoke(app, ["run", "--resume", str(out), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert "3000 kept" in r.output
    table = pq.read_table(out / "mini" / "replications.parquet")
    assert table.column("replication").to_pylist() == list(range(3000))


def test_an_unwritable_result_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = runner.invoke(
        app, ["run", str(_mini_file(tmp_path)), "-n", "5", "--out", str(blocker / "run"), "-q"]
    )
    assert r.exit_code == 2
    assert "cannot write the result folder" in r.output


def test_an_existing_folder_is_replaced_only_with_force_and_only_if_it_is_a_result(tmp_path):
    scenario = str(_mini_file(tmp_path))
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", scenario, "-n", "5", "--out", str(out), "-q"]).exit_code == 0
    before = (out / "manifest.json").read_bytes()
    r = runner.invoke(app, ["run", scenario, "-n", "7", "--out", str(out), "-q"])
    assert r.exit_code == 2 and "--force" in r.output
    assert (out / "manifest.json").read_bytes() == before  # untouched
    r = runner.invoke(app, ["run", scenario, "-n", "7", "--out", str(out), "--force", "-q"])
    assert r.exit_code == 0
    assert pq.read_table(out / "mini" / "replications.parquet").num_rows == 7
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    r = runner.invoke(app, ["run", scenario, "-n", "5", "--out", str(precious), "--force", "-q"])
    assert r.exit_code == 2 and "not a tripwire result folder" in r.output
    assert (precious / "chapter1.tex").read_text() == "..."


def test_resume_recomputes_a_corrupted_part_and_names_it(tmp_path):
    scenario = _mini_file(tmp_path)
    out = tmp_path / "run"
    r = runner.invoke(
        app, ["run", str(scenario), "-n", "300", "--workers", "1", "--out", str(out), "-q"]
    )
    assert r.exit_code == 0
    reference = pq.read_table(out / "mini" / "replications.parquet")
    reference_forms = pq.read_table(out / "mini" / "formations.parquet")
    # an interrupted folder: the start manifest and three parts, one of them damaged
    out2 = tmp_path / "run2"
    import tripwire.runner as runner_mod

    real, calls = runner_mod.run_chunk, {"n": 0}

    def stop_at_fourth(chunk):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(chunk)

    runner_mod.run_chunk = stop_at_fourth
    try:
        r = runner.invoke(
            app, ["run", str(scenario), "-n", "300", "--workers", "1", "--out", str(out2), "-q"]
        )
    finally:
        runner_mod.run_chunk = real
    assert r.exit_code == 130
    damaged = sorted((out2 / "parts" / "mini").glob("*.parquet"))[1]  # a closure-table part
    assert damaged.name.startswith("form-")
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    r = runner.invoke(app, ["run", "--resume", str(out2), "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert f"{damaged}: checksum mismatch" in r.output
    from tests.conftest import same_table

    assert same_table(pq.read_table(out2 / "mini" / "replications.parquet"), reference)
    assert same_table(pq.read_table(out2 / "mini" / "formations.parquet"), reference_forms)


def test_resume_refuses_a_changed_scenario(tmp_path):
    scenario = _mini_file(tmp_path)
    out = tmp_path / "run"
    (out).mkdir()
    state = {
        "complete": False,
        "status": "running",
        "resume": {
            "files": [str(scenario)],
            "scenarios": {"mini": "0" * 64},
            "replications": 10,
            "seed": 1,
            "precision": None,
            "max_replications": 100,
        },
        "stages": [],
    }
    (out / "manifest.json").write_text(json.dumps(state))
    r = runner.invoke(app, ["run", "--resume", str(out), "-q"])
    assert r.exit_code == 2
    assert "differ from those the run started with (mini)" in r.output


def test_a_batch_that_would_take_days_is_refused_with_an_estimate_unless_yes(tmp_path, monkeypatch):
    r = runner.invoke(app, ["run", str(BRIGADE), "-n", "100000000", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    assert "days" in r.output and "--yes" in r.output
    assert not (tmp_path / "x").exists()
    r = runner.invoke(
        app,
        [
            "sweep",
            str(BRIGADE),
            "--vary",
            "warning.days=0:30:200",
            "-n",
            "10000000",  # days of work on any machine
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert r.exit_code == 2 and "200 points" in r.output and "--yes" in r.output
    # the limit is the user's: a tiny one refuses a small batch, which --yes then runs
    monkeypatch.setenv("TRIPWIRE_MAX_HOURS", "0.0000001")
    scenario = str(_mini_file(tmp_path))
    r = runner.invoke(app, ["run", scenario, "-n", "20", "--out", str(tmp_path / "y"), "-q"])
    assert r.exit_code == 2 and "TRIPWIRE_MAX_HOURS" in r.output
    r = runner.invoke(
        app, ["run", scenario, "-n", "20", "--out", str(tmp_path / "y"), "-q", "--yes"]
    )
    assert r.exit_code == 0


def test_a_threshold_search_that_would_take_days_is_refused_and_a_zero_tolerance_too():
    base = ["threshold", str(BRIGADE), "--vary", "warning.days=0:30"]
    base += ["--target", "p_beat_fa_lithuania>=0.9"]
    r = runner.invoke(app, [*base, "-n", "100000000"])
    assert r.exit_code == 2, r.output
    assert "evaluations" in r.output and "days" in r.output and "--yes" in r.output
    r = runner.invoke(app, [*base, "--tolerance", "0"])  # would bisect forever
    assert r.exit_code == 2 and "--tolerance must be a positive number" in r.output


@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_truncated_result_file_is_named_by_plot_and_report(tmp_path, command):
    scenario = _mini_file(tmp_path)
    out = tmp_path / "run"
    assert (
        runner.invoke(app, ["run", str(scenario), "-n", "40", "--out", str(out), "-q"]).exit_code
        == 0
    )
    table = out / "mini" / "replications.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    r = runner.invoke(app, [command, str(out)])
    assert r.exit_code == 2
    assert "replications.parquet" in r.output and "checksum" in r.output
    assert "Traceback" not in r.output
