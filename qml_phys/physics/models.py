r"""Spin models specified once and compiled to every engine.

A model is a frozen dataclass holding a :class:`~qml_phys.physics.lattice.Lattice` (or a
:class:`~qml_phys.physics.lattice.Graph`) and its couplings. From it one gets

* ``energy(spins)`` / ``diagonal(spins)``: pure ``jax.numpy``, jit- and vmap-able;
* ``sparse_matrix()``: the Hamiltonian as a ``scipy.sparse.csr_matrix`` (exact reference);
* ``to_netket()``, ``to_pennylane()``, ``to_qiskit()``: the same operator in each library;
* ``pauli_terms()``: the one list of Pauli strings every representation is built from.

Conventions (the only place they are written down)
---------------------------------------------------

* **Pauli matrices**, never spin-1/2 operators: ``Z = diag(+1, -1)``, so a Heisenberg
  coupling ``J (X X + Y Y + Z Z)`` equals ``4 J S.S``.
* **Spins and qubits.** A classical spin ``s = +1`` is the qubit state ``|0>``, the
  eigenvector of ``Z`` with eigenvalue ``+1``; ``s = -1`` is ``|1>``. Classical energies
  carry the same signs as the diagonal of the quantum Hamiltonians: ``energy(s) =
  <s|H|s>``.
* **Canonical basis** (``sparse_matrix()``, :func:`basis_states`): the configuration ``s``
  has index ``b = sum_i bit_i * 2**(N-1-i)`` with ``bit_i = (1 - s_i) / 2``. Site 0 is the
  most significant bit. This is PennyLane's ordering with wires ``0 .. N-1``
  (``qml.matrix(H, wire_order=range(N))`` equals ``sparse_matrix()``).
* **Qiskit**: site ``i`` is qubit ``i``. Qiskit is little-endian (qubit 0 is the *least*
  significant bit), so ``op.to_matrix()`` equals ``sparse_matrix()`` after reversing the
  bit order of the basis indices (``M_ours[b, b'] = M_qiskit[rev(b), rev(b')]``).
* **NetKet** (checked for NetKet 3.23): ``nk.hilbert.Spin(0.5, N)`` orders its local
  states ``[+1, -1]`` (``ordering=new``), ``hilbert.states_to_numbers`` maps the
  configuration with spins ``s`` to the same index ``b`` as above, and
  ``nk.operator.spin.sigmaz`` is ``+1`` on ``s = +1``. The permutation between NetKet's
  basis and ours is therefore the identity; ``tests/physics/test_models.py`` pins this.
  The operator is a ``nk.operator.PauliStrings`` built from :meth:`pauli_terms`, so no
  Marshall sign rule is applied (``nk.operator.Heisenberg`` applies one by default on
  bipartite graphs; ours never does).
* **Bonds** are ``lattice.edges`` (nearest) and ``lattice.next_nearest_edges`` exactly as
  listed: for ``L = 2`` with periodic boundaries the doubled bonds count twice.

Spins given to ``energy``/``diagonal`` have shape ``(..., N)``, or ``(..., L, L)`` for a
square lattice, entries in {-1, +1} (not checked: the functions are traced), of any
integer or floating dtype. The result has shape ``(...)`` and is ``float64`` for
``float64`` input (JAX x64 mode on) and ``float32`` otherwise (integer, ``float32``,
``float16``, ``bfloat16`` input).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    check_positive_int,
)
from qml_phys.physics.lattice import Graph, Lattice

__all__ = [
    "MAX_EXACT_SITES",
    "GraphIsing",
    "Heisenberg",
    "IsingModel",
    "MaxCut",
    "PauliTerm",
    "TransverseFieldIsing",
    "basis_states",
]

#: Largest number of sites for which :meth:`sparse_matrix` and :func:`basis_states` work.
MAX_EXACT_SITES = 24

#: ``(paulis, sites, coefficient)``, e.g. ``("ZZ", (0, 1), -1.0)``; ``("", (), c)`` is the
#: constant ``c * I``. Qiskit's ``SparsePauliOp.from_sparse_list`` format.
PauliTerm = tuple[str, tuple[int, ...], float]


# --------------------------------------------------------------------------- helpers


def _coupling(name: str, value) -> float:
    """``value`` as a finite Python float; else :class:`InvalidParameterError`."""
    bad = (
        isinstance(value, (str, bytes, bool, np.bool_))
        or np.ndim(value) != 0
        or np.iscomplexobj(value)
    )
    if not bad:
        try:
            x = float(value)
        except (TypeError, ValueError):
            bad = True
        else:
            bad = not math.isfinite(x)
    if bad:
        raise InvalidParameterError(f"{name}: expected a finite real number; got {value!r}")
    return x


def _check_lattice(model: str, lattice) -> Lattice:
    if not isinstance(lattice, Lattice):
        raise InvalidParameterError(
            f"{model}: expected a Lattice; got {type(lattice).__name__} "
            "(use GraphIsing or MaxCut for a Graph)"
        )
    return lattice


def _check_graph(model: str, graph) -> Graph:
    if isinstance(graph, Lattice):
        return graph.to_graph()
    if not isinstance(graph, Graph):
        raise InvalidParameterError(
            f"{model}: expected a Graph or a Lattice; got {type(graph).__name__}"
        )
    return graph


def _pair_sum(s: jax.Array, pairs: np.ndarray, weights: np.ndarray | None = None) -> jax.Array:
    r"""``sum_e w_e s[..., i_e] s[..., j_e]`` by gathering both ends of every bond."""
    if len(pairs) == 0:
        return jnp.zeros(s.shape[:-1], s.dtype)
    prod = s[..., pairs[:, 0]] * s[..., pairs[:, 1]]
    if weights is not None:
        # explicit rank (no implicit rank promotion); no matmul, which may run in TF32 on GPUs
        prod = prod * jnp.asarray(weights, s.dtype).reshape((1,) * (s.ndim - 1) + (-1,))
    return jnp.sum(prod, axis=-1)


def _merge_terms(terms) -> list[PauliTerm]:
    """Put sites in increasing order, add equal strings, drop zero coefficients."""
    merged: dict[tuple[str, tuple[int, ...]], float] = {}
    for paulis, sites, coeff in terms:
        order = sorted(range(len(sites)), key=lambda k: sites[k])
        key = ("".join(paulis[k] for k in order), tuple(int(sites[k]) for k in order))
        merged[key] = merged.get(key, 0.0) + float(coeff)
    out = [(p, s, c) for (p, s), c in merged.items() if c != 0.0]
    return out if out else [("", (), 0.0)]


def basis_states(n: int) -> np.ndarray:
    """All ``2**n`` spin configurations in canonical order, ``(2**n, n)`` int8 in {-1,+1}.

    Row ``b`` has ``s_i = 1 - 2 * bit_i`` with ``b = sum_i bit_i 2**(n-1-i)``: row 0 is all
    ``+1``, row 1 flips the last site.
    """
    n = check_positive_int("n", n)
    if n > MAX_EXACT_SITES:
        raise TooLargeError(f"basis_states: expected at most {MAX_EXACT_SITES} sites; got {n}")
    b = np.arange(1 << n, dtype=np.int64)
    bits = (b[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8)


# ------------------------------------------------------------------------ base class


class _SpinModel:
    """Shared engine back-ends; subclasses define ``n_sites``, ``_terms`` and ``diagonal``."""

    @property
    def n_sites(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def _site_shape(self) -> tuple[int, ...]:
        """Grid shape of one configuration: ``(N,)``, or ``(L, L)`` on the square lattice."""
        return (self.n_sites,)

    def _terms(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def diagonal(self, spins) -> jax.Array:  # pragma: no cover - overridden
        raise NotImplementedError

    def energy(self, spins) -> jax.Array:
        """Energy of classical configurations, ``<s|H|s>`` (see the module conventions).

        Args:
            spins: ``(..., N)`` (or ``(..., L, L)`` on a square lattice), entries in
                {-1,+1}, any integer or floating dtype.

        Returns:
            ``(...)`` float32 (float64 for float64 input).
        """
        return self.diagonal(spins)

    def _spins(self, spins) -> jax.Array:
        """Validate ``spins`` (at trace time) and return them flat, ``(..., N)`` floating."""
        s = jnp.asarray(spins)
        if not (jnp.issubdtype(s.dtype, jnp.integer) or jnp.issubdtype(s.dtype, jnp.floating)):
            raise ShapeError(f"spins: expected an integer or floating dtype; got {s.dtype}")
        n, grid = self.n_sites, self._site_shape
        if s.ndim >= len(grid) and len(grid) > 1 and s.shape[s.ndim - len(grid) :] == grid:
            s = s.reshape(s.shape[: s.ndim - len(grid)] + (n,))
        elif s.ndim == 0 or s.shape[-1] != n:
            alt = "" if len(grid) == 1 else f" or (..., {', '.join(map(str, grid))})"
            raise ShapeError(f"spins: expected shape (..., {n}){alt}; got {tuple(s.shape)}")
        dtype = jnp.float64 if s.dtype == jnp.float64 else jnp.float32
        return s.astype(dtype)

    def pauli_terms(self) -> list[PauliTerm]:
        """The Hamiltonian as ``[(paulis, sites, coefficient), ...]``.

        Sites are in increasing order within a term, equal strings (e.g. doubled bonds)
        are added up and zero coefficients are dropped; ``("", (), c)`` is ``c * I``.
        """
        return list(self._merged_terms)

    @cached_property
    def _merged_terms(self) -> tuple[PauliTerm, ...]:
        return tuple(_merge_terms(self._terms()))

    def sparse_matrix(self) -> scipy.sparse.csr_matrix:
        """The Hamiltonian in the canonical basis, ``(2**N, 2**N)`` float64 CSR.

        Built from bit operations on all basis indices at once: a Pauli string maps
        ``|c>`` to ``i**n_Y (-1)**popcount(c & (Y|Z mask)) |c ^ (X|Y mask)>``; strings with
        the same flip mask share one stored entry per row.
        """
        n = self.n_sites
        if n > MAX_EXACT_SITES:
            raise TooLargeError(f"sparse_matrix: expected at most {MAX_EXACT_SITES} sites; got {n}")
        dim = 1 << n
        rows = np.arange(dim, dtype=np.int64)
        by_flip: dict[int, np.ndarray] = {}
        for paulis, sites, coeff in self._merged_terms:
            flip = phase_mask = n_y = 0
            for p, i in zip(paulis, sites, strict=True):
                bit = 1 << (n - 1 - i)
                flip |= bit if p in "XY" else 0
                phase_mask |= bit if p in "YZ" else 0
                n_y += p == "Y"
            if n_y % 2:  # pragma: no cover - no model has an odd number of Y
                raise InvalidParameterError(f"expected a real Hamiltonian; got term {paulis}")
            cols = rows ^ flip if flip else rows
            sign = 1 - 2 * (np.bitwise_count(cols & phase_mask) & 1).astype(np.float64)
            value = coeff * (-1) ** (n_y // 2) * sign
            by_flip[flip] = by_flip[flip] + value if flip in by_flip else value
        flips = np.fromiter(by_flip, dtype=np.int64)
        k = len(flips)
        index_dtype = np.int32 if dim * k < 2**31 else np.int64
        indices = (rows[:, None] ^ flips[None, :]).astype(index_dtype).ravel()
        data = np.stack([by_flip[f] for f in by_flip], axis=1).ravel()
        indptr = np.arange(0, dim * k + 1, k, dtype=index_dtype)
        mat = scipy.sparse.csr_matrix((data, indices, indptr), shape=(dim, dim))
        mat.sort_indices()
        mat.eliminate_zeros()
        return mat

    def to_netket(self, hilbert=None):
        """The Hamiltonian as ``nk.operator.PauliStrings`` (matrix identical to ours).

        Args:
            hilbert: a NetKet Hilbert space of ``N`` spins 1/2 (e.g. with a ``total_sz``
                constraint); default ``nk.hilbert.Spin(0.5, N)``.
        """
        import netket as nk

        from qml_phys.runtime.precision import float64

        n = self.n_sites
        if hilbert is None:
            hilbert = nk.hilbert.Spin(0.5, n)
        elif hilbert.size != n or tuple(hilbert.shape) != (2,) * n:
            raise InvalidParameterError(f"hilbert: expected {n} two-level sites; got {hilbert!r}")
        strings, weights = [], []
        for paulis, sites, coeff in self._merged_terms:
            chars = ["I"] * n
            for p, i in zip(paulis, sites, strict=True):
                chars[i] = p
            strings.append("".join(chars))
            weights.append(coeff)
        # float64 weights whatever the process's JAX default (NetKet stores them as jnp)
        with float64():
            return nk.operator.PauliStrings(hilbert, strings, weights, cutoff=0.0)

    def to_pennylane(self):
        """The Hamiltonian as a PennyLane ``qml.Hamiltonian`` on wires ``0 .. N-1``.

        The constant term (if any) is ``qml.Identity`` on all wires.
        """
        import pennylane as qml

        pauli = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}
        coeffs, observables = [], []
        for paulis, sites, coeff in self._merged_terms:
            factors = [pauli[p](i) for p, i in zip(paulis, sites, strict=True)]
            if not factors:
                obs = qml.Identity(wires=list(range(self.n_sites)))
            elif len(factors) == 1:
                obs = factors[0]
            else:
                obs = qml.prod(*factors)
            coeffs.append(coeff)
            observables.append(obs)
        return qml.Hamiltonian(coeffs, observables)

    def to_qiskit(self):
        """The Hamiltonian as ``qiskit.quantum_info.SparsePauliOp`` (site ``i`` = qubit ``i``).

        Qiskit is little-endian: its matrix equals ``sparse_matrix()`` after reversing the
        qubit order.
        """
        from qiskit.quantum_info import SparsePauliOp

        terms = [(p, list(s), c) for p, s, c in self._merged_terms]
        return SparsePauliOp.from_sparse_list(terms, num_qubits=self.n_sites)


class _LatticeModel(_SpinModel):
    def __post_init__(self):
        """Check the lattice; every other field is a finite real coupling."""
        _check_lattice(type(self).__name__, self.lattice)
        for field in dataclasses.fields(self):
            if field.name != "lattice":
                value = _coupling(field.name, getattr(self, field.name))
                object.__setattr__(self, field.name, value)

    @property
    def n_sites(self) -> int:
        return self.lattice.n_sites

    @property
    def _site_shape(self) -> tuple[int, ...]:
        return self.lattice.shape


class _IsingTerms(_LatticeModel):
    """The classical part ``-J sum_<ij> Z_i Z_j - h sum_i Z_i`` of the Ising models."""

    def diagonal(self, spins) -> jax.Array:
        """``-J sum_<ij> s_i s_j - h sum_i s_i``; ``spins`` ``(..., N)`` or ``(..., L, L)``."""
        s = self._spins(spins)
        return -self.J * _pair_sum(s, self.lattice.edges) - self.h * jnp.sum(s, axis=-1)

    def _terms(self):
        for i, j in self.lattice.edges:
            yield "ZZ", (i, j), -self.J
        for i in range(self.n_sites):
            yield "Z", (i,), -self.h


# ---------------------------------------------------------------------------- models


@dataclasses.dataclass(frozen=True)
class IsingModel(_IsingTerms):
    r"""Classical Ising model, ``E(s) = -J sum_<ij> s_i s_j - h sum_i s_i``.

    As an operator (``sparse_matrix``, ``to_*``) it is the diagonal
    ``H = -J sum_<ij> Z_i Z_j - h sum_i Z_i``.

    Attributes:
        lattice: the lattice; bonds are ``lattice.edges``.
        J: nearest-neighbour coupling (ferromagnetic for ``J > 0``).
        h: uniform field.
    """

    lattice: Lattice
    J: float = 1.0
    h: float = 0.0


@dataclasses.dataclass(frozen=True)
class TransverseFieldIsing(_IsingTerms):
    r"""Transverse-field Ising model, ``H = -J sum_<ij> Z_i Z_j - h sum_i Z_i - gamma sum_i X_i``.

    On the periodic chain with ``h = 0`` it maps to free fermions (P. Pfeuty, Ann. Phys. 57,
    79 (1970), doi:10.1016/0003-4916(70)90270-8); ``energy`` is the diagonal
    ``-J sum s_i s_j - h sum s_i``.

    Attributes:
        lattice: the lattice; bonds are ``lattice.edges``.
        J: nearest-neighbour ``ZZ`` coupling.
        h: longitudinal field.
        gamma: transverse field ``Gamma``.
    """

    lattice: Lattice
    J: float = 1.0
    h: float = 0.0
    gamma: float = 1.0

    def _terms(self):
        yield from super()._terms()
        for i in range(self.n_sites):
            yield "X", (i,), -self.gamma


@dataclasses.dataclass(frozen=True)
class Heisenberg(_LatticeModel):
    r"""J1-J2 Heisenberg model in Pauli matrices, no sign rule:

    ``H = J1 sum_<ij> (X_i X_j + Y_i Y_j + Z_i Z_j) + J2 sum_<<ij>> (X_i X_j + Y_i Y_j + Z_i Z_j)``

    with ``<ij>`` = ``lattice.edges`` and ``<<ij>>`` = ``lattice.next_nearest_edges``.
    ``J1 > 0`` is antiferromagnetic. At ``J2 = J1 / 2`` on a periodic chain of even length
    the ground state is a product of singlets with ``E0 = -3 J1 N / 2`` (Majumdar and
    Ghosh, J. Math. Phys. 10, 1388 (1969), doi:10.1063/1.1664978).

    Attributes:
        lattice: the lattice.
        J1: nearest-neighbour coupling.
        J2: next-nearest-neighbour coupling (diagonals on the square lattice).
    """

    lattice: Lattice
    J1: float = 1.0
    J2: float = 0.0

    def diagonal(self, spins) -> jax.Array:
        """``<s|H|s> = J1 sum_<ij> s_i s_j + J2 sum_<<ij>> s_i s_j``."""
        s = self._spins(spins)
        return self.J1 * _pair_sum(s, self.lattice.edges) + self.J2 * _pair_sum(
            s, self.lattice.next_nearest_edges
        )

    def _terms(self):
        bond_sets = ((self.lattice.edges, self.J1), (self.lattice.next_nearest_edges, self.J2))
        for bonds, coupling in bond_sets:
            for i, j in bonds:
                for p in ("XX", "YY", "ZZ"):
                    yield p, (i, j), coupling


@dataclasses.dataclass(frozen=True, eq=False)
class GraphIsing(_SpinModel):
    r"""Ising model on a weighted graph:

    ``H = -sum_e J_e Z_i Z_j - sum_i h_i Z_i - gamma sum_i X_i``.

    The edge weights of ``graph`` are the couplings ``J_e`` (any sign: spin glasses,
    QUBO). ``energy`` is the diagonal ``-sum_e J_e s_i s_j - sum_i h_i s_i``.

    Attributes:
        graph: the graph (a :class:`Lattice` is turned into its unit-weight graph).
        h: a uniform field, or one per node, ``(n_nodes,)``; stored as ``(n_nodes,)`` float64.
        gamma: transverse field.
    """

    graph: Graph
    h: float | np.ndarray = 0.0
    gamma: float = 0.0

    def __post_init__(self):
        graph = _check_graph("GraphIsing", self.graph)
        n = graph.n_nodes
        if np.ndim(self.h) == 0:
            h = np.full(n, _coupling("h", self.h))
        else:
            h = np.asarray(self.h)
            if h.shape != (n,) or not (
                np.issubdtype(h.dtype, np.integer) or np.issubdtype(h.dtype, np.floating)
            ):
                raise ShapeError(
                    f"h: expected a real number or a real array of shape ({n},); "
                    f"got shape {h.shape} dtype {h.dtype}"
                )
            h = h.astype(np.float64)
            if not np.all(np.isfinite(h)):
                raise InvalidParameterError(f"h: expected finite real numbers; got {h!r}")
        h.flags.writeable = False
        object.__setattr__(self, "graph", graph)
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "gamma", _coupling("gamma", self.gamma))

    @property
    def n_sites(self) -> int:
        return self.graph.n_nodes

    def diagonal(self, spins) -> jax.Array:
        """``<s|H|s> = -sum_e J_e s_i s_j - sum_i h_i s_i``; ``spins`` ``(..., n_nodes)``."""
        s = self._spins(spins)
        h = jnp.asarray(self.h, s.dtype).reshape((1,) * (s.ndim - 1) + (-1,))
        return -_pair_sum(s, self.graph.edges, self.graph.weights) - jnp.sum(s * h, axis=-1)

    def _terms(self):
        for (i, j), w in zip(self.graph.edges, self.graph.weights, strict=True):
            yield "ZZ", (i, j), -w
        for i in range(self.n_sites):
            yield "Z", (i,), -self.h[i]
            yield "X", (i,), -self.gamma


@dataclasses.dataclass(frozen=True, eq=False)
class MaxCut(_SpinModel):
    r"""MaxCut of a weighted graph as a cost Hamiltonian (E. Farhi, J. Goldstone and
    S. Gutmann, arXiv:1411.4028).

    ``cut(s) = sum_e w_e (1 - s_i s_j) / 2`` and ``energy(s) = -cut(s)``, i.e.
    ``H_C = sum_e w_e (Z_i Z_j - 1) / 2`` with the constant kept in every representation,
    so the ground energy is ``-MaxCut``.

    Attributes:
        graph: the graph (a :class:`Lattice` is turned into its unit-weight graph).
    """

    graph: Graph

    def __post_init__(self):
        object.__setattr__(self, "graph", _check_graph("MaxCut", self.graph))

    @property
    def n_sites(self) -> int:
        return self.graph.n_nodes

    def cut_value(self, spins) -> jax.Array:
        """Total weight of edges joining opposite spins, ``(...)``; ``spins`` ``(..., n_nodes)``."""
        return -self.diagonal(spins)

    def diagonal(self, spins) -> jax.Array:
        """``<s|H_C|s> = sum_e w_e (s_i s_j - 1) / 2 = -cut(s)``."""
        s = self._spins(spins)
        total = float(np.sum(self.graph.weights))
        return 0.5 * (_pair_sum(s, self.graph.edges, self.graph.weights) - total)

    def _terms(self):
        for (i, j), w in zip(self.graph.edges, self.graph.weights, strict=True):
            yield "ZZ", (i, j), 0.5 * w
        yield "", (), -0.5 * float(np.sum(self.graph.weights))
