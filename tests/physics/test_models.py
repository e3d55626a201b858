"""Tests of qml_phys.physics.models: every engine gives the same matrix; energies are exact."""

import contextlib
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, TooLargeError
from qml_phys.physics import (
    Graph,
    GraphIsing,
    Heisenberg,
    IsingModel,
    Lattice,
    MaxCut,
    TransverseFieldIsing,
    basis_states,
)

# A 6-node weighted graph with couplings of both signs, and a 5-node MaxCut instance.
GRAPH6 = Graph(
    6,
    [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (1, 4)],
    [1.0, -0.5, 2.0, 0.75, 1.5, -1.25, 0.6, 0.9],
)
H6 = np.array([0.3, -0.2, 0.0, 0.55, -0.4, 0.1])
GRAPH5 = Graph(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)], [1.0, 2.0, 0.5, 1.5, 3.0, 0.25])

SYSTEMS = {
    "tfim-chain6-pbc": TransverseFieldIsing(Lattice.chain(6), J=1.3, h=0.4, gamma=0.7),
    "tfim-chain6-open": TransverseFieldIsing(
        Lattice.chain(6, pbc=False), J=-0.8, h=-0.25, gamma=1.1
    ),
    "ising-square2-pbc": IsingModel(Lattice.square(2), J=0.9, h=0.35),
    "tfim-square2-pbc": TransverseFieldIsing(Lattice.square(2), J=0.9, h=0.2, gamma=0.5),
    "heisenberg-chain6-pbc-J2": Heisenberg(Lattice.chain(6), J1=1.0, J2=0.45),
    "heisenberg-chain5-open-J2": Heisenberg(Lattice.chain(5, pbc=False), J1=-0.7, J2=0.3),
    "heisenberg-square2-pbc-J2": Heisenberg(Lattice.square(2), J1=1.0, J2=0.6),
    "graph-ising-6": GraphIsing(GRAPH6, h=H6, gamma=0.6),
    "maxcut-5": MaxCut(GRAPH5),
}


def _dense(m):
    return np.asarray(m.toarray() if hasattr(m, "toarray") else m)


def _bit_reversal(n):
    b = np.arange(2**n)
    return sum(((b >> k) & 1) << (n - 1 - k) for k in range(n))


def _netket():
    return pytest.importorskip("netket")


@contextlib.contextmanager
def _netket_rules():
    """NetKet 3.23's ``hilbert.all_states`` (used by ``to_dense``/``to_sparse``) mixes
    ranks and int8/int32, so the strict rules of tests/conftest.py are relaxed around
    those NetKet calls only."""
    with jax.numpy_rank_promotion("allow"), jax.numpy_dtype_promotion("standard"):
        yield


def _max_abs(a, b):
    return float(np.max(np.abs(_dense(a) - _dense(b))))


# ------------------------------------------------------------------ basis conventions


def test_basis_states_canonical_order():
    expected = np.array(
        [
            [1, 1, 1],
            [1, 1, -1],
            [1, -1, 1],
            [1, -1, -1],
            [-1, 1, 1],
            [-1, 1, -1],
            [-1, -1, 1],
            [-1, -1, -1],
        ]
    )
    s = basis_states(3)
    assert s.dtype == np.int8
    np.testing.assert_array_equal(s, expected)


def test_netket_basis_ordering_facts():
    """Pins the NetKet facts written in the models docstring (identity permutation)."""
    nk = _netket()
    hi = nk.hilbert.Spin(0.5, 4)
    np.testing.assert_array_equal(np.asarray(hi.local_states), [1.0, -1.0])
    np.testing.assert_array_equal(hi.states_to_numbers(basis_states(4)), np.arange(16))
    with _netket_rules():
        sz0 = np.diag(nk.operator.spin.sigmaz(hi, 0).to_dense()).real
    np.testing.assert_array_equal(sz0, basis_states(4)[:, 0])


def test_pauli_terms_merge_doubled_bonds():
    # L = 2 periodic: the (0, 1) bond is listed twice and counts twice.
    terms = IsingModel(Lattice.square(2), J=0.5, h=0.0).pauli_terms()
    assert ("ZZ", (0, 1), -1.0) in terms
    assert len(terms) == 4  # 4 distinct pairs, the zero field dropped


# -------------------------------------------------------------- engines agree exactly


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_engines_give_identical_matrices(name):
    _netket()
    pytest.importorskip("pennylane")
    from qml_phys.physics.consistency import engine_deviations, engine_matrices

    model = SYSTEMS[name]
    n = model.n_sites
    ours = model.sparse_matrix()
    assert ours.dtype == np.float64 and ours.shape == (2**n, 2**n)
    mats = engine_matrices(model)
    assert set(mats) == {"sparse", "netket", "pennylane", "qiskit"}
    for engine in ("netket", "pennylane", "qiskit"):
        assert mats[engine].shape == (2**n, 2**n)
        assert _max_abs(ours, mats[engine]) <= 1e-12, engine
    assert max(engine_deviations(model).values()) <= 1e-12


def test_qiskit_order_is_reversed_not_identical():
    """The Qiskit matrix differs from ours before the documented qubit reversal (so the
    check above is not vacuous) and agrees after it."""
    from qml_phys.physics.consistency import bit_reversal

    model = SYSTEMS["graph-ising-6"]
    raw = _dense(model.to_qiskit().to_matrix(sparse=True))
    assert _max_abs(model.sparse_matrix(), raw) > 0.1
    rev = bit_reversal(model.n_sites)
    assert _max_abs(model.sparse_matrix(), raw[np.ix_(rev, rev)]) <= 1e-12


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_diagonal_equals_matrix_diagonal(name):
    model = SYSTEMS[name]
    diag = np.asarray(model.diagonal(basis_states(model.n_sites)))
    np.testing.assert_allclose(diag, model.sparse_matrix().diagonal(), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "lattice", [Lattice.chain(6), Lattice.chain(6, pbc=False), Lattice.square(2)]
)
def test_classical_energy_is_tfim_diagonal_at_zero_gamma(lattice):
    J, h = -1.2, 0.45
    quantum = TransverseFieldIsing(lattice, J=J, h=h, gamma=0.0).sparse_matrix().toarray()
    assert np.count_nonzero(quantum - np.diag(np.diag(quantum))) == 0
    with jax.enable_x64(True):
        s = jnp.asarray(basis_states(lattice.n_sites), jnp.float64)
        energy = np.asarray(IsingModel(lattice, J=J, h=h).energy(s))
    assert energy.dtype == np.float64
    np.testing.assert_allclose(energy, np.diag(quantum), rtol=0, atol=1e-12)


def test_graph_ising_on_lattice_equals_tfim():
    lat = Lattice.chain(6)
    a = GraphIsing(lat, h=0.3, gamma=0.5).sparse_matrix()
    b = TransverseFieldIsing(lat, J=1.0, h=0.3, gamma=0.5).sparse_matrix()
    assert _max_abs(a, b) == 0.0


# ------------------------------------------------------- exact spectra and hand values


@pytest.mark.parametrize("gamma", [0.4, 1.0, 1.7])
def test_tfim_chain_ground_energy_free_fermions(gamma):
    """Periodic chain, h = 0: E0 = -sum_k sqrt(J^2 + G^2 - 2 J G cos k), k = (2m+1) pi / N."""
    N, J = 8, 1.0
    k = (2 * np.arange(N) + 1) * np.pi / N
    exact = -np.sum(np.sqrt(J**2 + gamma**2 - 2 * J * gamma * np.cos(k)))
    H = TransverseFieldIsing(Lattice.chain(N), J=J, h=0.0, gamma=gamma).sparse_matrix()
    assert abs(np.linalg.eigvalsh(H.toarray())[0] - exact) < 1e-10


def test_heisenberg_exact_ground_energies():
    # 4-site ring: sum S.S = -2, i.e. -8 J1 with Pauli matrices.
    e4 = np.linalg.eigvalsh(Heisenberg(Lattice.chain(4), J1=0.7).sparse_matrix().toarray())[0]
    assert abs(e4 - (-8 * 0.7)) < 1e-12
    # 2x2 torus: every bond doubled, so twice the 4-site ring.
    e22 = np.linalg.eigvalsh(Heisenberg(Lattice.square(2), J1=0.7).sparse_matrix().toarray())[0]
    assert abs(e22 - (-16 * 0.7)) < 1e-12
    # Majumdar-Ghosh point J2 = J1/2 on a periodic chain: E0 = -3 J1 N / 2.
    emg = np.linalg.eigvalsh(
        Heisenberg(Lattice.chain(8), J1=1.0, J2=0.5).sparse_matrix().toarray()
    )[0]
    assert abs(emg - (-12.0)) < 1e-10


def test_maxcut_hand_computed_cut_values():
    model = MaxCut(GRAPH5)
    spins = np.array(
        [[1, -1, 1, -1, 1], [1, 1, 1, 1, 1], [1, 1, -1, -1, 1], [-1, 1, 1, 1, 1]], np.int8
    )
    cuts = np.array([5.0, 0.0, 3.75, 4.25])
    np.testing.assert_allclose(np.asarray(model.cut_value(spins)), cuts, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model.energy(spins)), -cuts, rtol=0, atol=1e-6)


def test_maxcut_ground_energy_is_minus_brute_force_maxcut():
    best = 0.0
    for s in itertools.product([1, -1], repeat=GRAPH5.n_nodes):
        cut = sum(w for (i, j), w in zip(GRAPH5.edges, GRAPH5.weights, strict=True) if s[i] != s[j])
        best = max(best, cut)
    H = MaxCut(GRAPH5).sparse_matrix()
    assert abs(H.diagonal().min() - (-best)) < 1e-12
    assert abs(np.linalg.eigvalsh(H.toarray())[0] - (-best)) < 1e-12


def test_ising_hand_computed_energies_3x3():
    J, h = 0.7, 0.3
    model = IsingModel(Lattice.square(3), J=J, h=h)
    up = np.ones((3, 3), np.int8)
    flipped = up.copy()
    flipped[1, 1] = -1
    energies = np.asarray(model.energy(np.stack([up, -up, flipped])))
    # 18 bonds, 9 sites; one flipped spin breaks its 4 bonds.
    expected = [-18 * J - 9 * h, -18 * J + 9 * h, -10 * J - 7 * h]
    np.testing.assert_allclose(energies, expected, rtol=0, atol=1e-5)


def test_neel_state_energies_4x4():
    neel = np.where(Lattice.square(4).sublattice.reshape(4, 4) == 0, 1, -1).astype(np.int8)
    assert float(IsingModel(Lattice.square(4), J=1.0).energy(neel)) == 32.0
    # Heisenberg diagonal: 32 anti-aligned nn bonds, 32 aligned diagonal bonds.
    assert float(Heisenberg(Lattice.square(4), J1=1.0, J2=0.25).diagonal(neel)) == -32.0 + 8.0


# ----------------------------------------------------------- jit, batches and dtypes


def test_energy_jit_vmap_batches(key):
    J, h = 1.1, -0.4
    model = IsingModel(Lattice.square(3), J=J, h=h)
    spins = jnp.where(jax.random.bernoulli(key, 0.5, (2, 3, 3, 3)), 1, -1).astype(jnp.int8)
    e = jax.jit(model.energy)(spins)
    assert e.shape == (2, 3) and e.dtype == jnp.float32
    s = np.asarray(spins, np.float64)
    bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
    ref = -J * bonds.sum(axis=(-2, -1)) - h * s.sum(axis=(-2, -1))
    np.testing.assert_allclose(np.asarray(e), ref, rtol=0, atol=1e-5)
    flat = model.energy(spins.reshape(2, 3, 9))
    np.testing.assert_allclose(np.asarray(flat), ref, rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(jax.vmap(model.energy))(spins)), ref, rtol=0, atol=1e-5
    )


@pytest.mark.parametrize(
    ("dtype", "out"), [(np.int8, np.float32), (np.int32, np.float32), (np.float32, np.float32)]
)
@pytest.mark.parametrize("x64", [False, True])
def test_energy_dtypes(dtype, out, x64):
    model = GraphIsing(GRAPH6, h=H6, gamma=0.6)
    with jax.enable_x64(x64):
        s = jnp.asarray(basis_states(6).astype(dtype))
        e = jax.jit(model.energy)(s)
        assert e.dtype == out and e.shape == (64,)
        np.testing.assert_allclose(
            np.asarray(e), model.sparse_matrix().diagonal(), rtol=0, atol=1e-5
        )


def test_energy_float64_gives_float64():
    with jax.enable_x64(True):
        e = MaxCut(GRAPH5).energy(jnp.asarray(basis_states(5), jnp.float64))
        assert e.dtype == jnp.float64


# ------------------------------------------------------------------------ bad inputs


def test_non_lattice_rejected():
    with pytest.raises(InvalidParameterError, match=r"IsingModel: expected a Lattice; got Graph"):
        IsingModel(GRAPH5)
    with pytest.raises(
        InvalidParameterError, match=r"MaxCut: expected a Graph or a Lattice; got list"
    ):
        MaxCut([(0, 1)])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: IsingModel(Lattice.chain(4), J=float("nan")),
            r"J: expected a finite real number; got nan",
        ),
        (
            lambda: TransverseFieldIsing(Lattice.chain(4), gamma=np.inf),
            r"gamma: expected a finite real number; got inf",
        ),
        (
            lambda: Heisenberg(Lattice.chain(4), J2="0.5"),
            r"J2: expected a finite real number; got '0.5'",
        ),
        (lambda: GraphIsing(GRAPH6, h=1j), r"h: expected a finite real number; got 1j"),
        (
            lambda: GraphIsing(GRAPH6, h=[0.0, np.nan, 0, 0, 0, 0]),
            r"h: expected finite real numbers",
        ),
    ],
)
def test_bad_couplings(make, message):
    with pytest.raises(InvalidParameterError, match=message):
        make()


def test_negative_couplings_allowed():
    model = TransverseFieldIsing(Lattice.chain(4), J=-1.0, h=-0.5, gamma=-0.3)
    assert float(model.energy(np.ones(4, np.int8))) == 4.0 + 2.0


def test_graph_ising_field_shape():
    with pytest.raises(
        ShapeError,
        match=r"h: expected a real number or a real array of shape \(6,\); got shape \(5,\)",
    ):
        GraphIsing(GRAPH6, h=np.zeros(5))


def test_wrong_spins_shape_and_dtype():
    model = IsingModel(Lattice.square(3))
    with pytest.raises(
        ShapeError, match=r"spins: expected shape \(\.\.\., 9\) or \(\.\.\., 3, 3\); got \(2, 8\)"
    ):
        model.energy(np.ones((2, 8), np.int8))
    with pytest.raises(ShapeError, match=r"spins: expected shape \(\.\.\., 5\); got \(\)"):
        MaxCut(GRAPH5).energy(np.int8(1))
    with pytest.raises(ShapeError, match=r"spins: expected an integer or floating dtype; got bool"):
        model.energy(np.ones((3, 3), bool))


def test_too_large():
    with pytest.raises(TooLargeError, match=r"sparse_matrix: expected at most 24 sites; got 25"):
        IsingModel(Lattice.chain(25)).sparse_matrix()
    with pytest.raises(TooLargeError, match=r"basis_states: expected at most 24 sites; got 25"):
        basis_states(25)


def test_to_netket_rejects_wrong_hilbert():
    nk = _netket()
    with pytest.raises(InvalidParameterError, match=r"hilbert: expected 4 two-level sites; got"):
        IsingModel(Lattice.chain(4)).to_netket(nk.hilbert.Spin(0.5, 5))
