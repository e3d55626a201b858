"""physics.exact.reference: one decision of the exact or published reference per model."""

import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.physics import (
    Graph,
    Heisenberg,
    IsingModel,
    Lattice,
    MaxCut,
    TransverseFieldIsing,
    exact,
)


def test_tfim_chain_uses_free_fermions_at_any_size_and_agrees_with_lanczos():
    ref = exact.reference(TransverseFieldIsing(Lattice.chain(40), J=1.0, gamma=0.7))
    assert ref.method.startswith("free fermions") and ref.exact
    assert ref["energy"] == exact.tfim_chain_ground_energy(40, 1.0, 0.7)
    small = TransverseFieldIsing(Lattice.chain(10), J=1.0, gamma=0.7)
    assert exact.reference(small)["energy"] == pytest.approx(exact.lanczos(small)[0], abs=1e-9)
    # a longitudinal field or open ends leave free fermions: Lanczos for small chains
    field = exact.reference(TransverseFieldIsing(Lattice.chain(8), J=1.0, h=0.3, gamma=0.7))
    assert field.method.startswith("exact diagonalisation")
    opened = exact.reference(TransverseFieldIsing(Lattice.chain(8, pbc=False), gamma=0.7))
    assert opened.method.startswith("exact diagonalisation")


def test_heisenberg_uses_lanczos_then_published_qmc_then_none():
    ed = exact.reference(Heisenberg(Lattice.square(4)))
    assert ed.method.startswith("exact diagonalisation")
    # 4x4 periodic Heisenberg: E0 = -0.701780 per site in S.S units (Pauli units x4)
    assert ed["energy"] / 16 / 4 == pytest.approx(-0.7017802, abs=1e-6)
    qmc = exact.reference(Heisenberg(Lattice.square(6)))
    assert not qmc.exact and "Sandvik" in qmc.method
    assert qmc["energy"] == pytest.approx(4 * -0.678873 * 36) and qmc.error("energy") > 0
    assert exact.reference(Heisenberg(Lattice.square(8))) is None


def test_classical_models_by_brute_force():
    graph = Graph(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)], [1, 2, 0.5, 1.5, 1, 3])
    ref = exact.reference(MaxCut(graph))
    value, _ = exact.maxcut_brute_force(graph)
    assert ref["max_cut"] == value and ref["energy"] == -value
    chain = IsingModel(Lattice.chain(12), J=1.0, h=0.2)
    assert exact.reference(chain)["energy"] == pytest.approx(-12 * 1.0 - 12 * 0.2)


def test_thermal_reference_kaufman_or_enumeration():
    T = 2.3
    torus = exact.reference(IsingModel(Lattice.square(16)), T=T)
    assert torus.method == "kaufman"
    assert torus["energy_per_site"] == float(exact.kaufman(16, T).energy_per_site)
    chain = exact.reference(IsingModel(Lattice.chain(10)), T=T)
    assert chain.method == "enumeration"
    # open-boundary-free periodic chain: e = -tanh(K) (1 + tanh^N)/(1 + tanh^N) form
    K = 1 / T
    t = np.tanh(K)
    e_exact = -(t + t**9) / (1 + t**10)
    assert chain["energy_per_site"] == pytest.approx(e_exact, rel=1e-10)
    assert exact.reference(IsingModel(Lattice.square(8), h=0.1), T=T) is None
    with pytest.raises(InvalidParameterError, match="positive, finite temperature"):
        exact.reference(IsingModel(Lattice.square(8)), T=-1.0)
