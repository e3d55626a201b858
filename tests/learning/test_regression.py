"""Hamiltonian learning: OLS/ridge/LASSO on a 1D Ising chain, KKT, Bayesian ridge coverage."""

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.learning import regression as R


def _chain(L, n, seed, noise_std=0.0, kind="full"):
    d = R.ising_chain_data(L, n, key=jax.random.key(seed), noise_std=noise_std)
    return R.pair_features(d.spins, kind), d.energy


def test_energies_and_features_match_the_chain_definition():
    d = R.ising_chain_data(6, 50, key=jax.random.key(1))
    assert d.spins.dtype == np.int8 and set(np.unique(d.spins)) == {-1, 1}
    s = d.spins.astype(float)
    by_hand = -sum(s[:, i] * s[:, (i + 1) % 6] for i in range(6))
    np.testing.assert_array_equal(d.energy, by_hand)
    X = R.pair_features(d.spins, "full")
    # E = sum_ij W_ij s_i s_j with W_{i,i+1} = -J reproduces the energies exactly
    W = np.zeros((6, 6))
    W[np.arange(6), (np.arange(6) + 1) % 6] = -1.0
    np.testing.assert_allclose(X @ W.ravel(), d.energy)
    K, offset = R.effective_couplings(W.ravel(), 6)
    np.testing.assert_array_equal(K, R.chain_couplings(6))
    assert R.pair_features(d.spins, "pairs").shape == (50, 15)


def test_lasso_recovers_nearest_neighbour_structure_L40_and_ridge_is_not_sparse():
    # the target: L = 40, 2000 samples, every off-structure |K| < 0.05, test R^2 > 0.99
    key = jax.random.key(0)  # the same data and split for both methods
    config = R.HamiltonianConfig(L=40, n_samples=2000, method="lasso", lam=0.01)
    lasso = R.learn_hamiltonian(config, key=key)
    assert lasso.max_off_structure < 0.05
    assert lasso.max_structure_error < 0.05
    assert lasso.test_r2 > 0.99
    assert lasso.n_zero_off_structure == lasso.n_off_structure  # exactly sparse
    assert lasso.kkt_violation < 1e-7
    assert (lasso.n_train, lasso.n_test) == (1400, 600)
    ridge = R.learn_hamiltonian(dataclasses.replace(config, method="ridge"), key=key)
    assert ridge.n_zero_off_structure == 0  # shrinks, never zeroes
    assert ridge.test_r2 > 0.99 and ridge.max_structure_error < 0.05
    assert ridge.kkt_violation is None and ridge.summary()["kkt_violation"] is None


def test_ols_on_full_features_warns_and_returns_least_norm_symmetric_solution():
    X, y = _chain(8, 200, seed=2)
    with pytest.warns(
        R.SingularDesignWarning, match="rank .* < 64 features; returned the least-norm"
    ):
        w = R.ols(X, y)
    W = w.reshape(8, 8)
    # least norm splits each identifiable coupling evenly: W_ij = W_ji = K_ij / 2
    np.testing.assert_allclose(W, W.T, atol=1e-10)
    K, offset = R.effective_couplings(w, 8)
    np.testing.assert_allclose(K, R.chain_couplings(8), atol=1e-10)
    assert abs(offset) < 1e-10
    # the identifiable parametrisation has full rank: no warning, same couplings
    Xp, yp = _chain(8, 200, seed=2, kind="pairs")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wp = R.ols(Xp, yp)
    np.testing.assert_allclose(R.effective_couplings(wp, 8, "pairs")[0], K, atol=1e-10)


def test_lasso_satisfies_kkt_and_beats_an_optax_fit_of_the_same_objective():
    X, y = _chain(8, 120, seed=3, noise_std=0.5, kind="pairs")
    lam = 0.05
    w = R.lasso(X, y, lam)
    assert R.lasso_kkt_violation(X, y, w, lam) < 1e-8
    assert np.sum(w == 0) > 5  # sparse
    # an independent path: optax Adam on the (subdifferentiable) objective
    Xj, yj = jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32)

    def objective(v):
        r = yj - Xj @ v
        return jnp.mean(r * r) / 2 + lam * jnp.sum(jnp.abs(v))

    opt = optax.adam(optax.exponential_decay(0.02, 500, 0.5))
    v, state = jnp.zeros(X.shape[1], jnp.float32), None
    state = opt.init(v)

    @jax.jit
    def step(v, state):
        g = jax.grad(objective)(v)
        with jax.numpy_dtype_promotion("standard"):
            u, state = opt.update(g, state, v)
            return optax.apply_updates(v, u), state

    for _ in range(4000):
        v, state = step(v, state)
    v = np.asarray(v, dtype=np.float64)
    f_fista, f_optax = R.lasso_objective(X, y, w, lam), R.lasso_objective(X, y, v, lam)
    assert f_fista <= f_optax + 1e-7
    assert f_optax - f_fista < 1e-4
    np.testing.assert_allclose(v, w, atol=5e-3)


def test_ridge_primal_dual_and_bayesian_posterior_mean_agree():
    X, y = _chain(6, 40, seed=4, noise_std=0.3, kind="pairs")  # 15 features, 40 samples
    lam = 0.1
    w = R.ridge(X, y, lam)
    np.testing.assert_allclose(X.T @ (y - X @ w) / len(y), lam * w, atol=1e-12)  # stationarity
    wide = X[:10]  # p > n: dual branch
    w_wide = R.ridge(wide, y[:10], lam)
    np.testing.assert_allclose(
        w_wide, np.linalg.solve(wide.T @ wide + 10 * lam * np.eye(15), wide.T @ y[:10]), atol=1e-12
    )
    post = R.bayesian_ridge(X, y, noise_var=0.09, prior_var=0.09 / (len(y) * lam))
    np.testing.assert_allclose(post.mean, w, atol=1e-10)


def _coverage(draws, level, seed0, prior_truth):
    L, n, sigma = 8, 100, 0.5
    hits = []
    rng = np.random.default_rng(seed0)
    for k in range(draws):
        d = R.ising_chain_data(L, n, key=jax.random.fold_in(jax.random.key(seed0), k))
        X = R.pair_features(d.spins, "pairs")
        if prior_truth:  # couplings drawn from the prior: coverage is exact for any prior
            truth = rng.normal(0.0, 0.7, X.shape[1])
            prior_var = 0.49
        else:  # the chain's couplings under a weak prior: approximately nominal
            truth = R.chain_couplings(L)[np.triu_indices(L, 1)]
            prior_var = 100.0
        y = X @ truth + sigma * rng.normal(size=n)
        post = R.bayesian_ridge(X, y, noise_var=sigma**2, prior_var=prior_var)
        lo, hi = R.credible_intervals(post, level, transform=R.coupling_map(L, "pairs"))
        hits.append((lo <= truth) & (truth <= hi))
    hits = np.concatenate(hits)
    return hits.mean(), np.sqrt(level * (1 - level) / hits.size)


@pytest.mark.parametrize("prior_truth", [True, False])
def test_credible_intervals_cover_true_couplings_at_nominal_rate(prior_truth):
    for level in (0.95, 0.5):
        rate, err = _coverage(40, level, seed0=100 if prior_truth else 300, prior_truth=prior_truth)
        assert abs(rate - level) < 3.5 * err, (level, rate, err)


def test_credible_intervals_of_full_features_map_to_couplings():
    X, y = _chain(5, 60, seed=5, noise_std=0.2)
    post = R.bayesian_ridge(X, y, noise_var=0.04, prior_var=10.0)
    lo, hi = R.credible_intervals(post, 0.95, transform=R.coupling_map(5, "full"))
    K = R.effective_couplings(post.mean, 5)[0][np.triu_indices(5, 1)]
    np.testing.assert_allclose((lo + hi) / 2, K, atol=1e-12)
    assert np.all(hi - lo > 0)


def test_regularisation_path_train_r2_decreases_and_lasso_gets_sparser():
    X, y = _chain(10, 300, seed=6, noise_std=0.5, kind="pairs")
    lams = [1.0, 0.3, 0.1, 0.03, 0.01, 0.001]
    ridge = R.regularisation_path(X[:200], y[:200], X[200:], y[200:], lams, "ridge")
    assert np.all(np.diff(ridge.train_r2) > 0)  # less shrinkage -> better fit of train
    lasso = R.regularisation_path(X[:200], y[:200], X[200:], y[200:], lams, "lasso")
    nnz = (lasso.weights != 0).sum(1)
    assert nnz[0] < nnz[-1] and np.all(np.diff(nnz) >= 0)
    np.testing.assert_array_equal(lasso.summary()["n_nonzero"], nnz)
    assert lasso.test_r2[0] < lasso.test_r2[3]  # over-regularised fits underperform


def test_bad_input_is_named():
    X, y = _chain(5, 30, seed=7, kind="pairs")
    with pytest.raises(
        InvalidParameterError, match="lam: expected a finite regularisation strength >= 0; got -1"
    ):
        R.ridge(X, y, -1.0)
    with pytest.raises(InvalidParameterError, match="lam: expected"):
        R.lasso(X, y, float("nan"))
    with pytest.raises(
        ShapeError, match=r"y: expected shape \(30,\) to match X \(30, 10\); got \(29,\)"
    ):
        R.ols(X, y[:-1])
    with pytest.raises(ShapeError, match="expected a 2D design matrix"):
        R.ols(X[0], y)
    with pytest.raises(
        UnknownNameError, match="method: expected one of ols, ridge, lasso; got 'svm'"
    ):
        R.fit_linear(X, y, "svm")
    with pytest.raises(InvalidParameterError, match="prior_var: expected a finite variance > 0"):
        R.bayesian_ridge(X, y, noise_var=1.0, prior_var=0.0)
    with pytest.raises(ShapeError, match=r"w: expected shape \(25,\)"):
        R.effective_couplings(np.zeros(10), 5, "full")
    with pytest.raises(InvalidParameterError, match="n_samples must be an integer >= 2; got 1"):
        R.HamiltonianConfig(n_samples=1)
    with pytest.raises(UnknownNameError, match="method: expected one of ols, ridge, lasso"):
        R.HamiltonianConfig(method="svm")
    with pytest.raises(UnknownNameError, match="features: expected one of"):
        R.HamiltonianConfig(features="triples")
    with pytest.raises(InvalidParameterError, match="leaves an empty train or test set"):
        R.split(10, 0.01, key=jax.random.key(0))
    train, test = R.split(10, 0.3, key=jax.random.key(0))
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(10))
