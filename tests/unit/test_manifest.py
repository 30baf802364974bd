"""The manifest model (tripwire.manifest): what tripwire writes reads back identically,
version 1 (the unmarked manifests of earlier tripwire) is read and upgraded, a newer
version is refused by name, and any damage is a ManifestError naming the field, never
another exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT
from tripwire import manifest as mf

SPEC = {
    "name": "s",
    "postures": {"mini": {"name": "mini"}},
    "design": "grid",
    "factors": ["warning.days"],
    "points": [{"warning.days": 0.0}, {"warning.days": 2.5}],
    "replications": 2,
    "seed": 7,
    "chunk": 1,
}


def _start() -> mf.RunManifest:
    return mf.RunManifest(
        tripwire_version="0.1.0",
        command="simulate mini.yaml",
        resume=mf.Request(
            files=["/x/mini.yaml"],
            scenarios={"mini": "ab" * 32},
            replications=10,
            seed=3,
            max_replications=100,
            overrides={"warning.days": 2},
        ),
        stages=[mf.Stage(first=0, target=10, chunk=5)],
    )


def _complete() -> mf.RunManifest:
    start = _start()
    final = start.model_copy(update={"scenarios": {"mini": "mini.yaml"}, "replications": 10})
    return mf.RunManifest.model_validate(
        {**final.model_dump(), "seed": 3, "workers": 2, "wall_seconds": 1.5}
    ).completed({"mini/summary.json": "cd" * 32})


def _sweep(status: str = "complete") -> mf.SweepManifest:
    done = {"files": {"points.parquet": "ef" * 32}} if status != "running" else {}
    return mf.SweepManifest(status=status, digest=mf.spec_digest(SPEC), spec=SPEC, **done)


@pytest.mark.parametrize("make", [_start, _complete, _sweep, lambda: _sweep("running")])
def test_what_is_written_reads_back_identically(tmp_path, make):
    m = make()
    mf.write(tmp_path, m)
    data = json.loads((tmp_path / mf.MANIFEST).read_text())
    assert data["kind"] == m.kind and data["version"] == mf.VERSION == 2
    back = mf.read(tmp_path)
    assert back == m and type(back) is type(m)


def test_a_complete_run_drops_its_start_record():
    m = _complete()
    assert m.complete and m.status == "complete" and m.resume is None and m.stages == []
    assert m.run_names() == ["mini"] and _start().run_names() == ["mini"]


def test_version_1_manifests_are_read_and_upgraded():
    """The example result folder of the README was written before the model (unmarked)."""
    folder = ROOT / "results" / "examples" / "postures"
    data = json.loads((folder / mf.MANIFEST).read_text())
    m = mf.read(folder)
    assert isinstance(m, mf.RunManifest) and m.complete
    assert ("kind" not in data and m.version == 1) or m.version == mf.VERSION
    assert m.run_names() == list(data["scenarios"]) and m.seed == data["seed"]
    v1_sweep = {"status": "running", "digest": mf.spec_digest(SPEC), "spec": SPEC}
    s = mf.parse(v1_sweep)
    assert isinstance(s, mf.SweepManifest) and s.version == 1


def test_a_newer_version_is_refused_by_name_and_not_called_damaged(tmp_path):
    data = _complete().model_dump(mode="json", exclude_none=True)
    (tmp_path / mf.MANIFEST).write_text(json.dumps({**data, "version": 3}))
    with pytest.raises(mf.ManifestError, match="manifest version 3, written by a newer") as e:
        mf.read(tmp_path)
    assert not e.value.damaged


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        ({"version": 0}, "version is not 1 to 2"),
        ({"version": "2"}, "version is not a manifest version"),
        ({"kind": "sweep"}, "damaged"),
        ({"files": ["a"]}, "files is not a mapping of file names to SHA-256 checksums"),
        ({"files": {"../x": "a"}}, "files is not a mapping"),
        ({"seed": -1}, "seed is not a seed"),
        ({"replications": True}, "replications is not a positive integer"),
        ({"surprise": 1}, "surprise is not a field of a tripwire manifest"),
        ({"complete": False, "status": "running"}, "resume is not a mapping"),
        ({"scenarios": {}}, "lacks scenarios"),
    ],
)
def test_damage_is_named_by_field(edit, named):
    data = {**_complete().model_dump(mode="json", exclude_none=True), **edit}
    with pytest.raises(mf.ManifestError, match=named) as e:
        mf.parse(data)
    assert e.value.damaged


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(st.sampled_from(["run", "start", "sweep"]), st.data())
def test_any_edit_of_a_field_is_read_or_named_never_another_error(which, data):
    m = {"run": _complete, "start": _start, "sweep": _sweep}[which]()
    raw = m.model_dump(mode="json", exclude_none=True)
    key = data.draw(st.sampled_from(sorted(raw)))
    raw[key] = data.draw(JSON)
    try:
        back = mf.parse(raw)
    except mf.ManifestError as exc:
        assert str(exc).startswith("its manifest.json is ")
    else:
        assert back.kind in ("run", "sweep")


def test_the_documented_schema_is_the_model(tmp_path):
    """docs/manifest.schema.json is the model's JSON schema (regenerate it with
    ``python -m tripwire.manifest > docs/manifest.schema.json``)."""
    doc = Path(ROOT / "docs" / "manifest.schema.json")
    assert json.loads(doc.read_text()) == mf.json_schema()
