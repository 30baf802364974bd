"""Result folders and command lines that used to end in a traceback or a wrong exit code:
batches whose every chunk fails, damaged manifests, unwritable ``--out``, malformed
``--scheduler``, wrong-typed sweep files and seeds, unreachable targets, Ctrl-C during the
final join, and two commands racing for one ``--out``.

Every invocation must end in exit 0 or 2 (1 only with a stated runtime failure, 130 after an
interrupt), with a message and no traceback."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import tripwire.campaign as cli_mod  # where the run's experiment layer lives
import tripwire.cli_sweep as cli_sweep_mod
import tripwire.runner as runner_mod
import tripwire.sweeprun as sweeprun
from tests.conftest import SCENARIOS, mini, same_table
from tripwire.cli import app
from tripwire.manifest import ManifestError, spec_digest, tripwire_manifest
from tripwire.manifest import parse as check_manifest
from tripwire.manifest import read as read_manifest
from tripwire.results import CLAIM, FolderBusy, claim, replaceable
from tripwire.scenario import MAX_SEED

runner = CliRunner()
BRIGADE = SCENARIOS / "brigade.yaml"
VARY = ["--vary", "warning.days=0:2:2"]


# -- helpers ---------------------------------------------------------------------------


def mini_file(folder: Path, name: str = "mini", **over: object) -> Path:
    f = folder / f"{name}.yaml"
    f.write_text(yaml.safe_dump({**mini(), "name": name, **over}))
    return f


def invoke(*args: str):
    return runner.invoke(app, list(args))


def clean(r, *codes: int) -> None:
    """Exit with one of ``codes``, by a deliberate exit (no exception escaped: no traceback)."""
    assert r.exit_code in codes, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output


def run_mini(folder: Path, out: Path, *extra: str, n: int = 20):
    scenario = folder / "mini.yaml"
    if not scenario.exists():
        mini_file(folder)
    args = ["run", str(scenario), "-n", str(n), "--workers", "1", "--out", str(out), "-q"]
    return invoke(*args, *extra)


def sweep_args(folder: Path, out: Path) -> list[str]:
    scenario = folder / "mini.yaml"
    if not scenario.exists():
        mini_file(folder)
    return ["sweep", str(scenario), *VARY, "-n", "4", "--workers", "1", "--chunk", "2"] + [
        "--out",
        str(out),
        "-q",
        "--yes",
    ]


def listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def simulate(*args: str, cwd: Path | None = None, **kw) -> subprocess.Popen[str]:
    """``simulate ARGS`` as a real process in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "tripwire", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cwd,
        **kw,
    )


# -- 5: every chunk fails --------------------------------------------------------------


def test_a_sweep_whose_every_chunk_fails_is_a_clear_error_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    real = sweeprun.run_sweep_chunk

    def boom(sc):
        raise RuntimeError("the model blew up")

    monkeypatch.setattr(sweeprun, "run_sweep_chunk", boom)
    r = invoke(*sweep_args(tmp_path, out))
    clean(r, 1)
    assert "every chunk of the sweep failed (4 chunks" in r.output
    assert "RuntimeError: the model blew up" in r.output
    assert f"--resume {out}" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and len(manifest["failures"]) == 4
    assert not (out / CLAIM).exists()
    r = invoke("plot", str(out))  # refused with the way to finish it
    clean(r, 2)
    assert f"simulate sweep --resume {out}" in r.output
    monkeypatch.setattr(sweeprun, "run_sweep_chunk", real)
    r = invoke(*sweep_args(tmp_path, out)[:-4], "--resume", str(out), "-q")
    clean(r, 0)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert pq.read_table(out / "replications.parquet").num_rows == 2 * 4


def _invalid(chunk):
    """A chunk failing as a scenario that does not re-validate in the worker does."""
    from tripwire.scenario import Scenario

    Scenario.model_validate_json("{}")


def test_a_threshold_search_whose_every_chunk_fails_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_mod, "run_chunk", _invalid)
    scenario = mini_file(tmp_path)
    r = invoke(
        "threshold",
        str(scenario),
        "--vary",
        "warning.days=0:4",
        "--target",
        "p_beat_fa_lithuania>=0.5",
        "-n",
        "4",
        "--workers",
        "1",
    )
    clean(r, 1)
    assert "the search failed after 0 evaluations" in r.output
    assert "ValidationError" in r.output and "run the same command again" in r.output


def test_a_run_whose_every_chunk_fails_is_a_clear_error_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real = runner_mod.run_chunk
    monkeypatch.setattr(runner_mod, "run_chunk", _invalid)
    r = run_mini(tmp_path, out)
    clean(r, 1)
    assert "a chunk of replications failed: ValidationError" in r.output
    assert f"simulate run --resume {out}" in r.output
    monkeypatch.setattr(runner_mod, "run_chunk", real)
    r = invoke("run", "--resume", str(out), "--workers", "1", "-q")
    clean(r, 0)
    assert pq.read_table(out / "mini" / "replications.parquet").num_rows == 20


# -- 6: damaged folders ----------------------------------------------------------------


def _complete_run(tmp_path: Path) -> Path:
    out = tmp_path / "complete"
    assert run_mini(tmp_path, out, n=5).exit_code == 0
    return out


START = {
    "complete": False,
    "status": "running",
    "tripwire_version": "0.1.0",
    "resume": {
        "files": ["mini.yaml"],
        "scenarios": {"mini": "0" * 64},
        "replications": 10,
        "seed": 1,
        "precision": None,
        "max_replications": 100,
    },
    "stages": [],
}


def _damaged(kind: str, complete: dict) -> object:
    return {
        "empty_list": [],
        "stages_number": {"stages": 5},
        "resume_text": {"resume": "x", "stages": []},
        "files_list": {**complete, "files": ["mini/summary.json"]},
        "files_outside": {**complete, "files": {"../../etc/passwd": "0" * 64}},
        "scenario_dotdot": {**complete, "scenarios": {"..": "x.yaml"}},
        "replications_text": {**complete, "replications": "many"},
        "resume_fields": {**START, "resume": {**START["resume"], "replications": "ten"}},
        "stage_shape": {**START, "stages": [{"first": 0, "target": "all"}]},
        "seed_huge": {**START, "resume": {**START["resume"], "seed": 2**64}},
        "complete_flag": {**complete, "complete": "yes"},
    }[kind]


DAMAGED = [
    "empty_list",
    "stages_number",
    "resume_text",
    "files_list",
    "files_outside",
    "scenario_dotdot",
    "replications_text",
    "resume_fields",
    "stage_shape",
    "seed_huge",
    "complete_flag",
]


@pytest.mark.parametrize("kind", DAMAGED)
def test_a_damaged_run_manifest_is_named_by_resume_plot_and_report(tmp_path, kind):
    folder = _complete_run(tmp_path)
    complete = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(_damaged(kind, complete)))
    before = listing(folder)
    for args in (
        ["run", "--resume", str(folder), "--workers", "1", "-q"],
        ["plot", str(folder), "--out", str(tmp_path / "plots")],
        ["report", str(folder), "--out", str(tmp_path / "report.html")],
    ):
        r = invoke(*args)
        clean(r, 2)
        assert "manifest.json is" in r.output, (args, r.output)
        assert (
            "damaged" in r.output or "not a tripwire" in r.output or "not tripwire's" in (r.output)
        )
    assert listing(folder) == before  # read, never written
    assert not (tmp_path / "plots").exists() and not (tmp_path / "report.html").exists()


def test_every_reader_goes_through_one_shape_check(tmp_path, monkeypatch):
    """``--resume`` of a run and of a sweep, ``plot`` and ``report`` all read the manifest
    with ``tripwire.manifest.read``: each reports what it raises, in its own words."""
    folder = _complete_run(tmp_path)
    calls: list[Path] = []
    import tripwire.manifest as manifest_mod

    def refuse(path):
        calls.append(path)
        raise ManifestError(path, "its manifest.json is damaged: a test", damaged=True)

    monkeypatch.setattr(manifest_mod, "read", refuse)  # every reader calls manifest.read
    scenario = tmp_path / "mini.yaml"
    for args in (
        ["run", "--resume", str(folder), "-q"],
        ["plot", str(folder)],
        ["report", str(folder)],
        ["sweep", str(scenario), *VARY, "-n", "2", "--resume", str(folder), "-q"],
    ):
        r = invoke(*args)
        clean(r, 2)
        assert "its manifest.json is damaged: a test" in r.output, (args, r.output)
    assert len(set(calls)) == 1 and len(calls) >= 4


def _complete_sweep(tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "sweep"
    args = sweep_args(tmp_path, out)
    assert invoke(*args).exit_code == 0
    return out, args[:-4]


@pytest.mark.parametrize(
    "damage",
    ["chunk_infinite", "spec_key_cut", "spec_cut_running", "files_list", "points_text"],
)
def test_a_damaged_or_truncated_sweep_manifest_is_refused_by_resume(tmp_path, damage):
    out, args = _complete_sweep(tmp_path)
    m = json.loads((out / "manifest.json").read_text())
    if damage == "chunk_infinite":
        text = json.dumps({**m, "status": "running", "spec": {**m["spec"], "chunk": 1}})
        text = text.replace('"chunk": 1', '"chunk": 1e400')  # JSON reads it as infinity
    else:
        spec = dict(m["spec"])
        if damage in ("spec_key_cut", "spec_cut_running"):
            spec.pop("postures")
        if damage == "points_text":
            spec["points"] = "all"
        m = {**m, "spec": spec}
        if damage == "spec_cut_running":
            m["status"] = "running"
        if damage == "files_list":
            m["files"] = list(m["files"])
        text = json.dumps(m)
    (out / "manifest.json").write_text(text)
    before = listing(out)
    r = invoke(*args, "--resume", str(out), "-q")
    clean(r, 2)
    assert f"--resume {out}: its manifest.json is damaged" in r.output
    assert listing(out) == before


def test_check_manifest_accepts_what_tripwire_writes_and_names_the_rest(tmp_path):
    run = _complete_run(tmp_path)
    sweep, _ = _complete_sweep(tmp_path)
    assert read_manifest(run).kind == "run" and read_manifest(sweep).kind == "sweep"
    assert check_manifest(START).kind == "run"  # version 1 (unmarked), upgraded
    assert check_manifest({k: v for k, v in START.items() if k != "tripwire_version"}).kind == "run"
    spec = {
        "name": "s",
        "postures": {"mini": {}},
        "design": "grid",
        "factors": ["warning.days"],
        "points": [{"warning.days": 0.0}],
        "replications": 2,
        "seed": MAX_SEED,
        "chunk": 1,
    }
    assert check_manifest({"status": "running", "digest": spec_digest(spec), "spec": spec})
    for bad, why in [
        ({"status": "running", "digest": "0" * 64, "spec": spec}, "digest does not match"),
        ({**START, "stages": [{"first": 5, "target": 5, "chunk": 1}]}, "stages[0]"),
        ({**START, "resume": {**START["resume"], "files": []}}, "resume.files"),
        ({"tripwire_version": 1}, "tripwire_version is not text"),
    ]:
        with pytest.raises(ManifestError, match=r"damaged: .*" + why.replace("[", r"\[")) as e:
            check_manifest(bad, tmp_path)
        assert e.value.damaged and str(e.value).startswith(f"{tmp_path}: ")
    for foreign in ([], "x", None, {"name": "app", "icons": []}, {"stages": 5}):
        with pytest.raises(ManifestError) as e:
            check_manifest(foreign)
        assert not e.value.damaged
    (tmp_path / "none").mkdir()
    with pytest.raises(ManifestError, match="no manifest.json"):
        read_manifest(tmp_path / "none")


def test_resume_of_a_complete_run_with_other_scenarios_is_refused(tmp_path):
    folder = _complete_run(tmp_path)
    before = listing(folder)
    other = mini_file(tmp_path, "other")
    changed = tmp_path / "changed"
    changed.mkdir()
    changed_mini = mini_file(changed, "mini", seed=2, horizon_days=30)
    for files, names in [([other], "mini, other"), ([changed_mini], "mini")]:
        r = invoke("run", "--resume", str(folder), *map(str, files), "-q")
        clean(r, 2)
        assert f"--resume {folder}: the run is complete, with scenarios that differ" in r.output
        assert f"({names})" in r.output and "nothing to resume" in r.output
    r = invoke("run", "--resume", str(folder), str(tmp_path / "mini.yaml"), "-q")
    clean(r, 0)
    assert "already complete: nothing to resume" in r.output
    r = invoke("run", "--resume", str(folder), "-q")
    clean(r, 0)
    assert listing(folder) == before


# -- 7: small ones ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plot", "report"])
@pytest.mark.parametrize("where", ["/proc/tripwire-x", "/proc/tripwire-x/y", "file/below"])
def test_an_unwritable_out_of_plot_and_report_is_a_clear_error(tmp_path, command, where):
    folder = _complete_run(tmp_path)
    (tmp_path / "file").write_text("a file, not a folder")
    target = Path(where) if where.startswith("/") else tmp_path / where
    if command == "report":
        target = target / "report.html"
    r = invoke(command, str(folder), "--out", str(target))
    clean(r, 2)
    what = "the figures" if command == "plot" else "the report"
    assert f"cannot write {what} to {target}: " in r.output


@pytest.mark.parametrize("command", ["plot", "report"])
def test_an_out_that_is_a_device_or_pipe_is_refused_not_replaced(tmp_path, command):
    """``report --out /dev/full`` run as root renamed the report over the device; a pipe
    (which anyone can make) stands in for it here."""
    folder = _complete_run(tmp_path)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    target = pipe if command == "report" else tmp_path / "figures"
    if command == "plot":
        target.mkdir()
        os.mkfifo(target / "ttr.png")
    r = invoke(command, str(folder), "--out", str(target), *(["-k", "ttr"] * (command == "plot")))
    clean(r, 2)
    assert "exists and is not a regular file" in r.output
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    if command == "plot":
        assert stat.S_ISFIFO(os.lstat(target / "ttr.png").st_mode)
        assert sorted(p.name for p in target.iterdir()) == ["ttr.png"]  # no temporary left


@pytest.mark.parametrize(
    "address",
    ["not a url", "http://127.0.0.1:8786", "tcp://host:notaport", "tcp://host:0", "host:", ""],
)
def test_a_malformed_scheduler_address_is_refused_before_anything_is_done(tmp_path, address):
    out = tmp_path / "sweep"
    r = invoke(*sweep_args(tmp_path, out), "--scheduler", address)
    clean(r, 2)
    assert "expected tcp://HOST:PORT, tls://HOST:PORT or HOST:PORT" in r.output
    assert not out.exists()


@pytest.mark.parametrize(
    "address",
    ["tcp://127.0.0.1:8786", "tls://scheduler.example.org:8786", "10.0.0.5:8786", "[::1]:8786"],
)
def test_a_well_formed_scheduler_address_is_accepted(address):
    cli_sweep_mod._check_scheduler(address)  # no exit


def _spec(folder: Path, **fields: object) -> Path:
    """A sweep file, one field a line (values as JSON, which YAML reads) from line 2: name,
    scenarios, vary, then ``fields`` not among them."""
    mini_file(folder)
    f = folder / "spec.yaml"
    base = {"name": "tiny", "scenarios": ["mini.yaml"], "vary": {"warning.days": "0:2:2"}}
    body = "".join(f"{k}: {json.dumps(v)}\n" for k, v in {**base, **fields}.items())
    f.write_text("# a sweep file\n" + body)
    return f


@pytest.mark.parametrize(
    ("fields", "line", "field"),
    [
        ({"vary": 5}, 4, "vary"),
        ({"samples": "x"}, 5, "samples"),
        ({"replications": -1}, 5, "replications"),
        ({"seed": -5}, 5, "seed"),
        ({"seed": 2**63}, 5, "seed"),
        ({"chunk": 0}, 5, "chunk"),
        ({"design": 3}, 5, "design"),
        ({"scenarios": "mini.yaml"}, 3, "scenarios"),
        ({"vary": {"warning.days": "5:1"}}, 4, "vary.warning.days"),
    ],
    ids=["vary", "samples", "replications", "seed_negative", "seed_2_63", "chunk", "design"]
    + ["scenarios", "vary_range"],
)
def test_a_wrong_typed_sweep_file_field_is_named_with_its_line(tmp_path, fields, line, field):
    spec = _spec(tmp_path, **fields)
    r = invoke("sweep", str(spec), "--workers", "1", "-q", "--yes")
    clean(r, 2)
    assert f"error: {spec}:{line}: {field}: " in r.output, r.output
    assert not (tmp_path / "results").exists()


def test_every_problem_of_a_sweep_file_is_one_line(tmp_path):
    spec = _spec(tmp_path, samples="x", replications=-1, seed=2**63, chunk=True, extra=1)
    r = invoke("sweep", str(spec), "--workers", "1", "-q", "--yes")
    clean(r, 2)
    lines = [ln for ln in r.output.splitlines() if ln.startswith("error: ")]
    assert [ln.split(": ")[2] for ln in lines] == [
        "samples",
        "replications",
        "seed",
        "chunk",
        "extra",
    ]
    assert all(ln.startswith(f"error: {spec}:") for ln in lines)


@pytest.mark.parametrize("command", ["run", "sweep", "threshold"])
def test_a_seed_beyond_the_schema_limit_is_refused(tmp_path, command):
    scenario = mini_file(tmp_path)
    args = {
        "run": ["run", str(scenario), "-n", "2", "--workers", "1", "-q"],
        "sweep": ["sweep", str(scenario), *VARY, "-n", "2", "--workers", "1", "-q"],
        "threshold": ["threshold", str(scenario), "--vary", "warning.days=0:4"]
        + ["--target", "p_beat_fa_lithuania>=0.5", "-n", "2", "--workers", "1"],
    }[command]
    for seed in (2**63, 2**64 + 1):
        r = runner.invoke(app, [*args, "--seed", str(seed)], env={"COLUMNS": "200"})
        clean(r, 2)
        assert "--seed" in r.output and str(MAX_SEED) in r.output
    assert not (tmp_path / "results").exists()
    assert MAX_SEED == 2**63 - 1


def test_the_largest_seed_runs(tmp_path):
    out = tmp_path / "run"
    r = run_mini(tmp_path, out, "--seed", str(MAX_SEED), n=3)
    clean(r, 0)
    assert json.loads((out / "manifest.json").read_text())["seed"] == MAX_SEED


@pytest.mark.parametrize(
    "target",
    [
        "p_beat_fa_lithuania>=1.5",
        "p_beat_fa_theatre<=-0.1",
        "censored_theatre<2",
        "p_reinforced_lithuania_by_24h>1e999",
    ],
)
def test_a_probability_target_outside_0_1_is_refused(tmp_path, target):
    scenario = mini_file(tmp_path)
    args = ["threshold", str(scenario), "--vary", "warning.days=0:4", "-n", "4", "--workers", "1"]
    r = invoke(*args, "--target", target)
    clean(r, 2)
    assert f"--target {target!r}: " in r.output
    assert "between 0 and 1" in r.output or "finite" in r.output


def test_ctrl_c_during_the_final_join_of_a_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    assert run_mini(tmp_path, reference, n=40).exit_code == 0
    out = tmp_path / "run"
    calls = {"n": 0}
    real = cli_mod.consolidate

    def second_join_interrupted(parts, dest):
        calls["n"] += 1
        if calls["n"] == 2:  # replications joined, the closure table not yet
            raise KeyboardInterrupt
        return real(parts, dest)

    monkeypatch.setattr(cli_mod, "consolidate", second_join_interrupted)
    r = run_mini(tmp_path, out, n=40)
    clean(r, 130)
    assert (
        f"interrupted: finished chunks are kept; continue with `simulate run --resume {out}`"
        in (r.output)
    )
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    assert not (out / CLAIM).exists()
    monkeypatch.setattr(cli_mod, "consolidate", real)
    r = invoke("run", "--resume", str(out), "--workers", "1", "-q")
    clean(r, 0)
    assert "(40 kept from the interrupted run); computed 0" in r.output
    for table in ("replications", "formations"):
        a = pq.read_table(reference / "mini" / f"{table}.parquet")
        b = pq.read_table(out / "mini" / f"{table}.parquet")
        assert same_table(a, b), table
    for name in ("summary.json", "sources.json", "scenario.resolved.yaml"):
        a, b = (f / "mini" / name for f in (reference, out))
        want = json.loads(a.read_text()) if name.endswith(".json") else a.read_text()
        got = json.loads(b.read_text()) if name.endswith(".json") else b.read_text()
        if name == "summary.json":
            want.pop("file", None), got.pop("file", None)
        assert want == got, name


def test_ctrl_c_during_the_final_join_of_a_sweep_resumes_to_the_same_result(tmp_path, monkeypatch):
    reference, args = _complete_sweep(tmp_path)
    out = tmp_path / "cut"

    def interrupted(plan, outcome):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweeprun, "finalize", interrupted)  # campaign calls it from there
    r = invoke(*args, "--out", str(out), "-q")
    clean(r, 130)
    assert f"interrupted: finished chunks are kept; continue with --resume {out}" in r.output
    monkeypatch.undo()
    r = invoke(*args, "--resume", str(out), "-q")
    clean(r, 0)
    assert "4 chunks reused" in r.output
    for table in ("replications", "points"):
        assert same_table(
            pq.read_table(reference / f"{table}.parquet"), pq.read_table(out / f"{table}.parquet")
        )


# -- 9: one --out, one command ---------------------------------------------------------

# Two real `simulate` processes; each writes its start manifest slowly (a sleep before the
# first write of manifest.json), so that both are past every check of the folder before
# either writes: without an atomic claim, both would run into the same folder.
SLOW_START = textwrap.dedent(
    """
    import sys, time
    import tripwire.manifest as manifest
    real, slowed = manifest.write_json, []

    def slow(path, obj):
        if path.name == "manifest.json" and not slowed:
            slowed.append(path)
            time.sleep(2.0)
        return real(path, obj)

    manifest.write_json = slow  # every manifest is written by manifest.write
    import tripwire.cli as cli
    sys.argv = ["simulate", *sys.argv[1:]]
    cli.main()
    """
)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_two_commands_on_one_out_exactly_one_proceeds(tmp_path, command):
    out = tmp_path / "shared"
    args = ["run", str(mini_file(tmp_path)), "-n", "30", "--workers", "1", "-q", "--out", str(out)]
    if command == "sweep":
        args = sweep_args(tmp_path, out)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_START, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    (loser,) = [err for code, _, err in results if code == 2]
    assert str(out) in loser and "Traceback" not in loser
    assert "being written by another simulate command" in loser or "not empty" in loser
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest.get("complete") is True) or manifest.get("status") == "complete"
    assert CLAIM not in manifest["files"] and not (out / CLAIM).exists()
    assert replaceable(out) == sum(p.is_file() for p in out.rglob("*"))


def test_a_held_claim_refuses_run_resume_and_sweep_naming_the_folder(tmp_path):
    run = tmp_path / "run"
    assert run_mini(tmp_path, run).exit_code == 0
    sweep, sargs = _complete_sweep(tmp_path)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for folder, args in [
        (fresh, ["run", str(tmp_path / "mini.yaml"), "-n", "3", "--out", str(fresh), "-q"]),
        (run, ["run", str(tmp_path / "mini.yaml"), "-n", "3", "--out", str(run), "--force"]),
        (sweep, [*sargs, "--out", str(sweep), "--force", "-q"]),
        (fresh, [*sargs, "--out", str(fresh), "-q"]),
    ]:
        with claim(folder):
            before = listing(folder)
            with pytest.raises(FolderBusy):
                claim(folder)
            r = invoke(*args)
            clean(r, 2)
            assert f"{folder} is being written by another simulate command (process " in r.output
            assert listing(folder) == before
        assert not (folder / CLAIM).exists()
    # an interrupted run being resumed by another command
    out = tmp_path / "cut"
    (out / "parts").mkdir(parents=True)
    state = {**START, "resume": {**START["resume"], "files": [str(tmp_path / "mini.yaml")]}}
    from tripwire.loader import load_scenario

    state["resume"]["scenarios"] = {
        "mini": cli_mod.digest(load_scenario(tmp_path / "mini.yaml").scenario)
    }
    (out / "manifest.json").write_text(json.dumps(state))
    with claim(out):
        r = invoke("run", "--resume", str(out), "--workers", "1", "-q")
        clean(r, 2)
        assert "being written by another simulate command" in r.output
    r = invoke("run", "--resume", str(out), "--workers", "1", "-q")
    clean(r, 0)


def test_a_claim_left_by_a_killed_run_blocks_neither_resume_nor_force(tmp_path):
    """kill -9 runs no clean-up: the claim's file stays, but the kernel drops its lock."""
    out = tmp_path / "run"
    p = simulate("run", str(BRIGADE), "-n", "400", "--workers", "2", "--out", str(out), "-q")
    end = time.monotonic() + 120
    while not list((out / "parts").rglob("rep-*.parquet")):
        assert time.monotonic() < end and p.poll() is None, p.communicate()
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate(timeout=60)
    assert (out / CLAIM).is_file()  # left behind
    assert tripwire_manifest(out) is not None
    replaceable(out)  # still a result folder --force may replace
    r = invoke("run", "--resume", str(out), "--workers", "1", "-q")
    clean(r, 0)
    assert "kept from the interrupted run" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert CLAIM not in manifest["files"] and not (out / CLAIM).exists()
    assert pq.read_table(out / "brigade" / "replications.parquet").num_rows == 400
    # a stale claim in a complete folder: --force counts and replaces it all the same
    (out / CLAIM).write_text("12345 elsewhere\n")
    files = replaceable(out)
    assert files == sum(p.is_file() for p in out.rglob("*")) - 1
    r = run_mini(tmp_path, out, "--force", n=3)
    clean(r, 0)
    assert f"--force: deleting the tripwire result folder {out} ({files} files)" in r.stderr
    assert not (out / CLAIM).exists()


def test_a_normal_run_and_sweep_leave_no_claim_and_do_not_list_it(tmp_path):
    run = tmp_path / "run"
    assert run_mini(tmp_path, run).exit_code == 0
    sweep, _ = _complete_sweep(tmp_path)
    for folder in (run, sweep):
        assert not (folder / CLAIM).exists()
        assert not any(
            CLAIM in f for f in json.loads((folder / "manifest.json").read_text())["files"]
        )
    refused = tmp_path / "thesis"
    refused.mkdir()
    (refused / "chapter.tex").write_text("...")
    r = run_mini(tmp_path, refused, "--force")
    clean(r, 2)
    assert sorted(p.name for p in refused.iterdir()) == ["chapter.tex"]  # no claim left
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run_mini(tmp_path, blocker / "run")
    clean(r, 2)
    assert "cannot write the result folder" in r.output
