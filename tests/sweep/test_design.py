import numpy as np
import pytest

from tests.conftest import SCENARIOS
from tripwire.designs import (
    SweepError,
    current_value,
    factor_from,
    make_design,
    parse_factor,
    resolve_path,
    with_values,
)
from tripwire.loader import load_scenario


@pytest.fixture(scope="module")
def data():
    return load_scenario(SCENARIOS / "brigade.yaml").scenario.model_dump(mode="json", by_alias=True)


def test_factor_forms():
    assert parse_factor("warning.days=0:30:16").grid()[:3] == [0, 2, 4]
    assert parse_factor("suwalki.closure_probability=0,0.5,1").grid() == [0, 0.5, 1]
    assert factor_from("x", [1, 2]).values == (1.0, 2.0)
    assert factor_from("x", {"low": 1, "high": 3, "n": 3}).grid() == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warning.days", "expected PATH=LOW:HIGH"),
        ("warning.days=5:1", "empty or inverted range"),
        ("warning.days=3:3", "empty or inverted range"),
        ("warning.days=0:10:0", "at least 1 point"),
        ("warning.days=a,b", "expected LOW:HIGH"),
        ("warning.days=", "expected LOW:HIGH"),
    ],
)
def test_bad_factors(text, message):
    with pytest.raises(SweepError, match=message):
        parse_factor(text)


def test_paths_by_key_index_and_name(data):
    assert current_value(data, "suwalki.closure_probability") == 0.3
    assert current_value(data, "network.links.gap_rail.channels") == 3
    k = [lk["id"] for lk in data["network"]["links"]].index("gap_rail")
    assert current_value(data, f"network.links[{k}].channels") == 3  # the same link by index
    assert current_value(data, "countries.estonia.threat_troops.high") == 30000
    assert current_value(data, "warning.days")["kind"] == "triangular"


def test_unknown_path_suggests_the_closest(data):
    with pytest.raises(SweepError, match=r"did you mean .*suwalki.closure_probability"):
        resolve_path(data, "suwalki.closure_probabilty")
    with pytest.raises(SweepError, match="names a block"):
        resolve_path(data, "countries.estonia")


def test_with_values_copies_and_keeps_integers(data):
    new = with_values(data, {"network.links.gap_rail.channels": 4.6, "warning.days": 3.0})
    assert current_value(new, "network.links.gap_rail.channels") == 5
    assert current_value(new, "warning.days") == 3.0
    assert current_value(data, "network.links.gap_rail.channels") == 3  # original untouched


def test_design_sizes():
    a, b = parse_factor("a=0:1:3"), parse_factor("b=0,1")
    assert len(make_design("grid", [a, b], 0, 1).points) == 6
    assert len(make_design("lhs", [a, b], 10, 1).points) == 10
    assert len(make_design("sobol", [a, b], 8, 1).points) == 8 * (2 + 2)
    assert len(make_design("morris", [a, b], 5, 1).points) == 5 * (2 + 1)
    with pytest.raises(SweepError, match="unknown design"):
        make_design("halton", [a], 4, 1)
    with pytest.raises(SweepError, match="at least one --vary"):
        make_design("grid", [], 4, 1)
    with pytest.raises(SweepError, match="--samples of at least 1"):
        make_design("lhs", [a], 0, 1)


def test_lhs_is_reproducible_and_stratified():
    f = parse_factor("a=0:10")
    x = [p["a"] for p in make_design("lhs", [f], 10, 7).points]
    assert x == [p["a"] for p in make_design("lhs", [f], 10, 7).points]
    assert sorted(int(v) for v in x) == list(range(10))  # one point per decile


def test_a_factor_can_be_a_distribution():
    f = factor_from("warning.days", {"triangular": {"low": 0, "mode": 2, "high": 10}})
    pts = [p["warning.days"] for p in make_design("lhs", [f], 200, 3).points]
    assert min(pts) >= 0 and max(pts) <= 10
    assert np.mean(pts) == pytest.approx(4, abs=0.2)  # the triangular's mean
    assert len(f.grid()) == 5 and f.grid() == sorted(f.grid())
    with pytest.raises(SweepError, match="invalid distribution"):
        factor_from("x", {"uniform": {"low": 3, "high": 1}})
