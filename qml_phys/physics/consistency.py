"""The engine-consistency check: every engine's matrix of a model, in one basis.

:func:`engine_matrices` builds the Hamiltonian of a model through NetKet, PennyLane and
Qiskit and maps each into the canonical basis of :mod:`qml_phys.physics.models` (NetKet's
ordering via ``hilbert.states_to_numbers``; Qiskit's little-endian qubit order reversed).
:func:`engine_deviations` reports the largest entry-wise difference from
``model.sparse_matrix()``; for a correct model every one is at round-off level.
"""

from __future__ import annotations

import numpy as np

from qml_phys.errors import TooLargeError
from qml_phys.physics.models import basis_states
from qml_phys.runtime.precision import float64

MAX_CHECK_SITES = 10


def _dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if hasattr(m, "toarray") else m)


def bit_reversal(n: int) -> np.ndarray:
    """Permutation mapping canonical (site 0 most significant) to Qiskit's qubit order."""
    b = np.arange(2**n)
    return sum(((b >> k) & 1) << (n - 1 - k) for k in range(n))


def engine_matrices(model, engines=("netket", "pennylane", "qiskit")) -> dict[str, np.ndarray]:
    """Dense matrices of ``model`` from each engine, all in the canonical basis."""
    n = model.n_sites
    if n > MAX_CHECK_SITES:
        raise TooLargeError(
            f"engine check builds dense matrices: expected at most {MAX_CHECK_SITES} sites; got {n}"
        )
    out = {"sparse": _dense(model.sparse_matrix())}
    if "netket" in engines:
        op = model.to_netket()
        perm = np.asarray(op.hilbert.states_to_numbers(basis_states(n)))
        with float64():  # NetKet's matrices are float64 only with x64 on (and lenient rules)
            m = _dense(op.to_sparse())
        out["netket"] = m[np.ix_(perm, perm)]
    if "pennylane" in engines:
        out["pennylane"] = np.asarray(model.to_pennylane().matrix(wire_order=range(n)))
    if "qiskit" in engines:
        rev = bit_reversal(n)
        out["qiskit"] = _dense(model.to_qiskit().to_matrix(sparse=True))[np.ix_(rev, rev)]
    return out


def engine_deviations(model, engines=("netket", "pennylane", "qiskit")) -> dict[str, float]:
    """Largest |entry| difference between each engine's matrix and ``sparse_matrix()``,
    plus ``"diagonal"``: the difference between ``model.diagonal`` on every basis state and
    the matrix diagonal."""
    mats = engine_matrices(model, engines)
    ref = mats.pop("sparse")
    dev = {name: float(np.max(np.abs(m - ref))) for name, m in mats.items()}
    states = basis_states(model.n_sites).astype(np.float64)
    with float64():  # the formula at float64 round-off, whatever the process's default
        diag = np.asarray(model.diagonal(states), dtype=np.float64)
    dev["diagonal"] = float(np.max(np.abs(diag - np.diag(ref).real)))
    return dev
