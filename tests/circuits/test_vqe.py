"""VQE: ground energies against free fermions, Lanczos and FCI; records; bad input."""

import math

import jax
import numpy as np
import optax
import pytest
import scipy.linalg

from qml_phys.circuits.devices import DeviceConfig, get_device
from qml_phys.circuits.vqe import (
    H2_FCI_0P7414,
    energy_of,
    exact_ground_energy,
    float64_mode,
    h2_hamiltonian,
    run_vqe,
    run_vqe_h2,
)
from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.physics.exact import lanczos, tfim_chain_ground_energy
from qml_phys.physics.lattice import Lattice
from qml_phys.physics.models import Heisenberg, TransverseFieldIsing
from qml_phys.runtime.records import read_record

SEED = 11


def test_exact_ground_energy_free_fermions_and_lanczos_agree():
    model = TransverseFieldIsing(Lattice.chain(6), J=1.0, gamma=0.7)
    e = exact_ground_energy(model)
    assert e == tfim_chain_ground_energy(6, 1.0, 0.7)
    assert e == pytest.approx(float(lanczos(model)[0]), abs=1e-10)
    heis = Heisenberg(Lattice.chain(4))
    assert exact_ground_energy(heis) == pytest.approx(-8.0, abs=1e-12)  # 4 S.S on a 4-ring: -2


def test_tfim_n4_hva_reaches_free_fermion_energy():
    """Critical periodic chain, N = 4, p = N/2 = 2 HVA layers, L-BFGS on lightning (adjoint)."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    result = run_vqe(
        model,
        ansatz="hva",
        layers=2,
        device="lightning.qubit",
        optimizer="lbfgs",
        steps=200,
        seed=SEED,
    )
    assert result.exact_energy == tfim_chain_ground_energy(4, 1.0, 1.0)
    assert result.relative_error <= 1e-6
    assert result.config["diff_method"] == "adjoint"
    assert result.energies[-1] == result.energy
    assert result.energies[0] > result.energy + 0.1  # started away from the ground state


def test_tfim_n8_hva_reaches_free_fermion_energy():
    """N = 8, p = N/2 = 4 layers: the HVA prepares the ground state exactly (Wiersema et al.
    2020); relative error <= 1e-6 vs -2 * sum_k |cos(k/2)| over antiperiodic k."""
    model = TransverseFieldIsing(Lattice.chain(8), J=1.0, gamma=1.0)
    result = run_vqe(
        model,
        ansatz="hva",
        layers=4,
        device="lightning.qubit",
        optimizer="lbfgs",
        steps=400,
        seed=SEED,
    )
    ks = np.pi * (2 * np.arange(8) + 1) / 8
    assert result.exact_energy == pytest.approx(-2 * np.sum(np.abs(np.cos(ks / 2))), abs=1e-12)
    assert result.relative_error <= 1e-6


@pytest.mark.parametrize("n", [4, 6])
def test_heisenberg_ring_hva_reaches_lanczos(n):
    """Periodic Heisenberg ring, p = N/2 HVA layers from singlets, vs Lanczos."""
    model = Heisenberg(Lattice.chain(n))
    result = run_vqe(
        model,
        ansatz="hva",
        layers=n // 2,
        device="lightning.qubit",
        optimizer="lbfgs",
        steps=200,
        seed=SEED,
    )
    e0 = float(lanczos(model)[0])
    assert result.exact_energy == pytest.approx(e0, abs=1e-10)
    assert result.energy == pytest.approx(e0, abs=1e-6 * abs(e0))
    assert result.energies[0] > -3.0 * n / 2 - 1.0  # singlets alone: -3 per pair


@pytest.mark.slow
def test_tfim_n12_hva_reaches_free_fermion_energy():
    """N = 12, p = 6 layers on lightning: relative error <= 1e-6 (about 10 s)."""
    model = TransverseFieldIsing(Lattice.chain(12), J=1.0, gamma=1.0)
    result = run_vqe(
        model, layers=6, device="lightning.qubit", optimizer="lbfgs", steps=1000, seed=SEED
    )
    assert result.exact_energy == tfim_chain_ground_energy(12, 1.0, 1.0)
    assert result.relative_error <= 1e-6


@pytest.mark.parametrize("optimizer, steps, lr", [("adam", 300, 0.05), ("qng", 60, 0.05)])
def test_first_order_optimisers_converge_on_default_qubit(optimizer, steps, lr):
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    result = run_vqe(
        model, layers=2, device="default.qubit", optimizer=optimizer, steps=steps, lr=lr, seed=SEED
    )
    assert result.config["diff_method"] == "backprop"
    assert result.relative_error <= 1e-6


def test_h2_sto3g_within_chemical_accuracy_of_fci():
    result = run_vqe_h2(0.7414, device="lightning.qubit")
    # FCI in this basis: Lanczos of the qubit Hamiltonian, and the stored value
    assert result.exact_energy == pytest.approx(H2_FCI_0P7414, abs=1e-8)
    assert abs(result.energy - result.exact_energy) < 1.6e-3
    assert abs(result.energy - result.exact_energy) < 1e-8  # the ansatz is exact for H2
    # the start is Hartree-Fock, about 20 mHa above FCI (Szabo & Ostlund: E_HF = -1.1167 Ha)
    assert result.energies[0] == pytest.approx(-1.1167, abs=2e-4)


def test_h2_fci_at_0p7_angstrom_matches_literature():
    """1.3228 bohr (0.7000 A), the geometry of PennyLane's VQE demo: FCI -1.136189 Ha."""
    hamiltonian, n_qubits, n_electrons = h2_hamiltonian(1.3228 * 0.529177210544)
    assert (n_qubits, n_electrons) == (4, 2)
    e0 = float(lanczos(hamiltonian.sparse_matrix(wire_order=range(4)))[0])
    assert e0 == pytest.approx(-1.136189, abs=2e-6)


def test_energies_start_at_the_initial_state_and_out_folder(tmp_path):
    """energies[0] is <psi|H|psi> for the initial angles (scipy expm and the sparse matrix);
    small gradient steps go downhill; the record and plot are written."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.6)
    b, a = 0.1, 0.05
    zz = -TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.0).sparse_matrix().toarray()
    xs = -TransverseFieldIsing(Lattice.chain(4), J=0.0, gamma=1.0).sparse_matrix().toarray()
    psi = scipy.linalg.expm(-1j * a * xs) @ scipy.linalg.expm(-1j * b * zz) @ np.full(16, 0.25)
    e_init = np.vdot(psi, model.sparse_matrix() @ psi).real
    result = run_vqe(
        model,
        layers=1,
        device=DeviceConfig("default.qubit"),
        optimizer=optax.sgd(0.02),
        steps=5,
        init=np.array([[b, a]]),
        seed=SEED,
        out=tmp_path,
    )
    assert result.energies[0] == pytest.approx(e_init, abs=1e-12)
    assert len(result.energies) == 6
    assert np.all(np.diff(result.energies) < 0)
    record = read_record(tmp_path / "vqe.json")
    assert record["kind"] == "vqe"
    assert record["results"]["energy"] == result.energy
    assert record["provenance"]["seed"] == SEED
    assert (tmp_path / "vqe.png").stat().st_size > 1000


def test_zero_angles_are_a_stationary_point():
    """|+>^N (all HVA angles 0) has zero gradient: the run stops at once at E = -Gamma N."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=0.6)
    result = run_vqe(
        model, layers=2, device="default.qubit", optimizer="adam", steps=5, init="zeros", seed=SEED
    )
    np.testing.assert_allclose(result.energies, [-2.4, -2.4], atol=1e-12)


def test_hea_on_a_device_object():
    model = TransverseFieldIsing(Lattice.chain(3, pbc=False), J=1.0, gamma=1.0)
    dev = get_device("default.qubit", wires=3)
    result = run_vqe(
        model, ansatz="hea", layers=2, device=dev, optimizer="lbfgs", steps=200, seed=SEED
    )
    assert result.relative_error <= 1e-6


def test_bad_input():
    model = TransverseFieldIsing(Lattice.chain(4))
    with pytest.raises(InvalidParameterError, match=r"expected at least 4 wires.*got 3"):
        run_vqe(model, layers=1, device=get_device("lightning.qubit", wires=3), steps=1)
    with pytest.raises(UnknownNameError, match=r"device: expected one of default\.qubit"):
        run_vqe(model, layers=1, device="my.qpu", steps=1)
    with pytest.raises(UnknownNameError, match=r"optimizer: expected one of adam, lbfgs, qng"):
        run_vqe(model, layers=1, optimizer="sgd", steps=1)
    with pytest.raises(InvalidParameterError, match=r"layers must be an integer >= 1; got 0"):
        run_vqe(model, layers=0, steps=1)
    with pytest.raises(
        InvalidParameterError, match=r"init: expected an array of shape \(2, 2\); got \(2, 3\)"
    ):
        run_vqe(model, layers=2, init=np.zeros((2, 3)), steps=1)
    with pytest.raises(
        InvalidParameterError, match=r"lr: expected a positive finite float; got -0.1"
    ):
        run_vqe(model, layers=1, lr=-0.1, steps=1)
    with pytest.raises(InvalidParameterError, match=r"bond_length: expected a positive"):
        h2_hamiltonian(-1.0)
    assert math.isfinite(exact_ground_energy(model))


def test_optimum_on_other_engines():
    """The lightning optimum evaluated elsewhere: Aer statevector and default.qubit agree with
    it to 1e-8; fake_manila's noise (4000 shots, seeded) lifts the energy well above E0."""
    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    result = run_vqe(
        model, layers=2, device="lightning.qubit", optimizer="lbfgs", steps=200, seed=SEED
    )
    for device in ("default.qubit", "qiskit.aer"):
        assert energy_of(model, result.params, device=device) == pytest.approx(
            result.energy, abs=1e-8
        )
    noisy = energy_of(model, result.params, device="qiskit.aer:shots=4000:seed=5:noise=fake_manila")
    # the sample mean's standard error is < 0.05 here; the noise costs about 1.1
    assert noisy > result.exact_energy + 0.5


def test_float64_mode_is_restored():
    before = (
        jax.config.jax_enable_x64,
        jax.config.jax_numpy_dtype_promotion,
        jax.config.jax_numpy_rank_promotion,
    )
    with float64_mode():
        assert jax.config.jax_enable_x64
        assert jax.config.jax_numpy_dtype_promotion == "standard"
    after = (
        jax.config.jax_enable_x64,
        jax.config.jax_numpy_dtype_promotion,
        jax.config.jax_numpy_rank_promotion,
    )
    assert after == before
    model = TransverseFieldIsing(Lattice.chain(2))
    run_vqe(model, layers=1, device="lightning.qubit", steps=2, seed=SEED)
    assert (
        jax.config.jax_enable_x64,
        jax.config.jax_numpy_dtype_promotion,
        jax.config.jax_numpy_rank_promotion,
    ) == before


def test_energy_of_checks_params():
    model = TransverseFieldIsing(Lattice.chain(4))
    with pytest.raises(
        InvalidParameterError, match=r"params: expected shape \(2, 2\); got \(2, 3\)"
    ):
        energy_of(model, np.zeros((2, 3)))


def test_shot_based_vqe_is_seeded():
    """default.qubit with 2000 shots (parameter shift): the same seed gives the same run;
    the last energies scatter around E0 = -sqrt(5) within a few standard errors (~0.04)."""
    model = TransverseFieldIsing(Lattice.chain(2, pbc=False), J=1.0, gamma=1.0)
    runs = [
        run_vqe(
            model,
            layers=1,
            device="default.qubit:shots=2000",
            optimizer="adam",
            steps=40,
            lr=0.1,
            seed=seed,
        )
        for seed in (SEED, SEED, SEED + 1)
    ]
    assert runs[0].config["diff_method"] == "parameter-shift"
    np.testing.assert_array_equal(runs[0].energies, runs[1].energies)
    assert not np.array_equal(runs[0].energies, runs[2].energies)
    assert runs[0].exact_energy == pytest.approx(-math.sqrt(5.0), abs=1e-12)
    assert abs(np.mean(runs[0].energies[-10:]) - runs[0].exact_energy) < 0.06
