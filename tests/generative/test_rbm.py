"""RBM: exact ln Z against brute force over both layers, AIS against exact ln Z, Gibbs
sampling against exact probabilities, and CD training against the exact KL."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

from qml_phys.errors import InvalidParameterError, ShapeError, TooLargeError
from qml_phys.generative import base, models, rbm
from qml_phys.generative.evaluate import boltzmann_log_prob, exact_kl, lattice_states
from qml_phys.physics import exact
from qml_phys.stats import chi_square_pvalue
from qml_phys.train import TrainConfig

TC = exact.onsager_tc()


def _random_rbm(key, L=3, M=6, visible="spin", scale=0.5):
    module = rbm.RBM(shape=(L, L), n_hidden=M, visible=visible, init_scale=scale, paired_init=False)
    p = dict(base.init_params(module, key=key))
    kb, kc = jax.random.split(jax.random.fold_in(key, 1))
    p["b"] = 0.3 * jax.random.normal(kb, p["b"].shape, jnp.float32)
    p["c"] = 0.3 * jax.random.normal(kc, p["c"].shape, jnp.float32)
    return module, p


def _brute_log_z(module, p):
    """ln Z summing exp(-E(v, h)) over every visible and hidden configuration."""
    W, b, c = (np.asarray(p[k], np.float64) for k in ("W", "b", "c"))
    N, M = W.shape
    v = lattice_states(int(np.sqrt(N))).reshape(-1, N).astype(np.float64)
    v = v if module.visible == "spin" else (v + 1) / 2
    h = ((np.arange(1 << M)[:, None] >> np.arange(M)) & 1).astype(np.float64)
    return scipy.special.logsumexp(v @ b[:, None] + (h @ c)[None, :] + v @ W @ h.T)


@pytest.mark.parametrize("visible", ["spin", "binary"])
@pytest.mark.parametrize("M", [6, 12])  # enumerate the hidden layer (6 < 9) or the visible (12 > 9)
def test_exact_log_partition(visible, M, key):
    module, p = _random_rbm(key, M=M, visible=visible)
    assert rbm.log_partition(module, p) == pytest.approx(_brute_log_z(module, p), rel=1e-10)


@pytest.mark.parametrize("visible", ["spin", "binary"])
def test_ais_matches_exact_log_partition(visible, key):
    module, p = _random_rbm(key, M=8, visible=visible)
    res = rbm.ais_log_partition(
        module, p, key=jax.random.fold_in(key, 2), n_chains=200, n_betas=500
    )
    exact_lz = rbm.log_partition(module, p)
    assert 0 < res.error < 0.05
    assert abs(res.log_z - exact_lz) < 4 * res.error + 1e-3, (res.log_z, res.error, exact_lz)
    # the running estimate ends at the final one, and starts at ln Z_0 of the base model
    assert res.history["log_z"].shape == (499,)
    assert res.history["log_z"][-1] == pytest.approx(res.log_z, abs=1e-4)
    assert res.summary()["config"] == {"n_chains": 200, "n_betas": 500}


def test_gibbs_samples_the_model(key):
    """Long independent Gibbs chains reproduce exp(-F(v)) / Z (chi-square)."""
    module, p = _random_rbm(key, L=2, M=4, scale=0.8)
    s = np.asarray(rbm.sample_gibbs(module, p, jax.random.fold_in(key, 3), 8000, n_steps=50))
    states = lattice_states(2).astype(np.float32)
    lp = np.asarray(module.apply({"params": p}, states), np.float64) - rbm.log_partition(module, p)
    idx = ((1 - s.reshape(-1, 4)) // 2).astype(np.int64) @ (1 << np.arange(3, -1, -1))
    assert chi_square_pvalue(np.bincount(idx, minlength=16), np.exp(lp)) > 1e-3


def test_cd_training_lowers_exact_kl(key):
    """CD-10 on 5000 exact Boltzmann samples of the 3x3 torus at T_c (fast)."""
    states, lp = boltzmann_log_prob(3, TC)
    x = states[np.random.default_rng(3).choice(512, 5000, p=np.exp(lp))]
    module = rbm.RBM(shape=(3, 3), n_hidden=9)
    k_init, k_train = jax.random.split(key)
    p0 = base.init_params(module, key=k_init)
    kl0 = exact_kl(models.normalised_log_prob_fn(module, p0), 3, TC)
    cfg = TrainConfig(epochs=10, batch_size=100, learning_rate=1e-2, validation_fraction=0.0)
    res = models.train_spin_model(module, x, cfg, key=k_train)
    kl = exact_kl(models.normalised_log_prob_fn(module, res.params), 3, TC)
    ll = rbm.exact_log_likelihood(module, res.params, x)
    assert kl0 > 1.0 and kl < 0.3, (kl0, kl)
    assert ll > rbm.exact_log_likelihood(module, p0, x) + 1.0


def test_bad_input(key):
    module, p = _random_rbm(key)
    with pytest.raises(ShapeError, match="lattice shape mismatched"):
        module.apply({"params": p}, jnp.ones((2, 16), jnp.float32))
    with pytest.raises(TooLargeError, match=r"expected min\(N, M\) <= 24; got N=36, M=30"):
        big = rbm.RBM(shape=(6, 6), n_hidden=30)
        rbm.log_partition(big, base.init_params(big, key=key))
    with pytest.raises(InvalidParameterError, match=r"expected base_bias of shape \(9,\)"):
        rbm.ais_log_partition(module, p, key=key, base_bias=np.zeros(4))
    with pytest.raises(InvalidParameterError, match="expected a model with exact sampling"):
        base.sample(module, p, key, 10)


@pytest.mark.slow
def test_kl_target_4x4_at_tc(key):
    """Target of issue 4: exact KL < 0.05 nats on the 4x4 torus at T_c (20000 exact samples)."""
    states, lp = boltzmann_log_prob(4, TC)
    x = states[np.random.default_rng(0).choice(len(states), 20000, p=np.exp(lp))]
    module = rbm.RBM(shape=(4, 4), n_hidden=16)
    cfg = TrainConfig(
        epochs=60, batch_size=100, learning_rate=5e-3, schedule="cosine", validation_fraction=0.0
    )
    res = models.train_spin_model(module, x, cfg, key=key)
    kl = exact_kl(models.normalised_log_prob_fn(module, res.params), 4, TC)
    assert kl < 0.05, kl


def test_sample_memory_is_checked_before_training(monkeypatch):
    """Samples that cannot fit in memory are refused before any training (it used to train
    first and fail when drawing them)."""
    trained = []
    monkeypatch.setattr(models, "train_spin_model", lambda *a, **k: trained.append(1))
    spins = np.ones((8, 4, 4), np.int8)
    huge = models.CompareConfig(n_samples=2**31 - 1)
    with pytest.raises(TooLargeError, match="samples of 16 spins"):
        models.train_and_compare(
            models.make_spin_model("rbm", 4), spins, 2.5, key=jax.random.key(0), compare=huge
        )
    assert not trained
