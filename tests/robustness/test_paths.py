"""Paths a user controls: names that would escape the result folder, and ``--force`` on a
folder that is not (only) a tripwire result.

Every command here runs with its working directory inside ``tmp_path`` (so the default
``results/`` lands there too), and every test checks that nothing outside ``tmp_path`` was
written (the repository's ``results/``, ``sweeps/``, ``scenarios/``, its top level and the
folder holding ``tmp_path``) and, where a command is refused, that nothing inside it was
written or deleted either."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import ROOT, SCENARIOS, mini
from tripwire.cli import app
from tripwire.manifest import kind_of as manifest_kind
from tripwire.manifest import tripwire_manifest
from tripwire.names import check_name
from tripwire.results import (
    NotReplaceable,
    inside,
    new_run_dir,
    replaceable,
    write_json,
    write_part,
)

runner = CliRunner()
BRIGADE = SCENARIOS / "brigade.yaml"
BAD_NAMES = ["..", "manifest.json", "parts", "x" * 300, "a/b"]


# -- what was written where ------------------------------------------------------------


def tree(root: Path, recursive: bool = True) -> dict[str, object]:
    """Every entry below ``root``: a folder as None, a link as its target, a file as its
    size and content hash (so a rewritten or deleted file shows)."""
    out: dict[str, object] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = None
            else:
                out[rel] = (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        if not recursive:
            break
    return out


@pytest.fixture(autouse=True)
def nothing_outside(tmp_path, monkeypatch):
    """Run in ``tmp_path/home/work`` and check afterwards that nothing outside ``tmp_path``
    changed. Yields the working folder."""
    work = tmp_path / "home" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    watched = [
        (ROOT / "results", True),
        (ROOT / "sweeps", True),
        (ROOT / "scenarios", False),
        (ROOT, False),
        (tmp_path.parent, False),
    ]
    before = [tree(p, r) for p, r in watched]
    yield work
    for (p, r), old in zip(watched, before):
        assert tree(p, r) == old, f"{p} changed"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``simulate ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def named(folder: Path, name: object) -> Path:
    """A small scenario: the brigade posture, 5 replications, named ``name`` (line 2)."""
    f = folder / "named.yaml"
    data = {"extends": str(BRIGADE), "name": name, "replications": 5}
    f.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    return f


def mini_file(folder: Path) -> Path:
    f = folder / "mini.yaml"
    f.write_text(yaml.safe_dump(mini()))
    return f


def sweep_file(folder: Path, **over: object) -> Path:
    f = folder / "spec.yaml"
    spec = {
        "name": "tiny",
        "scenarios": [str(mini_file(folder))],
        "replications": 2,
        "vary": {"warning.days": "0:2:2"},
    }
    f.write_text("# a tiny sweep\n" + yaml.safe_dump({**spec, **over}, sort_keys=False))
    return f  # name on line 2


def run_mini(out: Path, *extra: str):
    scenario = mini_file(out.parent)
    return runner.invoke(
        app, ["run", str(scenario), "-n", "3", "--workers", "1", "--out", str(out), "-q", *extra]
    )


def sweep_mini(out: Path, *extra: str):
    scenario = mini_file(out.parent)
    args = ["sweep", str(scenario), "--vary", "warning.days=0:2:2", "-n", "2", "--workers", "1"]
    return runner.invoke(app, [*args, "--out", str(out), "-q", "--yes", *extra])


# -- item 3: names that would escape the result folder ---------------------------------


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", BAD_NAMES, ids=["dotdot", "manifest", "parts", "long", "slash"])
def test_a_scenario_name_that_is_not_a_plain_folder_name_is_refused(
    nothing_outside, tmp_path, command, name
):
    f = named(nothing_outside, name)
    before = tree(tmp_path)
    args = [command, str(f)] + (["--workers", "1", "-q", "--yes"] if command == "run" else [])
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)  # no traceback
    assert f"{f}:2: name: " in r.output, r.output
    assert tree(tmp_path) == before  # nothing written, not even results/


def test_a_scenario_named_dotdot_is_refused_by_a_real_process(nothing_outside, tmp_path):
    """The original report: `simulate run` of a scenario named `..` wrote summary.json
    next to the result folder."""
    f = named(nothing_outside, "..")
    before = tree(tmp_path)
    for args in (["check", str(f)], ["run", str(f), "--workers", "1", "-q"]):
        p = cli(*args, cwd=nothing_outside)
        assert p.returncode == 2, p.stderr
        assert f"{f}:2: name: " in p.stderr and "Traceback" not in p.stderr
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "name",
    ["../../escape", "..", "parts", "a/b", "x" * 300, "", ".hidden", 5, None],
    ids=["escape", "dotdot", "parts", "slash", "long", "empty", "hidden", "number", "null"],
)
def test_a_sweep_name_that_is_not_a_plain_folder_name_is_refused(nothing_outside, tmp_path, name):
    spec = sweep_file(nothing_outside, name=name)
    before = tree(tmp_path)
    r = runner.invoke(app, ["sweep", str(spec), "--workers", "1", "-q", "--yes"])
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert f"{spec}:2: name: " in r.output, r.output
    assert tree(tmp_path) == before  # nothing written anywhere


def test_a_plain_sweep_name_makes_its_folder_under_results_sweeps(nothing_outside):
    spec = sweep_file(nothing_outside, name="tiny.v2")
    r = runner.invoke(app, ["sweep", str(spec), "--workers", "1", "-q", "--yes"])
    assert r.exit_code == 0, r.output
    (folder,) = (nothing_outside / "results" / "sweeps").iterdir()
    assert folder.name.startswith("tiny.v2-")
    assert tripwire_manifest(folder)["status"] == "complete"
    assert sorted(p.name for p in nothing_outside.iterdir()) == [
        "mini.yaml",
        "results",
        "spec.yaml",
    ]


def test_new_run_dir_keeps_a_long_joined_label_within_file_name_limits(tmp_path):
    a, b, c = ("a" * 100, "b" * 100, "c" * 100)
    first = new_run_dir(tmp_path, f"{a}-{b}-{c}")
    other = new_run_dir(tmp_path, f"{a}-{b}-{c}d")
    assert first.parent == tmp_path and len(first.name) <= 120 and first != other
    first.mkdir()  # a legal name on every file system (255 bytes at most)
    assert new_run_dir(tmp_path, f"{a}-{b}-{c}").name != first.name  # suffixed, not reused
    assert new_run_dir(tmp_path, "brigade").name.startswith("brigade-")
    for bad in ("..", "../x", "a/b", ".hidden", "parts", ""):
        with pytest.raises(ValueError):
            new_run_dir(tmp_path, bad)


def test_inside_joins_only_within_the_folder(tmp_path):
    base = tmp_path / "results"
    base.mkdir()
    assert inside(base, "run-1") == base / "run-1"
    assert inside(base, "run-1", "parts", "x.parquet") == base / "run-1" / "parts" / "x.parquet"
    for parts in [("..",), (".",), ("",), ("../x",), ("/etc",), ("a", "..", ".."), ("a\0b",), ()]:
        with pytest.raises(ValueError):
            inside(base, *parts)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (base / "link").symlink_to(outside)  # resolved: a link cannot lead out either
    with pytest.raises(ValueError):
        inside(base, "link")
    with pytest.raises(ValueError):
        inside(base, "link", "summary.json")
    (base / "loop").symlink_to(base / "loop")
    with pytest.raises(ValueError):
        inside(base, "loop", "x")
    assert not any(outside.iterdir())  # it only computes a path


NAME = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", fullmatch=True)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["..", ".", "/", "../..", "a/../..", "~", "//x", "x/..", "\0"]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(ANY_TEXT, min_size=1, max_size=3))
def test_inside_never_returns_a_path_outside_the_folder(tmp_path, parts):
    base = tmp_path / "results"
    base.mkdir(exist_ok=True)
    try:
        path = inside(base, *parts)
    except ValueError:
        return
    resolved = path.resolve()
    assert resolved != base.resolve() and resolved.is_relative_to(base.resolve())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAME)
def test_every_name_check_name_accepts_stays_inside(tmp_path, name):
    try:
        check_name(name)
    except ValueError:
        return
    path = inside(tmp_path, name, "summary.json")
    assert path.parent.parent == tmp_path and path.parent.name == name


# -- item 2: --force replaces only a tripwire result folder ----------------------------


def web_app(folder: Path) -> Path:
    folder.mkdir()
    (folder / "manifest.json").write_text(
        json.dumps({"name": "Field Kitchen", "short_name": "FK", "start_url": "/", "icons": []})
    )
    (folder / "index.html").write_text("<!doctype html><title>app</title>")
    (folder / "app.js").write_text("console.log('hi')")
    return folder


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_force_does_not_delete_a_folder_that_merely_has_a_manifest_json(
    nothing_outside, tmp_path, command
):
    out = web_app(nothing_outside / "webapp")
    mini_file(nothing_outside)
    before = tree(tmp_path)
    r = (run_mini if command == "run" else sweep_mini)(out, "--force")
    assert r.exit_code == 2, r.output
    assert f"--force: {out} is not a tripwire result folder" in r.output
    assert "not a tripwire run or sweep manifest" in r.output and "not removed" in r.output
    assert "deleting" not in r.output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("made_by", ["run", "sweep"])
def test_force_does_not_delete_a_result_folder_holding_something_else(
    nothing_outside, tmp_path, command, made_by
):
    out = nothing_outside / "result"
    r = (run_mini if made_by == "run" else sweep_mini)(out)
    assert r.exit_code == 0, r.output
    (out / "notes.txt").write_text("my conclusions")
    (out / "drafts").mkdir()
    (out / "drafts" / "fig.png").write_bytes(b"\x89PNG")
    before = tree(tmp_path)
    r = (run_mini if command == "run" else sweep_mini)(out, "--force")
    assert r.exit_code == 2, r.output
    assert f"--force: {out} holds what tripwire does not write there" in r.output
    assert "drafts/" in r.output and "notes.txt" in r.output and "not removed" in r.output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_force_replaces_a_result_folder_with_its_plots_and_report_and_says_so(
    nothing_outside, command
):
    out = nothing_outside / "result"
    r = (run_mini if command == "run" else sweep_mini)(out)
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["plot", str(out)]).exit_code == 0
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert (out / "plots").is_dir() and (out / "report.html").is_file()
    files = sum(p.is_file() for p in out.rglob("*"))
    assert replaceable(out) == files
    r = (run_mini if command == "run" else sweep_mini)(out, "--force")
    assert r.exit_code == 0, r.output
    line = f"--force: deleting the tripwire result folder {out} ({files} files)"
    assert line in r.stderr
    assert not (out / "plots").exists() and not (out / "report.html").exists()
    assert tripwire_manifest(out) is not None


def test_force_replaces_an_interrupted_run_and_prints_to_stderr(nothing_outside):
    """A start manifest, parts with their ledger and a temporary file left by a kill: all
    tripwire's. Run as a real process to see the line on stderr."""
    out = nothing_outside / "result"
    rows = [{"replication": i, "x": float(i)} for i in range(3)]
    write_part(out, "mini", 0, rows)
    (out / "parts" / "mini" / ".rep-000000003.parquet.ab_cd123").write_bytes(b"half")
    write_json(
        out / "manifest.json",
        {
            "complete": False,
            "status": "running",
            "tripwire_version": "0",
            "command": "simulate run mini.yaml",
            "resume": {"files": [], "scenarios": {"mini": "0" * 64}, "replications": 3},
            "stages": [{"first": 0, "target": 3, "chunk": 3}],
        },
    )
    scenario = mini_file(nothing_outside)
    args = ["run", str(scenario), "-n", "3", "--workers", "1", "--out", str(out), "-q"]
    p = cli(*args, "--force", cwd=nothing_outside)
    assert p.returncode == 0, p.stderr
    assert f"--force: deleting the tripwire result folder {out} (4 files)" in p.stderr
    assert pq.read_table(out / "mini" / "replications.parquet").num_rows == 3


def test_sweep_resume_of_a_folder_that_is_not_a_sweep_is_refused(nothing_outside, tmp_path):
    scenario = mini_file(nothing_outside)
    run = nothing_outside / "run"
    assert run_mini(run).exit_code == 0
    web = web_app(nothing_outside / "webapp")
    junk = nothing_outside / "junk"
    junk.mkdir()
    (junk / "manifest.json").write_text("[" * 100_000)
    before = tree(tmp_path)
    args = ["sweep", str(scenario), "--vary", "warning.days=0:2:2", "-n", "2", "-q", "--yes"]
    for folder, why in [
        (run, "a run folder, not a sweep; use `simulate run --resume"),
        (web, "its manifest.json is not a tripwire one, not a sweep folder"),
        (junk, "its manifest.json is not a tripwire one, not a sweep folder"),
    ]:
        r = runner.invoke(app, [*args, "--resume", str(folder)])
        assert r.exit_code == 2, r.output
        assert f"--resume {folder}: {why}" in r.output
    assert tree(tmp_path) == before


# -- the shared check, directly ------------------------------------------------------


def test_tripwire_manifest_accepts_only_tripwire_manifests(tmp_path):
    f = tmp_path / "manifest.json"
    assert tripwire_manifest(tmp_path) is None  # none
    digest = "ab" * 32
    accepted = [
        {"tripwire_version": "1", "resume": {}, "stages": [], "complete": False},
        {"tripwire_version": "1", "complete": True, "files": {"a/summary.json": "x"}},
        {"status": "running", "digest": digest, "spec": {}},
        {"status": "complete", "digest": digest, "spec": {}, "files": {}},
    ]
    for m in accepted:
        write_json(f, m)
        assert tripwire_manifest(tmp_path) == m and manifest_kind(m) in ("run", "sweep")
    refused = [
        {"name": "app", "icons": []},
        {"tripwire_version": "1"},
        {"tripwire_version": "1", "complete": True},
        {"tripwire_version": "1", "complete": "yes", "files": {}},
        {"tripwire_version": "1", "complete": True, "files": ["a"]},
        {"tripwire_version": 1, "resume": {}, "stages": []},
        {"tripwire_version": "1", "resume": [], "stages": []},
        {"status": "running", "digest": "abc", "spec": {}},
        {"status": "complete", "digest": digest, "spec": {}},
        {"status": "done", "digest": digest, "spec": {}},
        {"status": "running", "digest": digest, "spec": []},
        [1, 2],
        "manifest",
        None,
    ]
    for m in refused:
        write_json(f, m)
        assert tripwire_manifest(tmp_path) is None, m
    for raw in (b"{not json", b"\xff\xfe\x00", b"[" * 100_000, b""):
        f.write_bytes(raw)
        assert tripwire_manifest(tmp_path) is None
    f.unlink()
    f.mkdir()
    assert tripwire_manifest(tmp_path) is None
    f.rmdir()
    real = tmp_path / "real.json"
    write_json(real, accepted[0])
    f.symlink_to(real)
    assert tripwire_manifest(tmp_path) is None  # a link is not what tripwire writes


def test_replaceable_names_every_unknown_entry(tmp_path):
    folder = tmp_path / "r"
    write_json(
        folder / "manifest.json",
        {"tripwire_version": "1", "complete": True, "files": {"mini/summary.json": "x"}},
    )
    (folder / "mini").mkdir()
    (folder / "mini" / "summary.json").write_text("{}")
    (folder / "comparison.json").write_text("[]")
    assert replaceable(folder) == 3  # with the manifest
    (folder / "mini" / "thesis.tex").write_text("...")
    with pytest.raises(NotReplaceable, match=r"mini/thesis\.tex"):
        replaceable(folder)
    (folder / "mini" / "thesis.tex").unlink()
    (folder / "other").symlink_to(tmp_path)
    with pytest.raises(NotReplaceable, match="other \\(a symbolic link\\)"):
        replaceable(folder)
    (folder / "other").unlink()
    for i in range(7):
        (folder / f"extra{i}").write_text("")
    with pytest.raises(NotReplaceable, match="extra0, extra1, extra2, extra3, extra4 and 2 more"):
        replaceable(folder)
    link = tmp_path / "link"
    link.symlink_to(folder)
    with pytest.raises(NotReplaceable, match="symbolic link"):
        replaceable(link)
    with pytest.raises(NotReplaceable, match=r"no manifest\.json"):
        replaceable(tmp_path)
