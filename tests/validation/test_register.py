"""`simulate validate`: the fixed verdict rule, known disagreements and exit codes, on a small
register whose model output is known exactly: 10 loads of 100 items on one channel of
2 h, then 10 h of transit: 10 x 2 + 10 = 30 h."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import mini
from tripwire.cli import app
from tripwire.validate import load_register, run_register

runner = CliRunner()


def record(rid: str, value: float, **kw) -> dict:
    return {
        "id": rid,
        "role": "check",
        "date": "2017-01-07",
        "what": "a test move",
        "source": "hand computation",
        "measured": "30 h",
        "start_event": "departure",
        "stop_event": "arrival",
        "route": "origin - rail - lt",
        "scenario": "move.yaml",
        "formation": "A",
        "output": "arrived_h - departed_h",
        "value_hours": value,
        "rule": "median",
        "tolerance_hours": 1,
        **kw,
    }


def write(tmp: Path, *records: dict) -> Path:
    (tmp / "move.yaml").write_text(yaml.safe_dump(mini()))
    reg = tmp / "REGISTER.yaml"
    reg.write_text(
        yaml.safe_dump(
            {"verdict_rule": "fixed", "replications": 10, "seed": 1, "records": list(records)},
            sort_keys=False,
        )
    )
    return reg


def validate(reg: Path, *args: str):
    return runner.invoke(app, ["validate", str(reg), "--workers", "1", *args])


def test_the_model_output_is_the_hand_computed_one(tmp_path):
    (o,) = run_register(write(tmp_path, record("ok", 30)))
    assert (o.q10, o.q50, o.q90) == (30, 30, 30) and o.agrees and o.ok


@pytest.mark.parametrize(
    ("records", "code", "status"),
    [
        ([record("ok", 30)], 0, "agrees"),
        ([record("band", 30, rule="band", tolerance_hours=None)], 0, "agrees"),
        ([record("off", 60)], 1, "disagrees"),
        ([record("off", 60, known_disagreement="a named parameter")], 0, "known disagreement"),
        ([record("stale", 30, known_disagreement="no longer true")], 1, "update the register"),
        ([record("ok", 30), record("off", 60)], 1, "disagrees"),
    ],
)
def test_exit_code_follows_the_register(tmp_path, records, code, status):
    r = validate(write(tmp_path, *records))
    assert r.exit_code == code, r.output
    assert status in r.output.replace("\n", " ")


def test_bad_register_is_exit_2_naming_file_line_and_field(tmp_path):
    reg = write(tmp_path, record("x", 30, output="arrived - departed"))
    r = validate(reg)
    assert r.exit_code == 2
    assert f"{reg}:" in r.output and "records[0].output" in r.output
    reg = write(tmp_path, {**record("x", 30), "rule": "median", "tolerance_hours": None})
    assert validate(reg).exit_code == 2
    reg = write(tmp_path, record("x", 30, scenario="nope.yaml"))
    r = validate(reg)
    assert r.exit_code == 2 and "no such file 'nope.yaml'" in r.output
    assert "Traceback" not in r.output


def test_docs_section_is_rewritten_between_markers(tmp_path):
    reg = write(tmp_path, record("ok", 30), record("off", 60, known_disagreement="named"))
    doc = tmp_path / "validation.md"
    doc.write_text("# before\n<!-- register:begin -->\nold\n<!-- register:end -->\nafter\n")
    r = validate(reg, "--docs", str(doc))
    assert r.exit_code == 0, r.output
    text = doc.read_text()
    assert "old" not in text and text.startswith("# before") and text.endswith("after\n")
    assert "| `ok` | check |" in text and "known disagreement" in text and "30 / 30 / 30" in text


def test_check_accepts_the_shipped_register():
    r = runner.invoke(app, ["check", "scenarios/validation/REGISTER.yaml"])
    assert r.exit_code == 0 and "13 records" in r.output
    reg = load_register(Path("scenarios/validation/REGISTER.yaml"))
    roles = [x.role for x in reg.records]
    assert roles.count("check") >= 3 and len(roles) >= 8


def test_docs_must_be_a_regular_file(tmp_path):
    import os

    reg = write(tmp_path, record("ok", 30))
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path, Path("/dev/full")):
        r = validate(reg, "--docs", str(target))
        assert r.exit_code == 2 and "not a regular file" in r.output, target
    assert fifo.exists() and not fifo.is_file()  # not replaced
