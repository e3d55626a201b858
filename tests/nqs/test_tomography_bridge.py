"""nqs.tomography and nqs.bridge against exact ground states."""

import dataclasses

import jax
import numpy as np
import pytest

from qml_phys.circuits.measure import measure_in_bases
from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.nqs import bridge, tomography
from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing, exact
from qml_phys.runtime.precision import float64


def _ground(model):
    _, vecs = exact.lanczos(model, return_vectors=True)
    return vecs[:, 0]


def test_measure_rotates_to_the_requested_basis(key):
    plus = np.full(8, 1 / np.sqrt(8))  # |+++>: X basis gives s = +1 always, Z is uniform
    k1, k2 = jax.random.split(key)
    data = tomography.measure(plus, ["XXX", "ZZZ"], 4000, key=k1)
    assert np.all(data["XXX"] == 1)
    counts = np.bincount(((1 - data["ZZZ"]) // 2 @ np.array([4, 2, 1])), minlength=8)
    chi2 = np.sum((counts - 500.0) ** 2 / 500.0)
    assert chi2 < 24.3  # 7 dof, p = 0.001
    with pytest.raises(InvalidParameterError, match="expected a string of 3 letters"):
        tomography.measure(plus, ["XQ"], 10, key=k2)
    with pytest.raises(ShapeError, match="length 2\\^N"):
        tomography.measure(np.ones(6), ["ZZZ"], 10, key=k2)


def test_positive_state_from_computational_basis_samples(key):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=1.0)
    psi0 = np.abs(_ground(model))
    k1, k2 = jax.random.split(key)
    data = tomography.measure(psi0, ["Z" * 6], 4000, key=k1)
    cfg = tomography.TomographyConfig(epochs=400, learning_rate=0.03, bootstrap=0)
    res = tomography.reconstruct(data, cfg, key=k2, reference=psi0)
    assert res.fidelity > 0.99
    e0 = float(exact.lanczos(model)[0])
    assert abs(tomography.energy(model, res.psi) - e0) / abs(e0) < 0.02
    assert res.status == "completed" and res.nll.shape == (400,) and res.nll[-1] < res.nll[0]
    assert res.summary()["final_nll"] == res.nll[-1] and res.psi.dtype == np.complex128


def test_signs_need_rotated_bases(key):
    """Heisenberg N=4: Z data alone gives a wrong (positive) state; XX/XY bases fix the
    Marshall signs."""
    model = Heisenberg(Lattice.chain(4))
    psi0 = _ground(model)
    k1, k2, k3 = jax.random.split(key, 3)
    bases = tomography.pair_bases(4)
    data = tomography.measure(psi0, bases, 2000, key=k1)
    cfg = tomography.TomographyConfig(epochs=800, learning_rate=0.1, bootstrap=0)
    signed = tomography.reconstruct(data, cfg, key=k2, reference=psi0)
    z_only = tomography.reconstruct({"ZZZZ": data["ZZZZ"]}, cfg, key=k3, reference=psi0)
    assert signed.fidelity > 0.97
    assert z_only.fidelity < 0.5


@pytest.mark.slow
def test_fit_counts_is_reconstruct_on_counts_and_bootstrap_errors_track_the_spread(key):
    """One data set as counts refits like reconstruct (the same likelihood, the same Adam);
    the bootstrap error of the fidelity is of the size of its spread over independent
    experiments (measured over 400: the error is about 1.4 times the spread), and without
    bootstrap the errors are None, not 0."""
    model = Heisenberg(Lattice.chain(4))
    psi0 = _ground(model)
    bases = tomography.pair_bases(4)
    cfg = tomography.TomographyConfig(epochs=800, learning_rate=0.1, bootstrap=8)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    data = tomography.measure(psi0, bases, 2000, key=k1)
    counts = tomography.outcome_counts(data)
    assert all(c.shape == (16,) and c.sum() == 2000 for c in counts.values())
    res = tomography.reconstruct(data, cfg, key=k2, reference=psi0)
    assert res.bootstrap_psi.shape == (8, 16) and res.fidelity_error > 0
    norms = np.linalg.norm(res.bootstrap_psi, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-12)
    # 24 independent experiments, each its own data and initialisation, trained together
    indep = [
        tomography.outcome_counts(tomography.measure(psi0, bases, 2000, key=k))
        for k in jax.random.split(k3, 24)
    ]
    stacked = {b: np.stack([c[b] for c in indep]) for b in bases}
    psi, nll = tomography.fit_counts(stacked, cfg, key=k4)
    fids = np.array([tomography.fidelity(psi0, p) for p in psi])
    assert psi.shape == (24, 16) and nll.shape == (24,) and np.all(np.isfinite(nll))
    assert abs(np.median(fids) - res.fidelity) < 5 * np.std(fids)
    assert 0.3 < res.fidelity_error / np.std(fids, ddof=1) < 4.0
    # the same likelihood: the refit's final nll on the data is near reconstruct's
    same = tomography.fit_counts({b: c[None] for b, c in counts.items()}, cfg, key=k2)[1]
    assert abs(same[0] - res.nll[-1]) < 0.01


def test_fidelity_spread_is_blind_to_global_phases_and_measures_the_scatter():
    """States scattered about a centre: the spread of their fidelities with the centre,
    whatever global phase each carries (a phase is not a different state)."""
    rng = np.random.default_rng(0)
    centre = rng.normal(size=16) + 1j * rng.normal(size=16)
    centre /= np.linalg.norm(centre)
    noise = 0.02 * (rng.normal(size=(400, 16)) + 1j * rng.normal(size=(400, 16)))
    states = centre + noise
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    plain = tomography.fidelity_spread(states)
    direct = np.std([tomography.fidelity(centre, s) for s in states], ddof=1)
    assert plain == pytest.approx(direct, rel=0.02)
    phased = states * np.exp(2j * np.pi * rng.uniform(size=400))[:, None]
    assert tomography.fidelity_spread(phased) == pytest.approx(plain, rel=1e-9)
    assert tomography.fidelity_spread(np.repeat(centre[None], 3, axis=0)) < 1e-12
    with pytest.raises(ShapeError, match="R >= 2"):
        tomography.fidelity_spread(centre[None])


def test_bootstrap_off_gives_none_and_bad_counts_are_refused(key):
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    psi0 = np.abs(_ground(model))
    data = tomography.measure(psi0, ["ZZZZ"], 500, key=key)
    cfg = tomography.TomographyConfig(epochs=50, bootstrap=3)
    boot = tomography.reconstruct(data, cfg, key=key, reference=psi0)
    plain = tomography.reconstruct(
        data, dataclasses.replace(cfg, bootstrap=0), key=key, reference=psi0
    )
    assert plain.fidelity == boot.fidelity and boot.fidelity_error > 0
    assert plain.fidelity_error is None and plain.bootstrap_psi is None
    assert plain.summary()["fidelity_error"] is None
    with pytest.raises(InvalidParameterError, match="bootstrap"):
        tomography.TomographyConfig(bootstrap=1)
    with pytest.raises(ShapeError, match="the same R for every basis"):
        tomography.fit_counts({"ZZZZ": np.ones((2, 16)), "XXZZ": np.ones((3, 16))}, key=key)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        tomography.fit_counts({"ZZZZ": -np.ones((2, 16))}, key=key)


def test_pennylane_shot_samples_reconstruct_a_circuit_state(key):
    """Samples from a PennyLane circuit (shots, rotated bases) reconstruct its state, phases
    included; the Z-basis frequencies match |psi|^2 within multinomial noise."""
    import pennylane as qml

    n = 4

    def circuit():
        for w in range(n):
            qml.RY(0.3 + 0.4 * w, wires=w)
        for w in range(n - 1):
            qml.CNOT(wires=[w, w + 1])
        qml.RZ(0.7, wires=1)
        qml.RX(0.5, wires=2)

    @qml.qnode(qml.device("default.qubit", wires=n))
    def state():
        circuit()
        return qml.state()

    psi = np.asarray(state())
    bases = tomography.pair_bases(n, pbc=False)
    data = measure_in_bases(circuit, n, bases, 2000, key=jax.random.key(1))
    assert set(data) == set(bases) and all(v.shape == (2000, n) for v in data.values())
    counts = np.bincount((1 - data["ZZZZ"]) // 2 @ np.array([8, 4, 2, 1]), minlength=16)
    p = np.abs(psi) ** 2
    keep = p > 1e-3
    chi2 = np.sum((counts[keep] - 2000 * p[keep]) ** 2 / (2000 * p[keep]))
    assert chi2 < 37.7  # <= 15 dof, p = 0.001
    assert counts[~keep].sum() <= 10
    cfg = tomography.TomographyConfig(alpha=2, epochs=1500, learning_rate=0.05, bootstrap=0)
    res = tomography.reconstruct(data, cfg, key=key, reference=psi)
    assert res.fidelity > 0.99
    with pytest.raises(InvalidParameterError, match="expected a callable"):
        measure_in_bases(None, n, bases, 10, key=jax.random.key(1))


@pytest.mark.slow
def test_sampled_tomography_without_enumeration(key):
    """The sampled-likelihood fit (NetKet samples for the model term) recovers the TFIM
    ground state: fidelity, energy, and <X0 X1>, which the Z-basis data never measured."""
    model = TransverseFieldIsing(Lattice.chain(8), J=1.0, gamma=1.0)
    cfg = tomography.SampledTomographyConfig(n_steps=600, learning_rate=0.02)
    r = tomography.sampled_tomography_demo(model, n_samples=20000, config=cfg, key=key)
    assert r.fidelity > 0.99
    assert r.relative_energy_error < 0.01
    xx = r.observables["xx_01"]
    assert abs(xx.reconstructed - xx.exact) < 4 * xx.error + 0.01
    assert r.summary()["observables"]["xx_01"]["exact"] == xx.exact
    assert r.history["grad_norm"].shape == (600,)
    with pytest.raises(InvalidParameterError, match="TransverseFieldIsing"):
        tomography.sampled_tomography_demo(Heisenberg(Lattice.chain(4)), key=key)


def test_bridge_log_prob_fit_and_adapter(key):
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=0.9)
    psi0 = np.abs(_ground(model))
    k1, k2 = jax.random.split(key)
    samples = tomography.measure(psi0, ["Z" * 6], 5000, key=k1)["Z" * 6]
    gen = bridge.SpinRBM(alpha=1)
    variables, nll = bridge.fit_log_prob(gen, samples, key=k2, epochs=300)
    assert nll.shape == (300,) and nll[-1] < nll[0]
    nqs, params = bridge.as_log_psi(gen, variables)
    spins = tomography.all_spins(6)
    with float64():
        logp = np.asarray(gen.apply(variables, spins))
        logpsi = np.asarray(nqs.apply({"params": params}, spins))
    assert logpsi.dtype == np.float64
    np.testing.assert_allclose(logpsi, logp / 2, rtol=1e-12)
    assert tomography.fidelity(psi0, np.exp(logpsi)) > 0.99
    with pytest.raises(InvalidParameterError, match="expected a Flax variables dict"):
        bridge.as_log_psi(gen, {"w": 1})
    with pytest.raises(InvalidParameterError, match="spins in"):
        bridge.fit_log_prob(gen, np.zeros((3, 6)), key=k2)


def test_iterations_to_target():
    e = np.array([-1.0, -1.5, -1.9, -1.999, -2.0, -2.0, -2.0, -2.0, -2.0])
    assert bridge.iterations_to(e, -2.0, 1e-3, window=3) == 5
    assert bridge.iterations_to(e, -2.0, 1e-3, window=1) == 3
    assert bridge.iterations_to(e[:3], -2.0, 1e-3, window=1) is None


@pytest.mark.slow
def test_warm_start_reaches_the_target_sooner():
    cfg = bridge.WarmStartConfig(N=8, n_steps=60, n_samples=512)
    out = bridge.warm_start_comparison(cfg, keys=[jax.random.key(s) for s in (0, 1, 2)])
    assert [row["run"] for row in out.rows] == [0, 1, 2]
    for row in out.rows:
        assert row["warm_initial_relative_error"] < row["random_initial_relative_error"] / 5
    assert out.median_iterations_warm < out.median_iterations_random
    assert "warm_energy" not in out.summary()["rows"][0]
