"""RealNVP flows for phi^4: exact log-Jacobians, exact flow-MCMC, the CLI command."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.generative.flows import (
    FlowConfig,
    FlowVsHMCConfig,
    RealNVP,
    flow_mcmc,
    init_flow,
    train_flow,
)
from qml_phys.physics.phi4 import Phi4, free_propagator, observables
from qml_phys.stats import estimate


def _perturbed(module, key):
    params = init_flow(module, key=key)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 1), len(leaves))
    leaves = [
        x + 0.3 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(tree, leaves)


@pytest.mark.parametrize("z2", [True, False])
@pytest.mark.parametrize("net", ["cnn", "mlp"])
def test_log_det_is_the_log_jacobian_determinant(net, z2, key):
    module = RealNVP(4, n_layers=4, hidden=4, net=net, z2=z2)
    params = _perturbed(module, key)
    z = jax.random.normal(jax.random.fold_in(key, 2), (4, 4), jnp.float32)
    f = lambda v: module.apply({"params": params}, v.reshape(1, 4, 4))[0].ravel()  # noqa: E731
    jac = jax.jacfwd(f)(z.ravel())
    _, logdet = module.apply({"params": params}, z[None])
    sign, want = np.linalg.slogdet(np.asarray(jac, np.float64))
    assert sign > 0
    assert float(logdet[0]) == pytest.approx(want, abs=1e-3)
    assert abs(want) > 0.1  # the perturbed flow is not the identity


@pytest.mark.parametrize("net", ["cnn", "mlp"])
def test_z2_flow_is_odd_and_its_density_even(net, key):
    """``z2=True``: f(-z) = -f(z) with the same log-Jacobian, so q(-x) = q(x); without it
    a generic (perturbed) flow breaks the symmetry, so the check can fail."""
    z = jax.random.normal(jax.random.fold_in(key, 2), (5, 4, 4), jnp.float32)
    for z2 in (True, False):
        module = RealNVP(4, n_layers=4, hidden=4, net=net, z2=z2)
        params = _perturbed(module, key)
        x, ld = module.apply({"params": params}, z)
        xm, ldm = module.apply({"params": params}, -z)
        odd = float(jnp.max(jnp.abs(x + xm)))
        even = float(jnp.max(jnp.abs(ld - ldm)))
        if z2:
            assert odd < 1e-5 and even < 1e-5
            assert float(jnp.max(jnp.abs(x - z))) > 0.1  # not the identity
        else:
            assert odd > 1e-2 and even > 1e-2


@pytest.mark.parametrize("z2", [True, False])
@pytest.mark.parametrize("net", ["cnn", "mlp"])
def test_inverse_undoes_the_flow_with_the_same_log_det(net, z2, key):
    module = RealNVP(4, n_layers=4, hidden=4, net=net, z2=z2)
    params = _perturbed(module, key)
    z = jax.random.normal(jax.random.fold_in(key, 3), (6, 4, 4), jnp.float32)
    x, ld = module.apply({"params": params}, z)
    z_back, ld_back = module.apply({"params": params}, x, method=RealNVP.inverse)
    assert float(jnp.max(jnp.abs(z_back - z))) < 1e-4
    assert float(jnp.max(jnp.abs(ld_back - ld))) < 1e-4
    assert float(jnp.max(jnp.abs(x - z))) > 0.1


@pytest.mark.slow
def test_path_gradient_estimates_the_same_gradient(key):
    """The path estimator drops a zero-mean term: same loss value, and over a large batch
    the same gradient as the total (reparameterisation) one; on a small batch the dropped
    term is visible (a path gradient that kept it would agree to rounding, ~1e-6)."""
    from qml_phys.generative.flows import reverse_kl_loss

    theory = Phi4(4, m2=0.5, lam=0.5)
    module = RealNVP(4, n_layers=2, hidden=4, net="mlp")
    params = _perturbed(module, key)

    def value_and_grad(estimator, n, seed):
        loss = reverse_kl_loss(module, theory, n, estimator)
        f = lambda p: loss(p, None, key=jax.random.key(seed), model_state=None, train=True)[0]  # noqa: E731
        v, g = jax.value_and_grad(f)(params)
        return float(v), np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(g)])

    (v_path, a), (v_total, b) = (value_and_grad(e, 200_000, 7) for e in ("path", "total"))
    assert v_path == pytest.approx(v_total, abs=1e-3)
    assert np.linalg.norm(a - b) < 0.01 * np.linalg.norm(b)  # measured 2e-4
    (_, a), (_, b) = (value_and_grad(e, 16, 100) for e in ("path", "total"))
    assert np.linalg.norm(a - b) > 5e-3 * np.linalg.norm(b)  # measured 2e-2
    with pytest.raises(UnknownNameError, match="estimator: expected one of"):
        reverse_kl_loss(module, theory, 10, "score")


def test_flow_mcmc_is_exact_on_the_free_field(key):
    """Whatever the flow's quality, independence Metropolis samples e^-S exactly: here a
    flow trained for another theory (the free field at m^2 = 0.25) proposes for the free
    field at m^2 = 0.5, within 3.5 errors of the exact propagator.

    The proposal is wider than e^-S in every mode (a lighter mass), so the importance
    weights are bounded and the chain's autocorrelation-aware errors can be trusted. A
    flow trained by reverse KL on the target itself is narrower than it somewhere
    (mode-seeking): its chains then visit the tails too rarely, and over keys their
    z-scores reached -4 to -5.5 for phi2 and chi (and a barely trained one, at 2.2x10^-1
    acceptance, stuck for tau_int > 200), so such a test passes or fails by the key.
    """
    L, m2 = 4, 0.5
    k_train, k_mcmc = jax.random.split(key)
    flow = train_flow(
        Phi4(L, m2=0.25, lam=0.0),
        FlowConfig(n_layers=4, hidden=16, net="mlp", epochs=2, batch_size=64, learning_rate=1e-2),
        key=k_train,
    )
    assert flow.status == "completed"
    losses = flow.history["train_loss"]
    assert losses.shape == (2,) and losses[-1] < losses[0]  # reverse KL went down
    flow = dataclasses.replace(flow, theory=Phi4(L, m2=m2, lam=0.0))
    res = flow_mcmc(flow, key=k_mcmc, n_samples=8000, n_chains=4)
    assert 0.05 < res.acceptance < 1.0
    assert res.samples.shape == (4, 2000, L, L) and res.history["acceptance"].shape == (1999,)
    assert res.acceptance == pytest.approx(float(np.mean(res.history["acceptance"])))
    G = free_propagator(L, m2)
    obs = observables(res.samples)
    for name, value in (("phi2", G[0, 0]), ("chi", G.sum())):
        est = estimate(obs[name], warn=False)
        assert abs(est.mean - value) < 3.5 * est.error, (name, est, value)
        assert est.error < 0.06 * value


def test_flow_log_prob_inverts_the_sampler(key):
    """log q of the inverse pass equals the log-density the sampler returned (one flow)."""
    from qml_phys.generative.flows import flow_log_prob, sample_flow

    module = RealNVP(4, n_layers=4, hidden=8)
    params = init_flow(module, key=key)
    x, log_q = sample_flow(module, params, jax.random.key(1), 64)
    np.testing.assert_allclose(flow_log_prob(module, params, x), log_q, rtol=1e-5, atol=1e-4)


def test_flow_mcmc_with_local_hmc_holds_its_errors_on_a_narrow_flow(key):
    """A flow trained briefly by reverse KL on the target is narrower than e^-S (see the
    test above); an HMC trajectory after every flow step lets the chain reach the tails,
    and <phi^2>, chi agree with the exact propagator within 3.5 errors (over 100 keys of
    the 6x6 version in docs/guide/calibration.md the RMS z is about 1)."""
    from qml_phys.classical.hmc import HMCConfig

    L, m2 = 4, 0.5
    k_train, k_mcmc = jax.random.split(key)
    theory = Phi4(L, m2=m2, lam=0.0)
    flow = train_flow(
        theory,
        FlowConfig(n_layers=4, hidden=16, net="mlp", epochs=1, steps_per_epoch=100),
        key=k_train,
    )
    local = HMCConfig(n_samples=1, step_size=0.1, n_leapfrog=10)
    res = flow_mcmc(flow, key=k_mcmc, n_samples=8000, n_chains=4, local=local)
    assert res.samples.shape == (4, 2000, L, L) and 0.0 < res.acceptance < 1.0
    assert res.config["local"]["n_leapfrog"] == 10
    G = free_propagator(L, m2)
    obs = observables(res.samples)
    for name, value in (("phi2", G[0, 0]), ("chi", G.sum())):
        est = estimate(obs[name], warn=False)
        assert abs(est.mean - value) < 3.5 * est.error, (name, est, value)


def test_flow_rejects_bad_input(key):
    with pytest.raises(InvalidParameterError, match="expected an even L.*got L=5"):
        train_flow(Phi4(5, 1.0, 0.5), FlowConfig(epochs=1, steps_per_epoch=1), key=key)
    with pytest.raises(InvalidParameterError, match="lam must be >= 0"):
        Phi4(8, m2=-4.0, lam=-1.0)
    with pytest.raises(UnknownNameError, match="net: expected 'cnn' or 'mlp'; got 'rnn'"):
        init_flow(RealNVP(4, net="rnn"), key=jax.random.key(0))
    with pytest.raises(UnknownNameError, match="estimator: expected one of"):
        FlowConfig(estimator="score")
    # refused before any training: too many HMC chains for the samples
    with pytest.raises(InvalidParameterError, match="at least 20 HMC samples per chain"):
        FlowVsHMCConfig(n_samples=1000, hmc_chains=100)


@pytest.mark.slow
def test_flow_phi4_command_parses_and_runs(tmp_path, capsys):
    from qml_phys.cli import main

    argv = ["generative", "flow-phi4", "--L", "4", "--m2", "-1", "--lam", "1.5"]
    argv += ["--epochs", "1", "--samples", "800", "--net", "mlp", "--batch-size", "64"]
    argv += ["--hmc-chains", "4", "--local-hmc", "--out", str(tmp_path), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["L"] == 4 and out["n_samples"] == 800 and out["flow"]["local_hmc"] is True
    assert 0 < out["flow"]["acceptance"] <= 1 and 0 < out["hmc"]["acceptance"] <= 1
    assert set(out["observables"]) == {"phi2", "abs_m", "chi", "g1"}
    cfg = out["flow"]["config"]
    assert (cfg["net"], cfg["hidden"], cfg["batch_size"], cfg["z2"]) == ("mlp", 64, 64, True)
    assert cfg["estimator"] == "path" and out["hmc"]["n_chains"] == 4
    assert (tmp_path / "record.json").exists()
    assert (tmp_path / "checkpoint" / "checkpoint.msgpack").exists()
    with pytest.raises(SystemExit):
        main(["generative", "flow-phi4", "--L", "0"])


def test_flow_phi4_default_coupling_needs_a_published_size(capsys):
    from qml_phys.cli import main

    code = main(["generative", "flow-phi4", "--L", "4", "--epochs", "1", "--json"])
    assert code != 0
    assert "expected L in (6, 8, 10, 12, 14)" in capsys.readouterr().err
