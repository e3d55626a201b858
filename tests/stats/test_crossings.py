"""Crossings and finite-size scaling (qml_phys.stats.fits): exact on exact curves, bootstrap
errors that match the scatter of independent replications."""

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.physics.exact import onsager_tc
from qml_phys.stats import fits as F

TC = onsager_tc()


def test_logit_crossing_is_exact_for_a_logistic_curve():
    t = np.linspace(1.5, 3.0, 13)
    y = 1 / (1 + np.exp((t - 2.2345) / 0.1))
    assert F.crossing(t, y) == pytest.approx(2.2345, abs=1e-9)
    with pytest.raises(InvalidParameterError, match="never crosses 0.5"):
        F.crossing(t, 0.9 * np.ones_like(t))


def test_bootstrap_error_matches_the_spread_of_independent_replications():
    # Bernoulli outputs with a logistic mean: the bootstrap error of the crossing must agree
    # with the scatter of the crossing over independent data sets (within sampling noise).
    rng = np.random.default_rng(5)
    t = np.repeat(np.linspace(2.0, 2.6, 13), 100)
    p = 1 / (1 + np.exp((t - 2.3) / 0.08))
    xs, errs = [], []
    for i in range(40):
        y = (rng.random(len(t)) < p).astype(float)
        c = F.bootstrap_crossing(y, t, key=jax.random.key(i), n_boot=100)
        xs.append(c.value)
        errs.append(c.error)
    spread = np.std(xs, ddof=1)
    assert np.mean(xs) == pytest.approx(2.3, abs=3 * spread / np.sqrt(40) + 1e-3)
    assert 0.7 < np.mean(errs) / spread < 1.4


def test_fss_fit_weighted_least_squares():
    L = np.array([8, 12, 16, 24, 32])
    err = np.array([0.01, 0.008, 0.006, 0.005, 0.004])
    exact = TC + 0.4 / L
    f = F.fss_fit(L, exact, err)
    assert f.Tc == pytest.approx(TC, abs=1e-12) and f.a == pytest.approx(0.4, abs=1e-10)
    assert f.chi2 == pytest.approx(0, abs=1e-18) and f.dof == 3 and f.error_scale == 1.0
    # Errors: (A^T W A)^-1 for the unscaled fit; compare with numpy's weighted polyfit.
    noisy = exact + np.random.default_rng(0).normal(0, err)
    g = F.fss_fit(L, noisy, err)
    _, cov = np.polyfit(1.0 / L, noisy, 1, w=1 / err, cov="unscaled")
    assert g.Tc_error == pytest.approx(np.sqrt(cov[1, 1]) * g.error_scale, rel=1e-8)
    with pytest.raises(InvalidParameterError, match="at least two lattice sizes; got \\[16\\]"):
        F.fss_fit([16, 16], [2.3, 2.31], [0.01, 0.01])
    with pytest.raises(ShapeError, match="one common length"):
        F.fss_fit([8, 16], [2.3], [0.01, 0.01])


def test_two_curves_cross_where_straight_lines_do():
    T = np.linspace(2.0, 2.5, 11)
    assert F.curves_crossing(T, 0.6 - 0.1 * (T - 2.2), 0.6 - 0.5 * (T - 2.2)) == pytest.approx(2.2)
    assert np.isnan(F.curves_crossing(T, T, T + 1))


def test_a_crossing_is_also_an_estimate():
    t = np.repeat(np.linspace(2.0, 2.6, 13), 50)
    y = (np.random.default_rng(1).random(len(t)) < 1 / (1 + np.exp((t - 2.3) / 0.08))).astype(float)
    c = F.bootstrap_crossing(y, t, key=jax.random.key(0), n_boot=200)
    e = c.estimate
    assert e.mean == c.value and e.error == c.error
    assert e.low < c.value < e.high and e.high - e.low == pytest.approx(2 * c.error, rel=0.3)
