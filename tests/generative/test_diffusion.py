"""Spin-flip diffusion: the forward process, the exact single-site reverse posterior."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.generative import base
from qml_phys.generative import diffusion as D


def test_forward_process_flips_with_the_telegraph_probability(key):
    t = jnp.asarray([0.0, 0.1, 0.5, 2.0], jnp.float32)
    s0 = jnp.ones((4, 100, 100), jnp.float32)
    st = D.forward_sample(key, s0, t)
    flips = np.asarray(jnp.mean((st < 0).astype(jnp.float32), axis=(1, 2)))
    p = 0.5 * (1 - np.exp(-2 * np.asarray(t)))
    assert np.all(np.abs(flips - p) < 4 * np.sqrt(p * (1 - p) / 1e4) + 1e-12)
    # steps compose: flipping over t1 then t2 is flipping over t1 + t2
    p1, p2 = D.flip_probability(0.3), D.flip_probability(0.45)
    assert float(p1 * (1 - p2) + p2 * (1 - p1)) == pytest.approx(float(D.flip_probability(0.75)))


def test_reverse_step_is_the_exact_single_site_posterior():
    """Enumerate (s0, s_{k-1}, s_k) for one spin with prior P(s0=+1) = pi."""
    ts = np.array([0.0, 0.2, 0.7])
    for pi, (k, s_k) in itertools.product([0.2, 0.5, 0.9], itertools.product([1, 2], [1, -1])):
        t_prev, t_k = ts[k - 1], ts[k]
        a_k = np.exp(-2 * (t_k - t_prev))
        prior = {1: pi, -1: 1 - pi}

        def q(x, y, dt):  # P(x after time dt | y)
            return 0.5 * (1 + np.exp(-2 * dt) * x * y)

        joint = {
            (s0, x): prior[s0] * q(x, s0, t_prev) * q(s_k, x, t_k - t_prev)
            for s0 in (1, -1)
            for x in (1, -1)
        }
        z = sum(joint.values())
        want = (joint[(1, 1)] + joint[(-1, 1)]) / z
        post_s0 = {s0: (joint[(s0, 1)] + joint[(s0, -1)]) / z for s0 in (1, -1)}
        mu = post_s0[1] - post_s0[-1]
        got = D.reverse_step_probability(float(s_k), mu, a_k, np.exp(-2 * t_prev))
        assert float(got) == pytest.approx(want, rel=1e-10)


def test_config_and_spins_are_checked(key):
    # training and sampling run in tests/cli/test_generative.py (the CLI contract)
    with pytest.raises(
        InvalidParameterError, match=r"t_max: expected a finite number > 0; got 0.0"
    ):
        D.DiffusionConfig(t_max=0.0)
    with pytest.raises(InvalidParameterError, match="n_steps must be an integer >= 1"):
        D.DiffusionConfig(n_steps=0)
    with pytest.raises(InvalidParameterError, match="learning_rate: expected a finite number > 0"):
        D.DiffusionConfig(learning_rate=float("nan"))
    with pytest.raises(InvalidParameterError, match=r"expected spins in \{-1,\+1\}"):
        D.train_diffusion(np.zeros((4, 4, 4)), D.DiffusionConfig(epochs=1), key=key)


def test_symmetry_augmentation_preserves_the_ising_energy(key):
    from qml_phys.generative.evaluate import ising_energy

    s = jnp.where(jax.random.bernoulli(key, 0.5, (64, 6, 6)), 1.0, -1.0)
    a = base.symmetry_augment(jax.random.fold_in(key, 1), s)
    assert a.shape == s.shape and not np.array_equal(np.asarray(a), np.asarray(s))
    np.testing.assert_array_equal(ising_energy(np.asarray(a)), ising_energy(np.asarray(s)))
    m_a, m_s = np.abs(np.asarray(a).sum((1, 2))), np.abs(np.asarray(s).sum((1, 2)))
    np.testing.assert_array_equal(m_a, m_s)
