import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tripwire.distributions import Distribution

TA = TypeAdapter(Distribution)

FORMS = [
    (7, 7.0),
    ({"uniform": {"low": 1, "high": 3}}, 2.0),
    ({"triangular": {"low": 0, "mode": 3, "high": 6}}, 3.0),
    ({"normal": {"mean": 10, "sd": 2}}, 10.0),
    ({"lognormal": {"median": 48, "sigma": 0.5}}, 48 * math.exp(0.125)),
    ({"exponential": {"mean": 5}}, 5.0),
    ({"choice": {"values": [1, 2, 4], "weights": [1, 1, 2]}}, 2.75),
]


@pytest.mark.parametrize(("form", "mean"), FORMS)
def test_sample_mean_matches_analytic_mean(form, mean, rng):
    d = TA.validate_python(form)
    assert d.mean == pytest.approx(mean)
    x = d.sample(rng, 200_000)
    assert x.mean() == pytest.approx(mean, rel=0.01)


@pytest.mark.parametrize(("form", "_"), FORMS)
def test_every_draw_consumes_exactly_one_uniform(form, _):
    d = TA.validate_python(form)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    d.sample(a, 10)
    b.random(10)
    assert a.random() == b.random()


@pytest.mark.parametrize(("form", "_"), FORMS)
def test_scalar_draw_is_the_ppf_of_one_uniform_bit_for_bit(form, _):
    """``draw`` (the model's per-event path, scalar fast paths included) gives exactly
    ``ppf`` of the next uniform and leaves the stream where ``sample`` would."""
    d = TA.validate_python(form)
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    drawn = [d.draw(a) for _ in range(2_000)]
    assert drawn == d.ppf(b.random(2_000)).tolist()
    assert a.random() == b.random()


@given(
    low=st.floats(-1e6, 1e6),
    span=st.floats(0, 1e6),
    at=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_scalar_triangular_and_uniform_match_ppf(low, span, at, seed):
    for form in (
        {"triangular": {"low": low, "mode": low + at * span, "high": low + span}},
        {"uniform": {"low": low, "high": low + span}},
    ):
        d = TA.validate_python(form)
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        assert [d.draw(a) for _ in range(5)] == d.ppf(b.random(5)).tolist()


def test_truncated_normal_stays_in_bounds(rng):
    d = TA.validate_python({"normal": {"mean": 0, "sd": 5, "low": -1, "high": 2}})
    x = d.sample(rng, 50_000)
    assert x.min() >= -1 and x.max() <= 2


def test_ppf_is_monotone_in_u():
    u = np.linspace(0, 1, 1001)
    for form, _ in FORMS:
        assert np.all(np.diff(TA.validate_python(form).ppf(u)) >= 0)


@pytest.mark.parametrize(
    ("bad", "text"),
    [
        ({"uniform": {"low": 3, "high": 1}}, "must not exceed"),
        ({"triangular": {"low": 0, "mode": 5, "high": 4}}, "low <= mode <= high"),
        ({"normal": {"mean": 0, "sd": -1}}, "greater than 0"),
        ({"gamma": {"k": 1}}, "expected a number or one of"),
        ({"choice": {"values": [1, 2], "weights": [1]}}, "weights has 1"),
        ("soon", "expected a number or one of"),
    ],
)
def test_bad_distributions_are_rejected_with_a_reason(bad, text):
    with pytest.raises(ValidationError, match=text):
        TA.validate_python(bad)


def test_dump_round_trips():
    for form, _ in FORMS:
        d = TA.validate_python(form)
        assert TA.validate_python(d.model_dump(by_alias=True)) == d
