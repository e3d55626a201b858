"""Exact RBM energy gradients (NetKet full summation) against an independent dense
computation, and the gradient-variance scan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, TooLargeError
from qml_phys.nqs.gradient_variance import (
    RBMEnsembleConfig,
    rbm_gradient_ensemble,
    rbm_variance_scan,
)
from qml_phys.runtime.precision import float64


def test_fullsum_gradient_matches_dense_autodiff(key):
    """dE/dtheta of E = <psi|H|psi>/<psi|psi> with psi = exp(log_psi(all states)) and H the
    package's own sparse matrix (not NetKet's), by jax.grad, equals NetKet's FullSumState
    gradient for every draw."""
    from jax.flatten_util import ravel_pytree

    from qml_phys.nqs.gradient_variance import _setup

    n = 4
    config = RBMEnsembleConfig(h=0.8, init_std=0.3)
    ens = rbm_gradient_ensemble(n, config, key=key, n_draws=3)
    with float64():
        model, ham, rbm = _setup(n, config)
        states = ham.hilbert.all_states()
        H = jnp.asarray(model.sparse_matrix().toarray(), dtype=jnp.float64)

    def energy(params):
        log_psi = rbm.apply({"params": params}, states)
        psi = jnp.exp(log_psi - jnp.max(jnp.real(log_psi)))
        return jnp.real(jnp.conj(psi) @ (H @ psi)) / jnp.real(jnp.vdot(psi, psi))

    for i, k in enumerate(jax.random.split(key, 3)):
        with float64():
            params = rbm.init(k, states[:1])["params"]
            e, g = jax.value_and_grad(energy)(params)
            g = np.asarray(ravel_pytree(g)[0])
        assert g.dtype == np.float64
        np.testing.assert_allclose(ens.energies[i], float(e), rtol=1e-10)
        np.testing.assert_allclose(ens.gradients[i], g, atol=1e-10)
    assert ens.gradients.dtype == np.float64 and ens.gradients.shape == (3, ens.n_params)
    assert np.max(np.abs(ens.gradients)) > 1e-2  # the comparison can fail
    # variational: every random RBM lies above the exact ground energy (free fermions)
    from qml_phys.physics import exact

    assert ens.energies.min() > exact.tfim_chain_ground_energy(n, J=1.0, gamma=0.8)


@pytest.mark.slow
def test_rbm_gradient_variance_does_not_decay_exponentially(key):
    """Random RBMs (alpha = 1, std 0.1) on the critical TFIM chain: the exact gradient
    variance stays O(0.1) from N = 4 to 8 (measured 0.15, 0.14, 0.14 at 50 draws), unlike a
    circuit's 2^-n (which would give a ratio 1/16 between N = 8 and N = 4)."""
    scan = rbm_variance_scan([4, 6, 8], key=key, n_draws=20, n_boot=300)
    v = [r["var_mean"]["value"] for r in scan.rows]
    assert all(0.05 < x < 0.5 for x in v), v
    assert v[-1] / v[0] > 0.5, v
    assert scan.fit["mean"]["exponential"]["rate"] < np.log(2) / 4
    assert scan.rows[0]["n_params"] == 4 + 16 + 4
    # the dict layout of before (read by the tour) is still readable and JSON-able
    from qml_phys.runtime.records import to_jsonable

    assert scan["rows"][0]["n"] == 4 and scan["ns"] == [4, 6, 8]
    assert to_jsonable(scan)["config"]["n_draws"] == 20


def test_too_many_sites_and_bad_settings_are_rejected(key):
    with pytest.raises(TooLargeError, match=r"n_sites: expected at most 16 .*; got 20"):
        rbm_gradient_ensemble(20, key=key, n_draws=2)
    with pytest.raises(InvalidParameterError, match="init_std: expected a finite number > 0"):
        RBMEnsembleConfig(init_std=0.0)
