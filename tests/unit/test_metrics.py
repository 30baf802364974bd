import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tripwire import metrics


def test_kaplan_meier_without_censoring_is_the_ecdf(rng):
    t = rng.exponential(10, 500)
    ev, f, lo, hi = metrics.kaplan_meier(t, horizon=1e9)
    assert np.allclose(f, np.arange(1, 501) / 500)
    assert np.all(lo <= f + 1e-12) and np.all(hi >= f - 1e-12)


def test_kaplan_meier_with_censoring_matches_a_hand_computation():
    # times 1, 2, 2, censored (inf), censored; horizon 10
    t = np.array([1.0, 2.0, 2.0, math.inf, math.inf])
    ev, f, _, _ = metrics.kaplan_meier(t, horizon=10)
    assert ev.tolist() == [1.0, 2.0]
    # S(1) = 4/5; S(2) = 4/5 * (1 - 2/4) = 2/5
    assert f.tolist() == pytest.approx([0.2, 0.6])


def test_cdf_at_checkpoint_and_before_first_event():
    t = np.array([5.0, 10.0, math.inf, math.inf])
    assert metrics.cdf_at(t, 20, 7).value == pytest.approx(0.25)
    assert metrics.cdf_at(t, 20, 1).value == 0


def test_quantile_ci_covers_the_true_median(rng):
    hits = 0
    for _ in range(300):
        est = metrics.quantile(rng.exponential(1, 200), 0.5)
        hits += est.lo <= math.log(2) <= est.hi
    assert 0.92 <= hits / 300 <= 0.99


def test_quantile_beyond_censoring_is_infinite():
    t = np.array([1.0, 2.0, math.inf, math.inf, math.inf])
    assert metrics.quantile(t, 0.5).value == math.inf
    assert metrics.quantile(t, 0.2).value == 1.0


def test_wilson_interval():
    e = metrics.proportion(50, 100)
    assert e.value == 0.5 and e.lo == pytest.approx(0.4038, abs=1e-3)
    assert metrics.proportion(0, 20).lo == 0


def test_paired_differences_handle_censoring():
    a = np.array([1.0, math.inf, 3.0, math.inf])
    b = np.array([2.0, 5.0, math.inf, math.inf])
    d = metrics.paired_differences(a, b)
    assert d[0] == 1 and d[1] == -math.inf and d[2] == math.inf and math.isnan(d[3])


def test_paired_bootstrap_detects_a_constant_shift(rng):
    a = rng.normal(100, 30, 400)
    b = a - 5 + rng.normal(0, 1, 400)  # b faster by 5 h, paired noise small
    est = metrics.difference_of_medians(a, b, seed=1)
    assert est.hi < 0 and est.lo < est.value < est.hi
    med = metrics.median_difference(a, b)
    assert med.value == pytest.approx(-5, abs=0.3) and med.hi < 0


def test_paired_proportion_difference():
    x = np.array([0, 0, 1, 1] * 50)
    y = np.array([1, 0, 1, 1] * 50)
    e = metrics.paired_proportion_difference(x, y)
    assert e.value == pytest.approx(0.25) and e.lo > 0


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 200_000),
    nan_share=st.sampled_from([0.0, 0.01, 0.5, 1.0]),
    scale=st.sampled_from([1e-3, 1.0, 1e6]),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_mean_in_place_is_the_mean_bit_for_bit(n, nan_share, scale, seed):
    """``mean(x, overwrite_input=True)`` (NaN dropped and the deviation computed in ``x``)
    gives exactly what the copying form gives."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 300.0, n) * scale
    x[rng.random(n) < nan_share] = np.nan
    a, b = metrics.mean(x.copy()).as_dict(), metrics.mean(x.copy(), overwrite_input=True).as_dict()
    assert json.dumps(a) == json.dumps(b)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e9, 1e9) | st.just(math.inf), min_size=1, max_size=300),
    q=st.sampled_from([0.1, 0.5, 0.9]),
)
def test_a_presorted_quantile_is_the_quantile(values, q):
    x = np.array(values)
    assert metrics.quantile(np.sort(x), q, presorted=True) == metrics.quantile(x, q)
