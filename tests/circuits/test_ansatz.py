"""Ansatzes: shapes, validation, and energies/states checked against exact linear algebra."""

import jax
import jax.numpy as jnp
import numpy as np
import pennylane as qml
import pytest
import scipy.linalg

from qml_phys.circuits.ansatz import (
    QAOA,
    TFIMHVA,
    HardwareEfficient,
    HeisenbergHVA,
    init_params,
    make_ansatz,
    split_bonds,
)
from qml_phys.circuits.devices import get_device
from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.physics.lattice import Graph, Lattice
from qml_phys.physics.models import GraphIsing, Heisenberg, IsingModel, TransverseFieldIsing
from qml_phys.runtime.precision import float64

SEED = 7


def _key():
    return jax.random.key(SEED)


def _state_and_energy(ansatz, params, model, device="default.qubit"):
    dev = get_device(device, wires=model.n_sites)
    hamiltonian = model.to_pennylane()

    @qml.qnode(dev)
    def state(p):
        ansatz(p)
        return qml.state()

    @qml.qnode(dev)
    def energy(p):
        ansatz(p)
        return qml.expval(hamiltonian)

    return np.asarray(state(params)), float(energy(params))


MODELS = {
    "tfim-hva": (TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.8), "hva"),
    "tfim-hea": (TransverseFieldIsing(Lattice.chain(3, pbc=False), J=0.5, h=0.2), "hea"),
    "heis-hva": (Heisenberg(Lattice.chain(4)), "hva"),
    "ising-qaoa": (IsingModel(Lattice.chain(4), J=1.0, h=0.3), "qaoa"),
}


@pytest.mark.parametrize("label", sorted(MODELS))
def test_expval_equals_statevector_sparse_matrix(label):
    """<H> from the circuit equals <psi|H|psi> with psi from qml.state and H from scipy."""
    model, kind = MODELS[label]
    ansatz = make_ansatz(kind, model)
    params = init_params(ansatz, 2, key=_key(), scale=1.0)
    psi, e = _state_and_energy(ansatz, params, model)
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-12)
    exact = np.vdot(psi, model.sparse_matrix() @ psi)
    assert abs(exact.imag) < 1e-12
    assert e == pytest.approx(exact.real, abs=1e-10)


def test_hva_reference_states():
    """Zero angles: TFIM HVA is |+>^N (E = -Gamma N); Heisenberg HVA is singlets (-3 per pair)."""
    tfim = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.8)
    _, e = _state_and_energy(TFIMHVA.from_model(tfim), np.zeros((1, 2)), tfim)
    assert e == pytest.approx(-0.8 * 4, abs=1e-12)
    heis = Heisenberg(Lattice.chain(6))
    psi, e = _state_and_energy(HeisenbergHVA.from_model(heis), np.zeros((1, 2)), heis)
    assert e == pytest.approx(-3.0 * 3, abs=1e-12)
    # a singlet on (0, 1): amplitudes of |01...> and |10...> opposite
    amps = psi.reshape(2, 2, -1)
    assert np.allclose(amps[0, 1], -amps[1, 0]) and np.allclose(amps[0, 0], 0.0)


def test_tfim_hva_matches_matrix_exponentials():
    """One HVA layer equals exp(-i a sum X) exp(-i b sum ZZ) |+>^N built with scipy."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    b, a = 0.37, -0.81
    psi, _ = _state_and_energy(TFIMHVA.from_model(model), np.array([[b, a]]), model)
    zz = -TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.0).sparse_matrix().toarray()
    xs = -TransverseFieldIsing(Lattice.chain(4), J=0.0, gamma=1.0).sparse_matrix().toarray()
    plus = np.full(16, 0.25)
    ref = scipy.linalg.expm(-1j * a * xs) @ scipy.linalg.expm(-1j * b * zz) @ plus
    assert np.allclose(psi, ref, atol=1e-12)


def test_qaoa_layer_uses_weights_and_fields():
    """p = 1 QAOA on a weighted graph with fields equals exp(-i beta sum X) exp(-i gamma H_C)|+>."""
    graph = Graph(3, np.array([[0, 1], [1, 2], [0, 2]]), np.array([1.0, -0.5, 2.0]))
    model = GraphIsing(graph, h=np.array([0.3, 0.0, -0.7]))
    ansatz = QAOA.from_model(model)
    gamma, beta = 0.45, 0.2
    psi, _ = _state_and_energy(ansatz, np.array([[gamma, beta]]), model)
    diag = model.sparse_matrix().diagonal()
    minus_xs = TransverseFieldIsing(Lattice.chain(3, pbc=False), J=0.0, gamma=1.0)
    ref = np.exp(-1j * gamma * diag) * np.full(8, 8**-0.5)
    ref = scipy.linalg.expm(1j * beta * minus_xs.sparse_matrix().toarray()) @ ref
    # equal up to the global phase of the constant term (none here)
    assert np.allclose(psi, ref, atol=1e-12)


def test_adjoint_and_parameter_shift_gradients_agree():
    """d<H>/dtheta: lightning adjoint vs default.qubit parameter shift vs backprop, 1e-8."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.9)
    ansatz = make_ansatz("hva", model)
    hamiltonian = model.to_pennylane()
    params = init_params(ansatz, 3, key=_key(), scale=0.7)
    grads = {}
    # float64, and PennyLane's JAX backprop mixes complex and float: standard promotion
    with float64():
        for dev_name, method in (
            ("lightning.qubit", "adjoint"),
            ("default.qubit", "parameter-shift"),
            ("default.qubit", "backprop"),
        ):

            @qml.qnode(get_device(dev_name, wires=4), interface="jax", diff_method=method)
            def energy(p):
                ansatz(p)
                return qml.expval(hamiltonian)

            grads[method] = np.asarray(jax.grad(energy)(jnp.asarray(params)))
    assert np.abs(grads["adjoint"]).max() > 1e-2  # not at a stationary point
    np.testing.assert_allclose(grads["adjoint"], grads["parameter-shift"], atol=1e-8)
    np.testing.assert_allclose(grads["backprop"], grads["parameter-shift"], atol=1e-8)


def test_aer_statevector_agrees_with_default_qubit():
    model = Heisenberg(Lattice.chain(4))
    ansatz = make_ansatz("hea", model)
    params = init_params(ansatz, 2, key=_key(), scale=1.0)
    _, e_default = _state_and_energy(ansatz, params, model, "default.qubit")
    _, e_aer = _state_and_energy(ansatz, params, model, "qiskit.aer")
    assert e_aer == pytest.approx(e_default, abs=1e-8)


def test_shapes():
    assert HardwareEfficient.shape(3, 5) == (3, 5, 2)
    assert TFIMHVA.shape(4, 8) == (4, 2)
    assert HeisenbergHVA.shape(2, 4) == (2, 2)
    assert QAOA.shape(1, 3) == (1, 2)
    assert init_params(HardwareEfficient(2), 3, key=_key()).shape == (3, 2, 2)
    with pytest.raises(InvalidParameterError, match=r"n_layers must be an integer >= 1; got 0"):
        TFIMHVA.shape(0, 4)
    with pytest.raises(InvalidParameterError, match=r"n_wires must be an integer >= 1; got -1"):
        HardwareEfficient.shape(1, -1)


@pytest.mark.parametrize(
    "ansatz, params, match",
    [
        (HardwareEfficient(3), np.zeros((2, 2, 2)), r"expected params of shape \(n_layers, 3, 2\)"),
        (
            TFIMHVA(3, ((0, 1), (1, 2))),
            np.zeros(2),
            r"expected params of shape \(n_layers, 2\).*got \(2,\)",
        ),
        (TFIMHVA(3, ((0, 1),)), np.zeros((0, 2)), r"with n_layers >= 1; got \(0, 2\)"),
        (QAOA(2, (("ZZ", (0, 1), 1.0),)), np.zeros((1, 3)), r"QAOA: expected params"),
    ],
)
def test_bad_params_shape(ansatz, params, match):
    with pytest.raises(ShapeError, match=match):
        ansatz(params)


def test_bad_structures():
    with pytest.raises(InvalidParameterError, match=r"expected a diagonal cost .*got 'X'"):
        QAOA.from_model(TransverseFieldIsing(Lattice.chain(3)))
    with pytest.raises(
        InvalidParameterError, match=r"expected pairs of distinct wires in 0\.\.2; got \(0, 3\)"
    ):
        TFIMHVA(3, ((0, 3),))
    with pytest.raises(InvalidParameterError, match=r"expected an even n_wires; got 3"):
        HeisenbergHVA(3, ((0, 1), (1, 2)))
    with pytest.raises(
        InvalidParameterError, match=r"expected bonds to contain \(0, 1\), \(2, 3\)"
    ):
        HeisenbergHVA(4, ((1, 2), (2, 3), (0, 3)))
    with pytest.raises(
        InvalidParameterError, match=r"hva: expected a TransverseFieldIsing or Heisenberg"
    ):
        make_ansatz("hva", IsingModel(Lattice.chain(3)))
    with pytest.raises(
        UnknownNameError, match=r"ansatz: expected one of hea, hva, qaoa; got 'uccsd'"
    ):
        make_ansatz("uccsd", IsingModel(Lattice.chain(3)))


def test_split_bonds_on_a_ring():
    a, b = split_bonds(Lattice.chain(6).edges, 6)
    assert a == ((0, 1), (2, 3), (4, 5))
    assert b == ((1, 2), (3, 4), (0, 5))


def test_init_params_are_drawn_from_the_key():
    """0.1 N(0, 1) in float64 from the key: the same key gives the same angles, a split key
    others; mean and standard deviation of 1200 draws within 5 standard errors."""
    k1, k2 = jax.random.split(_key())
    a = init_params(HardwareEfficient(3), 200, key=k1)
    b = init_params(HardwareEfficient(3), 200, key=k1)
    c = init_params(HardwareEfficient(3), 200, key=k2)
    assert a.dtype == np.float64 and a.shape == (200, 3, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert abs(a.mean()) < 5 * 0.1 / np.sqrt(a.size)
    assert abs(a.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * a.size)
