"""Hopfield network: Hebbian couplings, energy never rises, patterns are fixed points at
low load, and retrieval breaks down above alpha_c ~ 0.138."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.generative import hopfield


def test_hebbian_couplings(key):
    xi = hopfield.random_patterns(key, 3, 50)
    W = np.asarray(hopfield.hebbian(xi))
    x = np.asarray(xi)
    expected = (x.T @ x) / 50.0
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(W, expected, atol=1e-6)
    np.testing.assert_allclose(W, W.T)


def test_energy_never_increases_and_recovers_a_corrupted_pattern(key):
    k1, k2, k3 = jax.random.split(key, 3)
    N = 200
    xi = hopfield.random_patterns(k1, 10, N)  # alpha = 0.05
    W = hopfield.hebbian(xi)
    flips = jnp.where(jax.random.bernoulli(k2, 0.15, xi.shape), -1.0, 1.0).astype(jnp.float32)
    start = xi * flips
    res = hopfield.retrieve(W, start, key=k3, n_sweeps=5)
    e = np.asarray(res.energies)
    assert e.shape == (5 * N + 1, 10)
    assert np.all(np.diff(e, axis=0) <= 1e-5)  # every single-spin update
    np.testing.assert_allclose(
        e[-1], np.asarray(hopfield.energy(W, res.states)), rtol=1e-5, atol=1e-4
    )
    assert bool(jnp.all(res.converged))
    m0 = np.asarray(hopfield.overlap(xi, start))
    m = np.asarray(hopfield.overlap(xi, res.states))
    assert np.all(m0 < 0.8) and np.all(m > 0.95), (m0, m)


def test_capacity_breakdown(key):
    """Overlap ~1 at alpha = 0.05, clearly degraded at alpha = 0.25 (alpha_c = 0.138)."""
    curve = hopfield.capacity_curve(200, [0.05, 0.25], key=key, n_trials=2, n_sweeps=8)
    low, high = curve.overlap
    assert low > 0.97 and curve.retrieved[0] > 0.95
    assert high < 0.8 and curve.retrieved[1] < 0.2
    assert low - high > 10 * (curve.overlap_error[0] + curve.overlap_error[1])
    assert list(curve.P) == [10, 50] and curve.n_steps == 2
    assert curve.summary()["alpha"] == [0.05, 0.25]


def test_bad_input(key):
    with pytest.raises(
        InvalidParameterError, match=r"expected patterns in \{-1,\+1\}; got values \{0, 1\}"
    ):
        hopfield.hebbian(np.array([[0, 1], [1, 0]]))
    W = hopfield.hebbian(hopfield.random_patterns(key, 2, 10))
    with pytest.raises(ShapeError, match=r"expected W of shape \(N, N\) and s0 of shape \(n, N\)"):
        hopfield.retrieve(W, jnp.ones((2, 11), jnp.float32), key=key)
    with pytest.raises(InvalidParameterError, match="zero diagonal"):
        hopfield.retrieve(jnp.eye(10, dtype=jnp.float32), jnp.ones((2, 10), jnp.float32), key=key)
    with pytest.raises(InvalidParameterError, match="expected loads alpha > 0"):
        hopfield.capacity_curve(10, [0.0], key=key)
