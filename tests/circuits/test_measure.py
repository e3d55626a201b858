"""Shot expectations and their errors (circuits.measure.shot_expectation, VQE energy_error,
QAOA expectation_error) against the exact variances of the state vector."""

import math

import jax
import numpy as np
import pennylane as qml
import pytest

from qml_phys.circuits import qaoa
from qml_phys.circuits.ansatz import init_params, make_ansatz
from qml_phys.circuits.devices import make_device
from qml_phys.circuits.measure import shot_expectation
from qml_phys.circuits.vqe import VQEConfig, energy_and_error, energy_of, run_vqe
from qml_phys.physics import Lattice, MaxCut, TransverseFieldIsing
from qml_phys.physics.lattice import Graph


def _tfim_state(n=5):
    model = TransverseFieldIsing(Lattice.chain(n), J=1.0, gamma=0.8)
    ansatz = make_ansatz("hva", model)
    params = init_params(ansatz, 2, key=jax.random.key(3), scale=1.0)
    return model, ansatz, params


def _exact_group_error(ansatz, params, hamiltonian, n, shots):
    """sqrt(sum over qubit-wise commuting groups of Var(group) / shots), from the state."""
    words, coeffs = [], []
    for word, c in qml.pauli.pauli_sentence(hamiltonian).items():
        if len(word):
            words.append(word.operation())
            coeffs.append(float(np.real(c)))
    dev = qml.device("default.qubit", wires=n)
    var = 0.0
    for group, cs in zip(*qml.pauli.group_observables(words, coeffs, "qwc"), strict=True):

        @qml.qnode(dev)
        def v(group=group, cs=cs):
            ansatz(params)
            return qml.var(qml.Hamiltonian(list(cs), list(group)))

        var += float(v()) / shots
    return math.sqrt(var)


def test_analytic_device_gives_the_exact_value_and_no_error():
    model, ansatz, params = _tfim_state()
    e, err = energy_and_error(model, params, device="default.qubit")
    assert err is None
    assert e == energy_of(model, params, device="default.qubit")
    value, none = shot_expectation(
        ansatz, model.to_pennylane(), make_device("default.qubit", 5), params
    )
    assert none is None and value == pytest.approx(e, abs=1e-12)


def test_shot_error_is_the_standard_deviation_of_the_estimate():
    """The reported error matches the exact one of the grouped estimator within 5%, and
    over 40 seeds the z-scores against the exact energy have RMS within [0.7, 1.3]."""
    model, ansatz, params = _tfim_state()
    shots = 2000
    exact_e = energy_of(model, params, device="default.qubit")
    exact_err = _exact_group_error(ansatz, params, model.to_pennylane(), 5, shots)
    z, errs = [], []
    for k in jax.random.split(jax.random.key(0), 40):
        e, err = energy_and_error(model, params, device=f"default.qubit:shots={shots}", key=k)
        z.append((e - exact_e) / err)
        errs.append(err)
    assert np.mean(errs) == pytest.approx(exact_err, rel=0.05)
    assert 0.7 < math.sqrt(np.mean(np.square(z))) < 1.3


def test_vqe_reports_shot_error_only_with_shots():
    model = TransverseFieldIsing(Lattice.chain(2, pbc=False), J=1.0, gamma=1.0)
    config = VQEConfig(n_layers=1, optimizer="adam", n_steps=5, learning_rate=0.1)
    exact = run_vqe(model, config, key=jax.random.key(1), device="default.qubit")
    assert exact.energy_error is None and exact.summary()["energy_error"] is None
    shot = run_vqe(model, config, key=jax.random.key(1), device="default.qubit:shots=1000")
    assert shot.energy_error is not None and 0 < shot.energy_error < 0.2
    assert shot.summary()["energy_error"] == shot.energy_error
    assert abs(shot.energy - energy_of(model, shot.params)) < 5 * shot.energy_error


def test_qaoa_expectation_error_is_the_cut_standard_deviation():
    """Sampled <C> carries sqrt(Var C / shots), Var C from the exact probabilities."""
    cube = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4)]
    cube += [(i, i + 4) for i in range(4)]
    model = MaxCut(Graph(8, np.array(cube)))
    angles = qaoa.fixed_angles(1)
    exact = qaoa.evaluate_qaoa(model, angles, device="default.qubit")
    assert exact.expectation_error is None
    dev = qml.device("default.qubit", wires=8)

    @qml.qnode(dev)
    def probs():
        qaoa.qaoa_circuit(model, 1)(angles)
        return qml.probs(wires=range(8))

    p = np.asarray(probs())
    bits = (np.arange(256)[:, None] >> np.arange(7, -1, -1)) & 1
    cut = np.asarray(model.cut_value((1 - 2 * bits).astype(np.int8)), np.float64)
    assert p @ cut == pytest.approx(exact.expectation, abs=1e-9)
    shots = 1000
    sd = math.sqrt(p @ cut**2 - (p @ cut) ** 2) / math.sqrt(shots)
    sampled = qaoa.evaluate_qaoa(
        model, angles, device=f"default.qubit:shots={shots}", key=jax.random.key(2)
    )
    assert sampled.expectation_error == pytest.approx(sd, rel=0.1)
    assert abs(sampled.expectation - exact.expectation) < 4 * sd
    assert sampled.summary()["expectation_error"] == sampled.expectation_error
