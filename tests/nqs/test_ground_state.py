"""nqs.ground_state: VMC energies against exact diagonalisation, sign rules, constraints,
checkpoint/resume, NaN stops, convergence, sharding."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.nqs import ground_state as gs
from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing, exact
from qml_phys.runtime.checkpoint import Checkpoint, CheckpointError, read_meta
from qml_phys.runtime.precision import float64

SMALL = dict(n_samples=512, n_chains=8, n_steps=60, final_samples=8192)


def _within(res, n_sigma=5.0, floor=0.0):
    """Energy is above the exact value within n_sigma error bars plus a variational floor."""
    gap = res.energy - res.exact_energy
    return -n_sigma * res.energy_error <= gap <= n_sigma * res.energy_error + floor


@pytest.mark.slow
def test_tfim_rbm_matches_exact_diagonalisation():
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    res = gs.ground_state(model, gs.VMCConfig(**SMALL), key=jax.random.key(1))
    e_ed = float(exact.lanczos(model)[0])
    assert res.exact_method.startswith("free fermions")
    assert res.exact_energy == pytest.approx(e_ed, abs=1e-10)
    assert res.status == "completed" and res.steps == 60
    assert res.relative_error < 2e-3
    assert _within(res, floor=2e-3 * abs(e_ed))
    assert res.variance >= 0 and res.v_score == pytest.approx(6 * res.variance / res.energy**2)
    assert set(res.log) == set(gs._LOG_KEYS) and len(res.log["energy"]) == 60
    assert res.history is res.log and res.n_steps == 60
    summary = res.summary()
    assert summary["exact_error"] == 0.0 and summary["config"]["n_steps"] == 60
    conv = summary["convergence"]
    assert summary["converged"] == (abs(conv["drift"]) < 2 * conv["drift_error"])
    assert conv["window"] == 12 and conv["v_score"] == res.v_score


@pytest.mark.slow
def test_heisenberg_sign_rule_and_exchange_sampler_match_ed():
    model = Heisenberg(Lattice.chain(6), J1=1.0)
    cfg = gs.VMCConfig(**(SMALL | {"n_steps": 50}))
    res = gs.ground_state(model, cfg, key=jax.random.key(2))
    assert res.sign_rule and res.constraint == "total_sz=0"
    assert res.exact_method.startswith("exact diagonalisation")
    assert res.relative_error < 5e-3
    assert _within(res, floor=5e-3 * abs(res.exact_energy))


@pytest.mark.slow
def test_marshall_rotation_keeps_the_spectrum():
    import netket as nk

    model = Heisenberg(Lattice.square(2, pbc=False), J1=1.0, J2=0.3)
    with float64():
        op = np.asarray(gs._marshall_operator(model, nk.hilbert.Spin(0.5, 4)).to_dense())
        chain = Heisenberg(Lattice.chain(6))
        op0 = np.asarray(gs._marshall_operator(chain, nk.hilbert.Spin(0.5, 6)).to_dense())
    assert op.dtype == op0.dtype == np.float64
    rot = np.linalg.eigvalsh(op)
    np.testing.assert_allclose(rot, np.linalg.eigvalsh(model.sparse_matrix().toarray()), atol=1e-10)
    # J2 = 0: the rotated Hamiltonian is stoquastic (off-diagonal <= 0)
    assert np.max(op0 - np.diag(np.diag(op0))) <= 1e-12


def test_positive_ansatz_without_sign_rule_is_an_error_and_j2_warns():
    heis = Heisenberg(Lattice.chain(6))
    with pytest.raises(InvalidParameterError, match="positive .* cannot represent"):
        gs.check_ansatz(heis, gs.VMCConfig(), sign_rule=False, positive=True)
    gs.check_ansatz(heis, gs.VMCConfig(), sign_rule=False, positive=False)  # complex: fine
    with pytest.warns(UserWarning, match="Marshall sign rule is not exact"):
        gs.check_ansatz(Heisenberg(Lattice.chain(6), J2=0.5), gs.VMCConfig(), True, True)
    with pytest.raises(InvalidParameterError, match="needs a bipartite lattice"):
        gs.check_ansatz(Heisenberg(Lattice.chain(5)), gs.VMCConfig(), True, True)
    with pytest.raises(InvalidParameterError, match="positive .* cannot represent"):
        gs.ground_state(heis, gs.VMCConfig(sign_rule=False), key=jax.random.key(0))


def test_sampler_that_breaks_the_constraint_is_an_error():
    heis = Heisenberg(Lattice.chain(6))
    hilbert, _, _, constraint = gs.build_problem(heis, gs.VMCConfig())
    assert constraint == "total_sz=0"
    with pytest.raises(InvalidParameterError, match="leaves the total_sz=0 sector"):
        gs.make_sampler(gs.VMCConfig(sampler="local"), heis, hilbert)
    with pytest.raises(InvalidParameterError, match="ignores the Hilbert-space constraint"):
        gs.make_sampler(gs.VMCConfig(ansatz="ar", sampler="direct"), heis, hilbert)
    with pytest.raises(UnknownNameError, match="ansatz: expected one of"):
        gs.VMCConfig(ansatz="cnn")
    with pytest.raises(InvalidParameterError, match="n_samples must be an integer >= 1"):
        gs.VMCConfig(n_samples=0)


def test_iters_is_a_deprecated_alias_of_n_steps():
    with pytest.warns(DeprecationWarning, match=r"VMCConfig\(iters=...\) is deprecated"):
        cfg = gs.VMCConfig(iters=40)
    assert cfg.n_steps == 40 and cfg.iters == 40 and cfg == gs.VMCConfig(n_steps=40)
    import dataclasses
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dataclasses.replace(cfg, alpha=2).n_steps == 40  # no warning, no conflict
        assert dataclasses.replace(cfg, n_steps=7).iters == 7
    with pytest.raises(InvalidParameterError, match="one of n_steps or its deprecated alias"):
        gs.VMCConfig(n_steps=10, iters=20)
    with pytest.raises(InvalidParameterError, match="n_steps must be an integer >= 1"):
        gs.VMCConfig(iters=0)


def test_energy_convergence_separates_drift_from_noise():
    """A flat energy with Monte Carlo noise converges; the same noise on a slope of
    0.5 error bars per iteration (a drift of 50 errors of the mean over 100 steps) does
    not; a short or non-finite history is never converged."""
    rng = np.random.default_rng(7)
    n, sigma = 500, 0.01
    err = np.full(n, sigma)
    noise = sigma * rng.standard_normal(n)
    flat = gs.energy_convergence({"energy": -10.0 + noise, "error": err})
    assert flat.converged and flat.window == 100
    assert abs(flat.drift) < 2 * flat.drift_error and 0.5 < flat.reduced_chi2 < 1.5
    slope = -10.0 + noise - 0.5 * sigma * np.arange(n)
    drifting = gs.energy_convergence({"energy": slope, "error": err})
    assert not drifting.converged
    assert drifting.drift == pytest.approx(-0.5 * sigma * 99, rel=0.1)
    # scatter beyond the stated errors widens the drift's error instead of faking a drift
    wide = gs.energy_convergence({"energy": -10.0 + 5 * noise, "error": err})
    assert wide.reduced_chi2 > 10 and wide.drift_error > 4 * flat.drift_error
    assert not gs.energy_convergence({"energy": noise[:4], "error": err[:4]}).converged
    bad = gs.energy_convergence({"energy": noise, "error": np.zeros(n)})
    assert not bad.converged and np.isnan(bad.drift)


def test_translation_group_matches_the_lattice():
    for lat in (Lattice.chain(6), Lattice.square(3)):
        g = gs._netket_graph(lat)
        ours = {tuple(sorted(e)) for e in lat.edges.tolist()}
        assert {tuple(sorted(e)) for e in g.edges()} == ours


class _Interrupt:
    def __init__(self, at):
        self.at = at

    def __call__(self, step, log, driver):
        if step == self.at:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    cfg = gs.VMCConfig(n_samples=512, n_chains=8, n_steps=14, final_samples=0)
    inputs = {"model": repr(model), "seed": 3}
    full = gs.ground_state(model, cfg, key=jax.random.key(3))
    ckpt = Checkpoint(tmp_path, every=4, inputs=inputs)
    with pytest.raises(KeyboardInterrupt):
        gs.ground_state(model, cfg, key=jax.random.key(3), checkpoint=ckpt, callback=_Interrupt(10))
    meta = read_meta(ckpt.path)
    assert meta["step"] == 8 and len(meta["log"]["energy"]) == 8
    assert not (tmp_path / "log.json").exists()  # the algorithm writes no records
    res = gs.ground_state(model, cfg, key=jax.random.key(99), checkpoint=ckpt)
    assert res.resumed_from == 8 and res.steps == 14
    # parameters, sampler state, optimiser state, step count and log all came back:
    np.testing.assert_array_equal(res.log["energy"], full.log["energy"])
    assert res.history["step"][-1] == 13
    # the closing estimate may change on resume; the trajectory's settings may not
    more = gs.VMCConfig(n_samples=512, n_chains=8, n_steps=14, final_samples=1024)
    assert gs.ground_state(model, more, key=jax.random.key(5), checkpoint=ckpt).resumed_from == 12
    other = gs.VMCConfig(n_samples=1024, n_chains=8, n_steps=14, final_samples=0)
    with pytest.raises(CheckpointError, match="differing settings.*'n_samples': \\(512, 1024\\)"):
        gs.ground_state(model, other, key=jax.random.key(3), checkpoint=ckpt)
    reseeded = Checkpoint(tmp_path, every=4, inputs=inputs | {"seed": 4})
    with pytest.raises(CheckpointError, match="differing settings.*'seed': \\(3, 4\\)"):
        gs.ground_state(model, cfg, key=jax.random.key(4), checkpoint=reseeded)
    # resume=False starts over (the face decides whether to allow that; the CLI refuses)
    fresh = Checkpoint(tmp_path, every=4, resume=False, inputs=inputs)
    again = gs.ground_state(model, cfg, key=jax.random.key(3), checkpoint=fresh)
    assert again.resumed_from is None
    np.testing.assert_array_equal(again.log["energy"], full.log["energy"])


def test_nan_energy_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    cfg = gs.VMCConfig(n_samples=512, n_chains=8, n_steps=20, final_samples=0)

    def poison(step, log, driver):
        if step == 7:
            driver.state.parameters = jax.tree_util.tree_map(
                lambda x: x * np.nan, driver.state.parameters
            )

    ckpt = Checkpoint(tmp_path, every=3)
    with pytest.warns(UserWarning, match="energy became NaN at step 8; stopped; the last good"):
        res = gs.ground_state(model, cfg, key=jax.random.key(4), checkpoint=ckpt, callback=poison)
    assert res.status == "diverged" and "step 6" in res.message
    assert not res.converged and res.summary()["converged"] is False
    assert np.all(np.isfinite(res.log["energy"])) and len(res.log["energy"]) == 8
    assert read_meta(ckpt.path)["step"] == 6


def test_frozen_chains_stop_the_run_instead_of_reporting_an_exact_looking_energy():
    """A state so peaked that no spin flip is ever accepted: the chains sample one
    configuration, the variance is zero and the energy would look converged. The run
    stops with status "frozen" after FROZEN_STEPS steps of zero acceptance."""
    import flax.linen as nn
    import jax.numpy as jnp

    class Peaked(nn.Module):
        @nn.compact
        def __call__(self, s):
            w = self.param("w", lambda key: jnp.asarray(40.0, jnp.float64))
            return w * jnp.sum(s, axis=-1)  # all spins up is e^{480} times likelier

    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    cfg = gs.VMCConfig(ansatz=Peaked(), n_samples=256, n_chains=8, n_steps=40, final_samples=0)
    with pytest.warns(UserWarning, match="accepted no move for 10 steps"):
        res = gs.ground_state(model, cfg, key=jax.random.key(2))
    assert res.status == "frozen" and not res.converged
    assert len(res.log["energy"]) < 40


_SHARD_SCRIPT = textwrap.dedent(
    """
    import json, sys, jax
    from qml_phys.nqs.ground_state import VMCConfig, ground_state
    from qml_phys.physics import Lattice, TransverseFieldIsing
    from qml_phys.runtime.precision import float64
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    cfg = VMCConfig(n_samples=512, n_chains=8, n_steps=30, final_samples=16384)
    r = ground_state(model, cfg, key=jax.random.key(5))
    with float64():
        samples_sharding = str(r.vstate.samples.sharding)
    print(json.dumps({"energy": r.energy, "error": r.energy_error, "exact": r.exact_energy,
                      "n_devices": r.n_devices, "sharding": samples_sharding}))
    """
)


def _run_sharded(n_devices):
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"
    env["QML_PHYS_NO_PROGRESS"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", _SHARD_SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sharded_run_matches_unsharded():
    one, four = _run_sharded(1), _run_sharded(4)
    assert one["n_devices"] == 1 and four["n_devices"] == 4
    assert "'S'" in four["sharding"]  # samples split over the device mesh
    err = np.hypot(one["error"], four["error"])
    assert abs(one["energy"] - four["energy"]) < 5 * err + 1e-3 * abs(one["exact"])
    for r in (one, four):
        assert abs(r["energy"] - r["exact"]) / abs(r["exact"]) < 2e-3


@pytest.mark.slow
def test_tfim_chain_20_reaches_1e_4():
    """The CLI default run: N=20, h=1, RBM alpha=1, 300 iterations (free-fermion reference)."""
    model = TransverseFieldIsing(Lattice.chain(20), J=1.0, gamma=1.0)
    res = gs.ground_state(model, gs.VMCConfig(), key=jax.random.key(0))
    assert res.relative_error <= 1e-4
    assert _within(res, floor=1e-4 * abs(res.exact_energy))


@pytest.mark.slow
def test_heisenberg_chain_20_symmetric_rbm_reaches_1e_4():
    model = Heisenberg(Lattice.chain(20))
    res = gs.ground_state(model, gs.VMCConfig(ansatz="rbm-symm", alpha=4), key=jax.random.key(0))
    assert res.relative_error <= 1e-4


@pytest.mark.slow
def test_autoregressive_direct_sampling_and_minsr_match_ed():
    model = TransverseFieldIsing(Lattice.chain(8), J=1.0, gamma=1.0)
    ar = gs.ground_state(
        model,
        gs.VMCConfig(ansatz="ar", alpha=2, n_steps=150, n_samples=1024),
        key=jax.random.key(6),
    )
    assert ar.relative_error < 5e-3
    minsr = gs.ground_state(
        model, gs.VMCConfig(sr="minsr", n_steps=100, n_samples=256), key=jax.random.key(7)
    )
    assert minsr.relative_error < 5e-3
