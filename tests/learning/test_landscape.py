"""Hessian spectra from Hessian-vector products against the dense Hessian (float64),
Hutchinson's trace, and mode connectivity along a trained Bezier curve."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.learning import landscape as LS
from qml_phys.learning import optimisers as O
from qml_phys.train import TrainConfig, fit


def _small_network():
    loss, init, data = O.chain_energy_task(
        6, 64, key=jax.random.key(1), hidden=4, dtype=jnp.float64
    )
    params = init(jax.random.key(2))

    def full(p):
        return loss(p, data, key=None, model_state=None, train=False)[0]

    return full, params


@pytest.mark.slow
def test_lanczos_top_eigenvalues_match_the_dense_hessian_to_1e_6():
    with jax.enable_x64(True):
        full, params = _small_network()
        H = LS.dense_hessian(full, params)
        assert H.dtype == np.float64 and H.shape == (33, 33)
        dense = np.linalg.eigvalsh(H)[::-1]
        top = LS.hessian_eigenvalues(full, params, k=3, n_iter=20, key=jax.random.key(3))
        np.testing.assert_allclose(top, dense[:3], rtol=1e-6)
        # the full Krylov space reproduces the whole spectrum, negative eigenvalues included
        matvec, dim = LS.flat_hvp(full, params)
        allv = LS.lanczos(matvec, dim, dim, key=jax.random.key(4), dtype=jnp.float64)
        np.testing.assert_allclose(np.sort(allv.eigenvalues), np.sort(dense), atol=1e-8)
        assert dense[-1] < 0  # a random initialisation is not a minimum
        tr, se = LS.hessian_trace(full, params, n_probes=400, key=jax.random.key(5))
        assert abs(tr - np.trace(H)) < 4 * se


def test_hvp_is_the_hessian_times_v_for_pytrees():
    with jax.enable_x64(True):
        full, params = _small_network()
        v = jax.tree_util.tree_map(lambda a: jnp.ones_like(a), params)
        flat_v = jax.flatten_util.ravel_pytree(v)[0]
        hv = jax.flatten_util.ravel_pytree(LS.hvp(full, params, v))[0]
        np.testing.assert_allclose(hv, LS.dense_hessian(full, params) @ flat_v, rtol=1e-10)


def test_lanczos_rejects_more_steps_than_dimensions():
    with pytest.raises(InvalidParameterError, match="n_iter: expected at most dim = 3"):
        LS.lanczos(lambda v: v, 3, 4, key=jax.random.key(0))


@pytest.mark.slow
def test_a_trained_bezier_curve_removes_the_barrier_of_the_straight_line():
    loss, init, data = O.chain_energy_task(10, 512, key=jax.random.key(0), hidden=16)
    cfg = TrainConfig(epochs=150, batch_size=64, learning_rate=1e-2, validation_fraction=0)
    a, b = (
        fit(loss, init(jax.random.key(s)), data, config=cfg, key=jax.random.key(t)).params
        for s, t in ((1, 11), (2, 12))  # (initialisation, training) seeds
    )
    r = LS.mode_connectivity(
        loss,
        a,
        b,
        data,
        config=TrainConfig(epochs=100, batch_size=64, learning_rate=1e-2),
        key=jax.random.key(3),
    )
    ends = max(r.linear[0], r.linear[-1])
    assert r.linear_barrier > 20 * ends  # independently trained nets: a real barrier
    assert r.bezier_barrier < 0.2 * r.linear_barrier
    np.testing.assert_allclose(r.bezier[[0, -1]], r.linear[[0, -1]], rtol=1e-5)
    assert r.status == "completed" and len(r.history["train_loss"]) == 100
