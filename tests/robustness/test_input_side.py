"""Input that passed ``check`` and then broke a run, and guards that came too late.

Each test here was a real failure: an open normal bound that did not survive the JSON sent to
the workers, a seed too large for the results, times so long that a grid grew without
bound, a sweep design built before its size was known, a device or FIFO read as a scenario
catalogue, files just under the size cap that took most of a minute to refuse, and a
threshold search that could not finish. Bad input must end in one message per problem
naming the file, line and field, exit code 2, never a traceback and never a hang.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import SCENARIOS
from tripwire import yamlio
from tripwire.bisection import (
    MIN_RELATIVE_TOLERANCE,
    Evaluation,
    Target,
    _bisect,
    check_tolerance,
)
from tripwire.cli import app
from tripwire.designs import (
    MAX_DESIGN_POINTS,
    MAX_GRID_VALUES,
    SweepError,
    make_design,
    parse_factor,
)
from tripwire.errors import ScenarioError
from tripwire.loader import load_scenario, validate_data
from tripwire.runner import make_chunks, run_chunk
from tripwire.scenario import MAX_DAYS, MAX_HOURS, MAX_SEED, Scenario
from tripwire.summary import MAX_CURVE_POINTS, _curve
from tripwire.yamlio import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

runner = CliRunner()
BRIGADE = SCENARIOS / "brigade.yaml"


def edited(tmp_path: Path, body: str, name: str = "edited.yaml") -> Path:
    """The brigade scenario extended by ``body`` (YAML text; its first line is line 2)."""
    f = tmp_path / name
    f.write_text(f"extends: {BRIGADE}\n{body}", encoding="utf-8")
    return f


def check(f: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["check", str(f)])
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``simulate ARGS`` as a real process, its address space capped at 4 GB (a file read
    until memory runs out fails instead of taking the machine down)."""

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        preexec_fn=limit,
    )


# -- 1. check passed, then the run crashed --------------------------------------------------


def test_an_open_normal_bound_survives_the_json_sent_to_workers_and_runs(tmp_path):
    f = edited(tmp_path, "suwalki:\n  closure_hours: {normal: {mean: 0, sd: 24}}\n")
    s = load_scenario(f).scenario
    d = s.suwalki.closure_hours
    assert (d.low_, d.high) == (-math.inf, math.inf)
    # the worker's path: JSON (open bounds are null), re-validated, compiled, run
    spec = s.model_dump_json(by_alias=True)
    assert Scenario.model_validate_json(spec) == s
    (chunk,) = make_chunks([s], 2, 1, 2)
    _, rows = run_chunk(chunk)
    assert len(rows) == 2
    # the sweep's and threshold's path: JSON-mode data, re-validated
    assert validate_data(s.model_dump(mode="json", by_alias=True), "point") == s
    # and the whole command
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["run", str(f), "-n", "3", "--workers", "1", "--out", str(out), "-q", "--yes"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "brigade" / "summary.json").is_file()


def test_a_nan_normal_bound_is_refused_naming_file_line_and_field(tmp_path):
    f = edited(tmp_path, "suwalki:\n  closure_hours: {normal: {mean: 0, sd: 24, low: .nan}}\n")
    code, output = check(f)
    assert code == 2, output
    assert f"{f}:3: suwalki.closure_hours.normal.low" in output
    assert "not NaN" in output


def test_a_seed_beyond_int64_is_refused_stating_the_limit(tmp_path):
    assert MAX_SEED == 2**63 - 1
    code, output = check(edited(tmp_path, f"seed: {MAX_SEED + 1}\n"))
    assert code == 2, output
    assert "edited.yaml:2: seed:" in output and str(MAX_SEED) in output
    # the largest seed itself is fine all the way to the Parquet part
    f = edited(tmp_path, f"seed: {MAX_SEED}\n", "largest.yaml")
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["run", str(f), "-n", "2", "--workers", "1", "--out", str(out), "-q", "--yes"]
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("body", "line", "field", "limit"),
    [
        ("warning:\n  days: 1.0e+300\n", 3, "warning.days", f"{MAX_DAYS:,} days"),
        ("warning:\n  days: 1.0e+6\n", 3, "warning.days", f"{MAX_DAYS:,} days"),
        ("horizon_days: 100000\n", 2, "horizon_days", f"{MAX_DAYS:,} days"),
        (
            "warning:\n  decision_delay_hours: {lognormal: {median: 48, sigma: 200}}\n",
            3,
            "warning.decision_delay_hours",
            f"{MAX_HOURS:,} h",
        ),
        (
            "suwalki:\n  closure_hours: -1.0e+9\n",
            3,
            "suwalki.closure_hours",
            f"{MAX_HOURS:,} h",
        ),
        ("buildup_step_hours: 1.0e+300\n", 2, "buildup_step_hours", f"{MAX_HOURS:,} h"),
    ],
)
def test_a_time_beyond_ten_years_is_an_error_stating_the_limit(tmp_path, body, line, field, limit):
    f = edited(tmp_path, body)
    code, output = check(f)
    assert code == 2, output
    errors = [ln for ln in output.splitlines() if ln.startswith("error")]
    assert len(errors) == 1, output
    assert f"{f}:{line}: {field}:" in errors[0]
    assert limit in errors[0] and "10 years" in errors[0] and "time grids" in errors[0]


def test_the_curve_grid_stays_bounded_whatever_the_warning(tmp_path):
    # an arrival 2.4 million hours before the attack (a warning of 10^5 days) once made a
    # 4-million-point grid per area, and a run that never finished
    t = np.array([-2.4e7, -2.39e7, 10.0, np.inf])
    started = time.monotonic()
    curve = np.array(_curve(t, 2160.0))
    assert time.monotonic() - started < 2
    assert len(curve) <= MAX_CURVE_POINTS
    assert curve[0, 0] <= -2.4e7 and curve[-1, 0] >= 2160.0
    assert np.all(np.diff(curve[:, 0]) > 0) and np.all(np.diff(curve[:, 1]) >= 0)
    # an ordinary span keeps its 6 h grid from the earliest arrival to the horizon
    ordinary = np.array(_curve(np.array([-13.0, 30.0, np.inf]), 2160.0))
    assert ordinary[0, 0] == -18.0 and ordinary[-1, 0] == 2160.0
    assert np.all(np.diff(ordinary[:, 0]) == 6.0)
    # the longest warning allowed runs, with a bounded curve
    f = edited(tmp_path, f"warning:\n  days: {MAX_DAYS}\n")
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["run", str(f), "-n", "5", "--workers", "1", "--out", str(out), "-q", "--yes"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "brigade" / "summary.json").read_text())
    assert all(len(a["curve"]) <= MAX_CURVE_POINTS for a in summary["areas"].values())


# -- 2. guards -----------------------------------------------------------------------------


def test_a_sweep_design_over_the_size_cap_is_refused_before_it_is_built(tmp_path):
    started = time.monotonic()
    with pytest.raises(SweepError, match=f"at most {MAX_GRID_VALUES:,} per factor"):
        parse_factor("warning.days=0:30:100000000")
    with pytest.raises(SweepError, match=f"at most {MAX_GRID_VALUES:,} per factor"):
        parse_factor("warning.days=" + ",".join(["1"] * (MAX_GRID_VALUES + 1)))
    side = math.isqrt(MAX_DESIGN_POINTS) + 1  # each factor within its cap, the product not
    grid = [parse_factor(f"{p}=0:1:{side}") for p in ("warning.days", "horizon_days")]
    with pytest.raises(SweepError, match=f"{side * side:,} points; at most"):
        make_design("grid", grid, 0, 1)
    for kind in ("lhs", "sobol", "morris"):
        with pytest.raises(SweepError, match=f"at most {MAX_DESIGN_POINTS:,}"):
            make_design(kind, grid, 10**9, 1)
    assert time.monotonic() - started < 5
    assert len(make_design("grid", grid[:1], 0, 1).points) == side  # within the caps: built
    res = runner.invoke(app, ["sweep", str(BRIGADE), "--vary", "warning.days=0:30:100000000"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "vary warning.days" in res.output


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory"])
def test_a_catalogue_that_is_not_a_regular_file_is_refused_before_reading(tmp_path, kind):
    target = {"dev_zero": Path("/dev/zero"), "fifo": tmp_path / "pipe", "directory": tmp_path}
    if kind == "fifo":
        os.mkfifo(target[kind])  # nothing ever writes to it: reading would block for ever
    f = edited(tmp_path, f"figures_file: {target[kind]}\n")
    p = cli("check", str(f), cwd=tmp_path, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert f"{target[kind]}: <document>: " in p.stderr
    assert "not a regular file" in p.stderr and "figures_file" in p.stderr


def _long_documents() -> dict[str, str]:
    """Documents of just under MAX_FILE_BYTES that took 15-50 s to refuse (whole parses
    and compositions in pure Python before any size check)."""
    n = MAX_FILE_BYTES // 4 - 10
    chain = "a0: &a0 [0]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 75_000))
    return {
        "long_flow_list": "a: [" + "1, " * (n * 4 // 3 - 10) + "1]\n",
        "long_block_list": "a:\n" + "- 1\n" * n,
        "many_aliases": "a: &a [1]\nb: [" + "*a, " * n + "*a]\n",
        "many_keys": "".join(f"k{i}: {i}\n" for i in range(MAX_FILE_BYTES // 16)),
        "alias_chain": chain,
        "just_within_the_value_cap": "a: [" + "1, " * (MAX_NODES - 1_000) + "1]\n",
    }


@pytest.mark.parametrize("case", sorted(_long_documents()))
def test_files_just_under_the_size_cap_are_refused_quickly(tmp_path, case):
    text = _long_documents()[case]
    assert len(text.encode()) <= MAX_FILE_BYTES
    f = tmp_path / f"{case}.yaml"
    f.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"{case}: {elapsed:.1f} s to refuse"
    assert all(p.file == str(f) for p in info.value.problems)
    if case != "just_within_the_value_cap":  # that one reaches the schema
        (problem,) = info.value.problems
        assert f"more than {MAX_NODES:,} values" in problem.message


def test_the_pure_python_reader_refuses_the_same_documents(tmp_path, monkeypatch):
    """PyYAML without LibYAML: the composer checks depth and size as it builds the graph
    (before recursing, before the node too many), with the same messages."""
    cases = {
        "too_many": ("a: [" + "1, " * (MAX_NODES + 10) + "1]\n", f"more than {MAX_NODES:,}", 1),
        "too_deep": ("a:\n" + "".join(f"{' ' * k}- \n" for k in range(1, 60)), "deeper", 41),
        "flow_too_deep": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"deeper than {MAX_DEPTH}", 1),
    }
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(yamlio, "_FastStrictLoader", None)
        for case, (text, expected, line) in cases.items():
            f = tmp_path / f"{case}.yaml"
            f.write_text(text, encoding="utf-8")
            started = time.monotonic()
            with pytest.raises(ScenarioError) as info:
                load_scenario(f)
            assert time.monotonic() - started < 20
            (problem,) = info.value.problems
            assert expected in problem.message, (fast, case, problem)
            assert problem.line == line, (fast, case, problem)
    monkeypatch.undo()
    assert load_scenario(BRIGADE).scenario.name == "brigade"


def test_a_threshold_tolerance_below_the_floor_is_refused(tmp_path):
    with pytest.raises(SweepError, match="finer than"):
        check_tolerance(1e-300, 0.0, 30.0)
    with pytest.raises(SweepError, match="positive number"):
        check_tolerance(math.nan, 0.0, 30.0)
    check_tolerance(30 * MIN_RELATIVE_TOLERANCE, 0.0, 30.0)  # the floor itself is fine
    args = ["threshold", str(BRIGADE), "--vary", "warning.days=0:30"]
    args += ["--target", "p_beat_fa_lithuania>=0.5", "--tolerance", "1e-300", "-n", "5"]
    p = cli(*args, "--workers", "1", cwd=tmp_path, timeout=180)  # it used to run for ever
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert "--tolerance 1e-300 is finer than" in p.stderr


def test_bisection_stops_when_the_bracket_cannot_shrink():
    calls = 0

    def evaluate(x: float) -> Evaluation:
        nonlocal calls
        calls += 1
        if calls > 10_000:
            raise RuntimeError("the bisection does not end")
        return Evaluation(x, {"m": 1.0 if x >= 1.5 else 0.0})

    res = _bisect(evaluate, "m", Target("m", ">=", 0.5), 1.0, 2.0, True, 1e-300)
    a, b = res["bracket"]
    assert b == 1.5 and a == np.nextafter(1.5, 0) and res["value"] == 1.5
    assert "floating-point resolution" in res["note"]
    assert calls < 100


@pytest.mark.parametrize("tolerance", ["5e-324", "inf", "1e-300", "nan"])
def test_threshold_cli_refuses_a_degenerate_tolerance_before_estimating(tolerance):
    from typer.testing import CliRunner

    from tripwire.cli import app

    args = ["threshold", "scenarios/brigade.yaml", "--vary", "warning.days=0:30"]
    args += ["--target", "p_beat_fa_lithuania>=0.9", "--tolerance", tolerance]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "--tolerance" in r.output and "Traceback" not in r.output
