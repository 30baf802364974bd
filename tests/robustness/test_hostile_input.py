"""Hostile and careless scenario files: rejected quickly, in bounded memory, with a message
naming the file, the field path and the line, and exit code 2; implausible values warn."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import SCENARIOS
from tripwire.cli import app
from tripwire.errors import ScenarioError
from tripwire.loader import MAX_FORMATIONS, MAX_GRID_POINTS, MAX_LOADS, load_scenario
from tripwire.yamlio import MAX_DEPTH, MAX_NODES

runner = CliRunner()

BILLION_LAUGHS = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 10)]
)
HOSTILE = {
    "billion_laughs": (BILLION_LAUGHS, f"more than {MAX_NODES:,} values"),
    "recursive_alias": ("a: &x [1, *x]\n", "refers to the node that contains it"),
    "deep_nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"deeper than {MAX_DEPTH}"),
    "python_object": (
        'name: !!python/object/apply:os.system ["echo pwned"]\n',
        "could not determine a constructor",
    ),
    "python_name": ("name: !!python/name:os.system\n", "could not determine a constructor"),
    "custom_tag": ("name: !include other.yaml\n", "could not determine a constructor"),
    "unhashable_key": ("? [a, b]\n: 1\n", "a key must be a plain name or number"),
    "two_documents": ("a: 1\n---\nb: 2\n", "another document"),
    "control_character": ("name: a\x07b\n", "special characters"),
    "duplicate_key": ("name: a\nname: b\n", "duplicate key 'name'"),
    "not_a_mapping": ("- 1\n- 2\n", "expected a mapping"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_is_rejected_in_bounded_memory(case, tmp_path):
    text, expected = HOSTILE[case]
    f = tmp_path / f"{case}.yaml"
    f.write_text(text, encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30e6, f"{case}: {peak / 1e6:.0f} MB to reject a small file"
    (problem,) = info.value.problems
    assert problem.file == str(f)
    assert expected in problem.message


def test_oversized_file_is_rejected_before_parsing(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("a: [" + "1, " * 1_000_000 + "1]\n")
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(f)


@pytest.mark.parametrize("case", ["billion_laughs", "python_object", "deep_nesting"])
def test_cli_check_reports_hostile_files_with_exit_2_and_no_traceback(case, tmp_path):
    f = tmp_path / f"{case}.yaml"
    f.write_text(HOSTILE[case][0], encoding="utf-8")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert str(f) in res.output


def _brigade(tmp_path: Path, **edits: object) -> Path:
    """The resolved brigade scenario as a standalone file, with edits at dotted paths."""
    data = load_scenario(SCENARIOS / "brigade.yaml").data
    for dotted, value in edits.items():
        *head, last = dotted.split("__")
        node = data
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    f = tmp_path / "edited.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return f


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    f = _brigade(
        tmp_path,
        suwalki__closure_probability=1.5,
        horizon_days=float("inf"),
        warning__days={"triangular": {"low": 9, "mode": 1, "high": 2}},
        network__links__0__transit_hours={"normal": {"mean": 1, "sd": -1}},
        pool__tiers__0__share=0.9,
        pool__tiers__1__share=0.9,
    )
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    for path in (
        "suwalki.closure_probability",
        "horizon_days",
        "warning.days",
        "network.links[0].transit_hours",
        "pool",
    ):
        assert f": {path}" in res.output, path
    assert res.output.count("error") >= 5


def test_cross_field_problems_are_reported_together(tmp_path):
    f = _brigade(
        tmp_path,
        countries__estonia__node="atlantis",
        checkpoints_hours=[24, 1e6],
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    paths = {p.path for p in info.value.problems}
    assert {"countries.estonia.node", "checkpoints_hours[1]"} <= paths


@pytest.mark.parametrize(
    ("edits", "path", "limit"),
    [
        ({"buildup_step_hours": 0.001}, "buildup_step_hours", f"{MAX_GRID_POINTS:,}"),
        ({"pool__formation_troops": 1}, "pool.formation_troops", f"{MAX_FORMATIONS:,}"),
        ({"network__links__0__troops_per_load": 0.001}, "network.links[0]", f"{MAX_LOADS:,}"),
    ],
)
def test_sizes_that_would_exhaust_a_replication_are_errors(tmp_path, edits, path, limit):
    with pytest.raises(ScenarioError) as info:
        load_scenario(_brigade(tmp_path, **edits))
    (p,) = [p for p in info.value.problems if p.path.startswith(path)]
    assert limit in p.message


def test_implausible_values_warn_name_the_field_and_still_run(tmp_path):
    f = _brigade(
        tmp_path,
        warning__days=700,  # days written as hours?
        network__links__2__channels=50_000,
    )
    ls = load_scenario(f)  # a warning, not an error
    paths = {w.path for w in ls.warnings}
    assert {"warning.days", "network.links[2].channels"} <= paths
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 0
    assert "warning" in res.output and "warning.days" in res.output
    assert "plausible range [0, 365]" in res.output


def test_shipped_scenarios_raise_no_plausibility_warning():
    validation = [f for f in SCENARIOS.glob("validation/*.yaml") if f.name != "REGISTER.yaml"]
    for f in sorted(SCENARIOS.glob("*.yaml")) + sorted(validation):
        assert load_scenario(f).warnings == [], f


def test_a_decision_after_the_horizon_is_flagged_as_inconsistent(tmp_path):
    f = _brigade(tmp_path, warning__days=1, warning__decision_delay_hours=10_000, horizon_days=30)
    ls = load_scenario(f)
    (w,) = [w for w in ls.warnings if "no reinforcement can arrive" in w.message]
    assert w.path == "warning.decision_delay_hours"
