"""Block spins flow away from T_c; an RBM learns the exact Boltzmann distribution of a 3x3
torus; stacked RBMs and receptive fields."""

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.learning import rg
from qml_phys.learning.information import kl_divergence
from qml_phys.physics import exact
from qml_phys.train import TrainConfig


def _nn_correlation(s):
    s = s.astype(float)
    return float(np.mean(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)) / 2)


def test_block_spins_majority_rule_and_ties():
    s = np.ones((1, 4, 4), np.int8)
    s[0, :2, :2] = -1
    s[0, 2, 2] = -1  # 3 up, 1 down in the last block -> up
    out = rg.block_spin(s, 2, key=jax.random.key(0))
    np.testing.assert_array_equal(out[0], [[-1, 1], [1, 1]])
    tie = np.tile(np.array([[1, -1], [1, -1]], np.int8), (2000, 1, 1))  # every block a tie
    coins = rg.block_spin(tie, 2, key=jax.random.key(1))
    assert abs(coins.mean()) < 4 / np.sqrt(2000)  # a fair coin
    with pytest.raises(InvalidParameterError, match="b: expected a divisor of L = 4; got 3"):
        rg.block_spin(s, 3, key=jax.random.key(0))
    with pytest.raises(ShapeError, match=r"spins: expected shape \(n, L, L\)"):
        rg.block_spin(s[0], 2, key=jax.random.key(0))


def test_block_spins_flow_away_from_the_critical_point(ising8):
    # under coarse-graining the ordered phase orders more and the disordered phase
    # disorders more: the RG flows to the T = 0 and T = inf fixed points
    for T, more_ordered in ((1.5, True), (3.5, False)):
        s = ising8.spins[ising8.T == T]
        c0 = _nn_correlation(s)
        c1 = _nn_correlation(rg.block_spin(s, 2, key=jax.random.key(2)))
        assert (c1 > c0) if more_ordered else (c1 < c0), (T, c0, c1)


@pytest.mark.slow
def test_rbm_learns_the_exact_boltzmann_distribution_of_a_3x3_torus():
    T = 2.5
    states = ((np.arange(512)[:, None] >> np.arange(9)) & 1).astype(np.float32)
    s = 2 * states.reshape(-1, 3, 3).astype(np.float64) - 1
    E = -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).sum((1, 2))
    p = np.exp(-(E - E.min()) / T)
    p /= p.sum()
    # cross-check the enumeration with the package's exact reference
    ref = exact.enumerate_ising(3, T)
    assert float(np.sum(p * E)) / 9 == pytest.approx(float(ref.energy_per_site), rel=1e-12)
    idx = np.random.default_rng(0).choice(512, size=4000, p=p)
    cfg = TrainConfig(epochs=60, batch_size=100, learning_rate=1e-2)
    res = rg.train_rbm(states[idx], 8, config=cfg, key=jax.random.key(0), n_chains=200)
    assert res.status == "completed" and res.epochs == 60
    params = res.params
    q = np.exp(rg.exact_log_probabilities(params, states))
    kl = kl_divergence(p, q / q.sum())
    kl_uniform = kl_divergence(p, np.full(512, 1 / 512))
    assert kl < 0.1 * kl_uniform and kl < 0.4, (kl, kl_uniform)


@pytest.mark.slow
def test_stacked_rbms_and_receptive_fields(ising8):
    s = ising8.spins[ising8.T <= 2.15]
    cfg = TrainConfig(epochs=5, batch_size=50, learning_rate=1e-2)
    res = rg.stacked_rbms(s, (16, 4), config=cfg, key=jax.random.key(3), l1=1e-4)
    layers = res.layers
    assert [p.W.shape for p in layers] == [(64, 16), (16, 4)]
    assert [row["shape"] for row in res.summary()["layers"]] == [[64, 16], [16, 4]]
    fields = rg.receptive_fields(layers, 8)
    assert fields[0].shape == (16, 8, 8) and fields[1].shape == (4, 8, 8)
    loc = rg.locality(fields[0], 2)
    assert np.all((loc >= 4 / 64 - 1e-12) & (loc <= 1 + 1e-12))


def test_locality_of_block_and_uniform_fields():
    one_block = np.zeros((1, 8, 8))
    one_block[0, 3:5, 6:8] = 1.0
    assert rg.locality(one_block, 2)[0] == pytest.approx(1.0)
    assert rg.locality(np.ones((1, 8, 8)), 2)[0] == pytest.approx(4 / 64)
