"""RealNVP flows for phi^4: exact log-Jacobians, exact flow-MCMC, the CLI command."""

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.classical.statistics import estimate
from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.generative.flows import (
    FlowConfig,
    RealNVP,
    flow_mcmc,
    flow_phi4_command,
    flow_vs_hmc,
    init_flow,
    register_commands,
    train_flow,
)
from qml_phys.physics.phi4 import Phi4, free_propagator, observables


def _perturbed(module, key):
    params = init_flow(module, key=key)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 1), len(leaves))
    leaves = [
        x + 0.3 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(tree, leaves)


@pytest.mark.parametrize("net", ["cnn", "mlp"])
def test_log_det_is_the_log_jacobian_determinant(net, key):
    module = RealNVP(4, n_layers=4, hidden=4, net=net)
    params = _perturbed(module, key)
    z = jax.random.normal(jax.random.fold_in(key, 2), (4, 4), jnp.float32)
    f = lambda v: module.apply({"params": params}, v.reshape(1, 4, 4))[0].ravel()  # noqa: E731
    jac = jax.jacfwd(f)(z.ravel())
    _, logdet = module.apply({"params": params}, z[None])
    sign, want = np.linalg.slogdet(np.asarray(jac, np.float64))
    assert sign > 0
    assert float(logdet[0]) == pytest.approx(want, abs=1e-3)
    assert abs(want) > 0.1  # the perturbed flow is not the identity


def test_flow_mcmc_is_exact_on_the_free_field():
    """Whatever the flow's quality, independence Metropolis samples e^-S exactly."""
    L, m2 = 4, 0.5
    theory = Phi4(L, m2=m2, lam=0.0)
    flow = train_flow(
        theory,
        FlowConfig(
            n_layers=2, hidden=4, epochs=2, steps_per_epoch=30, batch_size=64, learning_rate=3e-3
        ),
    )
    assert flow.status == "completed"
    losses = [h["train_loss"] for h in flow.history]
    assert losses[-1] < losses[0]  # reverse KL went down
    res = flow_mcmc(flow, key=jax.random.key(3), n_samples=8000, n_chains=4)
    assert 0.05 < res.acceptance < 1.0
    G = free_propagator(L, m2)
    obs = observables(res.samples)
    for name, value in (("phi2", G[0, 0]), ("chi", G.sum())):
        est = estimate(obs[name], warn=False)
        assert abs(est.mean - value) < 3.5 * est.error, (name, est, value)
        assert est.error < 0.06 * value


def test_flow_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match="expected an even L.*got L=5"):
        train_flow(Phi4(5, 1.0, 0.5), FlowConfig(epochs=1, steps_per_epoch=1))
    with pytest.raises(InvalidParameterError, match="lam must be >= 0"):
        Phi4(8, m2=-4.0, lam=-1.0)
    with pytest.raises(UnknownNameError, match="net: expected 'cnn' or 'mlp'; got 'rnn'"):
        init_flow(RealNVP(4, net="rnn"), key=jax.random.key(0))
    # refused before any training: too many HMC chains for the samples
    with pytest.raises(InvalidParameterError, match="at least 20 HMC samples per chain"):
        flow_vs_hmc(4, 1.0, 0.5, n_samples=1000, hmc_chains=100)


@pytest.mark.slow
def test_flow_phi4_command_parses_and_runs(tmp_path, capsys):
    from qml_phys import cli

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()

    def add(sub, name, func, help):
        p = sub.add_parser(name, help=help)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    register_commands(sub, add)
    args = parser.parse_args(
        [
            "flow-phi4",
            "--L",
            "4",
            "--m2",
            "-1",
            "--lam",
            "1.5",
            "--epochs",
            "1",
            "--samples",
            "800",
            "--out",
            str(tmp_path),
        ]
    )
    assert args.func is flow_phi4_command
    res = args.func(args)
    cli.emit(res, True)
    out = json.loads(capsys.readouterr().out)
    assert out["L"] == 4 and out["n_samples"] == 800
    assert 0 < out["flow"]["acceptance"] <= 1 and 0 < out["hmc"]["acceptance"] <= 1
    assert set(out["observables"]) == {"phi2", "abs_m", "chi", "g1"}
    assert (tmp_path / "record.json").exists()
    assert (tmp_path / "checkpoint" / "checkpoint.msgpack").exists()
    with pytest.raises(SystemExit):
        parser.parse_args(["flow-phi4", "--L", "0"])


def test_flow_phi4_default_coupling_needs_a_published_size(capsys):
    from qml_phys.cli import main

    code = main(["generative", "flow-phi4", "--L", "4", "--epochs", "1", "--json"])
    assert code != 0
    assert "expected L in (6, 8, 10, 12, 14)" in capsys.readouterr().err
