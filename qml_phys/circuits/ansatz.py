r"""Variational circuits as small frozen dataclasses (PennyLane templates in spirit).

Each ansatz holds its static structure (number of wires, bonds, cost terms) and is called
inside a QNode with a parameter array: ``ansatz(params)`` applies its gates to wires
``0 .. n_wires-1``. ``Ansatz.shape(n_layers, n_wires)`` gives the parameter shape, as
PennyLane's ``StronglyEntanglingLayers.shape`` does, and every call validates it with an
"expected X; got Y" message.

Gate conventions: ``exp(-i t P)`` for a Pauli string ``P`` on ``k`` wires is
``qml.MultiRZ(2 t)`` for ``Z...Z``, ``qml.IsingXX/YY/ZZ(2 t)`` for two wires and
``qml.RX(2 t)`` for one ``X``, so the angles here are the ``t`` of the formulas.

* :class:`HardwareEfficient` -- ``RY``/``RZ`` on each wire then a ring of CNOTs
  (A. Kandala et al., Nature 549, 242 (2017), arXiv:1704.05018).
* :class:`TFIMHVA` -- Hamiltonian-variational ansatz of the transverse-field Ising model:
  ``|+>^N``, then per layer ``exp(-i b_l sum_<ij> Z_i Z_j) exp(-i a_l sum_i X_i)`` applied
  right to left, i.e. ``ZZ`` first (R. Wiersema et al., PRX Quantum 1, 020319 (2020),
  arXiv:2008.02941; W. W. Ho and T. H. Hsieh, SciPost Phys. 6, 029 (2019)).
* :class:`HeisenbergHVA` -- product of singlets on the bonds of a first matching, then per
  layer ``exp(-i b_l H_B) exp(-i a_l H_A)`` with ``H_A``/``H_B`` the ``XX+YY+ZZ`` terms of
  the other bonds (``B``) and of the singlet bonds (``A``): the ``B`` layer is applied
  first, since the singlets are eigenstates of ``H_A`` (Wiersema et al., ibid.).
* :class:`QAOA` -- ``|+>^N``, then per layer ``exp(-i beta_l sum X_i) exp(-i gamma_l H_C)``
  with ``H_C`` any diagonal Hamiltonian given as weighted Pauli-``Z`` strings (E. Farhi,
  J. Goldstone and S. Gutmann, arXiv:1411.4028).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pennylane as qml

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int

__all__ = [
    "ANSATZ_NAMES",
    "QAOA",
    "HardwareEfficient",
    "HeisenbergHVA",
    "TFIMHVA",
    "init_params",
    "make_ansatz",
    "split_bonds",
]


def _check_shape(name: str, params, expected: tuple) -> None:
    """``params.shape`` must be ``expected`` with ``None`` = any length >= 1."""
    shape = tuple(getattr(params, "shape", np.shape(params)))
    ok = len(shape) == len(expected) and all(
        (e is None and s >= 1) or s == e for s, e in zip(shape, expected, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("n_layers" if e is None else str(e) for e in expected) + ")"
        raise ShapeError(f"{name}: expected params of shape {want} with n_layers >= 1; got {shape}")


def _shape_args(n_layers, n_wires) -> tuple[int, int]:
    return (
        check_positive_int("n_layers", n_layers, minimum=1),
        check_positive_int("n_wires", n_wires, minimum=1),
    )


def _bonds(bonds, n_wires: int) -> tuple[tuple[int, int], ...]:
    arr = np.asarray(bonds, dtype=np.int64).reshape(-1, 2) if len(bonds) else np.zeros((0, 2))
    out = []
    for i, j in arr.astype(int).tolist():
        if not (0 <= i < n_wires and 0 <= j < n_wires) or i == j:
            raise InvalidParameterError(
                f"bonds: expected pairs of distinct wires in 0..{n_wires - 1}; got ({i}, {j})"
            )
        out.append((min(i, j), max(i, j)))
    return tuple(out)


def split_bonds(bonds, n_wires: int) -> tuple[tuple, tuple]:
    """Split bonds into ``(A, B)``: ``A`` a matching containing every ``(2k, 2k+1)`` bond
    (the singlet pairs), ``B`` the rest, in order; on a chain, the even and odd bonds."""
    taken: set[int] = set()
    a, b = [], []
    bonds = _bonds(bonds, n_wires)
    for i, j in bonds:
        if j == i + 1 and i % 2 == 0 and i not in taken and j not in taken:
            a.append((i, j))
            taken.update((i, j))
    for bond in bonds:
        if bond not in a:
            b.append(bond)
    return tuple(a), tuple(b)


@dataclasses.dataclass(frozen=True)
class HardwareEfficient:
    """Hardware-efficient layers: per layer ``RY(t0) RZ(t1)`` on each wire, then CNOTs
    ``(0,1), (1,2), ..., (N-1,0)`` (a ring; one CNOT for ``N = 2``, none for ``N = 1``).

    Attributes:
        n_wires: number of qubits.
    """

    n_wires: int

    def __post_init__(self):
        object.__setattr__(self, "n_wires", check_positive_int("n_wires", self.n_wires))

    @staticmethod
    def shape(n_layers: int, n_wires: int) -> tuple[int, int, int]:
        """``(n_layers, n_wires, 2)``."""
        n_layers, n_wires = _shape_args(n_layers, n_wires)
        return (n_layers, n_wires, 2)

    def __call__(self, params) -> None:
        _check_shape("HardwareEfficient", params, (None, self.n_wires, 2))
        n = self.n_wires
        ring = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if n > 2 else [])
        for layer in range(params.shape[0]):
            for w in range(n):
                qml.RY(params[layer, w, 0], wires=w)
                qml.RZ(params[layer, w, 1], wires=w)
            for i, j in ring:
                qml.CNOT(wires=[i, j])


class _HVA:
    """What the Hamiltonian-variational ansätze share: bonds from a model's lattice and two
    angles per layer."""

    @classmethod
    def from_model(cls, model):
        """From a model with a ``lattice`` (bonds ``lattice.edges``)."""
        return cls(model.n_sites, tuple(map(tuple, np.asarray(model.lattice.edges))))

    @staticmethod
    def shape(n_layers: int, n_wires: int) -> tuple[int, int]:
        """``(n_layers, 2)``."""
        n_layers, _ = _shape_args(n_layers, n_wires)
        return (n_layers, 2)


@dataclasses.dataclass(frozen=True)
class TFIMHVA(_HVA):
    """HVA of ``H = -J sum Z_i Z_j - Gamma sum X_i``: ``params[l] = (b_l, a_l)`` multiply
    ``sum_<ij> Z_i Z_j`` and ``sum_i X_i`` (see the module docstring).

    Attributes:
        n_wires: number of qubits.
        bonds: ``((i, j), ...)`` the ``ZZ`` bonds (a model's ``lattice.edges``).
    """

    n_wires: int
    bonds: tuple

    def __post_init__(self):
        object.__setattr__(self, "n_wires", check_positive_int("n_wires", self.n_wires))
        object.__setattr__(self, "bonds", _bonds(self.bonds, self.n_wires))

    def __call__(self, params) -> None:
        _check_shape("TFIMHVA", params, (None, 2))
        for w in range(self.n_wires):
            qml.Hadamard(wires=w)
        for layer in range(params.shape[0]):
            for i, j in self.bonds:
                qml.IsingZZ(2 * params[layer, 0], wires=[i, j])
            for w in range(self.n_wires):
                qml.RX(2 * params[layer, 1], wires=w)


def _heisenberg_gate(t, i: int, j: int) -> None:
    """``exp(-i t (XX + YY + ZZ))`` on ``(i, j)`` (the three terms commute)."""
    qml.IsingXX(2 * t, wires=[i, j])
    qml.IsingYY(2 * t, wires=[i, j])
    qml.IsingZZ(2 * t, wires=[i, j])


@dataclasses.dataclass(frozen=True)
class HeisenbergHVA(_HVA):
    """HVA of the Heisenberg model: singlets on the matching ``A`` of :func:`split_bonds`,
    then per layer ``exp(-i a_l H_A) exp(-i b_l H_B)`` (``B`` first); ``params[l] = (b_l, a_l)``.

    Attributes:
        n_wires: number of qubits (even, so that the singlets cover all of them).
        bonds: ``((i, j), ...)`` the bonds (a model's ``lattice.edges``); must contain
            ``(0, 1), (2, 3), ...``.
    """

    n_wires: int
    bonds: tuple

    def __post_init__(self):
        n = check_positive_int("n_wires", self.n_wires, minimum=2)
        if n % 2:
            raise InvalidParameterError(f"HeisenbergHVA: expected an even n_wires; got {n}")
        object.__setattr__(self, "n_wires", n)
        object.__setattr__(self, "bonds", _bonds(self.bonds, n))
        a, _ = split_bonds(self.bonds, n)
        if len(a) != n // 2:
            raise InvalidParameterError(
                f"HeisenbergHVA: expected bonds to contain (0, 1), (2, 3), ..., ({n - 2}, "
                f"{n - 1}) for the singlets; got {list(self.bonds)}"
            )

    def __call__(self, params) -> None:
        _check_shape("HeisenbergHVA", params, (None, 2))
        a, b = split_bonds(self.bonds, self.n_wires)
        for i, j in a:  # (|01> - |10>) / sqrt(2)
            qml.Hadamard(wires=i)
            qml.CNOT(wires=[i, j])
            qml.PauliX(wires=j)
            qml.PauliZ(wires=i)
        for layer in range(params.shape[0]):
            for i, j in b:
                _heisenberg_gate(params[layer, 0], i, j)
            for i, j in a:
                _heisenberg_gate(params[layer, 1], i, j)


@dataclasses.dataclass(frozen=True)
class QAOA:
    """QAOA layers for a diagonal cost ``H_C = sum_k c_k Z...Z``; ``params[l] = (gamma_l,
    beta_l)``. Constant terms only add a global phase and are skipped.

    Attributes:
        n_wires: number of qubits.
        cost_terms: ``((paulis, sites, coeff), ...)`` as ``model.pauli_terms()``; only
            ``Z`` strings (and the constant ``""``) are allowed.
    """

    n_wires: int
    cost_terms: tuple

    def __post_init__(self):
        n = check_positive_int("n_wires", self.n_wires)
        object.__setattr__(self, "n_wires", n)
        terms = []
        for paulis, sites, coeff in self.cost_terms:
            sites = tuple(int(s) for s in sites)
            if set(paulis) - {"Z"} or len(paulis) != len(sites):
                raise InvalidParameterError(
                    f"QAOA: expected a diagonal cost (Pauli Z strings only); got {paulis!r} "
                    f"on {sites}"
                )
            if any(not 0 <= s < n for s in sites) or len(set(sites)) != len(sites):
                raise InvalidParameterError(
                    f"QAOA: expected distinct sites in 0..{n - 1}; got {sites}"
                )
            terms.append((paulis, sites, float(coeff)))
        object.__setattr__(self, "cost_terms", tuple(terms))

    @classmethod
    def from_model(cls, model) -> QAOA:
        """From a diagonal model (``IsingModel``, ``MaxCut``, ``GraphIsing`` with gamma 0)."""
        return cls(model.n_sites, tuple(model.pauli_terms()))

    @staticmethod
    def shape(n_layers: int, n_wires: int) -> tuple[int, int]:
        """``(n_layers, 2)``."""
        n_layers, _ = _shape_args(n_layers, n_wires)
        return (n_layers, 2)

    def cost_layer(self, gamma) -> None:
        """``exp(-i gamma H_C)``."""
        for _, sites, coeff in self.cost_terms:
            if sites:
                qml.MultiRZ(2 * coeff * gamma, wires=list(sites))

    def mixer_layer(self, beta) -> None:
        """``exp(-i beta sum_i X_i)``."""
        for w in range(self.n_wires):
            qml.RX(2 * beta, wires=w)

    def __call__(self, params) -> None:
        _check_shape("QAOA", params, (None, 2))
        for w in range(self.n_wires):
            qml.Hadamard(wires=w)
        for layer in range(params.shape[0]):
            self.cost_layer(params[layer, 0])
            self.mixer_layer(params[layer, 1])


#: Names accepted by :func:`make_ansatz`.
ANSATZ_NAMES = ("hea", "hva", "qaoa")


def make_ansatz(name: str, model):
    """The ansatz ``name`` for ``model``: ``"hea"``; ``"hva"`` (TFIM or Heisenberg by the
    model's type); ``"qaoa"`` (diagonal models)."""
    from qml_phys.errors import UnknownNameError
    from qml_phys.physics.models import Heisenberg, TransverseFieldIsing

    if name == "hea":
        return HardwareEfficient(model.n_sites)
    if name == "qaoa":
        return QAOA.from_model(model)
    if name == "hva":
        if isinstance(model, TransverseFieldIsing):
            return TFIMHVA.from_model(model)
        if isinstance(model, Heisenberg):
            return HeisenbergHVA.from_model(model)
        raise InvalidParameterError(
            f"hva: expected a TransverseFieldIsing or Heisenberg model; got {type(model).__name__}"
        )
    raise UnknownNameError(f"ansatz: expected one of {', '.join(ANSATZ_NAMES)}; got {name!r}")


def init_params(ansatz, n_layers: int, *, key, scale: float = 0.1) -> np.ndarray:
    """Initial parameters ``scale * N(0, 1)``, float64 numpy of shape
    ``ansatz.shape(n_layers, n_wires)`` (radians), drawn from the JAX PRNG ``key``."""
    import jax

    from qml_phys.runtime.precision import float64

    shape = ansatz.shape(n_layers, ansatz.n_wires)
    with float64():
        normal = jax.random.normal(key, shape, dtype=jax.numpy.float64)
    return float(scale) * np.asarray(normal, dtype=np.float64)
