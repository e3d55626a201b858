r"""Variational quantum eigensolver on any PennyLane device.

:func:`run_vqe` minimises ``<psi(theta)|H|psi(theta)>`` for a model of
:mod:`qml_phys.physics.models` (its ``to_pennylane()`` Hamiltonian) with an ansatz of
:mod:`qml_phys.circuits.ansatz`, and compares with the model's reference energy from
:func:`qml_phys.physics.exact.reference` (free fermions for the periodic TFIM chain,
Lanczos up to 20 sites, published values beyond). :func:`run_vqe_h2` does the same for H2
in STO-3G from PennyLane's built-in differentiable Hartree-Fock (``qml.qchem``, no
external chemistry package; A. Peruzzo et al., Nat. Commun. 5, 4213 (2014),
arXiv:1304.3061).

Both optimise with :func:`qml_phys.circuits.optimize.minimize` (optax on PennyLane's JAX
interface, in float64): ``"adam"``, ``"lbfgs"``, ``"qng"`` or any optax transformation.
Gradients come from the device's best method
(:func:`~qml_phys.circuits.devices.diff_method_for`). The result says whether the
optimiser converged (gradient norm below ``gtol``) or ran out of steps.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import optax
import pennylane as qml

from qml_phys.circuits.ansatz import ANSATZ_NAMES, init_params, make_ansatz
from qml_phys.circuits.devices import (
    DeviceConfig,
    check_circuit_size,
    check_simulable,
    check_wires,
    device_shots,
    diff_method_for,
    make_device,
)
from qml_phys.circuits.measure import shot_expectation
from qml_phys.circuits.mitigation import make_foldable_device
from qml_phys.circuits.optimize import (
    OPTIMIZERS,
    MinimizeConfig,
    OptimizerSettings,
    minimize,
    optimizer_name,
)
from qml_phys.errors import InvalidParameterError, UnknownNameError, check_name, check_positive_int
from qml_phys.runtime.results import Result

__all__ = [
    "H2_FCI_0P7414",
    "H2_OPTIMIZATION",
    "INITS",
    "OPTIMIZERS",
    "VQEConfig",
    "VQEResult",
    "energy_and_error",
    "energy_of",
    "h2_hamiltonian",
    "plot_convergence",
    "run_vqe",
    "run_vqe_h2",
]

#: Initialisations accepted by :attr:`VQEConfig.init`.
INITS = ("random", "zeros")

#: FCI energy (Ha) of H2 in STO-3G at 0.7414 Angstrom (our Lanczos of PennyLane's qubit
#: Hamiltonian; the often quoted -1.136189 Ha belongs to 1.3228 bohr = 0.7000 Angstrom).
H2_FCI_0P7414 = -1.137270174878

#: The default optimisation of :func:`run_vqe_h2`: L-BFGS from Hartree-Fock, 50 steps.
H2_OPTIMIZATION = MinimizeConfig(optimizer="lbfgs", n_steps=50, learning_rate=0.1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VQEConfig(OptimizerSettings):
    """How :func:`run_vqe` runs (the model and the device are its arguments)."""

    n_layers: int
    """Ansatz layers (>= 1); ``N/2`` prepares the TFIM and Heisenberg chain ground states
    exactly with the HVA."""
    ansatz: str = "hva"
    """``"hva"`` (TFIM or Heisenberg), ``"hea"`` or ``"qaoa"`` (diagonal models)."""
    init: str = "random"
    """``"random"`` (``0.1 N(0, 1)`` radians from the key) or ``"zeros"``; explicit
    parameters are :func:`run_vqe`'s ``params``."""
    optimizer: str | optax.GradientTransformation = "adam"
    """``"adam"``, ``"lbfgs"``, ``"qng"`` or an ``optax.GradientTransformation``."""
    gtol: float = 1e-9
    """Converged when the gradient's 2-norm falls below this (energy units per radian)."""

    def __post_init__(self):
        object.__setattr__(self, "n_layers", check_positive_int("n_layers", self.n_layers))
        check_name("ansatz", self.ansatz, ANSATZ_NAMES)
        if self.init not in INITS:
            raise UnknownNameError(
                f"init: expected one of {', '.join(INITS)} (or run_vqe's params=array); "
                f"got {self.init!r}"
            )
        self.minimize_config  # noqa: B018 - validates the optimiser settings


@dataclasses.dataclass(frozen=True, kw_only=True)
class VQEResult(Result):
    """Outcome of :func:`run_vqe` / :func:`run_vqe_h2`.

    ``history["energy"]`` and ``history["grad_norm"]`` are ``(iterations,)`` float64: the
    energy and the gradient's 2-norm before each optimiser step. ``status`` is
    ``"converged"`` (gradient norm below ``gtol``) or ``"not_converged"`` (step budget
    spent). ``config`` is the :class:`VQEConfig` (for H2 the
    :class:`~qml_phys.circuits.optimize.MinimizeConfig`).
    """

    params: np.ndarray
    """Final parameters, float64, the ansatz's shape (radians)."""
    energy: float
    """Energy at ``params`` (on a shot-based device the sample mean of a fresh measurement
    at ``params``, :func:`~qml_phys.circuits.measure.shot_expectation`)."""
    energy_error: float | None = None
    """Shot standard error of ``energy``; ``None`` on an analytic device (no shot noise).
    It says how precisely ``energy`` is measured, not whether the optimiser converged."""
    exact_energy: float | None
    """The model's reference energy, ``None`` when none is known."""
    reference_method: str | None
    """How the reference was obtained (``Reference.method``), or ``None``."""
    relative_error: float | None
    """``|energy - exact| / |exact|`` (``None`` without a reference)."""
    model: str
    """What was solved (the model's repr, or H2 with its basis and bond length)."""
    ansatz: str
    """The ansatz's name."""
    device: str
    """The device as given (name or spec string), or the device object's name."""
    diff_method: str
    """Gradient method used (``"adjoint"``, ``"backprop"``, ``"parameter-shift"``)."""
    n_evaluations: int
    """Energy-and-gradient evaluations (line-search trials included) plus the final one."""

    @property
    def energies(self) -> np.ndarray:
        """``(iterations + 1,)`` float64: the energy before each step, then at the end."""
        return np.append(self.history["energy"], self.energy)

    @property
    def iterations(self) -> int:
        """Optimiser steps evaluated."""
        return len(self.history["energy"])

    @property
    def converged(self) -> bool:
        """The gradient norm fell below ``gtol``."""
        return self.status == "converged"

    @property
    def absolute_error(self) -> float | None:
        """``energy - exact_energy`` (``None`` without a reference)."""
        return None if self.exact_energy is None else self.energy - self.exact_energy

    reported = (
        "model",
        "ansatz",
        "device",
        "diff_method",
        "energy",
        "energy_error",
        "exact_energy",
        "reference_method",
        "relative_error",
        "absolute_error",
        "converged",
        "n_evaluations",
    )

    def config_summary(self) -> dict:
        """The config's fields, the optimiser by its name."""
        return super().config_summary() | {"optimizer": optimizer_name(self.config.optimizer)}

    def summary(self) -> dict:
        """JSON-able numbers: energies, reference and errors, convergence, parameters."""
        return super().summary() | {
            "n_iterations": self.iterations,
            "energies": self.energies.tolist(),
            "params": self.params.tolist(),
        }


def _device_label(device, dev) -> str:
    return str(device) if isinstance(device, (str, DeviceConfig)) else dev.name


def _initial(config: VQEConfig, circuit, params, key) -> np.ndarray:
    shape = circuit.shape(config.n_layers, circuit.n_wires)
    if params is not None:
        arr = np.asarray(params, dtype=np.float64)
        if arr.shape != shape:
            raise InvalidParameterError(
                f"params: expected an array of shape {shape}; got {arr.shape}"
            )
        return arr.copy()
    if config.init == "zeros":
        return np.zeros(shape)
    return init_params(circuit, config.n_layers, key=key)


def _measure(circuit, hamiltonian, dev, params) -> tuple[float | None, float | None]:
    """``(energy, shot error)`` measured afresh at ``params`` on a shot-based device;
    ``(None, None)`` on an analytic one, where the optimiser's last value is exact."""
    if device_shots(dev) is None:
        return None, None
    return shot_expectation(circuit, hamiltonian, dev, params)


def _result(config, found, *, wall_time_s, exact, measured, **fields) -> VQEResult:
    """The result; ``measured`` is ``shot_expectation`` at the optimum, whose value replaces
    the optimiser's last (noisy) evaluation on a shot-based device."""
    energy, energy_error = measured
    if energy_error is None:
        energy = float(found.value)
    value = None if exact is None else float(exact["energy"])
    return VQEResult(
        config=config,
        history={"energy": found.values, "grad_norm": found.grad_norms},
        wall_time_s=wall_time_s,
        status="converged" if found.converged else "not_converged",
        params=found.params,
        energy=energy,
        energy_error=energy_error,
        exact_energy=value,
        reference_method=None if exact is None else exact.method,
        relative_error=None if value is None else abs(energy - value) / abs(value),
        n_evaluations=found.n_evaluations,
        **fields,
    )


def run_vqe(model, config: VQEConfig, *, key, device="lightning.qubit", params=None) -> VQEResult:
    """VQE for the ground state of ``model``.

    Args:
        model: a model of :mod:`qml_phys.physics.models` (``n_sites``, ``to_pennylane()``).
        config: :class:`VQEConfig` (ansatz, layers, optimiser).
        key: JAX PRNG key of the random initial parameters and of the sampling seed of a
            shot-based device made here without a seed of its own.
        device: a device name or ``"name:shots=..:seed=.."`` string, a
            :class:`~qml_phys.circuits.devices.DeviceConfig`, or a PennyLane device.
        params: initial parameters of the ansatz's shape (then ``config.init`` is unused).

    Returns:
        :class:`VQEResult`, compared with :func:`qml_phys.physics.exact.reference`.

    Raises:
        InvalidParameterError: the device has too few wires, or bad arguments.
        UnknownNameError: unknown ansatz, optimiser or device name.
    """
    import jax

    from qml_phys.physics.exact import reference

    if not isinstance(config, VQEConfig):
        raise InvalidParameterError(f"config: expected a VQEConfig; got {type(config).__name__}")
    start = time.perf_counter()
    check_simulable(model.n_sites, device)
    check_circuit_size(
        config.n_layers * 2 * model.n_sites, f"a {config.n_layers}-layer {config.ansatz} circuit"
    )
    k_init, k_device = jax.random.split(key)
    circuit = make_ansatz(config.ansatz, model)
    hamiltonian = model.to_pennylane()
    n = model.n_sites
    # Aer transpiles gate by gate (optimization_level=0), as the mitigated evaluation of the
    # optimum does; Qiskit's default level 2 also failed on parameter-shift batches on
    # fake_manila (QiskitError 'NoConvergence' in ConsolidateBlocks)
    dev = make_foldable_device(device, n, key=k_device)
    check_wires(hamiltonian, dev)
    check_wires(n, dev)
    params0 = _initial(config, circuit, params, k_init)
    method = diff_method_for(dev)

    @qml.qnode(dev, interface="jax", diff_method=method)
    def energy(p):
        circuit(p)
        return qml.expval(hamiltonian)

    found = minimize(energy, params0, config.minimize_config)
    measured = _measure(circuit, hamiltonian, dev, found.params)
    return _result(
        config,
        found,
        wall_time_s=time.perf_counter() - start,
        exact=reference(model),
        measured=measured,
        model=repr(model),
        ansatz=config.ansatz,
        device=_device_label(device, dev),
        diff_method=method,
    )


def energy_of(model, params, *, ansatz: str = "hva", device="default.qubit", key=None) -> float:
    """``<psi(params)|H|psi(params)>`` of ``model`` on ``device`` (one evaluation).

    The value of :func:`energy_and_error` (a sample mean with shots).
    """
    return energy_and_error(model, params, ansatz=ansatz, device=device, key=key)[0]


def energy_and_error(
    model, params, *, ansatz: str = "hva", device="default.qubit", key=None
) -> tuple[float, float | None]:
    """``<psi(params)|H|psi(params)>`` of ``model`` on ``device`` and its shot error.

    ``params`` must have the ansatz's shape (e.g. ``VQEResult.params``); ``device`` as in
    :func:`run_vqe`. ``key`` seeds a shot-based device given without a seed of its own
    (required then). Returns ``(energy, error)``: exact and ``None`` on an analytic device;
    with shots the sample mean over qubit-wise commuting groups and its standard error
    (:func:`~qml_phys.circuits.measure.shot_expectation`).
    """
    circuit = make_ansatz(ansatz, model)
    p = np.asarray(params, dtype=np.float64)
    layers = p.shape[0] if p.ndim else 0
    shape = circuit.shape(max(layers, 1), circuit.n_wires)
    if p.shape != shape:
        raise InvalidParameterError(f"params: expected shape {shape}; got {p.shape}")
    hamiltonian = model.to_pennylane()
    dev = make_device(device, model.n_sites, key=key)
    check_wires(hamiltonian, dev)
    return shot_expectation(circuit, hamiltonian, dev, p)


def h2_hamiltonian(bond_length: float = 0.7414):
    """H2 in STO-3G at ``bond_length`` (Angstrom) as a 4-qubit PennyLane Hamiltonian.

    Built offline with PennyLane's differentiable Hartree-Fock (``method="dhf"``), Jordan-
    Wigner mapping; the nuclear repulsion is included. Returns ``(hamiltonian, n_qubits,
    n_electrons)``.
    """
    r = float(bond_length)
    if not math.isfinite(r) or r <= 0:
        raise InvalidParameterError(
            f"bond_length: expected a positive finite length in Angstrom; got {bond_length!r}"
        )
    coords = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]])
    molecule = qml.qchem.Molecule(["H", "H"], coords, unit="angstrom")
    hamiltonian, n_qubits = qml.qchem.molecular_hamiltonian(molecule, method="dhf")
    return hamiltonian, int(n_qubits), 2


def run_vqe_h2(
    bond_length: float = 0.7414,
    config: MinimizeConfig = H2_OPTIMIZATION,
    *,
    device="default.qubit",
    key=None,
) -> VQEResult:
    """VQE for H2 (STO-3G) with ``qml.AllSinglesDoubles`` from the Hartree-Fock state.

    The parameters start at zero (the HF energy). The exact energy is the lowest
    eigenvalue of the qubit Hamiltonian's sparse matrix (FCI in this basis). ``key`` seeds
    a shot-based device given without a seed (required then); the run is otherwise
    deterministic.
    """
    from qml_phys.physics.exact import Reference, lanczos

    if not isinstance(config, MinimizeConfig):
        raise InvalidParameterError(
            f"config: expected a MinimizeConfig; got {type(config).__name__}"
        )
    start = time.perf_counter()
    hamiltonian, n_qubits, n_electrons = h2_hamiltonian(bond_length)
    singles, doubles = qml.qchem.excitations(n_electrons, n_qubits)
    hf = qml.qchem.hf_state(n_electrons, n_qubits)
    dev = make_device(device, n_qubits, key=key)
    check_wires(hamiltonian, dev)
    method = diff_method_for(dev)

    def ansatz(p):
        qml.AllSinglesDoubles(
            p, wires=range(n_qubits), hf_state=hf, singles=singles, doubles=doubles
        )

    @qml.qnode(dev, interface="jax", diff_method=method)
    def energy(p):
        ansatz(p)
        return qml.expval(hamiltonian)

    found = minimize(energy, np.zeros(len(singles) + len(doubles)), config)
    measured = _measure(ansatz, hamiltonian, dev, found.params)
    wall_time_s = time.perf_counter() - start
    fci = float(lanczos(hamiltonian.sparse_matrix(wire_order=range(n_qubits)))[0])
    return _result(
        config,
        found,
        wall_time_s=wall_time_s,
        exact=Reference({"energy": fci}, "FCI (Lanczos of the qubit Hamiltonian)"),
        measured=measured,
        model=f"H2 STO-3G, R = {float(bond_length)} Angstrom",
        ansatz="AllSinglesDoubles",
        device=_device_label(device, dev),
        diff_method=method,
    )


def plot_convergence(ax, result: VQEResult, *, label: str = "VQE"):
    """Draw a VQE run on ``ax``: energy against iteration, and the reference energy."""
    from qml_phys.runtime import plots

    energies = result.energies
    ax.plot(np.arange(len(energies)), energies, label=label)
    if result.exact_energy is not None:
        ax.axhline(result.exact_energy, label="exact", **plots.EXACT)
    ax.set(xlabel="iteration", ylabel="energy")
    return ax
