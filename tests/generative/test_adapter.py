"""The adapter: a generative model as a NetKet variational state with log psi = log p / 2."""

import jax
import jax.numpy as jnp
import netket as nk
import numpy as np
import pytest

from qml_phys.errors import ShapeError
from qml_phys.generative import autoregressive as ar
from qml_phys.generative import base, rbm
from qml_phys.generative.adapter import LogPsi, generative_params, log_psi_variables


@pytest.fixture(autouse=True)
def _netket_promotion():
    """NetKet's own internals broadcast implicitly; relax the strict test rules around it."""
    with jax.numpy_rank_promotion("allow"), jax.numpy_dtype_promotion("standard"):
        yield


@pytest.mark.parametrize("kind", ["made", "rbm"])
def test_full_sum_state_log_value_is_half_log_prob(kind, key):
    L = 2
    model = (
        ar.make_model("made", L, hidden=(8,))
        if kind == "made"
        else rbm.RBM(shape=(L, L), n_hidden=3, init_scale=0.5)
    )
    params = base.init_params(model, key=key)
    params = jax.tree_util.tree_map(lambda x: x + 0.3 * jnp.ones_like(x), params)
    hi = nk.hilbert.Spin(0.5, L * L)
    vs = nk.vqs.FullSumState(hi, LogPsi(model), variables=log_psi_variables(params))
    sigma = hi.all_states()
    log_psi = np.asarray(vs.log_value(sigma))
    log_p = np.asarray(base.log_prob(model, params, jnp.asarray(sigma)), np.float64)
    np.testing.assert_allclose(log_psi, 0.5 * log_p, rtol=1e-5, atol=1e-5)
    probs = np.asarray(vs.probability_distribution())
    q = np.exp(log_p - np.logaddexp.reduce(log_p))
    np.testing.assert_allclose(probs, q, atol=1e-5)
    if kind == "made":  # normalised model: |psi|^2 sums to one without renormalising
        assert np.exp(2 * log_psi).sum() == pytest.approx(1.0, abs=1e-5)
    assert jax.tree_util.tree_all(
        jax.tree_util.tree_map(
            lambda a, b: bool(jnp.all(a == b)), generative_params(vs.variables), params
        )
    )


def test_mc_state_samples_the_born_distribution(key):
    """NetKet's Metropolis sampler on LogPsi(model) draws from p (mean energy of the samples)."""
    from qml_phys.generative.evaluate import ising_energy

    L = 2
    model = ar.make_model("made", L, hidden=(8,))
    params = base.init_params(model, key=key)
    params = jax.tree_util.tree_map(
        lambda x: x + 0.4 * jax.random.normal(key, x.shape, x.dtype), params
    )
    hi = nk.hilbert.Spin(0.5, L * L)
    sampler = nk.sampler.MetropolisLocal(hi, n_chains=16)
    vs = nk.vqs.MCState(
        sampler,
        LogPsi(model),
        variables=log_psi_variables(params),
        n_samples=2048,
        seed=1,
        sampler_seed=2,
    )
    vs.sample(n_discard_per_chain=50)
    s = np.asarray(vs.samples).reshape(-1, L, L)
    from qml_phys.generative.evaluate import lattice_states

    states = lattice_states(L).astype(np.float32)
    p = np.exp(np.asarray(base.log_prob(model, params, states), np.float64))
    e_exact = p @ ising_energy(states)
    e = ising_energy(s)
    # Markov-chain samples: allow for autocorrelation with a generous 5-sigma band
    assert abs(e.mean() - e_exact) < 5 * e.std() / np.sqrt(e.size / 10), (e.mean(), e_exact)


def test_wrong_lattice_size_is_named(key):
    model = ar.make_model("made", 2, hidden=(4,))
    params = base.init_params(model, key=key)
    with pytest.raises(ShapeError, match="lattice shape mismatched with the model"):
        LogPsi(model).apply(log_psi_variables(params), jnp.ones((3, 9)))
