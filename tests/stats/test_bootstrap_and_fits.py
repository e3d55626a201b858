"""Barren-plateau statistics: bootstrap coverage, decay fits and their intervals, the
exponential/polynomial comparison, the 2-design closed forms and input validation."""

import jax
import numpy as np
import pytest

from qml_phys.circuits.barren import two_design_variance
from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.stats.bootstrap import bootstrap_variance, resample_counts, shot_corrected_variance
from qml_phys.stats.fits import compare_decay, fit_decay


def test_resample_counts_are_multinomial(key):
    counts = resample_counts(key, 50, 400)
    assert counts.shape == (400, 50) and np.all(counts.sum(axis=1) == 50)
    # each observation is drawn Binomial(50, 1/50) times: mean 1, variance 49/50
    assert abs(counts.mean() - 1.0) < 1e-12
    assert abs(counts.var() - 0.98) < 0.05


def test_bootstrap_interval_covers_the_true_variance(key):
    """95% percentile intervals of the variance of N(0, 4) samples (200 each) cover 4 in
    about 95% of 200 repetitions (binomial sd 1.5%; we accept 0.88-0.99: the percentile
    interval undercovers slightly at n = 200)."""
    rng = np.random.default_rng(1)
    hits = 0
    for k in jax.random.split(key, 200):
        est = bootstrap_variance(rng.normal(0.0, 2.0, 200), key=k, n_boot=400)
        hits += est.low < 4.0 < est.high
    assert 0.88 <= hits / 200 <= 0.99, hits


def test_bootstrap_mean_and_first_reductions(key):
    rng = np.random.default_rng(2)
    g = rng.normal(0.0, [1.0, 3.0], size=(400, 2))
    mean = bootstrap_variance(g, key=key, reduce="mean")
    first = bootstrap_variance(g, key=key, reduce="first")
    assert mean.value == pytest.approx(g.var(axis=0, ddof=1).mean())
    assert first.value == pytest.approx(g[:, 0].var(ddof=1))
    assert mean.low < 5.0 < mean.high and first.low < 1.0 < first.high
    # the log error is the relative error of the variance: sqrt(2/(N-1)) for a normal sample
    assert first.log_stderr == pytest.approx(np.sqrt(2 / 399), rel=0.2)


def test_fit_decay_recovers_the_rate_and_its_interval_covers():
    """ln V = -1 - 0.7 n with Gaussian noise of known sd 0.1: the fit returns 0.7 within
    its 95% interval in about 95% of 300 repetitions (t interval, 4 dof)."""
    ns = np.array([2, 4, 6, 8, 10, 12])
    exact = fit_decay(ns, np.exp(-1 - 0.7 * ns), np.full(6, 0.1))
    assert exact.rate == pytest.approx(0.7, abs=1e-12) and exact.chi2 < 1e-20
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(300):
        v = np.exp(-1 - 0.7 * ns + rng.normal(0, 0.1, ns.size))
        f = fit_decay(ns, v, np.full(6, 0.1))
        hits += f.low < 0.7 < f.high
    assert 0.90 <= hits / 300 <= 0.99, hits


@pytest.mark.parametrize("truth", ["exponential", "polynomial"])
def test_compare_decay_identifies_the_law(truth):
    """Cerezo's distinction: a power law n^-2 is told apart from 2^-n with 5% errors."""
    ns = np.arange(2, 16, 2)
    rng = np.random.default_rng(4)
    v = np.exp(-np.log(2) * ns) if truth == "exponential" else ns**-2.0
    v = v * np.exp(rng.normal(0, 0.05, ns.size))
    out = compare_decay(ns, v, np.full(ns.size, 0.05))
    other = "polynomial" if truth == "exponential" else "exponential"
    assert out["preferred"] == truth
    assert out[f"{other}_rejected"] and not out[f"{truth}_rejected"]
    assert out[truth].p_value > 0.01


def test_shot_corrected_variance_subtracts_the_mean_shot_variance(key):
    rng = np.random.default_rng(5)
    g = rng.normal(0, 1.0, 5000)
    v = rng.uniform(0.5, 1.5, 5000)
    gh = g + rng.normal(0, np.sqrt(v))
    out = shot_corrected_variance(gh, v, key=key, n_boot=300)
    assert out["shot_variance"] == pytest.approx(v.mean())
    assert out["corrected"].value == pytest.approx(out["observed"].value - v.mean())
    # conditional on the draws, the corrected estimate scatters around s^2(g) with sd:
    sd = np.sqrt(np.sum(2 * v**2) + 4 * np.sum((g - g.mean()) ** 2 * v)) / g.size
    assert abs(out["corrected"].value - g.var(ddof=1)) < 4 * sd
    assert out["observed"].value - g.var(ddof=1) > 10 * sd  # biased without the correction
    # the bootstrap error reflects both the draws and the shots: about sqrt(2/N) * 2
    assert out["corrected"].stderr == pytest.approx(2 * np.sqrt(2 / g.size), rel=0.3)


def test_two_design_closed_forms():
    """Global projector 1/(2(N+1)^2); Z0Z1 N^2/(2(N+1)^2(N-1)); first HEA gate (RY on |0>)
    1/(2N(N+1)) for the projector; rates -> ln 4 and ln 2 per qubit."""
    for n in (2, 5, 10):
        N = 2.0**n
        assert two_design_variance(n, "global") == pytest.approx(1 / (2 * (N + 1) ** 2))
        assert two_design_variance(n, "zz") == pytest.approx(N**2 / (2 * (N + 1) ** 2 * (N - 1)))
        assert two_design_variance(n, "global", which="first") == pytest.approx(
            1 / (2 * N * (N + 1))
        )
    rate = np.log(two_design_variance(20, "global") / two_design_variance(21, "global"))
    assert rate == pytest.approx(np.log(4), abs=1e-5)
    rate = np.log(two_design_variance(20, "zz") / two_design_variance(21, "zz"))
    assert rate == pytest.approx(np.log(2), abs=1e-5)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda k: bootstrap_variance([1.0], key=k), ShapeError, r"expected \(n_draws >= 2,\)"),
        (
            lambda k: bootstrap_variance([1.0, 2.0], key=k, reduce="max"),
            InvalidParameterError,
            r"reduce: expected 'mean' or 'first'; got 'max'",
        ),
        (
            lambda k: bootstrap_variance([1.0, 2.0], key=k, level=1.5),
            InvalidParameterError,
            r"level: expected a number in \(0, 1\); got 1.5",
        ),
        (
            lambda k: fit_decay([2, 4], [1e-2, 0.0], [0.1, 0.1]),
            InvalidParameterError,
            r"expected positive variances",
        ),
        (
            lambda k: fit_decay([2, 4], [1e-2, 1e-3], [0.1, 0.1], model="power"),
            InvalidParameterError,
            r"model: expected 'exponential' or 'polynomial'; got 'power'",
        ),
        (
            lambda k: shot_corrected_variance([1.0, 2.0], [1.0], key=k),
            ShapeError,
            r"expected grad_shots and shot_variance of the same shape",
        ),
        (
            lambda k: two_design_variance(3, "energy"),
            InvalidParameterError,
            r"expected cost in \('global', 'local', 'zz'\).*got 'energy'",
        ),
    ],
)
def test_bad_input_is_rejected(key, call, error, match):
    with pytest.raises(error, match=match):
        call(key)
