"""The split-normal predictive distribution (one module for model, consultation and verification)."""
import numpy as np
import pytest
from scipy.stats import norm

from forecast import distributions as D


def test_split_normal_samples_hit_the_quantiles():
    s = D.split_normal_samples(np.array([80.0]), np.array([120.0]), np.array([220.0]), n=2000)[0]
    assert np.quantile(s, [0.1, 0.5, 0.9]) == pytest.approx([80, 120, 220], rel=0.02)


@pytest.mark.parametrize("threshold", [60.0, 80.0, 120.0, 200.0, 220.0, 400.0])
def test_exceedance_matches_the_normal_on_each_side(threshold):
    q = (80.0, 120.0, 220.0)
    mid = np.log1p(120.0)
    side = q[0] if threshold < 120 else q[2]
    scale = abs(np.log1p(side) - mid) / norm.ppf(0.9)
    expected = norm.sf((np.log1p(threshold) - mid) / scale)
    assert float(D.split_normal_sf(threshold, *q)) == pytest.approx(expected)
    # the 10 / 90 % quantiles are exceeded with probability 0.9 / 0.1
    assert float(D.split_normal_sf(80.0, *q)) == pytest.approx(0.9)
    assert float(D.split_normal_sf(220.0, *q)) == pytest.approx(0.1)


def test_degenerate_side_is_a_step():
    assert float(D.split_normal_sf(150.0, 100.0, 100.0, 100.0)) == 0.0
    assert float(D.split_normal_sf(50.0, 100.0, 100.0, 100.0)) == 1.0


def test_ar1_deviates_have_the_asked_correlation():
    z = D.ar1_deviates(np.random.default_rng(0), 20000, 3, 0.7)
    assert np.corrcoef(z[:, 0], z[:, 1])[0, 1] == pytest.approx(0.7, abs=0.02)
    assert z.std(axis=0) == pytest.approx([1, 1, 1], abs=0.02)
