r"""Error mitigation of energies on noisy devices: zero-noise extrapolation and readout
inversion, with shot errors propagated and one total shot budget for raw and mitigated.

:func:`mitigated_energy` evaluates ``<psi(params)|H|psi(params)>`` of a circuit with fixed
parameters twice, each time with the same total number of shots ``S``
(:attr:`MitigationConfig.shots`, or the device's shots):

* **raw** -- the circuit as it is, ``S`` shots split over the qubit-wise commuting groups
  of ``H``'s Pauli terms (one circuit per group, rotated into the computational basis);
* **mitigated** -- ``S`` shots split over the calibration circuits (readout), the noise
  scale factors (ZNE) and the groups.

Energies are estimated from the measured bitstrings themselves, so that every estimate
carries its shot error (the standard error of the per-shot energy, groups independent).

Zero-noise extrapolation (K. Temme, S. Bravyi and J. M. Gambetta, PRL 119, 180509 (2017),
arXiv:1612.02058; T. Giurgica-Tiron et al., arXiv:2005.10921): the noise is amplified by
global unitary folding, ``U -> U (U^dagger U)^k`` (PennyLane's ``qml.noise.fold_global``;
scale factor ``lambda = 2k + 1``, fractional factors fold the last gates), and the
energies ``E(lambda_k)`` are extrapolated to ``lambda = 0`` with a linear combination
``E(0) = sum_k c_k E(lambda_k)``, so that independent shot errors ``s_k`` propagate
exactly: ``s = sqrt(sum_k c_k^2 s_k^2)``.

Why Richardson (the default): on ``fake_manila`` the measured ``E(lambda)`` at the TFIM
optimum decays like ``exp(-a lambda)`` with ``a ~ 0.1`` (ratios 1.23 and 1.22 between
``lambda = 1, 3, 5``). A linear fit leaves a bias of order ``a^2`` (about 3 % of the
energy at ``a = 0.1``); Richardson through three points (the interpolating quadratic,
identical to ``"quadratic"`` with three factors) cancels the first two orders and leaves
0.3 %, at the price of amplifying the shot noise by ``sqrt(sum c_k^2 n / n_k)`` (``c = (15,
-10, 3)/8`` for ``(1, 3, 5)``). Shots are therefore split over the scale factors in
proportion to ``|c_k|``, the split that minimises that variance for equal per-shot
variances. ``"linear"`` (least squares, more robust when the decay is strong) and
``"quadratic"`` (least squares, exact on quadratic data) are the polynomial alternatives
(``qml.noise.poly_extrapolate``).

Readout mitigation (tensored; S. Bravyi et al., PRA 103, 042605 (2021),
arXiv:2006.14044): two calibration circuits prepare ``|0...0>`` and ``|1...1>``; their
marginals give each qubit's assignment matrix ``A_i[m, p] = P(measure m | prepared p)``.
The tensor product of the ``A_i`` is inverted on the measured distribution
(:func:`invert_readout`); for Pauli-``Z`` products this is a per-shot weight
``prod_i g_i(b_i)`` with ``g_i = (1, -1) A_i^{-1}``, so the shot error is again the
standard error of a per-shot mean. The calibration's own binomial errors are added in
quadrature by linear propagation (finite differences of the mitigated energy in the error
rates). Readout errors that are correlated between qubits are not corrected.

``"both"`` applies readout inversion to every scale factor, then extrapolates (folding does
not amplify readout errors, so they must be removed first).

On Qiskit Aer the circuits are transpiled with ``optimization_level=0`` (raw and mitigated
alike): the transpiler's optimisations would cancel the folded ``U^dagger U`` pairs. Every
job gets its own sampling seed (see :mod:`~qml_phys.circuits.devices`).

:func:`depolarized_device` is PennyLane's ``default.mixed`` with noise of known strength
(a depolarizing channel after every gate, bit flips at readout), to test all of this.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pennylane as qml

from qml_phys.circuits.devices import (
    DeviceConfig,
    check_simulable,
    check_wires,
    device_shots,
    make_device,
)
from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.runtime.results import Result

__all__ = [
    "EXTRAPOLATIONS",
    "METHODS",
    "MitigatedEnergy",
    "MitigationConfig",
    "assignment_matrices",
    "check_mitigable",
    "depolarized_device",
    "extrapolate",
    "extrapolation_coefficients",
    "ideal_energy",
    "invert_readout",
    "make_foldable_device",
    "mitigate_model",
    "mitigated_energy",
]

#: Mitigation methods of :attr:`MitigationConfig.method`.
METHODS = ("none", "zne", "readout", "both")

#: Extrapolations of :attr:`MitigationConfig.extrapolation` and the scale factors each needs.
EXTRAPOLATIONS = {"richardson": 2, "linear": 2, "quadratic": 3}

#: Devices that recompile circuits (folded inverse pairs would cancel), and why.
NO_GATE_CONTROL = {
    "qiskit.remote": "IBM's runtime transpiles and optimises the circuits it is sent",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class MitigationConfig:
    """How :func:`mitigated_energy` mitigates."""

    method: str = "both"
    """``"none"`` (raw only), ``"zne"``, ``"readout"`` or ``"both"``."""
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    """Noise scale factors of the folding (distinct, >= 1; odd integers fold exactly)."""
    extrapolation: str = "richardson"
    """``"richardson"`` (interpolating polynomial), ``"linear"`` or ``"quadratic"`` (least
    squares); see the module docstring for the choice."""
    shots: int | None = None
    """Total shot budget of each of the raw and the mitigated estimate; ``None``: the
    device's shots."""
    calibration_fraction: float = 0.1
    """Fraction of the budget spent on the two readout calibration circuits, in (0, 1)."""

    def __post_init__(self):
        if self.method not in METHODS:
            raise UnknownNameError(f"method: expected one of {METHODS}; got {self.method!r}")
        if self.extrapolation not in EXTRAPOLATIONS:
            raise UnknownNameError(
                f"extrapolation: expected one of {tuple(EXTRAPOLATIONS)}; "
                f"got {self.extrapolation!r}"
            )
        try:
            factors = tuple(float(s) for s in self.scale_factors)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"scale_factors: expected a sequence of numbers >= 1; got {self.scale_factors!r}"
            ) from None
        if not all(math.isfinite(s) and s >= 1 for s in factors) or len(set(factors)) < len(
            factors
        ):
            raise InvalidParameterError(
                f"scale_factors: expected distinct finite numbers >= 1; got {factors}"
            )
        need = EXTRAPOLATIONS[self.extrapolation]
        if self.uses_zne and len(factors) < need:
            raise InvalidParameterError(
                f"scale_factors: expected at least {need} for extrapolation="
                f"{self.extrapolation!r}; got {len(factors)} {factors}"
            )
        object.__setattr__(self, "scale_factors", factors)
        if self.shots is not None and (
            isinstance(self.shots, bool) or not isinstance(self.shots, int) or self.shots < 1
        ):
            raise InvalidParameterError(
                f"shots: expected None or an integer >= 1; got {self.shots!r}"
            )
        f = self.calibration_fraction
        if not (isinstance(f, (int, float)) and 0 < f < 1):
            raise InvalidParameterError(f"calibration_fraction: expected 0 < f < 1; got {f!r}")

    @property
    def uses_zne(self) -> bool:
        """Zero-noise extrapolation is applied."""
        return self.method in ("zne", "both")

    @property
    def uses_readout(self) -> bool:
        """Readout inversion is applied."""
        return self.method in ("readout", "both")


# -- extrapolation ---------------------------------------------------------------------------


def extrapolation_coefficients(scale_factors, extrapolation: str = "richardson") -> np.ndarray:
    r"""``(K,)`` float64 ``c`` with ``E(0) = sum_k c_k E(lambda_k)`` for the polynomial fit.

    Richardson: the Lagrange weights ``c_k = prod_{j != k} lambda_j / (lambda_j -
    lambda_k)`` (exact on polynomials of degree ``K - 1``); ``"linear"``/``"quadratic"``:
    the first row of the least-squares pseudo-inverse of the Vandermonde matrix.
    """
    x = np.asarray(scale_factors, dtype=np.float64)
    if extrapolation not in EXTRAPOLATIONS:
        raise UnknownNameError(
            f"extrapolation: expected one of {tuple(EXTRAPOLATIONS)}; got {extrapolation!r}"
        )
    need = EXTRAPOLATIONS[extrapolation]
    if x.ndim != 1 or len(x) < need or len(set(x.tolist())) < len(x):
        raise InvalidParameterError(
            f"scale_factors: expected at least {need} distinct values for extrapolation="
            f"{extrapolation!r}; got {x.tolist()}"
        )
    degree = {"richardson": len(x) - 1, "linear": 1, "quadratic": 2}[extrapolation]
    vandermonde = x[:, None] ** np.arange(degree + 1)[None, :]
    return np.linalg.pinv(vandermonde)[0]


def extrapolate(scale_factors, values, errors=None, extrapolation: str = "richardson"):
    """``(E(0), error)``: the zero-noise value of ``values`` measured at ``scale_factors``.

    The value is PennyLane's ``richardson_extrapolate`` / ``poly_extrapolate``; the error
    ``sqrt(sum c_k^2 errors_k^2)`` with :func:`extrapolation_coefficients` (``None`` when
    ``errors`` is ``None``).
    """
    x = np.asarray(scale_factors, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    c = extrapolation_coefficients(x, extrapolation)
    if y.shape != x.shape:
        raise InvalidParameterError(
            f"values: expected one per scale factor, shape {x.shape}; got {y.shape}"
        )
    if extrapolation == "richardson":
        value = float(qml.noise.richardson_extrapolate(x, y))
    else:
        value = float(qml.noise.poly_extrapolate(x, y, 1 if extrapolation == "linear" else 2))
    if errors is None:
        return value, None
    s = np.asarray(errors, dtype=np.float64)
    return value, float(np.sqrt(np.sum(c**2 * s**2)))


# -- readout -----------------------------------------------------------------------------------


def assignment_matrices(zeros, ones) -> np.ndarray:
    """``(n, 2, 2)`` float64 per-qubit ``A[i, m, p] = P(measure m | prepared p)`` from the
    bitstrings ``zeros`` and ``ones`` ``(shots, n)`` in {0, 1} measured after preparing
    ``|0...0>`` and ``|1...1>``."""
    z = np.asarray(zeros, dtype=np.float64)
    o = np.asarray(ones, dtype=np.float64)
    if z.ndim != 2 or o.ndim != 2 or z.shape[1] != o.shape[1]:
        raise InvalidParameterError(
            f"zeros, ones: expected (shots, n) bitstrings of one n; got {z.shape}, {o.shape}"
        )
    e0, e1 = z.mean(axis=0), 1.0 - o.mean(axis=0)  # P(1|0), P(0|1)
    return np.stack([np.stack([1 - e0, e1], -1), np.stack([e0, 1 - e1], -1)], 1)


def invert_readout(probs, matrices) -> np.ndarray:
    """The distribution before readout: ``(A_0 x ... x A_{n-1})^{-1} probs``.

    ``probs``: ``(2**n,)`` measured probabilities, wire 0 the most significant bit
    (PennyLane's ``qml.probs`` order); ``matrices``: ``(n, 2, 2)`` as
    :func:`assignment_matrices`. The result sums to one but may have small negative
    entries (shot noise); it is not clipped.
    """
    a = np.asarray(matrices, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    n = a.shape[0] if a.ndim == 3 else -1
    if a.ndim != 3 or a.shape[1:] != (2, 2) or p.shape != (2**n,):
        raise InvalidParameterError(
            f"probs, matrices: expected (2**n,) and (n, 2, 2); got {p.shape} and {a.shape}"
        )
    t = p.reshape((2,) * n)
    for i in range(n):
        t = np.moveaxis(np.tensordot(np.linalg.inv(a[i]), t, axes=([1], [i])), 0, i)
    return t.reshape(-1)


def _z_weights(matrices) -> np.ndarray:
    """``(n, 2)``: ``g_i(b) = ((1, -1) A_i^{-1})_b``, the unbiased per-shot value of ``Z_i``."""
    if matrices is None:
        return None
    return np.einsum("m,imp->ip", np.array([1.0, -1.0]), np.linalg.inv(matrices))


# -- the Hamiltonian's measurement groups --------------------------------------------------------


def _groups(hamiltonian):
    """``(constant, groups)``: ``groups`` a list of ``(basis, terms)`` with ``basis`` a dict
    wire -> ``"X"|"Y"|"Z"`` and ``terms`` a list of ``(coefficient, wires)``; qubit-wise
    commuting terms share a group (greedy, in the Hamiltonian's order)."""
    sentence = qml.pauli.pauli_sentence(hamiltonian)
    constant, groups = 0.0, []
    for word, coeff in sentence.items():
        c = complex(coeff)
        if abs(c.imag) > 1e-12:
            raise InvalidParameterError(
                f"hamiltonian: expected real coefficients; got {c} for {dict(word)}"
            )
        word = {w: p for w, p in dict(word).items() if p != "I"}
        if not word:
            constant += c.real
            continue
        for basis, terms in groups:
            if all(basis.get(w, p) == p for w, p in word.items()):
                basis.update(word)
                terms.append((c.real, tuple(word)))
                break
        else:
            groups.append((dict(word), [(c.real, tuple(word))]))
    return constant, groups


def _rotate(basis: dict) -> None:
    """Rotate each wire's Pauli of ``basis`` into ``Z``."""
    for wire, pauli in sorted(basis.items()):
        if pauli == "X":
            qml.Hadamard(wire)
        elif pauli == "Y":
            qml.RX(np.pi / 2, wire)


def _per_shot(bits, terms, weights) -> np.ndarray:
    """``(shots,)`` energy of each shot of one group (readout-inverted with ``weights``)."""
    bits = np.asarray(bits, dtype=np.int64)
    values = 1.0 - 2.0 * bits if weights is None else weights[np.arange(bits.shape[1]), bits]
    out = np.zeros(bits.shape[0])
    for coeff, wires in terms:
        out += coeff * np.prod(values[:, list(wires)], axis=1)
    return out


def _estimate(samples, groups, constant, weights) -> tuple[float, float]:
    """Energy and shot error from one bitstring array per group."""
    mean, var = constant, 0.0
    for bits, (_, terms) in zip(samples, groups, strict=True):
        e = _per_shot(bits, terms, weights)
        mean += float(e.mean())
        var += float(e.var(ddof=1)) / len(e)
    return mean, math.sqrt(var)


# -- shots ---------------------------------------------------------------------------------------


def _split(total: int, weights) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders; sums to ``total``)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - out))[: total - out.sum()]:
        out[i] += 1
    return out.tolist()


def _allocation(total: int, n_groups: int, config: MitigationConfig, coeffs) -> dict:
    """Shots per circuit: ``raw`` (per group), ``scaled`` (per factor, per group) and
    ``calibration`` (``|0..0>``, ``|1..1>``), each of raw and mitigated summing to ``total``."""
    calibration = [0, 0]
    rest = total
    if config.uses_readout:
        calibration = _split(max(2, round(config.calibration_fraction * total)), [1, 1])
        rest = total - sum(calibration)
    weights = np.abs(coeffs) if config.uses_zne else np.ones(1)
    per_factor = _split(rest, weights)
    out = {
        "raw": _split(total, np.ones(n_groups)),
        "scaled": [_split(n, np.ones(n_groups)) for n in per_factor],
        "calibration": calibration,
    }
    smallest = min(min(out["raw"]), min(min(s) for s in out["scaled"]))
    if smallest < 2 or (config.uses_readout and min(calibration) < 2):
        circuits = n_groups * len(per_factor) + (2 if config.uses_readout else 0)
        raise InvalidParameterError(
            f"shots: expected a budget of at least 2 shots per circuit ({circuits} circuits "
            f"for method={config.method!r}, weighted by the extrapolation); got {total}"
        )
    return out


# -- the device ----------------------------------------------------------------------------------


def depolarized_device(n_wires: int, p_gate: float, p_readout: float = 0.0, *, key):
    """``default.mixed`` on ``n_wires`` wires with a ``DepolarizingChannel(p_gate)`` on each
    wire of every gate and a ``BitFlip(p_readout)`` on each wire before every sample
    (``qml.add_noise`` on the device, so that folding happens before the noise is added).
    The sampling seed is drawn from ``key``; shots come from the QNode (``qml.set_shots``).
    """
    from qml_phys.circuits.devices import draw_seed

    for name, p in (("p_gate", p_gate), ("p_readout", p_readout)):
        if not (isinstance(p, (int, float)) and 0 <= p < 0.5):
            raise InvalidParameterError(f"{name}: expected a probability in [0, 0.5); got {p!r}")
    n = check_wires(n_wires, None)
    depolarize = qml.noise.partial_wires(qml.DepolarizingChannel, float(p_gate))
    gates = {~qml.noise.op_in(["DepolarizingChannel", "BitFlip"]): depolarize}
    readout = {}
    if p_readout:
        flip = qml.noise.partial_wires(qml.BitFlip, float(p_readout))
        readout = {qml.noise.meas_eq(qml.sample): flip}
    device = qml.device("default.mixed", wires=n, seed=draw_seed(key))
    return qml.add_noise(device, qml.NoiseModel(gates, meas_map=readout))


def make_foldable_device(device, n_wires: int, *, key=None):
    """:func:`~qml_phys.circuits.devices.make_device`, except that a ``qiskit.aer`` device
    made here transpiles with ``optimization_level=0``: the circuit runs gate by gate as
    written (folded inverse pairs are not cancelled, and raw and folded circuits are
    compiled alike). A device object is returned as it is."""
    if isinstance(device, str):
        device = DeviceConfig.from_string(device)
    if not isinstance(device, DeviceConfig) or device.name != "qiskit.aer":
        return make_device(device, n_wires, key=key)
    check_simulable(n_wires, device)
    if device.samples and device.seed is None and key is None:
        raise InvalidParameterError(
            f"key: expected a JAX PRNG key to seed the sampling device {str(device)!r} (or a "
            "device with its own seed, ':seed=S'); got None"
        )
    return device.make(n_wires, key=key, optimization_level=0)


def _label(device, dev) -> str:
    return str(device) if isinstance(device, (str, DeviceConfig)) else dev.name


def check_mitigable(device, config: MitigationConfig) -> None:
    """Refuse, before anything runs, a method the device (a name, a spec string or a
    :class:`~qml_phys.circuits.devices.DeviceConfig`) cannot run: readout mitigation
    without shots, folding on a device that recompiles circuits. Device objects are
    checked by :func:`mitigated_energy`."""
    if isinstance(device, str):
        device = DeviceConfig.from_string(device)
    if isinstance(device, DeviceConfig):
        total = config.shots if config.shots is not None else device.shots
        _check_device(device, str(device), config, total)


def _check_device(dev, label: str, config: MitigationConfig, total) -> None:
    """Refuse a method the device cannot run."""
    if config.uses_readout and total is None:
        raise InvalidParameterError(
            f"method={config.method!r}: readout mitigation expected a shot-based device or "
            f"MitigationConfig(shots=N); got {label!r} without shots"
        )
    if not config.uses_zne:
        return
    name = getattr(dev, "name", None)
    if name in NO_GATE_CONTROL:
        raise InvalidParameterError(
            f"method={config.method!r}: folding expected a device that runs circuits gate by "
            f"gate (a simulator); got {name!r} ({NO_GATE_CONTROL[name]})"
        )
    target = getattr(dev, "target_device", None)
    level = getattr(target, "transpile_args", {}).get("optimization_level")
    if name == "qiskit.aer" and not isinstance(dev, DeviceConfig) and level != 0:
        given = "Qiskit's default (2)" if level is None else level
        raise InvalidParameterError(
            f"method={config.method!r}: folding on qiskit.aer expected transpilation with "
            f"optimization_level=0 (else inverse pairs cancel); got {given}. Pass the device "
            "as a spec string or DeviceConfig, or make it with optimization_level=0"
        )


# -- the result ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class MitigatedEnergy(Result):
    """Outcome of :func:`mitigated_energy`: raw and mitigated energies with shot errors.

    Errors are one standard error from the shots (and the readout calibration); ``None``
    when not measured (an exact device, or no mitigation). ``history`` is empty.
    """

    energy_raw: float
    """Energy of the circuit as it is (sample mean with shots)."""
    energy_raw_error: float | None
    """Its shot error, ``None`` on an exact device."""
    energy_mitigated: float | None
    """Mitigated energy, ``None`` for ``method="none"``."""
    energy_mitigated_error: float | None
    """Its error (shots, calibration included), ``None`` when not measured."""
    calibration_error: float | None
    """The part of ``energy_mitigated_error`` from the calibration's binomial errors."""
    scaled_energies: tuple[float, ...]
    """``E(lambda)`` at each scale factor (readout-inverted when used); ``()`` without ZNE."""
    scaled_errors: tuple[float, ...] | None
    """Their shot errors (``None`` on an exact device)."""
    coefficients: tuple[float, ...]
    """Extrapolation weights ``c_k`` (``()`` without ZNE)."""
    readout_error_rates: tuple[tuple[float, float], ...] | None
    """Per qubit ``(P(1|0), P(0|1))`` from the calibration, ``None`` without readout."""
    shots_total: int | None
    """The budget used by each of the raw and the mitigated estimate (``None``: exact)."""
    shot_allocation: dict | None
    """Shots per circuit: ``raw`` per group, ``scaled`` per factor per group,
    ``calibration`` for ``|0..0>`` and ``|1..1>``."""
    n_groups: int
    """Qubit-wise commuting measurement groups of the Hamiltonian."""
    device: str
    """The device as given, or the device object's name."""
    ideal_energy: float | None = None
    """The same circuit's energy without noise or shots (statevector): what mitigation can
    at best recover, and the reference of the absolute errors (:func:`mitigate_model`,
    :func:`qml_phys.circuits.qaoa.mitigate_qaoa`)."""
    exact_energy: float | None = None
    """The model's ground energy when known (equal to ``ideal_energy`` at an exact VQE
    optimum; below it otherwise)."""

    def _abs(self, energy):
        if self.ideal_energy is None or energy is None:
            return None
        return abs(energy - self.ideal_energy)

    @property
    def raw_abs_error(self) -> float | None:
        """``|energy_raw - ideal_energy|`` (``None`` without a reference)."""
        return self._abs(self.energy_raw)

    @property
    def mitigated_abs_error(self) -> float | None:
        """``|energy_mitigated - ideal_energy|`` (``None`` without both)."""
        return self._abs(self.energy_mitigated)

    @property
    def improvement(self) -> tuple[float, float | None] | None:
        """``(raw_abs_error / mitigated_abs_error, its propagated shot error)``."""
        r, m = self.raw_abs_error, self.mitigated_abs_error
        if r is None or m is None or m == 0:
            return None
        ratio = r / m
        if self.energy_raw_error is None or self.energy_mitigated_error is None:
            return ratio, None
        rel = math.hypot(self.energy_raw_error / r, self.energy_mitigated_error / m)
        return ratio, ratio * rel

    @property
    def improvement_lower_95(self) -> float | None:
        """A conservative bound: ``(raw - 1.96 s_raw) / (mitigated + 1.96 s_mitigated)`` of
        the absolute errors (``None`` without a reference or errors)."""
        r, m = self.raw_abs_error, self.mitigated_abs_error
        if r is None or m is None or self.energy_mitigated_error is None:
            return None
        return max(r - 1.96 * self.energy_raw_error, 0.0) / (m + 1.96 * self.energy_mitigated_error)

    reported = (
        "device",
        "energy_raw",
        "energy_raw_error",
        "energy_mitigated",
        "energy_mitigated_error",
        "calibration_error",
        "ideal_energy",
        "exact_energy",
        "raw_abs_error",
        "mitigated_abs_error",
        "improvement_lower_95",
        "readout_error_rates",
        "shots_total",
        "shot_allocation",
        "n_groups",
    )

    def summary(self) -> dict:
        """JSON-able numbers: the four energy keys, the reference, the split of the shots."""
        improvement = self.improvement
        return super().summary() | {
            "improvement": None if improvement is None else improvement[0],
            "improvement_error": None if improvement is None else improvement[1],
            "scaled_energies": list(self.scaled_energies),
            "scaled_errors": None if self.scaled_errors is None else list(self.scaled_errors),
            "coefficients": list(self.coefficients),
        }


# -- evaluation ----------------------------------------------------------------------------------


class _Runner:
    """Runs the circuits of one evaluation on one device (no state beyond the device's)."""

    def __init__(self, dev, circuit, params, n_wires: int):
        self.dev, self.circuit, self.params, self.n = dev, circuit, params, n_wires

    def samples(self, basis: dict, shots: int, scale: float) -> np.ndarray:
        """``(shots, n)`` bitstrings of the circuit folded to ``scale``, rotated by ``basis``."""
        circuit, n = self.circuit, self.n

        @qml.qnode(self.dev)
        def run(p):
            circuit(p)
            _rotate(basis)
            return qml.sample(wires=range(n))

        qnode = qml.noise.fold_global(run, scale) if scale != 1 else run
        out = qml.set_shots(qnode, shots=shots)(self.params)
        return np.asarray(out, dtype=np.int64).reshape(shots, n)

    def expval(self, hamiltonian, scale: float) -> float:
        """Exact ``<H>`` of the circuit folded to ``scale`` (device without shots)."""
        circuit = self.circuit

        @qml.qnode(self.dev)
        def run(p):
            circuit(p)
            return qml.expval(hamiltonian)

        qnode = qml.noise.fold_global(run, scale) if scale != 1 else run
        return float(qnode(self.params))

    def calibration(self, shots) -> tuple[np.ndarray, np.ndarray]:
        """Bitstrings ``(shots[0], n)`` and ``(shots[1], n)`` after preparing ``|0..0>`` and
        ``|1..1>`` (not folded)."""
        zeros = self._prepared(False, shots[0])
        ones = self._prepared(True, shots[1])
        return zeros, ones

    def _prepared(self, flip: bool, shots: int) -> np.ndarray:
        n = self.n

        @qml.qnode(self.dev)
        def run():
            for w in range(n if flip else 0):
                qml.PauliX(w)
            return qml.sample(wires=range(n))

        out = qml.set_shots(run, shots=shots)()
        return np.asarray(out, dtype=np.int64).reshape(shots, n)


def _beta_sd(rate: float, shots: int) -> float:
    """Posterior sd of a binomial rate (Beta(k+1, n-k+1)): nonzero when ``k = 0``."""
    p = (rate * shots + 1) / (shots + 2)
    return math.sqrt(p * (1 - p) / (shots + 3))


def _mitigate(data, groups, constant, config, factors):
    """``(E, error, calibration_error, scaled E, scaled errors, coeffs)`` from the samples."""
    zeros, ones, scaled = data

    def energy(rates):
        weights = None
        if rates is not None:
            e0, e1 = rates
            a = np.stack([np.stack([1 - e0, e1], -1), np.stack([e0, 1 - e1], -1)], 1)
            weights = _z_weights(a)
        est = [_estimate(s, groups, constant, weights) for s in scaled]
        values, errors = np.array([e for e, _ in est]), np.array([s for _, s in est])
        if not config.uses_zne:
            return float(values[0]), float(errors[0]), values, errors
        value, error = extrapolate(factors, values, errors, config.extrapolation)
        return value, error, values, errors

    if not config.uses_readout:
        value, error, values, errors = energy(None)
        return value, error, None, values, errors, None
    rates = np.stack([zeros.mean(axis=0), 1.0 - ones.mean(axis=0)])
    value, error, values, errors = energy(rates)
    # calibration error: linear propagation in the 2 n error rates
    sds = np.stack([
        [_beta_sd(r, len(zeros)) for r in rates[0]],
        [_beta_sd(r, len(ones)) for r in rates[1]],
    ])  # fmt: skip
    variance, h = 0.0, 1e-6
    for idx in np.ndindex(rates.shape):
        shifted = rates.copy()
        shifted[idx] += h
        variance += ((energy(shifted)[0] - value) / h * sds[idx]) ** 2
    calibration = math.sqrt(variance)
    return value, math.hypot(error, calibration), calibration, values, errors, rates


def mitigated_energy(circuit, params, hamiltonian, device, config=None, *, key=None):
    """Raw and mitigated ``<psi(params)|H|psi(params)>`` with shot errors, on one budget.

    Args:
        circuit: callable ``circuit(params)`` applying gates to wires ``0 .. n-1`` (an
            ansatz of :mod:`qml_phys.circuits.ansatz`), unitary gates only.
        params: its parameters (fixed, e.g. ``VQEResult.params``).
        hamiltonian: a PennyLane Hamiltonian (``model.to_pennylane()``) on wires ``0..n-1``.
        device: a device name, spec string (``"qiskit.aer:shots=10000:noise=fake_manila"``),
            :class:`~qml_phys.circuits.devices.DeviceConfig`, or a PennyLane device (e.g.
            ``qml.add_noise(qml.device("default.mixed", wires=n), noise_model)``).
        config: :class:`MitigationConfig` (default: ``MitigationConfig()``, ``"both"``).
        key: JAX PRNG key of the sampling seeds of a device made here without its own seed.

    Returns:
        :class:`MitigatedEnergy`.

    Raises:
        InvalidParameterError: readout mitigation without shots; folding on a device that
            recompiles circuits; a budget too small for the circuits; too few wires.
    """
    start = time.perf_counter()
    config = MitigationConfig() if config is None else config
    if not isinstance(config, MitigationConfig):
        raise InvalidParameterError(
            f"config: expected a MitigationConfig; got {type(config).__name__}"
        )
    constant, groups = _groups(hamiltonian)
    n = max(check_wires(hamiltonian, None), getattr(circuit, "n_wires", 0))
    dev = make_foldable_device(device, n, key=key)
    label = _label(device, dev)
    check_wires(n, dev)
    total = config.shots if config.shots is not None else device_shots(dev)
    _check_device(dev, label, config, total)
    runner = _Runner(dev, circuit, np.asarray(params, dtype=np.float64), n)
    factors = config.scale_factors if config.uses_zne else (1.0,)
    coeffs = extrapolation_coefficients(factors, config.extrapolation) if config.uses_zne else None
    common = {"config": config, "device": label, "n_groups": len(groups)}
    if total is None:
        return _exact(runner, hamiltonian, config, factors, coeffs, common | {"start": start})
    alloc = _allocation(total, len(groups), config, coeffs if coeffs is not None else [1.0])
    raw = [runner.samples(b, s, 1.0) for (b, _), s in zip(groups, alloc["raw"], strict=True)]
    energy_raw, raw_error = _estimate(raw, groups, constant, None)
    mitigated = {"energy_mitigated": None, "energy_mitigated_error": None}
    fields = {"calibration_error": None, "scaled_energies": (), "scaled_errors": None}
    fields |= {"coefficients": (), "readout_error_rates": None}
    if config.method != "none":
        zeros, ones = (
            runner.calibration(alloc["calibration"]) if config.uses_readout else (None, None)
        )
        scaled = [
            [runner.samples(b, s, lam) for (b, _), s in zip(groups, shots, strict=True)]
            for lam, shots in zip(factors, alloc["scaled"], strict=True)
        ]
        value, error, calib, values, errors, rates = _mitigate(
            (zeros, ones, scaled), groups, constant, config, factors
        )
        mitigated = {"energy_mitigated": value, "energy_mitigated_error": error}
        fields = {
            "calibration_error": calib,
            "scaled_energies": tuple(values.tolist()) if config.uses_zne else (),
            "scaled_errors": tuple(errors.tolist()) if config.uses_zne else None,
            "coefficients": tuple(coeffs.tolist()) if config.uses_zne else (),
            "readout_error_rates": None if rates is None else tuple(map(tuple, rates.T.tolist())),
        }
    return MitigatedEnergy(
        wall_time_s=time.perf_counter() - start,
        energy_raw=energy_raw,
        energy_raw_error=raw_error,
        shots_total=int(total),
        shot_allocation=alloc,
        **mitigated,
        **fields,
        **common,
    )


def _exact(runner, hamiltonian, config, factors, coeffs, common) -> MitigatedEnergy:
    """ZNE on an exact device: energies without shot errors (``None``)."""
    start = common.pop("start")
    raw = runner.expval(hamiltonian, 1.0)
    mitigated, values = None, ()
    if config.uses_zne:
        values = tuple(runner.expval(hamiltonian, lam) for lam in factors)
        mitigated, _ = extrapolate(factors, values, None, config.extrapolation)
    return MitigatedEnergy(
        wall_time_s=time.perf_counter() - start,
        energy_raw=raw,
        energy_raw_error=None,
        energy_mitigated=mitigated,
        energy_mitigated_error=None,
        calibration_error=None,
        scaled_energies=values,
        scaled_errors=None,
        coefficients=() if coeffs is None else tuple(coeffs.tolist()),
        readout_error_rates=None,
        shots_total=None,
        shot_allocation=None,
        **common,
    )


def ideal_energy(circuit, params, hamiltonian, n_wires: int) -> float:
    """``<H>`` of the circuit on the exact statevector simulator (no noise, no shots)."""

    @qml.qnode(qml.device("default.qubit", wires=n_wires))
    def energy(p):
        circuit(p)
        return qml.expval(hamiltonian)

    return float(energy(params))


def mitigate_model(model, params, config=None, *, ansatz: str = "hva", device, key=None):
    """:func:`mitigated_energy` of ``model`` (``to_pennylane()``) with the ansatz ``ansatz``
    at ``params`` (e.g. ``VQEResult.params``), with the noiseless energy of that circuit as
    ``ideal_energy`` and the model's reference (:func:`qml_phys.physics.exact.reference`)
    as ``exact_energy``."""
    from qml_phys.circuits.ansatz import make_ansatz
    from qml_phys.physics.exact import reference

    circuit = make_ansatz(ansatz, model)
    p = np.asarray(params, dtype=np.float64)
    shape = circuit.shape(max(p.shape[0] if p.ndim else 1, 1), circuit.n_wires)
    if p.shape != shape:
        raise InvalidParameterError(f"params: expected shape {shape}; got {p.shape}")
    hamiltonian = model.to_pennylane()
    out = mitigated_energy(circuit, p, hamiltonian, device, config, key=key)
    exact = reference(model)
    return dataclasses.replace(
        out,
        ideal_energy=ideal_energy(circuit, p, hamiltonian, model.n_sites),
        exact_energy=None if exact is None else float(exact["energy"]),
    )
