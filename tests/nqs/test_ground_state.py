"""nqs.ground_state: VMC energies against exact diagonalisation, sign rules, constraints,
checkpoint/resume, NaN stops, sharding."""

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

SMALL = dict(n_samples=512, n_chains=8, iters=60, final_samples=8192, checkpoint_every=5)


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


@pytest.mark.slow
def test_heisenberg_sign_rule_and_exchange_sampler_match_ed():
    model = Heisenberg(Lattice.chain(6), J1=1.0)
    cfg = gs.VMCConfig(**(SMALL | {"iters": 50}))
    res = gs.ground_state(model, cfg, key=jax.random.key(2))
    assert res.sign_rule and res.constraint == "total_sz=0"
    assert res.exact_method.startswith("exact diagonalisation")
    assert res.relative_error < 5e-3
    assert _within(res, floor=5e-3 * abs(res.exact_energy))


def test_marshall_rotation_keeps_the_spectrum():
    import netket as nk

    model = Heisenberg(Lattice.square(2, pbc=False), J1=1.0, J2=0.3)
    with gs.netket_context():
        op = gs._marshall_operator(model, nk.hilbert.Spin(0.5, 4)).to_dense()
        chain = Heisenberg(Lattice.chain(6))
        op0 = gs._marshall_operator(chain, nk.hilbert.Spin(0.5, 6)).to_dense()
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


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    cfg = gs.VMCConfig(n_samples=512, n_chains=8, iters=14, final_samples=0, checkpoint_every=4)
    full = gs.ground_state(model, cfg, key=jax.random.key(3))
    with pytest.raises(KeyboardInterrupt):
        gs.ground_state(model, cfg, key=jax.random.key(3), out=tmp_path, callback=_Interrupt(10))
    from qml_phys.runtime.checkpoint import read_meta

    meta = read_meta(tmp_path / "checkpoint.msgpack")
    assert meta["step"] == 8 and len(meta["log"]["energy"]) == 8
    res = gs.ground_state(model, cfg, key=jax.random.key(99), out=tmp_path, resume=True)
    assert res.resumed_from == 8 and res.steps == 14
    # parameters, sampler state, optimiser state, step count and log all came back:
    np.testing.assert_array_equal(res.log["energy"], full.log["energy"])
    assert json.loads((tmp_path / "log.json").read_text())["step"][-1] == 13
    assert (tmp_path / "energy.png").stat().st_size > 0
    other = gs.VMCConfig(n_samples=1024, n_chains=8, iters=14, final_samples=0)
    from qml_phys.runtime.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="differing settings"):
        gs.ground_state(model, other, key=jax.random.key(3), out=tmp_path, resume=True)
    from qml_phys.errors import ExistingDataError

    with pytest.raises(ExistingDataError, match="expected resume=True"):
        gs.ground_state(model, cfg, key=jax.random.key(3), out=tmp_path)


def test_nan_energy_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    cfg = gs.VMCConfig(n_samples=512, n_chains=8, iters=20, final_samples=0, checkpoint_every=3)

    def poison(step, log, driver):
        if step == 7:
            driver.state.parameters = jax.tree_util.tree_map(
                lambda x: x * np.nan, driver.state.parameters
            )

    with pytest.warns(UserWarning, match="energy became NaN at step 8; stopped; the last good"):
        res = gs.ground_state(model, cfg, key=jax.random.key(4), out=tmp_path, callback=poison)
    assert res.status == "nan" and "step 6" in res.message
    assert np.all(np.isfinite(res.log["energy"])) and len(res.log["energy"]) == 8
    from qml_phys.runtime.checkpoint import read_meta

    assert read_meta(tmp_path / "checkpoint.msgpack")["step"] == 6


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
    cfg = gs.VMCConfig(ansatz=Peaked(), n_samples=256, n_chains=8, iters=40, final_samples=0)
    with pytest.warns(UserWarning, match="accepted no move for 10 steps"):
        res = gs.ground_state(model, cfg, key=jax.random.key(2))
    assert res.status == "frozen"
    assert len(res.log["energy"]) < 40


_SHARD_SCRIPT = textwrap.dedent(
    """
    import json, sys, jax
    from qml_phys.nqs.ground_state import VMCConfig, ground_state
    from qml_phys.physics import Lattice, TransverseFieldIsing
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    cfg = VMCConfig(n_samples=512, n_chains=8, iters=30, final_samples=16384)
    r = ground_state(model, cfg, key=jax.random.key(5))
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
        model, gs.VMCConfig(ansatz="ar", alpha=2, iters=150, n_samples=1024), key=jax.random.key(6)
    )
    assert ar.relative_error < 5e-3
    minsr = gs.ground_state(
        model, gs.VMCConfig(sr="minsr", iters=100, n_samples=256), key=jax.random.key(7)
    )
    assert minsr.relative_error < 5e-3
