"""DDPM for lattice phi^4: the noise schedule, shapes, odd symmetry, named errors, a tiny
training run that lowers the loss, the comparison's statistics on exact Gaussian fields,
and (slow) the bias of a trained model against HMC."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.generative import diffusion_phi4 as D
from qml_phys.physics.phi4 import Phi4, free_propagator

TINY = D.Phi4DiffusionConfig(hidden=8, layers=2, n_steps=200, batch_size=32, denoise_steps=10)


@pytest.fixture(scope="module")
def free_fields():
    """Exact independent samples of the free field (lambda = 0, m^2 = 1) on the 4x4 torus,
    ``(400, 4, 4)``: a Gaussian with covariance ``free_propagator``."""
    L, m2 = 4, 1.0
    g = free_propagator(L, m2)
    idx = np.arange(L * L)
    dy = (idx[:, None] // L - idx[None, :] // L) % L
    dx = (idx[:, None] % L - idx[None, :] % L) % L
    chol = np.linalg.cholesky(g[dy, dx])
    z = np.random.default_rng(5).standard_normal((400, L * L))
    return Phi4(L, m2, 0.0), (z @ chol.T).reshape(400, L, L).astype(np.float32)


def test_schedule_runs_from_data_to_noise():
    """alpha_bar(0) = 1, alpha_bar(1) = exp(-10.05) (Ho et al.'s linear schedule), decreasing."""
    t = jnp.linspace(0.0, 1.0, 11)
    a = np.asarray(D.alpha_bar(t))
    assert a[0] == pytest.approx(1.0) and a[-1] == pytest.approx(np.exp(-10.05), rel=1e-4)
    assert np.all(np.diff(a) < 0)


def test_noise_predictor_is_odd_and_equivariant(key):
    """eps(-x) = -eps(x) with z2; a lattice translation of x translates eps."""
    module = D.NoisePredictor(4, hidden=8, layers=2)
    x = jax.random.normal(key, (3, 4, 4), jnp.float32)
    t = jnp.array([0.1, 0.5, 0.9], jnp.float32)
    a = D.alpha_bar(t)
    params = module.init(key, x, t, a)["params"]
    eps = module.apply({"params": params}, x, t, a)
    assert eps.shape == (3, 4, 4)
    np.testing.assert_allclose(np.asarray(module.apply({"params": params}, -x, t, a)), -eps, 1e-5)
    shifted = module.apply({"params": params}, jnp.roll(x, (1, 2), (1, 2)), t, a)
    np.testing.assert_allclose(np.asarray(shifted), np.roll(eps, (1, 2), (1, 2)), atol=1e-5)


def test_bad_input_is_refused_by_name(free_fields, key):
    theory, x = free_fields
    with pytest.raises(InvalidParameterError, match="n_steps must be an integer >= 1; got 0"):
        D.Phi4DiffusionConfig(n_steps=0)
    with pytest.raises(InvalidParameterError, match="beta_max: expected a number > beta_min"):
        D.Phi4DiffusionConfig(beta_min=1.0, beta_max=0.5)
    with pytest.raises(UnknownNameError, match="reverse_variance: expected one of beta, posterior"):
        D.Phi4DiffusionConfig(reverse_variance="tilde")
    with pytest.raises(InvalidParameterError, match="z2: expected True or False; got 1"):
        D.Phi4DiffusionConfig(z2=1)
    with pytest.raises(
        ShapeError,
        match=r"hmc_samples: expected fields of shape \(n, 4, 4\) or chains "
        r"\(n_chains, n, 4, 4\) of the theory's lattice; got shape \(400, 5, 5\)",
    ):
        D.train_phi4_diffusion(theory, np.zeros((400, 5, 5), np.float32), TINY, key=key)
    with pytest.raises(ShapeError, match="expected a floating-point field; got dtype int64"):
        D.train_phi4_diffusion(theory, np.ones((400, 4, 4), np.int64), TINY, key=key)
    with pytest.raises(InvalidParameterError, match="expected at least 20 fields; got 10"):
        D.train_phi4_diffusion(theory, x[:10], TINY, key=key)
    with pytest.raises(InvalidParameterError, match="config: expected a Phi4DiffusionConfig"):
        D.train_phi4_diffusion(theory, x, {"n_steps": 10}, key=key)
    with pytest.raises(InvalidParameterError, match="n_train must be an integer >= 320"):
        D.DiffusionVsHMCConfig(n_train=100)
    with pytest.raises(ShapeError, match=r"hmc_chains: expected chains of shape \(n_chains, m"):
        D.compare_with_hmc(x, x[:, :2])


def _mean_loss(res, params, x, key):
    """The denoising loss of ``params`` on all of ``x`` (standardised), 8 noise draws."""
    loss = D.noise_prediction_loss(res.module, None, res.config)
    batch = {"x": jnp.asarray(x / res.scale)}
    keys = jax.random.split(key, 8)
    return np.mean(
        [float(loss(params, batch, key=k, model_state=None, train=False)[0]) for k in keys]
    )


@pytest.mark.slow
def test_tiny_training_lowers_the_loss_and_samples_have_the_right_shape(free_fields, key):
    """200 steps on 400 free fields lower the denoising loss (same noise draws) well below
    that of the untrained network; samples are finite ``(n, 4, 4)`` float32 for any K."""
    theory, x = free_fields
    k_train, k_init, k_loss, k_s = jax.random.split(key, 4)
    res = D.train_phi4_diffusion(theory, x, TINY, key=k_train)
    assert res.status == "completed" and res.n_train == 360 and res.epochs == 10
    assert res.summary()["training_steps"] == 200 and len(res.history["val_loss"]) == 10
    t = jnp.zeros((1,), jnp.float32)
    init = res.module.init(k_init, jnp.asarray(x[:1]), t, t + 1.0)["params"]
    before, after = _mean_loss(res, init, x, k_loss), _mean_loss(res, res.params, x, k_loss)
    # the least loss: for Gaussian fields of covariance eigenvalues lam_k (in units of the
    # scale^2) the best predictor is linear, with loss (1/N) sum_k a lam_k / (a lam_k + 1 - a)
    lam = np.real(np.fft.fft2(free_propagator(4, 1.0))).ravel() / res.scale**2
    a = np.asarray(D.alpha_bar(jnp.linspace(0.0, 1.0, 2001)), np.float64)[:, None]
    best = float(np.mean(a * lam / (a * lam + 1.0 - a)))
    assert after - best < 0.5 * (before - best), (best, before, after)
    assert res.scale == pytest.approx(np.sqrt(np.mean(x.astype(np.float64) ** 2)), rel=1e-6)
    for K in (1, 7):
        s = D.sample(res, key=k_s, n=50, denoise_steps=K)
        assert s.shape == (50, 4, 4) and s.dtype == np.float32 and np.all(np.isfinite(s))


def test_sampler_is_exact_for_independent_gaussian_sites(key):
    """With all parameters zero the predictor is sqrt(1 - alpha_bar) x_t, the exact one for
    independent N(0, scale^2) sites: K = 5 steps of the default (``beta``) sampler give
    such sites (phi^2, G(1), chi within 4 errors of exact independent samples), and
    ``posterior`` shrinks the variance, as the module docstring says."""
    theory = Phi4(4, 1.0, 0.0)
    x = (0.7 * np.random.default_rng(3).standard_normal((2000, 4, 4))).astype(np.float32)
    cfg = dataclasses.replace(TINY, denoise_steps=5)
    module = D.NoisePredictor(4, cfg.hidden, cfg.layers)
    t = jnp.zeros((1,), jnp.float32)
    params = module.init(key, jnp.asarray(x[:1]), t, t + 1.0)["params"]
    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    model = D.TrainedPhi4Diffusion(
        config=cfg, params=zero, module=module, theory=theory, scale=0.7, n_train=0
    )
    s = D.sample(model, key=key, n=2000)
    out = D.compare_with_hmc(s, x)
    assert all(abs(v["z"]) < 4 for v in out.values()), out
    post = dataclasses.replace(model, config=dataclasses.replace(cfg, reverse_variance="posterior"))
    phi2 = D.compare_with_hmc(D.sample(post, key=key, n=2000), x)["phi2"]
    assert phi2["z"] < -10, phi2


def test_compare_with_hmc_errors_are_honest_for_exact_samples(free_fields):
    """Two independent sets of exact free-field samples, one seen as 4 'chains': every z is
    small, the errors match std / sqrt(n), and phi2 matches the exact propagator G(0)."""
    theory, x = free_fields
    out = D.compare_with_hmc(x[:200], x[200:].reshape(4, 50, 4, 4))
    assert set(out) == set(D.OBSERVABLES)
    for v in out.values():
        assert abs(v["z"]) < 3.5, out
        assert v["diffusion_error"] > 0 and v["hmc_error"] > 0
    g0 = free_propagator(4, 1.0)[0, 0]
    assert abs(out["phi2"]["diffusion"] - g0) < 4 * out["phi2"]["diffusion_error"]


# Measured with this key (4.7 min on 2 heavily shared CPU cores): z = +1.88 (phi2),
# -2.26 (abs_m), -0.83 (chi), +0.07 (g1); with seed 0 (the study) all |z| <= 1.01.
@pytest.mark.slow
def test_trained_diffusion_matches_hmc_on_the_6x6_ensemble(key):
    """Albergo et al.'s 6x6 ensemble, the study's least biased row: a model trained 500
    steps on 4000 HMC fields, sampled with K = 100 steps, agrees with an independent HMC
    run on all four observables within 3.5 combined errors of 4000 samples (with K = 5 the
    bias is 8 to 30 errors: studies/diffusion_phi4.py)."""
    from qml_phys.physics.phi4 import ALBERGO_LAMBDA

    cfg = D.DiffusionVsHMCConfig(
        diffusion=D.Phi4DiffusionConfig(n_steps=500, denoise_steps=100),
        n_train=4000,
        n_samples=4000,
    )
    res = D.diffusion_vs_hmc(Phi4(6, -4.0, ALBERGO_LAMBDA[6]), cfg, key=key)
    obs = res.summary()["observables"]
    assert all(abs(v["z"]) < 3.5 for v in obs.values()), obs
