"""Hybrid Monte Carlo: reversibility, O(eps^2) energy error, exactness on the free field."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.classical.hmc import HMCConfig, leapfrog, run_hmc
from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.physics.phi4 import Phi4, free_propagator, observables
from qml_phys.stats import estimate


def test_leapfrog_is_reversible_and_its_energy_error_is_second_order(key):
    theory = Phi4(6, m2=-4.0, lam=6.975)
    k1, k2 = jax.random.split(key)
    x = 0.5 * jax.random.normal(k1, (6, 6), jnp.float32)
    p = jax.random.normal(k2, (6, 6), jnp.float32)
    x1, p1 = leapfrog(x, p, theory.grad, 0.05, 20)
    x2, p2 = leapfrog(x1, -p1, theory.grad, 0.05, 20)
    np.testing.assert_allclose(np.asarray(x2), np.asarray(x), atol=2e-5)
    np.testing.assert_allclose(np.asarray(-p2), np.asarray(p), atol=2e-5)

    def dH(eps, n):
        x1, p1 = leapfrog(x, p, theory.grad, eps, n)
        h = lambda x, p: float(theory.action(x)) + 0.5 * float(jnp.sum(p * p))  # noqa: E731
        return abs(h(x1, p1) - h(x, p))

    # same trajectory length, half the step: the energy error drops ~4x
    ratio = dH(0.04, 10) / dH(0.02, 20)
    assert 2.5 < ratio < 6.0, ratio


def test_hmc_is_exact_on_the_free_field(key):
    """lambda = 0: <phi^2>, G(1) and chi against the analytic propagator."""
    L, m2 = 4, 0.5
    theory = Phi4(L, m2=m2, lam=0.0)
    x0 = jnp.zeros((8, L, L), jnp.float32)
    config = HMCConfig(n_samples=1500, step_size=0.25, n_leapfrog=6, n_therm=50)
    res = run_hmc(theory.action, x0, config, key=key)
    assert res.status == "completed" and res.summary()["n_samples"] == 1500
    assert 0.6 < res.acceptance < 1.0
    assert res.mean_exp_minus_dH == pytest.approx(1.0, abs=0.05)  # Creutz: <e^-dH> = 1
    obs = observables(res.samples)
    G = free_propagator(L, m2)
    exact = {"phi2": G[0, 0], "g1": G[0, 1], "chi": G.sum()}
    for name, value in exact.items():
        est = estimate(obs[name].reshape(8, -1), warn=False)
        assert abs(est.mean - value) < 3.5 * est.error, (name, est, value)
        assert est.error < 0.05 * abs(value)  # the test has power


def test_hmc_rejects_bad_input(key):
    theory = Phi4(4)
    with pytest.raises(InvalidParameterError, match="step_size: expected a finite number > 0"):
        HMCConfig(n_samples=2, step_size=0.0, n_leapfrog=3)
    with pytest.raises(InvalidParameterError, match="n_leapfrog"):
        HMCConfig(n_samples=2, step_size=0.1, n_leapfrog=0)
    config = HMCConfig(n_samples=2, step_size=0.1, n_leapfrog=3)
    with pytest.raises(ShapeError, match="expected a floating-point x0; got dtype int32"):
        run_hmc(theory.action, jnp.zeros((2, 4, 4), jnp.int32), config, key=key)
    with pytest.raises(ShapeError, match=r"expected x0 of shape \(n_chains, \*site_shape\)"):
        run_hmc(theory.action, jnp.zeros(4), config, key=key)
    with pytest.raises(InvalidParameterError, match="not both"):
        run_hmc(theory.action, jnp.zeros((2, 4, 4)), config, key=key, n_samples=3)


def test_the_old_keyword_form_still_runs_with_a_warning(key):
    theory = Phi4(4)
    with pytest.warns(DeprecationWarning, match="HMCConfig"):
        res = run_hmc(
            theory.action, jnp.zeros((2, 4, 4)), key=key, n_samples=3, step_size=0.1, n_leapfrog=2
        )
    assert res.samples.shape == (2, 3, 4, 4) and res.seconds == res.wall_time_s
