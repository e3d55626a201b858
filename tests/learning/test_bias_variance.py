"""Bias-variance decomposition: the exact sample identity, the noise term, the U-curve."""

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.learning import bias_variance as BV


def test_sample_identity_and_known_estimator():
    rng = np.random.default_rng(0)
    f = rng.normal(size=50)
    # an estimator with known bias 0.3 and variance 0.25 at every test point
    preds = f + 0.3 + 0.5 * rng.normal(size=(4000, 50))
    d = BV.decompose(preds, f, 0.0)
    assert d["bias2"] + d["variance"] == pytest.approx(d["mse_to_truth"], rel=1e-12)
    assert d["bias2_corrected"] == pytest.approx(0.09, abs=0.005)
    assert d["variance"] == pytest.approx(0.25, rel=0.02)


def test_chain_range_study_is_u_shaped_and_adds_up():
    config = BV.ChainRangeConfig(L=12, ranges=(0, 1, 2, 3, 4, 5), n_rounds=50)
    r = BV.chain_range_study(config, key=jax.random.key(0))
    assert r.config is config and r.ranges == (0, 1, 2, 3, 4, 5)
    rows = [r.by_range[R] for R in r.ranges]
    for row in rows:
        # bias^2 + variance + sigma^2 = expected test error, within the test error's error
        assert abs(row["test_error"] - row["expected_error"]) < 4 * row["test_error_se"]
    bias = np.array([row["bias2_corrected"] for row in rows])
    var = np.array([row["variance"] for row in rows])
    err = np.array([row["test_error"] for row in rows])
    assert np.all(np.diff(bias) < 0.05)  # more couplings, less bias
    assert abs(bias[-1]) < 0.05  # R = 5 contains the true model: unbiased
    assert var[-1] > 2 * var[1]  # ... but pays in variance
    assert 0 < np.argmin(err) < len(err) - 1  # U-shaped
    # the squared bias of a model of range R is the variance of the missing couplings:
    # sum_{r > R} L J_r^2 (the features are orthonormal over uniform spins)
    for row in rows:
        assert row["bias2_corrected"] == pytest.approx(
            row["exact_bias2"], abs=0.15 + 0.1 * row["exact_bias2"]
        )


@pytest.mark.slow
def test_bootstrap_resampling_runs_and_adds_up():
    config = BV.ChainRangeConfig(L=12, ranges=(1, 2), n_rounds=10, n_test=300, resample="bootstrap")
    r = BV.chain_range_study(config, key=jax.random.key(1))
    for row in r.by_range.values():
        assert row["bias2"] + row["variance"] == pytest.approx(row["mse_to_truth"], rel=1e-10)


def test_bad_input():
    with pytest.raises(ShapeError, match=r"expected predictions \(R, m\) and f_true \(m,\)"):
        BV.decompose(np.zeros((3, 4)), np.zeros(5), 1.0)
    with pytest.raises(InvalidParameterError, match="R: expected a range 0 <= R < L/2 = 4.0"):
        BV.range_features(np.ones((2, 8)), 4)
    with pytest.raises(InvalidParameterError, match="give exactly one of draw_train"):
        BV.resampled_predictions(lambda *a: 0, None, np.zeros(3), 3, key=jax.random.key(0))
    with pytest.raises(
        InvalidParameterError, match=r"ranges: expected integers 0 <= R <= 5 for L=12; got \(6,\)"
    ):
        BV.ChainRangeConfig(L=12, ranges=(6,))
    with pytest.raises(InvalidParameterError, match="resample: expected 'fresh' or 'bootstrap'"):
        BV.ChainRangeConfig(resample="jackknife")
    with pytest.raises(InvalidParameterError, match="n_rounds must be an integer >= 2"):
        BV.ChainRangeConfig(n_rounds=1)
