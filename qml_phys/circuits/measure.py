"""Shot samples of a PennyLane circuit: in rotated Pauli bases (the data of state
tomography), and the expectation of a Hamiltonian with its shot error.

The tomography itself (:mod:`qml_phys.nqs.tomography`) reads these samples; it needs no
PennyLane, and this module needs no NetKet.
"""

from __future__ import annotations

import math

import numpy as np

from qml_phys.errors import InvalidParameterError, check_positive_int

__all__ = ["measure_in_bases", "shot_expectation"]


def _check_basis(basis: str, n: int) -> str:
    if not isinstance(basis, str) or len(basis) != n or any(c not in "XYZ" for c in basis):
        raise InvalidParameterError(
            f"basis: expected a string of {n} letters from X, Y, Z; got {basis!r}"
        )
    return basis


def measure_in_bases(
    circuit, n_wires: int, bases, n_samples: int, *, key, device: str = "default.qubit"
) -> dict[str, np.ndarray]:
    """Shot samples of a PennyLane circuit in each Pauli basis, as ``{basis: spins}``.

    Args:
        circuit: ``circuit()`` applies the gates on wires ``0 .. n_wires-1`` (no
            measurement).
        n_wires: number of qubits.
        bases: strings of ``n_wires`` letters from ``X``, ``Y``, ``Z``.
        n_samples: shots per basis.
        key: JAX PRNG key; the device's sampling seed is drawn from it
            (:func:`~qml_phys.circuits.devices.draw_seed`).
        device: a PennyLane device name that supports ``qml.sample``.

    Returns:
        ``{basis: (n_samples, n_wires) int8 spins}``. For each basis the circuit is
        followed by the basis rotation (``X``: Hadamard; ``Y``: ``S^dag`` then Hadamard)
        and bit ``0`` becomes spin ``+1`` (the package convention, wire 0 = site 0), the
        layout :func:`qml_phys.nqs.tomography.reconstruct` reads.
    """
    import pennylane as qml

    from qml_phys.circuits.devices import draw_seed

    n = check_positive_int("n_wires", n_wires)
    shots = check_positive_int("n_samples", n_samples)
    bases = [_check_basis(b, n) for b in bases]
    if not callable(circuit):
        raise InvalidParameterError(f"circuit: expected a callable applying gates; got {circuit!r}")
    dev = qml.device(device, wires=n, seed=draw_seed(key))
    out = {}
    for b in bases:

        def rotated(b=b):
            circuit()
            for w, c in enumerate(b):
                if c == "X":
                    qml.Hadamard(w)
                elif c == "Y":
                    qml.adjoint(qml.S(w))
                    qml.Hadamard(w)
            return qml.sample(wires=range(n))

        bits = np.asarray(qml.set_shots(qml.QNode(rotated, dev), shots)(), dtype=np.int64)
        out[b] = (1 - 2 * bits.reshape(shots, n)).astype(np.int8)
    return out


def shot_expectation(circuit, hamiltonian, dev, *args) -> tuple[float, float | None]:
    """``<H>`` after ``circuit(*args)`` and its shot standard error on ``dev``.

    On an analytic device: ``(<H>, None)`` (no shot noise to report). On a device with
    shots: the Pauli words of ``hamiltonian`` are grouped into qubit-wise commuting sets
    (``qml.pauli.group_observables``), each set is measured in one execution of ``shots``
    samples, the per-shot value ``sum_j c_j P_j`` gives that set's mean and variance
    ``/ shots``, and the sets, measured with independent shots, add: the error covers the
    covariance of the words measured together. Identity terms add their coefficient.
    """
    import pennylane as qml

    from qml_phys.circuits.devices import device_shots

    shots = device_shots(dev)
    if shots is None:

        @qml.qnode(dev, interface=None, diff_method=None)
        def expval():
            circuit(*args)
            return qml.expval(hamiltonian)

        return float(expval()), None
    sentence = qml.pauli.pauli_sentence(hamiltonian)
    constant, words, coeffs = 0.0, [], []
    for word, c in sentence.items():
        if np.imag(c) != 0:
            raise InvalidParameterError(
                f"hamiltonian: expected real coefficients; got {c} on {dict(word)}"
            )
        if len(word) == 0:
            constant += float(np.real(c))
        else:
            words.append(word.operation())
            coeffs.append(float(np.real(c)))
    if not words:
        return constant, 0.0
    value, var = constant, 0.0
    groups = qml.pauli.group_observables(words, coeffs, grouping_type="qwc")
    for group, cs in zip(*groups, strict=True):

        @qml.qnode(dev, interface=None, diff_method=None)
        def samples(group=group):
            circuit(*args)
            return [qml.sample(op) for op in group]

        per_shot = sum(
            float(c) * np.asarray(x, np.float64).reshape(-1)
            for c, x in zip(cs, samples(), strict=True)
        )
        value += float(per_shot.mean())
        var += float(per_shot.var(ddof=1)) / shots if shots > 1 else math.inf
    return value, math.sqrt(var)
